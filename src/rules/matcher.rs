//! Running a [`RuleSet`] over normalised text.

use std::cell::Cell;

use super::scope::{Cues, Scopes};
use super::{RuleSet, NONE_GROUP};
use crate::normalize::Normalized;
use crate::span::Span;

/// One keyword occurrence, as a half-open byte range of the NORMALISED text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeywordMatch {
    /// The keyword's id ([`RuleSet::keyword`]).
    pub keyword: u32,
    pub span: Span<u32>,
    /// In the scope of a negation cue, or quoted after a warning marker ([`super::scope`]).
    pub negated: bool,
}

/// A rule that fired, with the keyword occurrences that made it fire.
#[derive(Clone, Debug, PartialEq)]
pub struct FiredRule {
    pub rule: u32,
    pub matches: Vec<KeywordMatch>,
}

/// What the rules found in one message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    /// Rules that fired and count as evidence, in rule order.
    pub fired: Vec<FiredRule>,
    /// Scam rules that fire only through negated or quoted keywords: shown to the author,
    /// never counted as evidence.
    pub negated: Vec<FiredRule>,
}

/// The working buffers of [`RuleSet::find`]: keyword occurrences, the candidate rules and
/// their states (all zero between messages).
#[derive(Default)]
struct Scratch {
    found: Vec<KeywordMatch>,
    candidates: Vec<u32>,
    state: Vec<RuleState>,
}

/// What the keywords found say of one rule: the groups with a keyword present, those with a
/// keyword that counts (not negated), and whether a `none` keyword is present.
#[derive(Clone, Copy, Default)]
struct RuleState {
    touched: bool,
    none: bool,
    present: u32,
    counted: u32,
}

/// At most this many keyword occurrences are reported per fired rule.
const MAX_MATCHES_PER_RULE: usize = 16;

impl RuleSet {
    /// Runs every rule over `text`, the normalised form of `original`. Fired rules come back
    /// in rule order; each carries the occurrences of its positive keywords (first occurrences
    /// first, deduplicated).
    pub fn find(&self, original: &str, text: &Normalized) -> Found {
        // The working buffers are kept per thread and reused from message to message.
        thread_local! {
            static SCRATCH: Cell<Scratch> = Cell::default();
        }
        let mut scratch = SCRATCH.with(Cell::take);
        let out = self.find_with(original, text, &mut scratch);
        SCRATCH.with(|cell| cell.set(scratch));
        out
    }

    fn find_with(&self, original: &str, text: &Normalized, scratch: &mut Scratch) -> Found {
        let hay = text.as_str();
        let bytes = hay.as_bytes();
        let found = &mut scratch.found;
        found.clear();
        let mut cues = Cues::default();
        for m in self.ac.find_overlapping_iter(hay) {
            let anchor = m.pattern().as_usize();
            let (bound_start, bound_end) = self.anchor_bounded[anchor];
            for &k in &self.anchor_keywords[anchor] {
                let Some((start, end)) =
                    self.keywords[k as usize].extend(bytes, m.start(), m.end())
                else {
                    continue;
                };
                if bound_start
                    && start == m.start()
                    && start > 0
                    && same_word(bytes[start - 1], bytes[start])
                {
                    continue;
                }
                if bound_end
                    && end == m.end()
                    && end < bytes.len()
                    && same_word(bytes[end - 1], bytes[end])
                {
                    continue;
                }
                let role = self.keyword_role[k as usize];
                if role != 0 {
                    let s = text.original_span(Span::new(start, end));
                    cues.add(role, s.start as u32, s.end as u32);
                }
                found.push(KeywordMatch {
                    keyword: k,
                    span: Span::new(start, end).narrow(),
                    negated: false,
                });
            }
        }
        if found.is_empty() {
            return Found::default();
        }

        // Only a message with cues pays for scopes; without, every occurrence counts.
        let scoped = !cues.is_empty();
        if scoped {
            let scopes = Scopes::new(original, &cues);
            for m in found.iter_mut() {
                let Span { start: s, end: e } = text.original_span(m.span.widen()).narrow();
                let own_cue = cues
                    .forward
                    .iter()
                    .chain(&cues.backward)
                    .any(|&(cs, ce)| s <= cs && ce <= e);
                m.negated = !own_cue && scopes.negates(s, e);
            }
        }

        // Each occurrence marks the groups of the rules that use its keyword.
        let candidates = &mut scratch.candidates;
        candidates.clear();
        let state = &mut scratch.state;
        state.resize(self.rules.len(), RuleState::default());
        for m in found.iter() {
            for &(ri, g) in &self.keyword_rules[m.keyword as usize] {
                let s = &mut state[ri as usize];
                if !s.touched {
                    s.touched = true;
                    candidates.push(ri);
                }
                if g == NONE_GROUP {
                    // A denied keyword does not hold a rule back: `无需缴纳任何费用` asks for
                    // no fee, and `并非骗子` is no warning.
                    s.none |= !m.negated;
                } else {
                    s.present |= 1 << g;
                    if !m.negated {
                        s.counted |= 1 << g;
                    }
                }
            }
        }
        candidates.sort_unstable();

        let mut out = Found::default();
        for &ri in candidates.iter() {
            let s = std::mem::take(&mut state[ri as usize]);
            let rule = &self.rules[ri as usize];
            if s.none || rule.groups.is_empty() {
                continue;
            }
            let all = u32::MAX >> (32 - rule.groups.len());
            let fires_with = |groups: u32| groups == all;
            // Negation concerns evidence FOR a scam; warnings and adverts count as written.
            let negatable = rule.category.is_fraud()
                && (rule.weight > 0.0 || rule.action == super::RuleAction::Block);
            let (fires, negated) = if !negatable {
                (fires_with(s.present), false)
            } else if fires_with(s.counted) {
                (true, false)
            } else {
                let through_negated = scoped && fires_with(s.present);
                (through_negated, through_negated)
            };
            if !fires {
                continue;
            }
            let mut matches: Vec<KeywordMatch> = Vec::new();
            for m in found.iter() {
                // A rule that counts shows the occurrences that count.
                if negatable && !negated && m.negated {
                    continue;
                }
                let used = rule.groups.iter().any(|g| g.keywords.contains(&m.keyword));
                if used && !matches.iter().any(|x| x.span == m.span) {
                    matches.push(KeywordMatch {
                        negated: negated && m.negated,
                        ..*m
                    });
                    if matches.len() == MAX_MATCHES_PER_RULE {
                        break;
                    }
                }
            }
            let f = FiredRule { rule: ri, matches };
            if negated {
                out.negated.push(f);
            } else {
                out.fired.push(f);
            }
        }
        out
    }

    /// Whether the rule `index` fires (and counts) on `text` (for examples and tests).
    pub fn fires(&self, index: u32, text: &str) -> bool {
        let n = crate::normalize::normalize(text);
        self.find(text, &n).fired.iter().any(|f| f.rule == index)
    }
}

/// Whether two neighbouring bytes belong to one ASCII word for keyword boundaries: letters
/// with letters, digits with digits. A handle glued to its number (`qq55667788`, `vx8899`)
/// still shows the keyword, while `http` stays apart from `https` and `12` from `123`.
pub(super) fn same_word(a: u8, b: u8) -> bool {
    (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
        || (a.is_ascii_digit() && b.is_ascii_digit())
}

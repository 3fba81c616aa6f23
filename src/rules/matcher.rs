//! Running a [`RuleSet`] over normalised text.

use super::RuleSet;
use crate::normalize::Normalized;

/// One keyword occurrence, as a half-open byte range of the NORMALISED text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeywordMatch {
    pub pattern: u32,
    pub start: u32,
    pub end: u32,
}

/// A rule that fired, with the keyword occurrences that made it fire.
#[derive(Clone, Debug, PartialEq)]
pub struct FiredRule {
    pub rule: u32,
    pub matches: Vec<KeywordMatch>,
}

/// At most this many keyword occurrences are reported per fired rule.
const MAX_MATCHES_PER_RULE: usize = 16;

impl RuleSet {
    /// Runs every rule over `text`. Fired rules come back in rule order; each carries the
    /// occurrences of its positive keywords (first occurrences first, deduplicated).
    pub fn find(&self, text: &Normalized) -> Vec<FiredRule> {
        let hay = text.as_str();
        let bytes = hay.as_bytes();
        let mut found: Vec<KeywordMatch> = Vec::new();
        for m in self.ac.find_overlapping_iter(hay) {
            let p = m.pattern().as_u32();
            let (start, end) = (m.start(), m.end());
            let (bound_start, bound_end) = self.pattern_word_bounded[p as usize];
            if bound_start && start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            if bound_end && end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
                continue;
            }
            found.push(KeywordMatch {
                pattern: p,
                start: start as u32,
                end: end as u32,
            });
        }
        if found.is_empty() {
            return Vec::new();
        }

        let mut present = vec![0u64; self.patterns.len().div_ceil(64)];
        for m in &found {
            present[(m.pattern / 64) as usize] |= 1 << (m.pattern % 64);
        }
        let is_present = |p: u32| present[(p / 64) as usize] & (1 << (p % 64)) != 0;

        let mut candidates: Vec<u32> = found
            .iter()
            .flat_map(|m| self.pattern_rules[m.pattern as usize].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();

        let mut fired = Vec::new();
        for ri in candidates {
            let rule = &self.rules[ri as usize];
            let groups_ok = rule
                .groups
                .iter()
                .all(|g| g.patterns.iter().any(|&p| is_present(p)));
            if !groups_ok || rule.none.iter().any(|&p| is_present(p)) {
                continue;
            }
            let mut matches: Vec<KeywordMatch> = Vec::new();
            for m in &found {
                let used = rule.groups.iter().any(|g| g.patterns.contains(&m.pattern));
                if used && !matches.iter().any(|x| x.start == m.start && x.end == m.end) {
                    matches.push(*m);
                    if matches.len() == MAX_MATCHES_PER_RULE {
                        break;
                    }
                }
            }
            fired.push(FiredRule { rule: ri, matches });
        }
        fired
    }

    /// Whether the rule `index` fires on `text` (for examples and tests).
    pub fn fires(&self, index: u32, text: &str) -> bool {
        let n = crate::normalize::normalize(text);
        self.find(&n).iter().any(|f| f.rule == index)
    }
}

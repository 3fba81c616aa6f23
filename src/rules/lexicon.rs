//! Lexicons: named word lists defined once (`[lexicon.NAME]` in any rule file, by convention
//! `rules/lexicons.toml`) and used by many rules as `@NAME` in their `all`, `any` and `none`
//! groups, or inside another lexicon.
//!
//! A few names are read by the matcher itself ([`SCOPE_LEXICONS`]): the cues of negation and
//! quotation scope (see [`super::scope`]). They count as used whenever they are defined.

use std::collections::BTreeMap;

use super::format::Diagnostic;
use super::format::{line_of, RawKeyword, RawLexicon};

/// Lexicons the matcher reads: forward negation cues, backward negation cues and the markers
/// that make quoted text a quotation of a scam.
pub const SCOPE_LEXICONS: [&str; 3] = ["negation", "negation_after", "quote_warning"];

/// A word as it came out of expansion: its text, where it was written, and the lexicon it came
/// from (`None` when written in the rule itself).
#[derive(Clone, Debug)]
pub(crate) struct Word {
    pub text: String,
    pub location: String,
    pub lexicon: Option<String>,
}

struct Def {
    location: String,
    words: Vec<(String, String)>,
    used: bool,
}

/// Every lexicon of a rule set, with use tracking for the "unused" lint.
#[derive(Default)]
pub(crate) struct Lexicons {
    defs: BTreeMap<String, Def>,
}

impl Lexicons {
    /// Adds the lexicons of one file; problems go to `errors`.
    pub fn add_file(
        &mut self,
        file: &str,
        content: &str,
        lexicons: BTreeMap<String, toml::Spanned<RawLexicon>>,
        errors: &mut Vec<Diagnostic>,
    ) {
        for (name, spanned) in lexicons {
            let location = format!("{file}:{}", line_of(content, spanned.span().start));
            let raw = spanned.into_inner();
            let mut err = |message: String| {
                errors.push(Diagnostic {
                    location: location.clone(),
                    rule: None,
                    message: format!("lexicon @{name}: {message}"),
                })
            };
            if !is_lexicon_name(&name) {
                err("name is not lower_snake_case".into());
                continue;
            }
            if let Some(prev) = self.defs.get(&name) {
                err(format!("defined twice, first at {}", prev.location));
                continue;
            }
            if raw.words.is_empty() {
                err("has no words".into());
            }
            if raw.description.trim().is_empty() {
                err("description is empty".into());
            }
            let words = raw
                .words
                .iter()
                .map(|w| (w.get_ref().clone(), keyword_location(file, content, w)))
                .collect();
            self.defs.insert(
                name,
                Def {
                    location,
                    words,
                    used: false,
                },
            );
        }
    }

    /// Expands a group as written: literal words stay, `@name` becomes the lexicon's words
    /// (recursively). An unknown or cyclic reference is an error naming the reference's line.
    pub fn expand(
        &mut self,
        file: &str,
        content: &str,
        group: &[RawKeyword],
        err: &mut impl FnMut(String, String),
    ) -> Vec<Word> {
        let mut out = Vec::new();
        for w in group {
            let location = keyword_location(file, content, w);
            self.expand_word(w.get_ref(), location, None, &mut Vec::new(), &mut out, err);
        }
        out
    }

    /// Expands one lexicon by name (for the scope lexicons and the lint of its own words).
    pub fn expand_lexicon(
        &mut self,
        name: &str,
        err: &mut impl FnMut(String, String),
    ) -> Vec<Word> {
        let mut out = Vec::new();
        let location = match self.defs.get(name) {
            Some(d) => d.location.clone(),
            None => return out,
        };
        self.expand_word(
            &format!("@{name}"),
            location,
            None,
            &mut Vec::new(),
            &mut out,
            err,
        );
        out
    }

    fn expand_word(
        &mut self,
        word: &str,
        location: String,
        lexicon: Option<&str>,
        stack: &mut Vec<String>,
        out: &mut Vec<Word>,
        err: &mut impl FnMut(String, String),
    ) {
        let Some(name) = word.strip_prefix('@') else {
            out.push(Word {
                text: word.to_string(),
                location,
                lexicon: lexicon.map(str::to_string),
            });
            return;
        };
        if stack.iter().any(|s| s == name) {
            err(
                location,
                format!(
                    "lexicon @{name} refers to itself (through {})",
                    stack.join(" > @")
                ),
            );
            return;
        }
        let Some(def) = self.defs.get_mut(name) else {
            err(location, format!("unknown lexicon @{name}"));
            return;
        };
        def.used = true;
        let words = def.words.clone();
        stack.push(name.to_string());
        // Words reached through a lexicon are attributed to the outermost lexicon named in
        // the group, so the lint can tell the author's own words from a lexicon's.
        let owner = lexicon.unwrap_or(name).to_string();
        for (w, loc) in words {
            self.expand_word(&w, loc, Some(&owner), stack, out, err);
        }
        stack.pop();
    }

    /// `(name, location)` of every lexicon never referred to (scope lexicons excepted).
    pub fn unused(&self) -> Vec<(String, String)> {
        self.defs
            .iter()
            .filter(|(name, d)| !d.used && !SCOPE_LEXICONS.contains(&name.as_str()))
            .map(|(name, d)| (name.clone(), d.location.clone()))
            .collect()
    }

    /// `file:line` of a lexicon's definition.
    pub fn location(&self, name: &str) -> String {
        self.defs
            .get(name)
            .map(|d| d.location.clone())
            .unwrap_or_default()
    }

    pub fn names(&self) -> Vec<String> {
        self.defs.keys().cloned().collect()
    }

    /// Resets use tracking (after the lexicons' own lint, which expands each of them).
    pub fn clear_use(&mut self) {
        for d in self.defs.values_mut() {
            d.used = false;
        }
    }
}

fn keyword_location(file: &str, content: &str, w: &RawKeyword) -> String {
    format!("{file}:{}", line_of(content, w.span().start))
}

fn is_lexicon_name(name: &str) -> bool {
    !name.is_empty()
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

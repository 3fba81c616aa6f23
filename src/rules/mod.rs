//! Keyword rules: rule authors' TOML files compiled into one Aho-Corasick automaton that runs
//! over normalised text.
//!
//! - [`format`]: the file format as authors write it;
//! - [`lexicon`]: named word lists (`@payment`) shared by many rules;
//! - [`keyword`]: one keyword, a phrase with an optional number slot (`<num>小时`);
//! - [`compile`]: validation, lint findings and compilation into a [`RuleSet`];
//! - [`digest`]: the content digest that the rule-set version carries;
//! - [`matcher`]: running a [`RuleSet`] over a [`Normalized`](crate::normalize::Normalized) text;
//! - [`scope`]: negation and quotation scope, so that a warning's keywords do not count as
//!   scam evidence.

pub mod compile;
pub mod digest;
pub mod format;
pub mod keyword;
pub mod lexicon;
pub mod matcher;
pub mod scope;

use std::path::Path;

use aho_corasick::AhoCorasick;

use keyword::Keyword;

pub use format::Diagnostic;
pub use format::RuleSource;
pub use matcher::{FiredRule, Found, KeywordMatch};

use crate::category::Category;
use crate::error::Result;

/// What a rule does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// Adds its weight to the evidence.
    Score,
    /// Forces a `block` verdict in its category, whatever the score.
    Block,
}

/// A group of keywords: satisfied when any one of them occurs.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub(crate) keywords: Vec<u32>,
}

/// The group number that stands for a rule's `none` list in [`RuleSet`]'s keyword index.
pub(crate) const NONE_GROUP: u8 = u8::MAX;
/// Most positive groups in one rule (one bit each in the matcher's state).
pub(crate) const MAX_GROUPS: usize = 32;

/// One compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub category: Category,
    pub weight: f64,
    pub action: RuleAction,
    pub description: String,
    /// `file:line` where the rule is defined.
    pub location: String,
    pub(crate) groups: Vec<Group>,
    pub(crate) none: Vec<u32>,
    /// The rule counts only for a message of a campaign of at least this many copies (known
    /// in the daemon, from its campaign window); its `hit` and `miss` examples test its
    /// keywords alone.
    pub campaign_min_size: Option<u32>,
    /// Examples the rule must fire on.
    pub hit: Vec<String>,
    /// Examples the rule must not fire on.
    pub miss: Vec<String>,
}

/// What a whole-message example expects of the full verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseExpect {
    /// Detected as fraud: `flag` or `block` with any fraud category.
    Fraud,
    /// Not detected as fraud.
    NotFraud,
    /// This exact category (for fraud categories, also detected as fraud).
    Category(Category),
}

/// A whole-message example embedded in a rule file.
#[derive(Clone, Debug)]
pub struct Case {
    pub location: String,
    pub text: String,
    pub sender: Option<String>,
    pub expect: CaseExpect,
}

/// A compiled, immutable rule set.
#[derive(Clone, Debug)]
pub struct RuleSet {
    version: String,
    rules: Vec<Rule>,
    /// Every keyword; the index is the keyword id that groups refer to.
    keywords: Vec<Keyword>,
    /// Per keyword: its normalised form as shown to authors (`<num>小时`).
    keyword_text: Vec<String>,
    /// Per automaton pattern (anchor): the keywords looking for it.
    anchor_keywords: Vec<Vec<u32>>,
    /// Per anchor: (starts with an ASCII alphanumeric, ends with one). Such ends only match
    /// at ASCII word boundaries, so `code` does not fire inside `barcode`.
    anchor_bounded: Vec<(bool, bool)>,
    /// Per keyword: every (rule, group) that uses it; group [`NONE_GROUP`] is the rule's
    /// `none` list. The matcher reads a rule's state off the keywords found, so its cost
    /// follows the matches, not the size of the rules' lexicons.
    keyword_rules: Vec<Vec<(u32, u8)>>,
    /// Per keyword: its scope-cue role bits ([`scope`]), 0 for none.
    keyword_role: Vec<u8>,
    ac: AhoCorasick,
    cases: Vec<Case>,
    warnings: Vec<Diagnostic>,
    /// Names of the lexicons defined.
    lexicons: Vec<String>,
}

impl RuleSet {
    /// Loads and compiles a rule directory (VERSION plus `*.toml`).
    pub fn from_dir(dir: &Path) -> Result<RuleSet> {
        let (version, sources) = compile::read_dir(dir)?;
        compile::compile(&version, &sources)
    }

    /// Compiles rule sources already in memory.
    pub fn from_sources(version: &str, sources: &[RuleSource]) -> Result<RuleSet> {
        compile::compile(version, sources)
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rule(&self, index: u32) -> &Rule {
        &self.rules[index as usize]
    }

    pub fn rule_index(&self, id: &str) -> Option<u32> {
        self.rules.iter().position(|r| r.id == id).map(|i| i as u32)
    }

    /// A keyword by id, normalised, `<num>` included.
    pub fn keyword(&self, id: u32) -> &str {
        &self.keyword_text[id as usize]
    }

    pub fn keyword_count(&self) -> usize {
        self.keywords.len()
    }

    /// Names of the lexicons the rule set defines.
    pub fn lexicons(&self) -> &[String] {
        &self.lexicons
    }

    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    /// Lint findings that do not stop the rule set from compiling.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}

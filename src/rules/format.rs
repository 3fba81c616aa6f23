//! The rule file format, as rule authors write it (TOML under rules/).
//!
//! ```toml
//! [[rule]]
//! id = "RED_CODE_THREAT"                 # SCREAMING_SNAKE, unique in the rule set
//! category = "close_contact_red_code"    # a category of the contract
//! weight = 2.5                           # evidence for the category; negative = evidence against fraud
//! action = "block"                       # optional: "score" (default) or "block" (forces block)
//! description = "..."
//! all = [["密接", "密切接触"], ["红码", "黄码"]]  # every group needs one of its keywords
//! any = ["核验", "@credential"]          # at least one of these, when given
//! none = ["@warning", "不会要求"]        # none of these may occur
//! campaign_min_size = 50                 # optional: counts only in a campaign of 50+ copies
//! hit = ["an example the rule must fire on"]
//! miss = ["an example the rule must not fire on"]
//!
//! [lexicon.credential]                   # a named word list, usable as `@credential` in any
//! description = "..."                    # group of any rule of the set (and in other lexicons)
//! words = ["验证码", "<num>位数字"]
//!
//! [[case]]                               # a whole-message example for the full verdict
//! text = "..."
//! expect = "fraud"                       # "fraud", "not_fraud" or a category name
//! ```
//!
//! Keywords are normalised exactly like message text, so authors may write `健康碼` or `ＶＸ`.
//! A keyword may hold one `<num>` (any number, see [`super::keyword`]); a keyword that starts
//! with `@` names a lexicon.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One rule file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub case: Vec<Spanned<RawCase>>,
    #[serde(default)]
    pub lexicon: BTreeMap<String, Spanned<RawLexicon>>,
}

/// A keyword as written, with its place in the file (for messages naming the line).
pub type RawKeyword = Spanned<String>;

/// A named word list (`[lexicon.NAME]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLexicon {
    #[serde(default)]
    pub description: String,
    pub words: Vec<RawKeyword>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    pub category: String,
    #[serde(default)]
    pub weight: Option<f64>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub all: Vec<Vec<RawKeyword>>,
    #[serde(default)]
    pub any: Vec<RawKeyword>,
    #[serde(default)]
    pub none: Vec<RawKeyword>,
    #[serde(default)]
    pub campaign_min_size: Option<u32>,
    #[serde(default)]
    pub hit: Vec<String>,
    #[serde(default)]
    pub miss: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub text: String,
    pub expect: String,
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A source text of rules: file name (for messages) and content. Directories and the
/// compiled-in defaults both come down to a list of these.
#[derive(Clone, Debug)]
pub struct RuleSource {
    pub name: String,
    pub content: String,
}

/// Line (1-based) of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// One problem found in a rule set, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// `file:line`
    pub location: String,
    pub rule: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "rule {rule} in {}: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

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
//! any = ["核验", "验证"]                 # at least one of these, when given
//! none = ["谨防", "不会要求"]            # none of these may occur
//! hit = ["an example the rule must fire on"]
//! miss = ["an example the rule must not fire on"]
//!
//! [[case]]                               # a whole-message example for the full verdict
//! text = "..."
//! expect = "fraud"                       # "fraud", "not_fraud" or a category name
//! ```
//!
//! Keywords are normalised exactly like message text, so authors may write `健康碼` or `ＶＸ`.

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
    pub all: Vec<Vec<String>>,
    #[serde(default)]
    pub any: Vec<String>,
    #[serde(default)]
    pub none: Vec<String>,
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

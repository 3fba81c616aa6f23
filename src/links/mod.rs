//! Links: finding every URL a phone would show, and judging the domain behind it.
//!
//! (First cut: the types the verdict carries. Extraction and reputation land in their own
//! files: extract.rs, host.rs, reputation.rs, lookalike.rs.)

use serde::Serialize;

use crate::error::Result;
use crate::normalize::Normalized;

/// How much a link's domain is to be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reputation {
    Malicious,
    Suspicious,
    Unknown,
    Trusted,
}

impl Reputation {
    pub const ALL: [Reputation; 4] = [
        Reputation::Malicious,
        Reputation::Suspicious,
        Reputation::Unknown,
        Reputation::Trusted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reputation::Malicious => "malicious",
            Reputation::Suspicious => "suspicious",
            Reputation::Unknown => "unknown",
            Reputation::Trusted => "trusted",
        }
    }
}

/// One link found in a message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UrlFinding {
    /// The link as written in the original text.
    pub raw: String,
    /// Half-open UTF-8 byte span of `raw` in the original text.
    pub start: usize,
    pub end: usize,
    /// Canonical URL.
    pub url: String,
    pub host: String,
    pub registrable_domain: String,
    pub reputation: Reputation,
    /// Named reasons, SCREAMING_SNAKE (`SUSPICIOUS_TLD`, `LOOKALIKE_BRAND`, ...).
    pub reasons: Vec<&'static str>,
}

/// Finds and judges links. Immutable once built.
#[derive(Debug, Default)]
pub struct LinkAnalyzer {}

impl LinkAnalyzer {
    /// The compiled-in lists.
    pub fn new() -> Result<LinkAnalyzer> {
        Ok(LinkAnalyzer {})
    }

    /// Every link in the message, in order of position in the original text.
    pub fn analyze(&self, _original: &str, _normalized: &Normalized) -> Vec<UrlFinding> {
        Vec::new()
    }
}

impl LinkAnalyzer {
    /// Lists from DIR/domains and the suffix list from DIR/public_suffix_list.dat, each falling
    /// back to the compiled-in copy when absent.
    pub fn from_dir(_dir: &std::path::Path) -> Result<LinkAnalyzer> {
        Ok(LinkAnalyzer {})
    }
}

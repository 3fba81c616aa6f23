//! Links: finding every URL a phone would show, and judging the domain behind it.
//!
//! - `extract.rs`: links in the ORIGINAL text, with spans, undoing full-width, ideographic
//!   dots, defanging and spacing; schemeless links only on a listed public suffix;
//! - `host.rs`: the Public Suffix List and registrable domains;
//! - `reputation.rs`: the domain lists, heuristics and the reputation class (the rule that
//!   decides the class is documented there, in one place);
//! - `lookalike.rs`: confusable skeletons, edit distance and brand keywords.
//!
//! A [`LinkAnalyzer`] is built once with the engine (from the compiled-in lists or a rules
//! directory) and never changes.

use std::path::Path;

use serde::Serialize;

use crate::defaults::MAX_URLS_PER_MESSAGE;
use crate::error::{Error, Result};
use crate::normalize::Normalized;

pub mod extract;
pub mod host;
pub mod lookalike;
pub mod reputation;

pub use host::SuffixList;
pub use reputation::{DomainSet, Lists};

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
#[derive(Debug)]
pub struct LinkAnalyzer {
    psl: SuffixList,
    lists: Lists,
}

impl LinkAnalyzer {
    /// The compiled-in suffix list and domain lists.
    pub fn new() -> Result<LinkAnalyzer> {
        let psl = SuffixList::compiled_in()?;
        let lists = Lists::compiled_in(&psl)?;
        Ok(LinkAnalyzer { psl, lists })
    }

    /// Lists from DIR/domains and the suffix list from DIR/public_suffix_list.dat, each falling
    /// back to the compiled-in copy when absent.
    pub fn from_dir(dir: &Path) -> Result<LinkAnalyzer> {
        let psl_path = dir.join("public_suffix_list.dat");
        let psl = if psl_path.is_file() {
            let text = std::fs::read_to_string(&psl_path).map_err(|e| Error::io(&psl_path, e))?;
            SuffixList::parse(&text, &psl_path.display().to_string())?
        } else {
            SuffixList::compiled_in()?
        };
        let lists = Lists::from_dir(&dir.join("domains"), &psl)?;
        Ok(LinkAnalyzer { psl, lists })
    }

    /// From parts already loaded (benchmarks, tests, an operator's own feeds).
    pub fn from_parts(psl: SuffixList, lists: Lists) -> LinkAnalyzer {
        LinkAnalyzer { psl, lists }
    }

    pub fn suffix_list(&self) -> &SuffixList {
        &self.psl
    }

    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// Every link in the message, in order of position in the original text. Links are found
    /// in `original` (the normaliser lower-cases and rewrites words, which paths and spans
    /// cannot afford); `_normalized` is accepted for the engine's uniform call.
    pub fn analyze(&self, original: &str, _normalized: &Normalized) -> Vec<UrlFinding> {
        self.find(original)
    }

    /// [`LinkAnalyzer::analyze`] without a normalised text.
    pub fn find(&self, original: &str) -> Vec<UrlFinding> {
        // The fast path: most messages have no link and cost one byte scan, no allocation.
        if !extract::may_contain_link(original) {
            return Vec::new();
        }
        let mut folded = extract::Folded::default();
        let mut candidates = Vec::new();
        extract::fold(original, &mut folded);
        extract::scan(&folded, &self.psl, MAX_URLS_PER_MESSAGE, &mut candidates);
        candidates
            .into_iter()
            .filter_map(|c| {
                let raw = &original[c.start..c.end];
                let j = reputation::judge(&self.lists, &self.psl, &c, raw)?;
                Some(UrlFinding {
                    raw: raw.to_string(),
                    start: c.start,
                    end: c.end,
                    url: j.url,
                    host: j.host,
                    registrable_domain: j.registrable_domain,
                    reputation: j.reputation,
                    reasons: j.reasons,
                })
            })
            .collect()
    }
}

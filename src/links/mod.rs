//! Links: finding every URL a phone would show, and judging the domain behind it.
//!
//! - `fold.rs`: the message as a phone shows it, for link finding: a cheap prefilter, then
//!   full-width forms, lookalike dots, defanging and spacing undone, with a map back to the
//!   original text;
//! - `scan.rs`: the links in the folded text; schemeless links only on a listed public suffix;
//! - `host.rs`: the Public Suffix List, registrable domains and canonical names;
//! - `lists.rs`: the domain lists and how they are held and looked up;
//! - `lookalike.rs`: confusable skeletons, edit distance and brand keywords;
//! - `reputation.rs`: the judgement of one link, its reasons and the reputation class (the
//!   rule that decides the class is documented there, in one place);
//! - `identity.rs`: the organisation a message claims against the domain its link goes to
//!   (`IDENTITY_MISMATCH`, `IDENTITY_MATCH`).
//!
//! Every step reads the message without its invisible characters (chars.rs decides which
//! they are, for the normaliser too): `jkm-he\u{200E}lp.top` is the link `jkm-help.top`,
//! with a span in the original text that holds the invisible character.
//!
//! A [`LinkAnalyzer`] is built once with the engine (from the compiled-in lists or a rules
//! directory) and never changes.

use std::path::Path;

use crate::chars::{has_invisible, Visible};
use crate::defaults::MAX_URLS_PER_MESSAGE;
use crate::error::{Error, Result};
use crate::normalize::Normalized;

pub mod fold;
pub mod host;
pub mod identity;
pub mod lists;
pub mod lookalike;
pub mod reputation;
pub mod scan;

pub use fold::may_contain_link;
pub use host::SuffixList;
pub use identity::Identities;
pub use lists::{DomainSet, Lists};
pub use reputation::{Reputation, UrlFinding};

/// Finds and judges links. Immutable once built.
#[derive(Debug)]
pub struct LinkAnalyzer {
    psl: SuffixList,
    lists: Lists,
    identities: Identities,
}

impl LinkAnalyzer {
    /// The compiled-in suffix list and domain lists.
    pub fn new() -> Result<LinkAnalyzer> {
        let psl = SuffixList::compiled_in()?;
        let lists = Lists::compiled_in(&psl)?;
        let identities = Identities::compiled_in()?;
        Ok(LinkAnalyzer {
            psl,
            lists,
            identities,
        })
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
        let identities = Identities::from_dir(&dir.join("domains"))?;
        Ok(LinkAnalyzer {
            psl,
            lists,
            identities,
        })
    }

    /// From parts already loaded (benchmarks, tests, an operator's own feeds); no claimed
    /// identities unless [`LinkAnalyzer::with_identities`] adds them.
    pub fn from_parts(psl: SuffixList, lists: Lists) -> LinkAnalyzer {
        LinkAnalyzer {
            psl,
            lists,
            identities: Identities::default(),
        }
    }

    /// The organisations messages may claim (identity.rs).
    pub fn with_identities(mut self, identities: Identities) -> LinkAnalyzer {
        self.identities = identities;
        self
    }

    pub fn suffix_list(&self) -> &SuffixList {
        &self.psl
    }

    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// Every link in the message, in order of position in the original text. Links are found
    /// in `original` (the normaliser lower-cases and rewrites words, which paths and spans
    /// cannot afford); `normalized` tells whether the original holds invisible characters,
    /// so the common message is not scanned for them twice.
    /// Links of a message that claims an organisation are also judged against it
    /// (identity.rs).
    pub fn analyze(&self, original: &str, normalized: &Normalized) -> Vec<UrlFinding> {
        let mut urls = self.find_in(original, normalized.had_invisible());
        self.identities.judge(normalized.as_str(), &mut urls);
        urls
    }

    /// [`LinkAnalyzer::analyze`] without a normalised text.
    pub fn find(&self, original: &str) -> Vec<UrlFinding> {
        let mut urls = self.find_in(original, has_invisible(original));
        if !urls.is_empty() {
            let normalized = crate::normalize::normalize(original);
            self.identities.judge(normalized.as_str(), &mut urls);
        }
        urls
    }

    fn find_in(&self, original: &str, invisible: bool) -> Vec<UrlFinding> {
        // Links are read in the text without its invisible characters; spans go back to the
        // original through `visible`. Most messages have none, and are read as they are.
        let mut visible = Visible::default();
        let text = if invisible {
            visible.strip(original);
            visible.as_str()
        } else {
            original
        };
        // The fast path: most messages have no link and cost one byte scan, no allocation.
        if !fold::may_contain_link(text) {
            return Vec::new();
        }
        let mut folded = fold::Folded::default();
        let mut candidates = Vec::new();
        fold::fold(text, &mut folded);
        scan::scan(&folded, &self.psl, MAX_URLS_PER_MESSAGE, &mut candidates);
        candidates
            .into_iter()
            .filter_map(|c| {
                // Judged on the text as shown, without the invisible characters.
                let j = reputation::judge(&self.lists, &self.psl, &c, &text[c.span.range()])?;
                let span = if invisible {
                    visible.original_span(c.span)
                } else {
                    c.span
                };
                Some(UrlFinding {
                    raw: original[span.range()].to_string(),
                    span,
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

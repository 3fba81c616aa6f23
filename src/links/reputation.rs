//! The judgement of one link: its reasons and its reputation class.
//!
//! # The reputation class, decided in [`classify`] and nowhere else
//!
//! 1. `malicious`: the host is on the malicious list; or a lookalike of a brand
//!    (`LOOKALIKE_BRAND`) comes with any other risk reason; or the userinfo trick shows a
//!    domain name before the `@` (`http://www.gov.cn@evil.top`).
//! 2. `trusted`: the host is on the trusted or brand list and no trick changes where the link
//!    goes (`USERINFO_TRICK`, `UNUSUAL_PORT`); with such a trick it is `suspicious`.
//! 3. `suspicious`: any risk reason ([`RISK_REASONS`]), including how the link was hidden
//!    (`DEFANGED`, `IDEOGRAPHIC_DOT`, `FULLWIDTH`, `SPACED_DOT`).
//! 4. `unknown`: everything else.
//!
//! One reason depends on the whole message, not the link alone: `IDENTITY_MISMATCH` (the
//! message claims an organisation and the link is not its own, see identity.rs). It is added
//! after [`classify`], through [`with_identity_mismatch`]: the link becomes at least
//! `suspicious`, and `malicious` when another risk reason other than `SHORTENER` comes with it
//! (an official tag with a `.top` link, a random label or a hidden dot). A host under no public
//! suffix (`UNKNOWN_SUFFIX`: `www.example1com`, a brand's name with its suffix left off) stays
//! `suspicious` with a mismatch whatever its other reasons: no phone can open it, so where it
//! points is no evidence of a scam.

use std::borrow::Cow;

use serde::Serialize;
use url::{Host, Url};

use crate::span::Span;

use super::fold::HOW_REASONS;
use super::host::SuffixList;
use super::lists::Lists;
use super::scan::Candidate;

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
    /// Half-open UTF-8 byte span of `raw` in the original text (`start`, `end` in JSON).
    #[serde(flatten)]
    pub span: Span,
    /// Canonical URL.
    pub url: String,
    pub host: String,
    pub registrable_domain: String,
    pub reputation: Reputation,
    /// Named reasons, SCREAMING_SNAKE (`SUSPICIOUS_TLD`, `LOOKALIKE_BRAND`, ...).
    pub reasons: Vec<&'static str>,
}

/// Reasons that make a link risky. `SCHEMELESS`, `TRUSTED_LIST` and `OFFICIAL_BRAND` only
/// describe it.
pub const RISK_REASONS: &[&str] = &[
    "MALICIOUS_LIST",
    "IP_HOST",
    "UNUSUAL_PORT",
    "PUNYCODE",
    "MIXED_SCRIPT",
    "LOOKALIKE_BRAND",
    "SHORTENER",
    "SUSPICIOUS_TLD",
    "DEEP_SUBDOMAIN",
    "RANDOM_LABEL",
    "USERINFO_TRICK",
    "UNKNOWN_SUFFIX",
    "FULLWIDTH",
    "IDEOGRAPHIC_DOT",
    "DEFANGED",
    "SPACED_DOT",
    "IDENTITY_MISMATCH",
];

/// Subdomain labels (besides a leading `www`) from which a host counts as deep.
const DEEP_SUBDOMAIN_LABELS: usize = 3;

/// A judged link: what the verdict carries besides the span.
#[derive(Clone, Debug)]
pub struct Judged {
    pub url: String,
    pub host: String,
    pub registrable_domain: String,
    pub reputation: Reputation,
    pub reasons: Vec<&'static str>,
}

/// Judges one extracted link. None when the url crate refuses it (it is then not a link a
/// browser could open).
pub fn judge(lists: &Lists, psl: &SuffixList, cand: &Candidate, raw: &str) -> Option<Judged> {
    let url = Url::parse(&cand.text).ok()?;
    let host = url.host()?;
    let mut reasons: Vec<&'static str> = Vec::new();
    if !cand.scheme {
        reasons.push("SCHEMELESS");
    }
    for (bit, name) in HOW_REASONS {
        if cand.how & bit != 0 {
            reasons.push(name);
        }
    }
    let listed_malicious;
    let mut trusted = false;
    let (host_str, registrable) = match host {
        Host::Ipv4(_) | Host::Ipv6(_) => {
            let h = url.host_str().unwrap_or_default().to_string();
            reasons.push("IP_HOST");
            let bare = h.trim_start_matches('[').trim_end_matches(']');
            listed_malicious = lists.malicious.contains(bare);
            (h, String::new())
        }
        Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            let split = psl.split(d);
            let registrable = split.registrable.unwrap_or("");
            if split.suffix.is_none() {
                reasons.push("UNKNOWN_SUFFIX");
            }
            let floor = if registrable.is_empty() {
                d
            } else {
                registrable
            };
            listed_malicious = lists.malicious.contains_host(d, floor);
            let brand = lists.brand_domains.contains_host(d, floor)
                || split
                    .suffix
                    .is_some_and(|s| lists.brand_domains.contains_host(s, ""));
            trusted = brand
                || lists.trusted.contains_host(d, floor)
                || split
                    .suffix
                    .is_some_and(|s| lists.trusted.contains_host(s, ""));
            if brand {
                reasons.push("OFFICIAL_BRAND");
            } else if trusted {
                reasons.push("TRUSTED_LIST");
            }
            if lists.shorteners.contains_host(d, floor) {
                reasons.push("SHORTENER");
            }
            if let Some(suffix) = split.suffix {
                let last = suffix.rsplit('.').next().unwrap_or(suffix);
                if lists.suspicious_tlds.contains(suffix) || lists.suspicious_tlds.contains(last) {
                    reasons.push("SUSPICIOUS_TLD");
                }
            }
            host_heuristics(
                lists,
                d,
                split.suffix,
                registrable,
                raw,
                trusted,
                &mut reasons,
            );
            (d.to_string(), registrable.to_string())
        }
    };
    if url.port().is_some() {
        reasons.push("UNUSUAL_PORT");
    }
    let userinfo_domain = !url.username().is_empty() || url.password().is_some();
    if userinfo_domain {
        reasons.push("USERINFO_TRICK");
    }
    if listed_malicious {
        reasons.push("MALICIOUS_LIST");
    }
    let shows_domain = url.username().contains('.');
    let reputation = classify(&reasons, listed_malicious, trusted, shows_domain);
    Some(Judged {
        url: url.to_string(),
        host: host_str,
        registrable_domain: registrable,
        reputation,
        reasons,
    })
}

/// Heuristics on a domain host: punycode and mixed scripts, lookalikes, deep subdomains,
/// random labels.
fn host_heuristics(
    lists: &Lists,
    host: &str,
    suffix: Option<&str>,
    registrable: &str,
    raw: &str,
    trusted: bool,
    reasons: &mut Vec<&'static str>,
) {
    let has_puny = host.split('.').any(|l| l.starts_with("xn--"));
    let unicode: Cow<'_, str> = if has_puny {
        Cow::Owned(idna::domain_to_unicode(host).0)
    } else {
        Cow::Borrowed(host)
    };
    if has_puny && contains_ci(raw, "xn--") {
        reasons.push("PUNYCODE");
    }
    if has_puny && unicode.split('.').any(mixed_script) {
        reasons.push("MIXED_SCRIPT");
    }
    let before_suffix_len = suffix.map_or(host.len(), |s| host.len().saturating_sub(s.len() + 1));
    let before_suffix = &host[..before_suffix_len];
    if !trusted && !registrable.is_empty() {
        let reg_unicode: Cow<'_, str> = if registrable.split('.').any(|l| l.starts_with("xn--")) {
            Cow::Owned(idna::domain_to_unicode(registrable).0)
        } else {
            Cow::Borrowed(registrable)
        };
        let label = reg_unicode.split('.').next().unwrap_or("");
        let before_unicode: Cow<'_, str> = if has_puny {
            Cow::Owned(idna::domain_to_unicode(before_suffix).0)
        } else {
            Cow::Borrowed(before_suffix)
        };
        if lists
            .brands
            .lookalike(label, registrable, &before_unicode)
            .is_some()
        {
            reasons.push("LOOKALIKE_BRAND");
        }
    }
    if !registrable.is_empty() && host.len() > registrable.len() {
        let sub = &host[..host.len() - registrable.len() - 1];
        let sub = sub.strip_prefix("www.").unwrap_or(sub);
        if sub != "www" && sub.split('.').count() >= DEEP_SUBDOMAIN_LABELS {
            reasons.push("DEEP_SUBDOMAIN");
        }
    }
    if !trusted && !has_puny && before_suffix.split('.').any(random_label) {
        reasons.push("RANDOM_LABEL");
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A label that mixes Latin letters with Cyrillic or Greek ones (a homograph), or is written
/// wholly in Cyrillic or Greek lookalikes under a Latin-looking name.
fn mixed_script(label: &str) -> bool {
    let mut latin = false;
    let mut other = false;
    for c in label.chars() {
        if c.is_ascii_alphabetic() {
            latin = true;
        } else if matches!(c, '\u{0370}'..='\u{03FF}' | '\u{0400}'..='\u{052F}') {
            other = true;
        }
    }
    latin && other
}

/// A label that looks machine-made: a hyphen-free stretch of 8+ ASCII characters with few
/// vowels for its letters, a long consonant run, or letters and digits interleaved
/// (`x7k2q9mz`, `qwrtzpkl`). Hyphenated words (`jkm-help`) are judged part by part.
fn random_label(label: &str) -> bool {
    label.split('-').any(random_part)
}

fn random_part(part: &str) -> bool {
    let b = part.as_bytes();
    if b.len() < 8 || !part.is_ascii() {
        return false;
    }
    let is_vowel = |c: u8| matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u');
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let vowels = b.iter().filter(|&&c| is_vowel(c)).count();
    let switches = b
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    let mut run = 0;
    let mut longest_consonants = 0;
    for &c in b {
        if c.is_ascii_alphabetic() && !is_vowel(c) && !c.eq_ignore_ascii_case(&b'y') {
            run += 1;
            longest_consonants = longest_consonants.max(run);
        } else {
            run = 0;
        }
    }
    (letters >= 6 && vowels * 5 < letters)
        || (digits >= 2 && letters >= 3 && switches >= 4)
        || longest_consonants >= 6
}

/// The reputation class from the reasons. The one place that decides it (module docs).
pub fn classify(
    reasons: &[&'static str],
    listed_malicious: bool,
    trusted: bool,
    userinfo_shows_domain: bool,
) -> Reputation {
    let has = |r: &str| reasons.contains(&r);
    if listed_malicious {
        return Reputation::Malicious;
    }
    if trusted {
        return if has("USERINFO_TRICK") || has("UNUSUAL_PORT") {
            Reputation::Suspicious
        } else {
            Reputation::Trusted
        };
    }
    let risks = reasons.iter().filter(|r| RISK_REASONS.contains(r)).count();
    if has("LOOKALIKE_BRAND") && risks >= 2 {
        return Reputation::Malicious;
    }
    if has("USERINFO_TRICK") && userinfo_shows_domain {
        return Reputation::Malicious;
    }
    if risks > 0 {
        Reputation::Suspicious
    } else {
        Reputation::Unknown
    }
}

/// The reputation of a link once `IDENTITY_MISMATCH` is among its `reasons` (module docs).
pub fn with_identity_mismatch(current: Reputation, reasons: &[&'static str]) -> Reputation {
    let other_risks = reasons
        .iter()
        .filter(|r| RISK_REASONS.contains(r) && !matches!(**r, "IDENTITY_MISMATCH" | "SHORTENER"))
        .count();
    let reachable = !reasons.contains(&"UNKNOWN_SUFFIX");
    if current == Reputation::Malicious || (other_risks > 0 && reachable) {
        Reputation::Malicious
    } else {
        Reputation::Suspicious
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_mismatch_raises_the_class() {
        let m = "IDENTITY_MISMATCH";
        assert_eq!(
            with_identity_mismatch(Reputation::Unknown, &[m]),
            Reputation::Suspicious
        );
        assert_eq!(
            with_identity_mismatch(Reputation::Unknown, &["SCHEMELESS", m]),
            Reputation::Suspicious
        );
        assert_eq!(
            with_identity_mismatch(Reputation::Suspicious, &["SUSPICIOUS_TLD", m]),
            Reputation::Malicious
        );
        assert_eq!(
            with_identity_mismatch(Reputation::Suspicious, &["SHORTENER", m]),
            Reputation::Suspicious
        );
        assert_eq!(
            with_identity_mismatch(Reputation::Suspicious, &["UNKNOWN_SUFFIX", m]),
            Reputation::Suspicious
        );
        assert_eq!(
            with_identity_mismatch(
                Reputation::Suspicious,
                &["UNKNOWN_SUFFIX", "RANDOM_LABEL", m]
            ),
            Reputation::Suspicious
        );
        assert_eq!(
            with_identity_mismatch(Reputation::Malicious, &["UNKNOWN_SUFFIX", m]),
            Reputation::Malicious
        );
    }

    #[test]
    fn random_labels() {
        assert!(random_label("x7k2q9mz3"));
        assert!(random_label("qwrtzpklm"));
        assert!(!random_label("sf-express"));
        assert!(!random_label("zhongguo"));
        assert!(!random_label("jkm-help"));
    }
}

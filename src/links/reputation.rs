//! Domain lists and the judgement of one link: reasons and reputation class.
//!
//! # Lists (rules/domains/*.txt, replaceable by an operator)
//!
//! `malicious`, `trusted`, `brands` (official brand domains with keywords, see lookalike.rs),
//! `shorteners`, `suspicious_tlds`. One name a line, `#` comments. A list is held as one sorted
//! `Vec<u64>` of 64-bit hashes of the canonical names (lower case, punycode, no trailing
//! dot): 8 bytes an entry, loaded by hashing and one sort, looked up by binary search. Two
//! names colliding in 64 bits is a risk of about n²/2^65 (1e-8 for a million names), accepted
//! for the speed and size.
//!
//! A lookup matches the exact host and every parent up to the registrable domain
//! (`a.b.evil.com`, `b.evil.com`, `evil.com`), never the public suffix above it: listing
//! `evil.github.io` does not condemn `github.io`. The one exception is on purpose: the trusted
//! and brand lists may name a public suffix with a closed registry (`gov.cn`, `edu.cn`), which
//! trusts every domain registered under it.
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

use std::borrow::Cow;
use std::path::Path;

use url::{Host, Url};

use super::extract::{Candidate, HOW_REASONS};
use super::host::SuffixList;
use super::lookalike::Brands;
use super::Reputation;
use crate::error::{Error, ErrorKind, Result};

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
];

/// The list files a domains directory may hold, by stem.
pub const LIST_NAMES: [&str; 5] = [
    "malicious",
    "trusted",
    "brands",
    "shorteners",
    "suspicious_tlds",
];

/// Subdomain labels (besides a leading `www`) from which a host counts as deep.
const DEEP_SUBDOMAIN_LABELS: usize = 3;

/// A set of domain names as sorted 64-bit hashes (see the module docs), with a bucket index
/// on the top bits of the hash so that a lookup reads one or two cache lines instead of
/// binary-searching the whole array.
#[derive(Clone, Debug, Default)]
pub struct DomainSet {
    hashes: Vec<u64>,
    /// `index[b]..index[b + 1]` is the range of hashes whose top `bits` bits are `b`.
    index: Vec<u32>,
    bits: u32,
}

impl DomainSet {
    /// Parses a list: one name a line, the first white-space-separated field; `#` comments.
    /// Names that are not domain names (no letter or digit) are an error naming the line.
    pub fn parse(text: &str, name: &str) -> Result<DomainSet> {
        let mut hashes = Vec::with_capacity(text.len() / 20 + 1);
        for (n, line) in text.lines().enumerate() {
            let field = match line.find(['#', ' ', '\t']) {
                Some(i) if line.as_bytes()[i] == b'#' => &line[..i],
                Some(_) => line.split_whitespace().next().unwrap_or(""),
                None => line,
            };
            let field = field.trim();
            if field.is_empty() {
                continue;
            }
            // The common case, a plain ASCII name: hashed as it is read, no allocation.
            let bare = field.trim_end_matches('.');
            if bare.is_ascii() && bare.bytes().any(|c| c.is_ascii_alphanumeric()) {
                hashes.push(hash_lower(bare.as_bytes()));
                continue;
            }
            let Some(canon) = canonical_name(field) else {
                return Err(Error::new(
                    ErrorKind::Data,
                    format!("{name}:{}: not a domain name: {field:?}", n + 1),
                ));
            };
            hashes.push(hash_name(&canon));
        }
        Ok(DomainSet::from_hashes(hashes))
    }

    /// A set from names (canonicalised; names that are not domain names are skipped).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> DomainSet {
        let hashes = names
            .into_iter()
            .filter_map(canonical_name)
            .map(|c| hash_name(&c))
            .collect();
        DomainSet::from_hashes(hashes)
    }

    fn from_hashes(mut hashes: Vec<u64>) -> DomainSet {
        hashes.sort_unstable();
        hashes.dedup();
        hashes.shrink_to_fit();
        // About four names a bucket: the index costs an eighth of the hashes' memory.
        let bits = if hashes.len() < 64 {
            0
        } else {
            (usize::BITS - hashes.len().leading_zeros() - 3).min(24)
        };
        let mut index = Vec::new();
        if bits > 0 {
            index.reserve_exact((1 << bits) + 1);
            let mut pos = 0usize;
            for b in 0..(1u64 << bits) {
                index.push(pos as u32);
                while pos < hashes.len() && hashes[pos] >> (64 - bits) == b {
                    pos += 1;
                }
            }
            index.push(hashes.len() as u32);
        }
        DomainSet {
            hashes,
            index,
            bits,
        }
    }

    /// Is this canonical name in the set?
    #[inline]
    pub fn contains(&self, canonical: &str) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        let h = hash_name(canonical);
        let slice = if self.bits == 0 {
            &self.hashes[..]
        } else {
            let b = (h >> (64 - self.bits)) as usize;
            &self.hashes[self.index[b] as usize..self.index[b + 1] as usize]
        };
        slice.contains(&h)
    }

    /// Is `host` or a parent of it, down to `floor` (its registrable domain), in the set?
    pub fn contains_host(&self, host: &str, floor: &str) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        let mut h = host;
        loop {
            if self.contains(h) {
                return true;
            }
            if h.len() <= floor.len() {
                return false;
            }
            match h.find('.') {
                Some(i) => h = &h[i + 1..],
                None => return false,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Heap bytes held (hashes and index).
    pub fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * 8 + self.index.capacity() * 4
    }
}

/// The canonical form of a domain name: trimmed, no trailing dot, lower case, punycode.
/// None for something that is not a name.
pub fn canonical_name(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('.');
    if s.is_empty() || !s.chars().any(char::is_alphanumeric) {
        return None;
    }
    if s.is_ascii() {
        return Some(s.to_ascii_lowercase());
    }
    idna::domain_to_ascii(s).ok().filter(|a| !a.is_empty())
}

/// FNV-1a over the bytes, then a SplitMix64 finaliser so that the high bits are well mixed.
#[inline]
fn hash_name(s: &str) -> u64 {
    hash_lower(s.as_bytes())
}

/// [`hash_name`] of the ASCII-lower-cased bytes.
#[inline]
fn hash_lower(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Every list, loaded.
#[derive(Debug)]
pub struct Lists {
    pub malicious: DomainSet,
    pub trusted: DomainSet,
    /// The official domains of brands.txt (trusted too).
    pub brand_domains: DomainSet,
    pub shorteners: DomainSet,
    pub suspicious_tlds: DomainSet,
    pub brands: Brands,
}

impl Lists {
    /// The compiled-in lists (rules/domains/*.txt at build time).
    pub fn compiled_in(psl: &SuffixList) -> Result<Lists> {
        let sources: Vec<(String, Cow<'static, str>, String)> = crate::defaults::DOMAIN_FILES
            .iter()
            .map(|(stem, text)| {
                (
                    stem.to_string(),
                    Cow::Borrowed(*text),
                    format!("rules/domains/{stem}.txt (compiled in)"),
                )
            })
            .collect();
        Lists::from_sources(&sources, psl)
    }

    /// Lists from DIR (a rules directory's `domains/`): each file present replaces the
    /// compiled-in one; an absent one falls back to it. A `.txt` file with an unknown name is
    /// an error, so a misspelt list is not silently ignored.
    pub fn from_dir(domains: &Path, psl: &SuffixList) -> Result<Lists> {
        let mut sources: Vec<(String, Cow<'static, str>, String)> = Vec::new();
        if domains.is_dir() {
            let entries = std::fs::read_dir(domains).map_err(|e| Error::io(domains, e))?;
            for entry in entries {
                let path = entry.map_err(|e| Error::io(domains, e))?.path();
                if path.extension().is_none_or(|e| e != "txt") {
                    continue;
                }
                let stem = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                if !LIST_NAMES.contains(&stem.as_str()) {
                    return Err(Error::new(
                        ErrorKind::Data,
                        format!(
                            "{}: unknown domain list (expected one of {})",
                            path.display(),
                            LIST_NAMES.join(", ")
                        ),
                    ));
                }
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                sources.push((stem, Cow::Owned(text), path.display().to_string()));
            }
        }
        for (stem, text) in crate::defaults::DOMAIN_FILES {
            if !sources.iter().any(|(s, _, _)| s == stem) {
                sources.push((
                    stem.to_string(),
                    Cow::Borrowed(*text),
                    format!("rules/domains/{stem}.txt (compiled in)"),
                ));
            }
        }
        Lists::from_sources(&sources, psl)
    }

    fn from_sources(sources: &[(String, Cow<'_, str>, String)], psl: &SuffixList) -> Result<Lists> {
        let get = |stem: &str| sources.iter().find(|(s, _, _)| s == stem);
        let set = |stem: &str| -> Result<DomainSet> {
            match get(stem) {
                Some((_, text, name)) => DomainSet::parse(text, name),
                None => Ok(DomainSet::default()),
            }
        };
        let (brand_domains, brands) = match get("brands") {
            Some((_, text, name)) => {
                let registrable_of = |d: &str| match psl.split(d).registrable {
                    Some(r) => r.to_string(),
                    None => d.to_string(),
                };
                (
                    DomainSet::parse(text, name)?,
                    Brands::parse(text, name, registrable_of)?,
                )
            }
            None => (
                DomainSet::default(),
                Brands::parse("", "brands", |d| d.to_string())?,
            ),
        };
        Ok(Lists {
            malicious: set("malicious")?,
            trusted: set("trusted")?,
            brand_domains,
            shorteners: set("shorteners")?,
            suspicious_tlds: set("suspicious_tlds")?,
            brands,
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_set_matches_parents_down_to_registrable() {
        let s = DomainSet::from_names(["evil.com", "Bad.Example.ORG."]);
        assert!(s.contains_host("a.b.evil.com", "evil.com"));
        assert!(s.contains_host("bad.example.org", "example.org"));
        assert!(!s.contains_host("example.org", "example.org"));
        assert!(!s.contains_host("com", "com"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn idn_names_are_stored_as_punycode() {
        let s = DomainSet::from_names(["例子.中国"]);
        assert!(s.contains("xn--fsqu00a.xn--fiqs8s"));
    }

    #[test]
    fn bad_line_names_its_place() {
        let e = DomainSet::parse("good.com\n---\n", "x.txt").unwrap_err();
        assert_eq!(e.message(), "x.txt:2: not a domain name: \"---\"");
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

//! The domain lists (rules/domains/*.txt, replaceable by an operator) and how they are held.
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

use std::borrow::Cow;
use std::path::Path;

use super::host::{canonical_name, SuffixList};
use super::lookalike::Brands;
use crate::error::{Error, ErrorKind, Result};
use crate::fnv;

/// The list files a domains directory may hold, by stem.
pub const LIST_NAMES: [&str; 6] = [
    "malicious",
    "trusted",
    "brands",
    "shorteners",
    "suspicious_tlds",
    // Read by identity.rs, not held here.
    "identities",
];

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

/// FNV-1a over the bytes, then a SplitMix64 finaliser so that the high bits are well mixed.
#[inline]
fn hash_name(s: &str) -> u64 {
    hash_lower(s.as_bytes())
}

/// [`hash_name`] of the ASCII-lower-cased bytes.
#[inline]
fn hash_lower(bytes: &[u8]) -> u64 {
    fnv::mix64(fnv::feed64_ascii_lower(fnv::OFFSET64, bytes))
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
}

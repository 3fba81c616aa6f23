//! Hosts and registrable domains: the Public Suffix List, loaded from text with the
//! `publicsuffix` crate.
//!
//! Two questions are asked of the list, and they differ on purpose:
//! - [`SuffixList::registrable_psl`] is the PSL algorithm exactly as the specification and its
//!   official test vectors define it, including the implicit `*` rule (an unlisted TLD is a
//!   public suffix of one label);
//! - [`SuffixList::split`] is what links use: it says whether the suffix is actually LISTED.
//!   A link whose suffix is unknown gets no registrable domain rather than one made up by the
//!   `*` rule, and IP hosts never reach the list at all (see [`HostKind`]).

use publicsuffix::{List, Psl, Type};

use crate::error::{Error, ErrorKind, Result};

/// What a URL's host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    Domain,
    Ipv4,
    Ipv6,
}

/// A host split at its public suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostSplit<'a> {
    /// The public suffix (`com.cn`, `github.io`), when the list knows it.
    pub suffix: Option<&'a str>,
    /// The registrable domain: one label more than the suffix. None when the suffix is
    /// unknown or the host is itself a public suffix.
    pub registrable: Option<&'a str>,
    /// The suffix is from the private section (`github.io`): registrants are kept apart.
    pub private: bool,
}

/// The Public Suffix List. Immutable once parsed.
#[derive(Debug)]
pub struct SuffixList {
    list: List,
}

impl SuffixList {
    /// Parses the list from its text (the `public_suffix_list.dat` format). `name` names the
    /// source in errors.
    pub fn parse(text: &str, name: &str) -> Result<SuffixList> {
        let list: List = text.parse().map_err(|e| {
            Error::new(
                ErrorKind::Data,
                format!("public suffix list {name}: cannot parse: {e:?}"),
            )
        })?;
        Ok(SuffixList { list })
    }

    /// The compiled-in copy of the list.
    pub fn compiled_in() -> Result<SuffixList> {
        SuffixList::parse(
            crate::defaults::PUBLIC_SUFFIX_LIST,
            "rules/public_suffix_list.dat (compiled in)",
        )
    }

    /// The registrable domain of `name` by the PSL algorithm, as the official test vectors
    /// expect it: lower-cased input, `None` for an empty name, a leading dot, an empty label,
    /// or a name that is itself a public suffix. Unlisted TLDs follow the `*` rule here.
    pub fn registrable_psl(&self, name: &str) -> Option<String> {
        if name.is_empty() || name.starts_with('.') || name.split('.').any(str::is_empty) {
            return None;
        }
        let lower = name.to_lowercase();
        let d = self.list.domain(lower.as_bytes())?;
        std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
    }

    /// Splits a canonical (lower-case, ASCII/punycode) domain host at its LISTED public
    /// suffix. Unknown suffixes give `suffix: None`, never the `*` rule's guess.
    pub fn split<'a>(&self, host: &'a str) -> HostSplit<'a> {
        let none = HostSplit {
            suffix: None,
            registrable: None,
            private: false,
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() || host.split('.').any(str::is_empty) {
            return none;
        }
        let Some(suffix) = self.list.suffix(host.as_bytes()) else {
            return none;
        };
        let Some(typ) = suffix.typ() else {
            return none;
        };
        let suffix_len = suffix.as_bytes().len();
        let suffix_str = &host[host.len() - suffix_len..];
        let registrable = if host.len() > suffix_len + 1 {
            let rest = &host[..host.len() - suffix_len - 1];
            let label_start = rest.rfind('.').map_or(0, |i| i + 1);
            Some(&host[label_start..])
        } else {
            None
        };
        HostSplit {
            suffix: Some(suffix_str),
            registrable,
            private: typ == Type::Private,
        }
    }

    /// Is `name` (canonical form) itself a listed public suffix?
    pub fn is_suffix(&self, name: &str) -> bool {
        self.split(name).suffix == Some(name)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn psl() -> SuffixList {
        SuffixList::compiled_in().unwrap()
    }

    #[test]
    fn split_known_suffixes() {
        let p = psl();
        let s = p.split("www.sf-express.com");
        assert_eq!(s.suffix, Some("com"));
        assert_eq!(s.registrable, Some("sf-express.com"));
        let s = p.split("a.b.nhc.gov.cn");
        assert_eq!(s.suffix, Some("gov.cn"));
        assert_eq!(s.registrable, Some("nhc.gov.cn"));
    }

    #[test]
    fn private_suffixes_keep_registrants_apart() {
        let p = psl();
        for (host, reg) in [
            ("evil.github.io", "evil.github.io"),
            ("x.evil.workers.dev", "evil.workers.dev"),
            ("my-app.vercel.app", "my-app.vercel.app"),
        ] {
            let s = p.split(host);
            assert_eq!(s.registrable, Some(reg), "{host}");
            assert!(s.private, "{host}");
        }
    }

    #[test]
    fn unknown_suffix_has_no_registrable_domain() {
        let p = psl();
        let s = p.split("intranet.corp-internal");
        assert_eq!(s.suffix, None);
        assert_eq!(s.registrable, None);
        // ... while the PSL algorithm itself applies the `*` rule.
        assert_eq!(
            p.registrable_psl("intranet.corp-internal").as_deref(),
            Some("intranet.corp-internal")
        );
    }

    #[test]
    fn bare_suffix_has_no_registrable_domain() {
        let p = psl();
        assert_eq!(p.split("com.cn").registrable, None);
        assert!(p.is_suffix("com.cn"));
        assert!(!p.is_suffix("jd.com"));
    }
}

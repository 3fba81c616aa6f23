//! Claimed identity against the link: a message that claims to come from an organisation
//! (a 【tag】 or a name in the text: a health authority, the ETC office, a courier, a carrier,
//! a bank) and links to a domain that organisation does not use is phishing's signature.
//!
//! The organisations, the words that claim them and their own domains are data:
//! `rules/domains/identities.txt` (format in that file). For each link of a message that
//! claims at least one organisation:
//!
//! - `IDENTITY_MATCH`: the link goes to a claimed organisation's own domain (or a subdomain:
//!   `gov.cn` covers every `*.gov.cn`). Evidence the message is genuine; the reputation stays.
//! - `IDENTITY_MISMATCH`: the link goes elsewhere, to a domain that is neither trusted
//!   (trusted.txt, brands.txt) nor a URL shortener (whose target is unknown). A risk reason:
//!   the link is at least `suspicious`, and `malicious` when another risk reason (other than
//!   `SHORTENER`) comes with it (see [`super::reputation`]).
//!
//! Claims are found in the normalised text with one automaton, only for messages that have
//! links, so the common message pays nothing.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::reputation::{with_identity_mismatch, Reputation, UrlFinding};
use crate::error::{Error, ErrorKind, Result};
use crate::normalize::normalize;

/// The reason given to a link to a claimed organisation's own domain.
pub const IDENTITY_MATCH: &str = "IDENTITY_MATCH";
/// The reason given to a link elsewhere (module docs).
pub const IDENTITY_MISMATCH: &str = "IDENTITY_MISMATCH";

/// One organisation of identities.txt.
#[derive(Clone, Debug)]
struct Org {
    name: String,
    domains: Vec<String>,
}

/// The organisations and the automaton over the words that claim them. Immutable once built;
/// the default claims nothing.
#[derive(Clone, Debug, Default)]
pub struct Identities {
    orgs: Vec<Org>,
    /// Per automaton pattern: the organisation it claims.
    word_org: Vec<u32>,
    /// Per pattern: (starts with an ASCII alphanumeric, ends with one), for word boundaries.
    word_bounded: Vec<(bool, bool)>,
    ac: Option<AhoCorasick>,
}

impl Identities {
    /// Parses identities.txt (format in the file); `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Identities> {
        let mut orgs = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut word_org = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |what: &str| {
                Error::new(
                    ErrorKind::Data,
                    format!("{name}:{}: {what}: {line:?}", n + 1),
                )
            };
            let mut fields = line.split_whitespace();
            let org = fields.next().unwrap_or_default().to_string();
            let domains: Vec<String> = fields
                .next()
                .ok_or_else(|| err("an organisation needs its domains"))?
                .split(',')
                .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect();
            if domains.iter().any(|d| !d.contains('.') || d.contains('/')) {
                return Err(err("domains are names such as gov.cn, comma-separated"));
            }
            let before = words.len();
            for w in fields {
                let n = normalize(w);
                if !n.is_empty() {
                    words.push(n.as_str().to_string());
                    word_org.push(orgs.len() as u32);
                }
            }
            if words.len() == before {
                return Err(err("an organisation needs words that claim it"));
            }
            orgs.push(Org { name: org, domains });
        }
        let ac = if words.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&words)
                    .map_err(|e| Error::new(ErrorKind::Data, format!("{name}: {e}")))?,
            )
        };
        let word_bounded = words
            .iter()
            .map(|w| {
                let b = w.as_bytes();
                (
                    b[0].is_ascii_alphanumeric(),
                    b[b.len() - 1].is_ascii_alphanumeric(),
                )
            })
            .collect();
        Ok(Identities {
            orgs,
            word_org,
            word_bounded,
            ac,
        })
    }

    /// The compiled-in identities.txt (none when the build has no such file).
    pub fn compiled_in() -> Result<Identities> {
        let text = crate::defaults::DOMAIN_FILES
            .iter()
            .find(|(stem, _)| *stem == "identities")
            .map(|(_, text)| *text)
            .unwrap_or("");
        Identities::parse(text, "rules/domains/identities.txt (compiled in)")
    }

    /// DIR/identities.txt when present, else the compiled-in file.
    pub fn from_dir(domains: &std::path::Path) -> Result<Identities> {
        let path = domains.join("identities.txt");
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            Identities::parse(&text, &path.display().to_string())
        } else {
            Identities::compiled_in()
        }
    }

    /// Names of the organisations `normalized` claims, in file order.
    pub fn claims(&self, normalized: &str) -> Vec<&str> {
        let mut claimed = vec![false; self.orgs.len()];
        self.mark_claims(normalized, &mut claimed);
        self.orgs
            .iter()
            .zip(claimed)
            .filter(|(_, c)| *c)
            .map(|(o, _)| o.name.as_str())
            .collect()
    }

    fn mark_claims(&self, normalized: &str, claimed: &mut [bool]) -> bool {
        let Some(ac) = &self.ac else {
            return false;
        };
        let bytes = normalized.as_bytes();
        let mut any = false;
        for m in ac.find_overlapping_iter(normalized) {
            let p = m.pattern().as_usize();
            let (bs, be) = self.word_bounded[p];
            if bs && m.start() > 0 && bytes[m.start() - 1].is_ascii_alphanumeric() {
                continue;
            }
            if be && m.end() < bytes.len() && bytes[m.end()].is_ascii_alphanumeric() {
                continue;
            }
            claimed[self.word_org[p] as usize] = true;
            any = true;
        }
        any
    }

    /// Adds `IDENTITY_MATCH` or `IDENTITY_MISMATCH` to the links of a message whose normalised
    /// text is `normalized` (module docs), updating the reputation of mismatched links.
    pub fn judge(&self, normalized: &str, urls: &mut [UrlFinding]) {
        if urls.is_empty() {
            return;
        }
        let mut claimed = vec![false; self.orgs.len()];
        if !self.mark_claims(normalized, &mut claimed) {
            return;
        }
        for u in urls.iter_mut() {
            let own = self
                .orgs
                .iter()
                .zip(&claimed)
                .filter(|(_, c)| **c)
                .any(|(o, _)| o.domains.iter().any(|d| is_within(&u.host, d)));
            if own {
                u.reasons.push(IDENTITY_MATCH);
            } else if u.reputation != Reputation::Trusted && !u.reasons.contains(&"SHORTENER") {
                u.reasons.push(IDENTITY_MISMATCH);
                u.reputation = with_identity_mismatch(u.reputation, &u.reasons);
            }
        }
    }
}

/// Whether `host` is `domain` or one of its subdomains.
fn is_within(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = "# test\nauthority gov.cn 疾控 医保 健康码\netc etc.com.cn,gov.cn etc 粤通卡\nsf sf-express.com 顺丰\n";

    #[test]
    fn claims_by_word_with_ascii_boundaries() {
        let ids = Identities::parse(DATA, "t").unwrap();
        assert_eq!(
            ids.claims(normalize("【粤通卡】通行卡暂停").as_str()),
            ["etc"]
        );
        assert_eq!(
            ids.claims(normalize("【疾控中心】顺丰").as_str()),
            ["authority", "sf"]
        );
        assert_eq!(ids.claims(normalize("ETC卡").as_str()), ["etc"]);
        assert!(ids.claims(normalize("fetch etcetera").as_str()).is_empty());
        assert!(ids.claims(normalize("今天天气不错").as_str()).is_empty());
    }

    #[test]
    fn subdomains_are_within_but_lookalikes_are_not() {
        assert!(is_within("gov.cn", "gov.cn"));
        assert!(is_within("www.nhsa.gov.cn", "gov.cn"));
        assert!(!is_within("evilgov.cn", "gov.cn"));
        assert!(!is_within("gov.cn.evil.top", "gov.cn"));
    }

    #[test]
    fn bad_lines_name_the_line() {
        let e = Identities::parse("\nx\n", "ids.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ids.txt:2"), "{e}");
        let e = Identities::parse("x gov.cn\n", "ids.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs words"), "{e}");
        let e = Identities::parse("x 疾控 医保\n", "ids.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("domains are names"), "{e}");
    }
}

//! Lookalikes of official brand domains: the domain a scam wants the reader to think of.
//!
//! A host that is not itself an official domain (or under one) is a lookalike of brand B when
//! its registrable label
//! - has the same confusable skeleton as B's label but is spelled differently (`a1ipay`,
//!   `аlipay` with a Cyrillic `а`, `l0086`), or
//! - is a small edit away from B's label (one edit for labels of 5+ characters, two for 9+:
//!   `sf-expresss`, `alipey`), or
//! - is B's label on another suffix (`alipay.top`, `sf-express.cn`);
//!
//! or when B's keywords appear in the host outside its public suffix: keywords of 4+ characters
//! anywhere (`10086-jf.vip`, `icbc-vip.com`), shorter ones as a whole token split on `.` `-`
//! `_` (`gov-cn.top`, `tax-gov.cn.refund-check.xyz`, `jd-pay.cc`).

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::error::{Error, ErrorKind, Result};

/// One official brand domain.
#[derive(Clone, Debug)]
pub struct Brand {
    /// The official domain, canonical (`sf-express.com`).
    pub domain: String,
    /// Its registrable domain (`qq.com` for `weixin.qq.com`) and that domain's first label.
    pub registrable: String,
    pub label: String,
    skeleton: String,
}

/// The official brands and the keywords that point at them.
#[derive(Clone, Debug)]
pub struct Brands {
    brands: Vec<Brand>,
    long: Option<AhoCorasick>,
    long_brand: Vec<usize>,
    short: HashMap<String, usize>,
}

/// Keywords at least this long match anywhere in a host; shorter ones only as a whole token.
const LONG_KEYWORD: usize = 4;

impl Brands {
    /// Parses `brands.txt`: `domain keyword ...` a line. `label_of` gives a domain's
    /// registrable domain (it needs the suffix list).
    pub fn parse(
        text: &str,
        name: &str,
        registrable_of: impl Fn(&str) -> String,
    ) -> Result<Brands> {
        let mut brands = Vec::new();
        let mut long_patterns = Vec::new();
        let mut long_brand = Vec::new();
        let mut short = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let domain =
                super::host::canonical_name(words.next().unwrap_or("")).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Data,
                        format!("{name}:{}: not a domain name: {line:?}", n + 1),
                    )
                })?;
            let idx = brands.len();
            let registrable = registrable_of(&domain);
            let label = registrable.split('.').next().unwrap_or("").to_string();
            brands.push(Brand {
                skeleton: skeleton(&label),
                label,
                registrable,
                domain,
            });
            for kw in words {
                let kw = kw.to_lowercase();
                if kw.chars().count() >= LONG_KEYWORD {
                    long_patterns.push(kw);
                    long_brand.push(idx);
                } else {
                    short.entry(kw).or_insert(idx);
                }
            }
        }
        let long = if long_patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&long_patterns)
                    .map_err(|e| {
                        Error::with_source(ErrorKind::Data, format!("{name}: keywords"), e)
                    })?,
            )
        };
        Ok(Brands {
            brands,
            long,
            long_brand,
            short,
        })
    }

    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }

    /// The brand `host` imitates, if any. `label` is the registrable label of the host in
    /// Unicode, `registrable` the registrable domain, `before_suffix` the host without its
    /// public suffix. The caller has already ruled out official domains.
    pub fn lookalike(&self, label: &str, registrable: &str, before_suffix: &str) -> Option<&Brand> {
        let label_len = label.chars().count();
        if label_len >= 3 {
            let sk = skeleton(label);
            for b in &self.brands {
                let blen = b.label.chars().count();
                if blen < 3 {
                    continue;
                }
                if label == b.label {
                    // The brand's label on another suffix.
                    if registrable != b.registrable {
                        return Some(b);
                    }
                    continue;
                }
                if sk == b.skeleton {
                    return Some(b);
                }
                let max = if blen >= 9 {
                    2
                } else if blen >= 5 {
                    1
                } else {
                    0
                };
                if max > 0
                    && label_len.abs_diff(blen) <= max
                    && edit_distance(label, &b.label, max) <= max
                {
                    return Some(b);
                }
            }
        }
        let lower = before_suffix.to_lowercase();
        if let Some(ac) = &self.long {
            if let Some(m) = ac.find(&lower) {
                return Some(&self.brands[self.long_brand[m.pattern().as_usize()]]);
            }
        }
        lower
            .split(['.', '-', '_'])
            .find_map(|t| self.short.get(t))
            .map(|&i| &self.brands[i])
    }
}

/// The confusable skeleton of a label: lookalike letters from other scripts and lookalike
/// digits map to one Latin letter, so `аlipay` (Cyrillic а), `a1ipay` and `alipay` agree.
pub fn skeleton(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let m = match c {
            'а' | 'α' | 'ɑ' => 'a',
            'ь' | 'Ь' => 'b',
            'с' | 'ϲ' => 'c',
            'ԁ' => 'd',
            'е' | 'ε' | 'ё' => 'e',
            'ɡ' => 'g',
            'һ' => 'h',
            'і' | 'ι' | 'ı' | 'ӏ' | '1' | 'l' | 'i' | '|' | '!' => 'l',
            'ј' | 'ϳ' => 'j',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'п' | 'η' => 'n',
            'о' | 'ο' | 'σ' | '0' => 'o',
            'р' | 'ρ' => 'p',
            'ԛ' => 'q',
            'г' => 'r',
            'ѕ' | '5' | '$' => 's',
            'т' | 'τ' => 't',
            'υ' | 'ս' => 'u',
            'ν' | 'ѵ' => 'v',
            'ѡ' | 'ω' => 'w',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'ᴢ' => 'z',
            c => c,
        };
        out.push(m);
    }
    // Letter pairs that read as one letter.
    out.replace("rn", "m").replace("vv", "w").replace("cl", "d")
}

/// Optimal-string-alignment distance between `a` and `b` (adjacent swaps count one),
/// giving up (returning `max + 1`) once it must exceed `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return max + 1;
    }
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_agree_on_confusables() {
        assert_eq!(skeleton("аlipay"), skeleton("alipay"));
        assert_eq!(skeleton("a1ipay"), skeleton("alipay"));
        assert_eq!(skeleton("l0086"), skeleton("10086"));
        assert_eq!(skeleton("payrnent"), skeleton("payment"));
        assert_ne!(skeleton("taobao"), skeleton("tmall"));
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance("sf-expresss", "sf-express", 2), 1);
        assert_eq!(edit_distance("alipya", "alipay", 2), 1);
        assert_eq!(edit_distance("taobao", "tmall", 1), 2);
        assert_eq!(edit_distance("abc", "abc", 0), 0);
    }
}

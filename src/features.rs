//! Features of one analysed message, schema [`SCHEMA`] (`smishd-features-v3`).
//!
//! A message becomes a SET of feature ids (binary features, value 1), in two spaces:
//!
//! - `0 .. 2^20`: hashed character n-grams (orders 1, 2 and 3) of the normalised text in which
//!   every run of ASCII digits is collapsed to one `0` (phone numbers, amounts and codes of any
//!   length read the same);
//! - `2^20 .. 2^21`: named signals, hashed from a key `prefix:name`: every fired rule
//!   (`rule:RED_CODE_THREAT`), every fired rule's category (`category:positive_parcel`), every
//!   scam rule that fired only through negated or quoted keywords, as in a warning that quotes
//!   the scam (`negated:RED_CODE_THREAT`, `negated_category:close_contact_red_code`), every
//!   link's reputation (`url:suspicious`) and reason (`url_reason:SUSPICIOUS_TLD`), the
//!   sender's kind when a sender was given (`sender:mobile`), and the level the rule authors'
//!   summed weights reach ([`RuleEvidence`]): `evidence:fraud>=N` for each N of
//!   [`FRAUD_LEVELS`] reached, `evidence:against>=N` and `evidence:spam>=N` likewise. The levels
//!   are cumulative, so the model learns a monotone step function of the rule evidence and a
//!   rule's weight counts even for a message unlike any in the corpora.
//!
//! The hash is fixed and documented so a model file means the same thing in every build:
//! 32-bit FNV-1a (fnv.rs) over the UTF-8 bytes (offset basis 0x811c9dc5, prime 0x01000193), xor-folded
//! to 20 bits (`(h >> 20 ^ h) & 0xfffff`). std's `DefaultHasher` is not used: its output may
//! change between Rust releases. Changing anything here means a new schema name: v3 added the
//! negated-rule signals and reads text whose numbers before units are in one form
//! (normalize/numbers.rs).

use crate::analysis::{Analysis, RuleEvidence};
use crate::fnv;
use crate::rules::RuleSet;

/// Name of this feature schema, written in and checked against every model file.
pub const SCHEMA: &str = "smishd-features-v3";
/// Name of the hash function, written in every model file.
pub const HASH: &str = "fnv1a32-xorfold";
/// Bits of the hashed spaces.
pub const HASH_BITS: u32 = 20;
/// Size of the n-gram space; named signals live in `NGRAM_SPACE .. 2 * NGRAM_SPACE`.
pub const NGRAM_SPACE: u32 = 1 << HASH_BITS;
/// The n-gram orders, as written in model files.
pub const NGRAM_ORDERS: &str = "1,2,3";

const MASK: u32 = NGRAM_SPACE - 1;

#[inline]
fn fold(h: u32) -> u32 {
    ((h >> HASH_BITS) ^ h) & MASK
}

/// The id of a named signal `prefix:name` (prefix given with its colon).
#[inline]
pub fn signal_id(prefix: &str, name: &str) -> u32 {
    let h = fnv::feed32(
        fnv::feed32(fnv::OFFSET32, prefix.as_bytes()),
        name.as_bytes(),
    );
    NGRAM_SPACE | fold(h)
}

/// Is `id` a hashed n-gram (rather than a named signal)?
#[inline]
pub fn is_ngram(id: u32) -> bool {
    id < NGRAM_SPACE
}

/// Calls `f` with the id of every character n-gram of `text` (orders 1 to 3, digit runs
/// collapsed), repeats included.
#[inline]
pub fn visit_ngrams(text: &str, f: &mut impl FnMut(u32)) {
    // FNV-1a is a left fold over bytes, so the hash of `p1 c` continues from the hash of `p1`
    // and that of `p2 p1 c` from the hash of `p2 p1`: keep the previous character's 1-gram and
    // 2-gram hashes (before folding) and feed each character's bytes three times, instead of
    // rehashing every n-gram from the start. The ids are the same either way.
    let mut prev1 = 0u32; // FNV of the previous character
    let mut prev2 = 0u32; // FNV of the previous two characters
    let mut seen = 0usize;
    let mut prev_digit = false;
    // Each character's UTF-8 bytes are read in place, not decoded and encoded again.
    let text = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let lead = text[i];
        let len = match lead {
            0..0x80 => 1,
            0x80..0xE0 => 2,
            0xE0..0xF0 => 3,
            _ => 4,
        };
        let bytes = if lead.is_ascii_digit() {
            i += 1;
            if prev_digit {
                continue;
            }
            prev_digit = true;
            b"0"
        } else {
            prev_digit = false;
            let bytes = &text[i..i + len];
            i += len;
            bytes
        };
        let h1 = fnv::feed32(fnv::OFFSET32, bytes);
        f(fold(h1));
        let h2 = if seen >= 1 {
            let h = fnv::feed32(prev1, bytes);
            f(fold(h));
            h
        } else {
            0
        };
        if seen >= 2 {
            f(fold(fnv::feed32(prev2, bytes)));
        }
        prev1 = h1;
        prev2 = h2;
        seen += 1;
    }
}

/// Calls `f(prefix, name)` for every named signal of an analysis, repeats included.
pub fn visit_signals(rules: &RuleSet, analysis: &Analysis, f: &mut impl FnMut(&str, &str)) {
    for fired in &analysis.fired {
        let rule = rules.rule(fired.rule);
        f("rule:", &rule.id);
        f("category:", rule.category.as_str());
    }
    for negated in &analysis.negated {
        let rule = rules.rule(negated.rule);
        f("negated:", &rule.id);
        f("negated_category:", rule.category.as_str());
    }
    for u in &analysis.urls {
        f("url:", u.reputation.as_str());
        for reason in &u.reasons {
            f("url_reason:", reason);
        }
    }
    if let Some(kind) = analysis.sender {
        f("sender:", kind.as_str());
    }
    if !analysis.fired.is_empty() {
        let e = RuleEvidence::of(rules, analysis);
        for (level, name) in FRAUD_LEVELS {
            if e.fraud >= level {
                f("evidence:fraud>=", name);
            }
        }
        for (level, name) in AGAINST_LEVELS {
            if -e.against >= level {
                f("evidence:against>=", name);
            }
        }
        for (level, name) in SPAM_LEVELS {
            if e.spam >= level {
                f("evidence:spam>=", name);
            }
        }
    }
}

/// Levels of summed fraud-rule weight that become features (value, name).
pub const FRAUD_LEVELS: [(f64, &str); 6] = [
    (1.0, "1"),
    (2.0, "2"),
    (3.0, "3"),
    (4.0, "4"),
    (5.5, "5.5"),
    (7.0, "7"),
];
/// Levels of summed negative weight (evidence against fraud).
pub const AGAINST_LEVELS: [(f64, &str); 3] = [(1.5, "1.5"), (3.0, "3"), (5.0, "5")];
/// Levels of summed spam weight.
pub const SPAM_LEVELS: [(f64, &str); 3] = [(1.0, "1"), (2.0, "2"), (3.5, "3.5")];

/// Calls `f` with every feature id of an analysis, repeats included (the hot path: no
/// allocation).
#[inline]
pub fn visit(rules: &RuleSet, analysis: &Analysis, f: &mut impl FnMut(u32)) {
    visit_ngrams(analysis.normalized.as_str(), f);
    visit_signals(rules, analysis, &mut |p, n| f(signal_id(p, n)));
}

/// The feature set of an analysis: sorted, without repeats.
pub fn extract(rules: &RuleSet, analysis: &Analysis, out: &mut Vec<u32>) {
    out.clear();
    visit(rules, analysis, &mut |id| out.push(id));
    out.sort_unstable();
    out.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ngrams(text: &str) -> Vec<u32> {
        let mut v = Vec::new();
        visit_ngrams(text, &mut |id| v.push(id));
        v
    }

    #[test]
    fn ngram_counts_and_digit_collapsing() {
        // 3 chars: 3 unigrams + 2 bigrams + 1 trigram.
        assert_eq!(ngrams("abc").len(), 6);
        assert_eq!(ngrams("").len(), 0);
        // Digit runs of any length read the same.
        assert_eq!(ngrams("验证码123456"), ngrams("验证码9"));
        assert_ne!(ngrams("验证码1"), ngrams("验证码a"));
        assert!(ngrams("密接红码").iter().all(|&id| is_ngram(id)));
    }

    /// The incremental hashing must give exactly the ids of hashing each n-gram from scratch,
    /// or every shipped model would silently mean something else.
    #[test]
    fn incremental_ngram_ids_equal_hashing_each_ngram() {
        for text in [
            "abc",
            "健康码 red 12 码",
            "a",
            "验证码123456，密接",
            "ｖｘ🔥é",
        ] {
            let mut chars: Vec<String> = Vec::new();
            let mut prev_digit = false;
            for c in text.chars() {
                let d = c.is_ascii_digit();
                if !(d && prev_digit) {
                    chars.push(if d { "0".into() } else { c.to_string() });
                }
                prev_digit = d;
            }
            let mut want = Vec::new();
            for i in 0..chars.len() {
                for n in 1..=3.min(i + 1) {
                    let gram: String = chars[i + 1 - n..=i].concat();
                    want.push(fold(fnv::feed32(fnv::OFFSET32, gram.as_bytes())));
                }
            }
            let mut got = Vec::new();
            visit_ngrams(text, &mut |id| got.push(id));
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn signals_live_in_their_own_space() {
        let id = signal_id("rule:", "RED_CODE_THREAT");
        assert!(!is_ngram(id));
        assert!(id < 2 * NGRAM_SPACE);
        assert_ne!(id, signal_id("rule:", "RED_CODE_THREAT2"));
        assert_eq!(id, signal_id("rule:RED_", "CODE_THREAT"));
    }
}

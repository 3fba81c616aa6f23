//! The template fingerprint of one message: MinHash over character shingles of the masked
//! text, cut into locality-sensitive bands.
//!
//! 1. The normalised text is masked (`mask.rs`): numbers, links and names become placeholders.
//! 2. White space and punctuation are dropped (campaigns vary them), leaving letters, digits,
//!    CJK characters and placeholders: the *content*. A message with fewer than
//!    [`MIN_CONTENT`] content characters has no fingerprint: it is too short to tell a template
//!    from a common phrase (`好的`, `ok thanks`).
//! 3. Every run of [`SHINGLE`] consecutive content characters is hashed once. One-permutation
//!    MinHash puts each hash in one of [`BANDS`] × [`ROWS`] bins by its high bits and keeps the
//!    least low bits per bin; an empty bin borrows from the next full one (rotation
//!    densification), so a short message still fills every bin. Two messages agree on a bin
//!    with a probability close to the Jaccard similarity of their shingle sets.
//! 4. The bins are cut into [`BANDS`] bands of [`ROWS`]; a band's key is the hash of its rows.
//!    Two messages share at least one band key with probability `1 - (1 - J^ROWS)^BANDS`,
//!    which is a steep S-curve around the similarity where copies of one template sit.
//!
//! The parameters were chosen from measurements on real repeated campaigns (BENCHMARKS.md,
//! "Campaigns", `cargo bench --bench campaign -- --pairs FILE`): on 600 labelled pairs from two
//! spam corpora, character 3-grams in 12 bands of 5 rows had the best balance (precision 0.93,
//! recall 0.91); 2- and 4-grams and other band shapes traded one for much of the other, and a
//! 64-bit SimHash, at any Hamming radius, found at most 60% of the same-template pairs (short
//! texts give it too few shingles to settle its bits). Cost: one hash per content character
//! plus 60 bins, no allocation after the first message on a thread.

use super::mask::mask_into;
// The SplitMix64 finaliser: every input bit moves every output bit.
use crate::fnv;
pub(crate) use crate::fnv::mix64 as mix;

/// Characters per shingle.
pub const SHINGLE: usize = 3;
/// MinHash rows per band.
pub const ROWS: usize = 5;
/// Bands (band keys per message).
pub const BANDS: usize = 12;
/// Content characters a message needs to have a fingerprint.
pub const MIN_CONTENT: usize = 8;

/// A message's band keys. Two messages with a key in common are copies of one template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub keys: [u64; BANDS],
}

impl Fingerprint {
    /// The fingerprint of a message's normalised text, or `None` when it is too short.
    pub fn of(normalized: &str) -> Option<Fingerprint> {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<char>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|cell| {
            let mut masked = cell.borrow_mut();
            mask_into(normalized, &mut masked);
            Fingerprint::of_masked(&masked)
        })
    }

    /// The fingerprint of already masked text (see `mask.rs`).
    pub fn of_masked(masked: &[char]) -> Option<Fingerprint> {
        let mut keys = [0u64; BANDS];
        minhash_bands(masked, SHINGLE, ROWS, &mut keys).then_some(Fingerprint { keys })
    }
}

/// Calls `f` with the hash of every run of `shingle` consecutive content characters of
/// `masked` (`shingle` from 1 to 8) and returns the number of content characters.
pub fn shingles(masked: &[char], shingle: usize, mut f: impl FnMut(u64)) -> usize {
    let k = shingle.clamp(1, 8);
    let mut seen = 0usize;
    if k <= 3 {
        // Up to three 21-bit characters fit in one word, rolled forward: the same value the
        // general loop below computes, without moving a window.
        let bits = 21 * k as u32;
        let keep = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let mut h = 0u64;
        for &c in masked {
            if !is_content(c) {
                continue;
            }
            h = ((h << 21) ^ u64::from(c as u32)) & keep;
            seen += 1;
            if seen >= k {
                f(mix(h));
            }
        }
        return seen;
    }
    let mut window = [0u32; 8];
    for &c in masked {
        if !is_content(c) {
            continue;
        }
        window.copy_within(1..k, 0);
        window[k - 1] = c as u32;
        seen += 1;
        if seen >= k {
            let mut h = 0u64;
            for (i, &c) in window[..k].iter().enumerate() {
                if i > 0 && i % 3 == 0 {
                    h = mix(h);
                }
                h = (h << 21) ^ u64::from(c);
            }
            f(mix(h));
        }
    }
    seen
}

/// One-permutation MinHash of `masked`'s shingles into `keys.len() × rows` bins (at most 64),
/// band keys written to `keys`. False, and `keys` untouched, when the text has fewer than
/// [`MIN_CONTENT`] content characters.
pub fn minhash_bands(masked: &[char], shingle: usize, rows: usize, keys: &mut [u64]) -> bool {
    let bins = (keys.len() * rows).clamp(1, 64);
    let mut mins = [u32::MAX; 64];
    let mut filled = 0u64;
    let seen = shingles(masked, shingle, |h| {
        // High bits pick the bin (a multiply-shift range reduction), low bits compete.
        // (`bin` < `bins` ≤ 64; the mask only spares the bounds check.)
        let bin = (((h >> 32) * bins as u64) >> 32) as usize & 63;
        // Without a branch: whether a shingle lowers its bin is a coin toss the processor
        // cannot predict.
        mins[bin] = mins[bin].min(h as u32);
        filled |= 1 << bin;
    });
    if seen < MIN_CONTENT {
        return false;
    }
    densify(&mut mins[..bins], filled);
    for (b, key) in keys.iter_mut().enumerate() {
        let end = ((b + 1) * rows).min(bins);
        *key = band_key(b, mins.get(b * rows..end).unwrap_or(&[]));
    }
    true
}

/// A band's key from its rows: equal rows give equal keys, and different rows equal keys only
/// by a 64-bit hash collision. The rows are packed two to a word, each word multiplied by its
/// own odd constant and summed, and the sum finalised once: the words are independent, so the
/// twelve keys of a message cost a few multiplies each rather than a chain of finalisers.
fn band_key(band: usize, rows: &[u32]) -> u64 {
    let mut h = BAND_SEEDS[band % 64];
    for (k, pair) in rows.chunks(2).enumerate() {
        let word = u64::from(pair[0]) | pair.get(1).map_or(0, |&v| u64::from(v) << 32);
        h = h.wrapping_add(word.wrapping_mul(WORD_FACTORS[k % 32]));
    }
    mix(h)
}

/// A seed per band, so that two bands with equal rows have different keys.
const BAND_SEEDS: [u64; 64] = constants(0x9e37_79b9_7f4a_7c15);
/// An odd factor per word of a band (up to 64 rows).
const WORD_FACTORS: [u64; 32] = {
    let all = constants(0xd1b5_4a32_d192_ed03);
    let mut odd = [0u64; 32];
    let mut i = 0;
    while i < 32 {
        odd[i] = all[i] | 1;
        i += 1;
    }
    odd
};

/// 64 well-spread constants: the finaliser of `seed + i`.
const fn constants(seed: u64) -> [u64; 64] {
    let mut out = [0u64; 64];
    let mut i = 0;
    while i < 64 {
        out[i] = crate::fnv::mix64(seed.wrapping_add(i as u64));
        i += 1;
    }
    out
}

/// Letters, digits, CJK characters and placeholders; not white space or punctuation.
fn is_content(c: char) -> bool {
    // The common cases first: ASCII and the main CJK block (all letters) skip the table lookup.
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        true
    } else {
        c.is_alphanumeric()
    }
}

/// Fills each empty bin from the next full bin (circularly), with an offset per distance so
/// that two empty bins never copy the same value (optimal densification, rotation variant).
fn densify(mins: &mut [u32], filled: u64) {
    let bins = mins.len();
    if filled == 0 || filled.count_ones() as usize == bins {
        return;
    }
    // The next full bin is found from the bitmap (count trailing zeros) rather than by
    // stepping: a short message leaves most bins empty, and this loop was half the cost of
    // the fingerprint. The values are those of the stepping loop (a test keeps them equal).
    let all = if bins == 64 {
        u64::MAX
    } else {
        (1u64 << bins) - 1
    };
    let mut empty = !filled & all;
    while empty != 0 {
        let i = empty.trailing_zeros() as usize;
        empty &= empty - 1;
        let after = if i + 1 < 64 { filled >> (i + 1) } else { 0 };
        let d = if after != 0 {
            after.trailing_zeros() as usize + 1
        } else {
            // Around the end: the bins after `i`, then the first full one from the start.
            bins - i + filled.trailing_zeros() as usize
        };
        let j = i + d;
        let v = mins[if j >= bins { j - bins } else { j }];
        mins[i] = fill(v, d);
    }
}

/// The value an empty bin takes from the full bin `d` bins after it: equal for equal sources
/// and distances, different for different distances (rotation densification).
fn fill(v: u32, d: usize) -> u32 {
    v.wrapping_add((d as u32).wrapping_mul(0x9e37_79b9))
}

/// A stable 64-bit hash of a string (a sender id): FNV-1a, then the finaliser.
pub fn hash_str(s: &str) -> u64 {
    mix(fnv::feed64(fnv::OFFSET64, s.as_bytes()))
}

/// Whether two fingerprints put their messages in one campaign.
pub fn same_template(a: &Fingerprint, b: &Fingerprint) -> bool {
    a.keys.iter().zip(&b.keys).any(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn fp(s: &str) -> Option<Fingerprint> {
        Fingerprint::of(normalize(s).as_str())
    }

    #[test]
    fn fills_and_small_edits_keep_the_template() {
        let a = fp(
            "【顺丰】张先生您好，您的快递123456因检测阳性已销毁，请点击sf-pay.top/a1领取赔偿300元",
        )
        .unwrap();
        let b = fp("【顺丰】李先生您好，您的快递998877因检测阳性已销毁，请点击sf-pay.top/zz领取赔偿1500元！").unwrap();
        let c = fp(
            "【順豐】王先生您好，您的快递 4455 因检测阳性已经销毁，请点击 pay-sf.cc 领取赔偿80元",
        )
        .unwrap();
        assert!(same_template(&a, &b));
        assert!(same_template(&a, &c));
    }

    #[test]
    fn different_templates_differ() {
        let a = fp("【顺丰】您的快递因检测阳性已销毁，请点击链接领取赔偿").unwrap();
        let b = fp("周末来店里看看，新款秋装全场五折，会员再送积分").unwrap();
        assert!(!same_template(&a, &b));
    }

    #[test]
    fn short_messages_have_no_fingerprint() {
        assert_eq!(fp("好的"), None);
        assert_eq!(fp("ok 123"), None);
        assert_eq!(fp("   "), None);
        assert!(fp("this one is long enough").is_some());
    }

    #[test]
    fn rolled_shingles_equal_the_window() {
        // The window loop of `shingles` written out for a given `k`, as a reference.
        fn reference(masked: &[char], k: usize) -> Vec<u64> {
            let content: Vec<u32> = masked
                .iter()
                .filter(|c| c.is_alphanumeric())
                .map(|&c| c as u32)
                .collect();
            content
                .windows(k)
                .map(|w| {
                    let mut h = 0u64;
                    for (i, &c) in w.iter().enumerate() {
                        if i > 0 && i % 3 == 0 {
                            h = mix(h);
                        }
                        h = (h << 21) ^ u64::from(c);
                    }
                    mix(h)
                })
                .collect()
        }
        let text: Vec<char> = "ab,c 您的快递\u{10FFFF}\u{10FFFE}已销毁 N L 12 xyz"
            .chars()
            .collect();
        for k in 1..=5 {
            let mut got = Vec::new();
            let n = shingles(&text, k, |h| got.push(h));
            assert_eq!(got, reference(&text, k), "k = {k}");
            assert_eq!(n, text.iter().filter(|c| c.is_alphanumeric()).count());
        }
    }

    #[test]
    fn densify_by_bitmap_equals_stepping() {
        // The stepping loop `densify` replaced, as the reference for its values.
        fn stepping(mins: &mut [u32], filled: u64) {
            let bins = mins.len();
            if filled == 0 || filled.count_ones() as usize == bins {
                return;
            }
            for i in 0..bins {
                if filled & (1 << i) != 0 {
                    continue;
                }
                let mut d = 1;
                while filled & (1 << ((i + d) % bins)) == 0 {
                    d += 1;
                }
                mins[i] = fill(mins[(i + d) % bins], d);
            }
        }
        let mut state = 7u64;
        for bins in [1usize, 2, 5, 59, 60, 63, 64] {
            for _ in 0..300 {
                state = mix(state);
                // Sparse, dense and single-bin bitmaps.
                let filled = match state % 4 {
                    0 => state & mix(state ^ 1) & mix(state ^ 2),
                    1 => 1 << ((state >> 8) % bins as u64),
                    _ => state,
                } & if bins == 64 {
                    u64::MAX
                } else {
                    (1 << bins) - 1
                };
                let mins: Vec<u32> = (0..bins).map(|i| mix(state ^ i as u64) as u32).collect();
                let (mut a, mut b) = (mins.clone(), mins);
                densify(&mut a, filled);
                stepping(&mut b, filled);
                assert_eq!(a, b, "bins {bins}, filled {filled:#x}");
            }
        }
    }

    #[test]
    fn content_fast_path_agrees_with_the_unicode_tables() {
        for c in ('\0'..='\u{FFFF}').chain(['\u{20000}', '\u{E000}', '\u{1F600}']) {
            assert_eq!(is_content(c), c.is_alphanumeric(), "{:x}", c as u32);
        }
    }

    #[test]
    fn hashes_are_pinned() {
        // Sender hashes and band keys are ids in reports and counts kept across runs: these
        // values are FNV-1a 64 with the SplitMix64 finaliser, computed independently.
        assert_eq!(hash_str("10086"), 0x0cb3_1845_34b2_8ced);
        assert_eq!(hash_str(""), 0xf52a_15e9_a9b5_e89b);
        let f = fp("the same template every time, with a name").unwrap();
        assert_eq!(f.keys[0], 0x4704_9c11_0c9c_84ed, "{:#x}", f.keys[0]);
    }

    #[test]
    fn hash_is_stable() {
        // The fingerprint is an id in reports and metrics: it must not change between runs.
        assert_eq!(hash_str("10086"), hash_str("10086"));
        assert_ne!(hash_str("10086"), hash_str("10087"));
        let a = fp("the same template every time, with a name").unwrap();
        assert_eq!(a, fp("the same template every time, with a name").unwrap());
    }
}

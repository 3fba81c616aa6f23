//! What a character is, decided once for every stage that reads text: the normaliser
//! (normalize.rs) and link extraction (links/) use these tables and nothing else, so the two can
//! never disagree about an invisible character or a dot.
//!
//! - [`is_invisible`]: characters that show nothing and are dropped before anything else looks
//!   at the text: every Unicode format character (general category Cf: zero-width space and
//!   joiners, bidi marks, embeddings, overrides and isolates, the soft hyphen, the byte order
//!   mark, invisible operators, tags), variation selectors, and the other default-ignorable
//!   fillers (combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian free
//!   variation selectors). A scammer can put one anywhere (`jkm-he\u{200E}lp.top`) and a phone
//!   shows the text unchanged, so every stage reads the text without them.
//! - [`lookalike_dot`]: characters a phone shows as a full stop inside a link (`。` `｡` `．`
//!   `․` `︒` `﹒`).
//! - [`is_cjk`]: CJK ideographs, kana and hangul syllables.
//!
//! [`Visible`] is the text with its invisible characters removed and a map back to the
//! original bytes, for a stage that cannot drop them as it goes.

use crate::span::Span;

/// Characters that carry no visible meaning (module docs). Sorted, inclusive ranges.
pub const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen (Cf)
    ('\u{034F}', '\u{034F}'),   // combining grapheme joiner
    ('\u{0600}', '\u{0605}'),   // Arabic number signs (Cf)
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark (Cf)
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah (Cf)
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark (Cf)
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above (Cf)
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah (Cf)
    ('\u{115F}', '\u{1160}'),   // Hangul choseong and jungseong fillers
    ('\u{17B4}', '\u{17B5}'),   // Khmer inherent vowels
    ('\u{180B}', '\u{180F}'),   // Mongolian free variation selectors, vowel separator (Cf)
    ('\u{200B}', '\u{200F}'),   // zero-width space, non-joiner, joiner; LRM, RLM (Cf)
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides (Cf)
    ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, bidi isolates (Cf)
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{FE00}', '\u{FE0F}'),   // variation selectors
    ('\u{FEFF}', '\u{FEFF}'),   // byte order mark, zero-width no-break space (Cf)
    ('\u{FFA0}', '\u{FFA0}'),   // half-width Hangul filler
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation controls (Cf)
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign (Cf)
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above (Cf)
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls (Cf)
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls (Cf)
    ('\u{1D173}', '\u{1D17A}'), // musical symbol format controls (Cf)
    ('\u{E0000}', '\u{E0FFF}'), // tags (Cf), variation selectors supplement, reserved ignorables
];

/// Is `c` invisible (module docs)? ASCII and the CJK blocks answer after one or two
/// comparisons; anything else is a binary search of [`INVISIBLE`].
#[inline]
pub fn is_invisible(c: char) -> bool {
    if (c as u32) < 0xAD || ('\u{3165}'..='\u{FDFF}').contains(&c) {
        return false;
    }
    INVISIBLE
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Does `text` hold an invisible character? One pass over the bytes: only the lead bytes that
/// can start one are decoded.
pub fn has_invisible(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let lead = b[i];
        if lead < 0xC2 {
            i += 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or_default();
        if is_invisible(c) {
            return true;
        }
        i += c.len_utf8();
    }
    false
}

/// How a lookalike dot is written: the two reasons a link can carry for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotForm {
    /// The full-width full stop `．`.
    FullWidth,
    /// An ideographic full stop or another dot-like character (`。` `｡` `︒` `﹒` `․`).
    Ideographic,
}

/// The characters a phone shows as a dot inside a link, besides `.` itself.
pub const LOOKALIKE_DOTS: [(char, DotForm); 6] = [
    ('。', DotForm::Ideographic), // U+3002 ideographic full stop
    ('｡', DotForm::Ideographic),  // U+FF61 half-width ideographic full stop
    ('．', DotForm::FullWidth),   // U+FF0E full-width full stop
    ('․', DotForm::Ideographic),  // U+2024 one dot leader
    ('︒', DotForm::Ideographic), // U+FE12 presentation form for vertical ideographic full stop
    ('﹒', DotForm::Ideographic), // U+FE52 small full stop
];

/// How `c` is a lookalike of `.`, if it is one.
#[inline]
pub fn lookalike_dot(c: char) -> Option<DotForm> {
    if c.is_ascii() {
        return None;
    }
    LOOKALIKE_DOTS
        .iter()
        .find(|&&(d, _)| d == c)
        .map(|&(_, form)| form)
}

/// CJK ideographs (and the punctuation-free kana and hangul blocks).
#[inline]
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{AC00}'..='\u{D7AF}')
}

/// A text without its invisible characters, and where each of its bytes was in the original.
/// Kept characters are copied unchanged, so a span of the visible text maps to a span of the
/// original on character boundaries; invisible characters inside the span are inside the
/// original span too.
#[derive(Clone, Debug, Default)]
pub struct Visible {
    text: String,
    /// For every byte of `text`: its offset in the original.
    at: Vec<u32>,
}

impl Visible {
    /// Fills `self` with `original` minus its invisible characters.
    pub fn strip(&mut self, original: &str) {
        self.text.clear();
        self.at.clear();
        for (i, c) in original.char_indices() {
            if is_invisible(c) {
                continue;
            }
            self.text.push(c);
            for k in 0..c.len_utf8() {
                self.at.push((i + k) as u32);
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The original half-open span of a span of the visible text (not empty, both ends
    /// character boundaries).
    pub fn original_span(&self, s: Span) -> Span {
        Span::new(self.at[s.start] as usize, self.at[s.end - 1] as usize + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_the_test_follows_it() {
        assert!(INVISIBLE.windows(2).all(|w| w[0].1 < w[1].0));
        for &(lo, hi) in INVISIBLE {
            for cp in lo as u32..=hi as u32 {
                let c = char::from_u32(cp).unwrap();
                assert!(is_invisible(c), "U+{cp:04X}");
                assert!(has_invisible(&format!("a{c}b")), "U+{cp:04X}");
            }
            for c in [lo as u32 - 1, hi as u32 + 1] {
                let c = char::from_u32(c).unwrap();
                let inside = INVISIBLE.iter().any(|&(l, h)| (l..=h).contains(&c));
                assert_eq!(is_invisible(c), inside, "U+{:04X}", c as u32);
            }
        }
        for c in ['a', ' ', '\u{3000}', '。', '健', '·', '\u{00A0}', '🔥'] {
            assert!(!is_invisible(c), "{c:?}");
        }
        assert!(!has_invisible("健康码 jkm-help.top，请点击"));
    }

    #[test]
    fn every_lookalike_dot_is_listed_once() {
        for (c, form) in LOOKALIKE_DOTS {
            assert_eq!(lookalike_dot(c), Some(form), "{c:?}");
        }
        assert_eq!(lookalike_dot('.'), None);
        assert_eq!(lookalike_dot('·'), None);
    }

    #[test]
    fn visible_text_maps_back() {
        let original = "\u{200B}jkm-he\u{200E}lp.top\u{FE0F}!";
        let mut v = Visible::default();
        v.strip(original);
        assert_eq!(v.as_str(), "jkm-help.top!");
        let s = v.original_span(Span::new(0, "jkm-help.top".len()));
        assert_eq!(&original[s.range()], "jkm-he\u{200E}lp.top");
    }
}

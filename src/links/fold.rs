//! Folding a message for link finding: the text a person reading it on a phone would see.
//!
//! 1. [`may_contain_link`]: a byte scan that rejects the common message with no link in a few
//!    nanoseconds per byte, allocating nothing (a dot-like character must follow an ASCII or
//!    full-width letter or digit, or a scheme `://` must appear).
//! 2. [`Folded`]: the text with obfuscations undone, keeping for every byte the original span
//!    it came from, so a link maps back to a span of the original that falls on character
//!    boundaries. Folding turns full-width letters, digits and URL punctuation into ASCII
//!    (`FULLWIDTH`), lookalike dots into `.` (`IDEOGRAPHIC_DOT`, or `FULLWIDTH` for `．`),
//!    defanged forms (`hxxp`, `[.]`, `(.)`, `{.}`, `[dot]`, ` dot `, `点` between ASCII
//!    letters, `[:]`) into what they stand for (`DEFANGED`), and removes white space around
//!    a dot written as `abc . com` or `abc .com` (`SPACED_DOT`). Unlike the rules' normaliser
//!    it keeps case (paths are case-sensitive: `t.cn/A6xJkM9`) and never rewrites words.
//!
//! Both steps read the text WITHOUT its invisible characters (the caller strips them first,
//! with [`crate::chars::Visible`]): what is invisible and what is a dot are decided in
//! chars.rs, for the normaliser and for links alike.

use crate::chars::{lookalike_dot, DotForm};
use crate::span::Span;

/// How a link was written, one bit each; they become reasons of the finding.
pub const FULLWIDTH: u8 = 1;
pub const IDEOGRAPHIC_DOT: u8 = 2;
pub const DEFANGED: u8 = 4;
pub const SPACED_DOT: u8 = 8;

/// The reason names of the bits above, in bit order.
pub const HOW_REASONS: [(u8, &str); 4] = [
    (FULLWIDTH, "FULLWIDTH"),
    (IDEOGRAPHIC_DOT, "IDEOGRAPHIC_DOT"),
    (DEFANGED, "DEFANGED"),
    (SPACED_DOT, "SPACED_DOT"),
];

/// Bytes worth a second look in [`may_contain_link`]: `.`, `:`, the starts of defanged forms
/// (space, brackets) and the lead bytes of the lookalike dots and `点` (E2, E3, E7, EF).
static INTERESTING: [bool; 256] = {
    let mut t = [false; 256];
    t[b'.' as usize] = true;
    t[b':' as usize] = true;
    t[b' ' as usize] = true;
    t[b'[' as usize] = true;
    t[b'(' as usize] = true;
    t[b'{' as usize] = true;
    t[0xE2] = true;
    t[0xE3] = true;
    t[0xE7] = true;
    t[0xEF] = true;
    t
};

/// The cheap test in front of everything: could this text hold a link at all? One pass over
/// the bytes with a table lookup each; only the interesting bytes look at their neighbours.
#[inline]
pub fn may_contain_link(text: &str) -> bool {
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if !INTERESTING[c as usize] {
            continue;
        }
        let hit = match c {
            // After an alphanumeric, or after a CJK character (an IDN label: `例子.中国`).
            b'.' => prev_alnum(b, i) || (i >= 3 && b[i - 3] >= 0xE0 && b[i - 1] >= 0x80),
            b':' => b[i + 1..].starts_with(b"//"),
            // ` dot `, `[.]`, `(.)`, `[dot]`, white space before a dot.
            _ if c < 0x80 => {
                prev_alnum(b, i)
                    && (matches!(b.get(i + 1), Some(b'.' | b'd' | b'D')) || dot_form_at(b, i + 1))
            }
            _ => prev_alnum(b, i) && dot_form_at(b, i),
        };
        if hit {
            return true;
        }
    }
    false
}

/// The character before byte `i` is an ASCII or full-width letter or digit.
#[inline]
fn prev_alnum(b: &[u8], i: usize) -> bool {
    (i >= 1 && b[i - 1].is_ascii_alphanumeric()) || (i >= 3 && is_fullwidth_alnum(&b[i - 3..i]))
}

/// A lookalike dot (or 点) starts at byte `i`. The byte forms of the dots of
/// [`crate::chars::LOOKALIKE_DOTS`] (a test checks they agree).
#[inline]
fn dot_form_at(b: &[u8], i: usize) -> bool {
    matches!(
        b.get(i..i + 3),
        Some(
            [0xE3, 0x80, 0x82]          // 。
                | [0xEF, 0xBD, 0xA1]    // ｡
                | [0xEF, 0xBC, 0x8E]    // ．
                | [0xE2, 0x80, 0xA4]    // ․
                | [0xE7, 0x82, 0xB9]    // 点
                | [0xEF, 0xB8, 0x92]    // ︒
                | [0xEF, 0xB9, 0x92] // ﹒
        )
    )
}

#[inline]
fn is_fullwidth_alnum(ch: &[u8]) -> bool {
    // U+FF10..U+FF19, U+FF21..U+FF3A: EF BC 90..99, A1..BA; U+FF41..U+FF5A: EF BD 81..9A.
    matches!(
        ch,
        [0xEF, 0xBC, 0x90..=0x99] | [0xEF, 0xBC, 0xA1..=0xBA] | [0xEF, 0xBD, 0x81..=0x9A]
    )
}

/// The text with obfuscations undone; every byte remembers its original span and how it was
/// written.
#[derive(Debug, Default)]
pub struct Folded {
    text: String,
    starts: Vec<u32>,
    ends: Vec<u32>,
    how: Vec<u8>,
}

impl Folded {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Original half-open span of a span of folded bytes.
    pub fn original_span(&self, s: Span) -> Span {
        Span::new(self.starts[s.start] as usize, self.ends[s.end - 1] as usize)
    }

    fn push(&mut self, c: char, s: usize, e: usize, how: u8) {
        for _ in 0..c.len_utf8() {
            self.starts.push(s as u32);
            self.ends.push(e as u32);
            self.how.push(how);
        }
        self.text.push(c);
    }

    fn push_str(&mut self, t: &str, s: usize, e: usize, how: u8) {
        for c in t.chars() {
            self.push(c, s, e, how);
        }
    }

    /// How the folded byte `i` was written (the bits above).
    pub fn how_at(&self, i: usize) -> u8 {
        self.how[i]
    }

    fn last(&self) -> Option<char> {
        self.text.chars().next_back()
    }

    pub fn how_over(&self, s: usize, e: usize) -> u8 {
        self.how[s..e].iter().fold(0, |a, b| a | b)
    }
}

/// A dot written some other way than `.` (the table in chars.rs), and the bit it sets.
fn dot_form(c: char) -> Option<u8> {
    lookalike_dot(c).map(|form| match form {
        DotForm::FullWidth => FULLWIDTH,
        DotForm::Ideographic => IDEOGRAPHIC_DOT,
    })
}

/// Full-width forms that fold to ASCII inside links: letters, digits and URL punctuation.
/// Full-width `（` `）` `，` `！` `？` stay: they are ordinary Chinese punctuation around a link.
fn fullwidth_to_ascii(c: char) -> Option<char> {
    let cp = c as u32;
    let folds = matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９')
        || matches!(
            c,
            '／' | '：' | '＠' | '－' | '＿' | '＝' | '＆' | '％' | '＃'
        );
    if folds {
        char::from_u32(cp - 0xFEE0)
    } else {
        None
    }
}

pub(super) fn starts_with_ci(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay.as_bytes()[..needle.len()].eq_ignore_ascii_case(needle.as_bytes())
}

/// Folds `original` into `out` (see the module docs).
pub fn fold(original: &str, out: &mut Folded) {
    out.text.clear();
    out.starts.clear();
    out.ends.clear();
    out.how.clear();
    let mut spaced = false; // white space was dropped before the last dot
    let mut i = 0;
    while i < original.len() {
        let rest = &original[i..];
        let c = rest.chars().next().unwrap_or_default();
        let clen = c.len_utf8();
        let prev_alnum = out.last().is_some_and(|p| p.is_ascii_alphanumeric());

        // `hxxp://`, `hxxps://` (and with `[:]`).
        if (c == 'h' || c == 'H') && starts_with_ci(rest, "hxxp") {
            let after = &rest[4..];
            let after = after.strip_prefix(['s', 'S']).unwrap_or(after);
            if after.starts_with("://") || after.starts_with("[:]//") {
                out.push_str(&rest[..1], i, i + 1, DEFANGED);
                out.push_str("tt", i + 1, i + 3, DEFANGED);
                i += 3;
                continue;
            }
        }
        if rest.starts_with("[:]") {
            out.push(':', i, i + 3, DEFANGED);
            i += 3;
            continue;
        }
        // `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `[。]` after an alphanumeric.
        if prev_alnum && matches!(c, '[' | '(' | '{') {
            let close = match c {
                '[' => ']',
                '(' => ')',
                _ => '}',
            };
            let inner = &rest[1..];
            let inner_len = if inner.starts_with('.') {
                1
            } else if starts_with_ci(inner, "dot") {
                3
            } else if inner.starts_with('。') {
                '。'.len_utf8()
            } else {
                0
            };
            if inner_len > 0 && inner[inner_len..].starts_with(close) {
                let n = 1 + inner_len + 1;
                out.push('.', i, i + n, DEFANGED);
                i += n;
                continue;
            }
        }
        // ` dot ` between alphanumerics.
        if prev_alnum
            && c == ' '
            && starts_with_ci(rest, " dot ")
            && rest[5..].starts_with(|n: char| n.is_ascii_alphanumeric())
        {
            out.push('.', i, i + 5, DEFANGED);
            i += 5;
            continue;
        }
        // `点` between ASCII letters or digits: `abc点com`.
        if c == '点' && prev_alnum && rest[clen..].starts_with(|n: char| n.is_ascii_alphanumeric())
        {
            out.push('.', i, i + clen, DEFANGED);
            i += clen;
            continue;
        }
        // White space before a dot after an alphanumeric (`abc .com`, `abc . com`): dropped.
        if prev_alnum && (c == ' ' || c == '\u{3000}') {
            let ws_end = i + rest
                .find(|n: char| n != ' ' && n != '\u{3000}')
                .unwrap_or(rest.len());
            let after = &original[ws_end..];
            let next = after.chars().next();
            if let Some(d) = next.filter(|&d| d == '.' || dot_form(d).is_some()) {
                let after_dot = after[d.len_utf8()..].trim_start_matches([' ', '\u{3000}']);
                if after_dot.starts_with(|n: char| n.is_ascii_alphanumeric()) {
                    i = ws_end;
                    spaced = true;
                    continue;
                }
            }
        }
        // White space after a dot that had white space before it.
        if spaced && (c == ' ' || c == '\u{3000}') && out.last() == Some('.') {
            i += clen;
            continue;
        }
        if c != ' ' && c != '\u{3000}' && c != '.' && dot_form(c).is_none() {
            spaced = false;
        }
        let spaced_bit = if spaced { SPACED_DOT } else { 0 };
        if c == '.' {
            out.push('.', i, i + 1, spaced_bit);
        } else if let Some(bit) = dot_form(c) {
            out.push('.', i, i + clen, bit | spaced_bit);
        } else if let Some(a) = fullwidth_to_ascii(c) {
            out.push(a, i, i + clen, FULLWIDTH);
        } else {
            out.push(c, i, i + clen, 0);
        }
        i += clen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chars::LOOKALIKE_DOTS;

    #[test]
    fn prefilter_rejects_plain_chinese() {
        assert!(!may_contain_link("您好。今天天气不错，请注意安全。"));
        assert!(!may_contain_link("价格 198 元"));
        assert!(may_contain_link("请点击abc-health.cn核验"));
        assert!(may_contain_link("jkm-help。top"));
        assert!(may_contain_link("ｊｋｍ．ｔｏｐ"));
        assert!(may_contain_link("http://[::1]/"));
    }

    #[test]
    fn fold_keeps_spans() {
        let mut f = Folded::default();
        fold("ａｂ。ｃｎ", &mut f);
        assert_eq!(f.as_str(), "ab.cn");
        assert_eq!(
            f.original_span(Span::new(0, 5)),
            Span::new(0, "ａｂ。ｃｎ".len())
        );
    }

    #[test]
    fn prefilter_knows_every_lookalike_dot() {
        for (dot, _) in LOOKALIKE_DOTS {
            let mut buf = [0u8; 4];
            assert!(
                dot_form_at(dot.encode_utf8(&mut buf).as_bytes(), 0),
                "{dot:?}"
            );
            assert!(may_contain_link(&format!("jkm-help{dot}top")), "{dot:?}");
            assert!(dot_form(dot).is_some(), "{dot:?}");
        }
    }
}

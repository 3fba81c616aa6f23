//! Normalisation: the text that rules and features see, with a map back to the original.
//!
//! Scammers write `健 康 碼`, `密*接`, `ｖｘ` and `jkm-help。top` so that a filter looking for
//! `健康码`, `密接`, `微信` and `.` misses them. [`normalize`] undoes those tricks:
//!
//! 1. invisible characters (zero-width characters, bidi controls, soft hyphens, variation
//!    selectors: every Unicode format character, see chars.rs) are dropped;
//! 2. each character is put in Unicode NFKC form (full-width letters and digits become ASCII,
//!    the ideographic space a space, circled letters plain ones);
//! 3. lookalike dots (`。` `｡` `．` `․` `︒` `﹒`, the table in chars.rs) become `.`;
//! 4. letters are lower-cased and traditional Chinese characters become simplified ones;
//! 5. runs of separators (white space, `*` `·` `-` `_` `|` `/` `\` `~` `+` `#` and emoji)
//!    next to a CJK character are removed, so `密 接` reads `密接`; elsewhere white space runs
//!    become one space and other symbols stay;
//!    5b. single characters spread apart (`加 Q Q 3 3 8`, `健.康.码`) are closed up
//!    (normalize/spacing.rs);
//! 6. evasive spellings of contact channels (`vx`, `v信`, `薇信`, `扣扣`, ...) become one form
//!    (`微信`, `qq`);
//! 7. a number before a unit takes one form (normalize/numbers.rs): Chinese numerals become
//!    ASCII digits and units one spelling, so `两个小时`, `一个半小时`, `二十五分钟`, `24h`
//!    read `2小时`, `1.5小时`, `25分钟`, `24小时`.
//!
//! Every byte of the normalised text remembers the original byte span of the character it
//! came from, so a match in normalised text maps back to a half-open span of the ORIGINAL text
//! that always falls on character boundaries ([`Normalized::original_span`]).
//!
//! NFKC is applied character by character rather than over the whole string: composition
//! across characters (a base letter followed by a combining accent) is not performed. Those
//! sequences do not occur in the messages this serves, and the per-character form is what
//! keeps the offset map exact and the hot path fast.

use std::cell::RefCell;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use unicode_normalization::UnicodeNormalization;

use crate::chars::{is_cjk, is_invisible, lookalike_dot};
use crate::span::Span;

mod numbers;
mod spacing;

/// Normalised text plus the map from each of its bytes back to the original text.
#[derive(Clone, Debug, Default)]
pub struct Normalized {
    text: String,
    /// For every byte of `text`: start of the original character it came from.
    starts: Vec<u32>,
    /// For every byte of `text`: end of the original character (or run) it came from.
    ends: Vec<u32>,
    /// The original held invisible characters (dropped here): link extraction, which reads
    /// the original, must drop them too.
    had_invisible: bool,
}

impl Normalized {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Did the original hold invisible characters ([`crate::chars::is_invisible`])?
    pub fn had_invisible(&self) -> bool {
        self.had_invisible
    }

    /// Maps a half-open byte range of the normalised text to a half-open byte range of the
    /// original text. `start < end <= self.len()` must hold and both must be char boundaries
    /// of the normalised text (as every Aho-Corasick match is).
    pub fn original_span(&self, span: Span) -> Span {
        debug_assert!(span.start < span.end && span.end <= self.text.len());
        Span::new(
            self.starts[span.start] as usize,
            self.ends[span.end - 1] as usize,
        )
    }

    fn push(&mut self, c: char, start: usize, end: usize) {
        let len = c.len_utf8();
        self.text.push(c);
        let (start, end) = (start as u32, end as u32);
        match len {
            1 => {
                self.starts.push(start);
                self.ends.push(end);
            }
            3 => {
                self.starts.extend_from_slice(&[start; 3]);
                self.ends.extend_from_slice(&[end; 3]);
            }
            _ => {
                for _ in 0..len {
                    self.starts.push(start);
                    self.ends.push(end);
                }
            }
        }
    }

    /// Replaces byte ranges of the text (in order, apart) with new text whose characters map to
    /// the whole original span of the range they replace. Built in a per-thread buffer and
    /// swapped in, so both sets of buffers are reused from message to message.
    fn replace<'a>(&mut self, edits: impl IntoIterator<Item = (Span, &'a str)>) {
        thread_local! {
            static NEXT: RefCell<Normalized> = RefCell::default();
        }
        NEXT.with(|cell| {
            let mut fresh = Normalized::default();
            let mut borrowed = cell.try_borrow_mut();
            let next = match borrowed.as_deref_mut() {
                Ok(next) => next,
                Err(_) => &mut fresh,
            };
            next.clear();
            let mut pos = 0;
            for (span, with) in edits {
                next.copy_from(self, pos, span.start);
                let orig = self.original_span(span);
                for c in with.chars() {
                    next.push(c, orig.start, orig.end);
                }
                pos = span.end;
            }
            next.copy_from(self, pos, self.text.len());
            next.had_invisible = self.had_invisible;
            std::mem::swap(self, next);
        });
    }

    /// Appends bytes `s..e` of `from`'s text with their map.
    fn copy_from(&mut self, from: &Normalized, s: usize, e: usize) {
        self.text.push_str(&from.text[s..e]);
        self.starts.extend_from_slice(&from.starts[s..e]);
        self.ends.extend_from_slice(&from.ends[s..e]);
    }

    fn last_char(&self) -> Option<char> {
        self.text.chars().next_back()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.starts.clear();
        self.ends.clear();
        self.had_invisible = false;
    }
}

/// Normalises `original`. See the module docs for what changes.
pub fn normalize(original: &str) -> Normalized {
    let mut out = Normalized::default();
    normalize_into(original, &mut out);
    out
}

/// Like [`normalize`], reusing the buffers of `out` (the hot path of batch scoring).
pub fn normalize_into(original: &str, out: &mut Normalized) {
    char_pass(original, out);
    // Step 5b: characters spread apart (normalize/spacing.rs).
    spacing::close_up(out);
    // A replacement can put a CJK word next to separators that the character pass kept
    // (`微x*v` becomes `微信*v`), or make a new evasion (`薇扣扣` becomes `薇qq`): run the pass
    // again over the result until nothing changes, so that normalising twice changes nothing,
    // composing the offset maps. A replacement only makes a new evasion next to it, so this
    // settles within a round or two; the bound keeps the worst case linear.
    for _ in 0..3 {
        if !replace_contact_evasions(out) {
            break;
        }
        let first = std::mem::take(out);
        char_pass(first.as_str(), out);
        out.had_invisible = first.had_invisible;
        for i in 0..out.starts.len() {
            out.starts[i] = first.starts[out.starts[i] as usize];
            out.ends[i] = first.ends[out.ends[i] as usize - 1];
        }
        spacing::close_up(out);
    }
    // Step 7: numbers before units in one form (normalize/numbers.rs). A digit it writes can
    // stand alone among spaced-out letters (`1h1 v v`): close those up too, then once more.
    if numbers::rewrite(out) && spacing::close_up(out) {
        numbers::rewrite(out);
    }
}

/// The per-character steps 1 to 5 of the module docs.
fn char_pass(original: &str, out: &mut Normalized) {
    out.clear();
    out.text.reserve(original.len());
    out.starts.reserve(original.len());
    out.ends.reserve(original.len());

    // Separators seen since the last kept character: (original start, original end, char).
    // They are decided on when the next kept character shows whether a CJK character is near.
    // The buffer is kept per thread, so a message with separators allocates nothing.
    thread_local! {
        static PENDING: RefCell<Vec<(usize, usize, char)>> = const { RefCell::new(Vec::new()) };
    }
    PENDING.with(|cell| match cell.try_borrow_mut() {
        Ok(mut pending) => {
            pending.clear();
            char_loop(original, out, &mut pending);
        }
        Err(_) => char_loop(original, out, &mut Vec::new()),
    });
    let trimmed = out.text.trim_end().len();
    out.text.truncate(trimmed);
    out.starts.truncate(trimmed);
    out.ends.truncate(trimmed);
}

/// The loop of [`char_pass`]. ASCII and the CJK ideographs, nearly every character of a
/// message, take a fast path that decodes the bytes by hand and decides with a table; every
/// other character goes through [`map_char`] and the general tests, which give the same
/// answer for those two classes (unit-tested).
fn char_loop(original: &str, out: &mut Normalized, pending: &mut Vec<(usize, usize, char)>) {
    let bytes = original.as_bytes();
    let mut mapped = [char::default(); 8];
    let mut start = 0;
    while start < bytes.len() {
        let b = bytes[start];
        if b < 0x80 {
            // ASCII: never invisible, maps to its lower case, a separator by the table.
            let m = char::from(b.to_ascii_lowercase());
            if ASCII_SEPARATOR[b as usize] {
                pending.push((start, start + 1, m));
            } else {
                if !pending.is_empty() {
                    flush_separators(out, pending, m);
                    pending.clear();
                }
                out.push(m, start, start + 1);
            }
            start += 1;
            continue;
        }
        if (0xE3..=0xE9).contains(&b) {
            // A three-byte character; U+3400..=U+9FFF (the blocks `to_simplified` reads) is
            // never invisible and maps to its simplified form alone.
            let cp = ((b as u32 & 0x0F) << 12)
                | ((bytes[start + 1] as u32 & 0x3F) << 6)
                | (bytes[start + 2] as u32 & 0x3F);
            if (T2S_FIRST..=T2S_LAST).contains(&cp) {
                let m = to_simplified(char::from_u32(cp).unwrap_or_default());
                if is_plain_ideograph(m) {
                    if !pending.is_empty() {
                        flush_separators(out, pending, m);
                        pending.clear();
                    }
                    out.push(m, start, start + 3);
                } else {
                    emit(out, pending, m, start, start + 3);
                }
                start += 3;
                continue;
            }
        }
        let c = original[start..].chars().next().unwrap_or_default();
        let end = start + c.len_utf8();
        if is_invisible(c) {
            out.had_invisible = true;
            start = end;
            continue;
        }
        let n = map_char(c, &mut mapped);
        for &m in &mapped[..n] {
            emit(out, pending, m, start, end);
        }
        start = end;
    }
    // Trailing separators: keep one space if there was white space, drop symbol runs' spaces.
    if !pending.is_empty() {
        flush_separators(out, pending, ' ');
    }
}

/// One mapped character `m` of the original character at `start..end`: dropped when
/// invisible, held back when a separator, otherwise kept after the separators before it.
#[inline]
fn emit(
    out: &mut Normalized,
    pending: &mut Vec<(usize, usize, char)>,
    m: char,
    start: usize,
    end: usize,
) {
    if is_invisible(m) {
        return;
    }
    if is_separator(m) {
        pending.push((start, end, m));
        return;
    }
    if !pending.is_empty() {
        flush_separators(out, pending, m);
        pending.clear();
    }
    out.push(m, start, end);
}

/// A character of U+3400..=U+9FFF other than `丨`: neither invisible nor a separator.
#[inline]
fn is_plain_ideograph(m: char) -> bool {
    ('\u{3400}'..='\u{9FFF}').contains(&m) && m != '丨'
}

/// [`is_separator`] of every ASCII character, as a table.
const ASCII_SEPARATOR: [bool; 128] = {
    let mut t = [false; 128];
    let symbols = b"\t\n\x0b\x0c\r *-_|/\\~+#^=`'\"";
    let mut i = 0;
    while i < symbols.len() {
        t[symbols[i] as usize] = true;
        i += 1;
    }
    t
};

/// Emits (or drops) a run of separators that sits before `next`.
fn flush_separators(out: &mut Normalized, pending: &[(usize, usize, char)], next: char) {
    let prev = out.last_char();
    let near_cjk = prev.is_some_and(is_cjk) || is_cjk(next);
    if near_cjk || prev.is_none() {
        return;
    }
    let mut last_space = false;
    for &(s, e, c) in pending {
        if c.is_whitespace() || is_emoji(c) {
            if !last_space {
                out.push(' ', s, e);
            }
            last_space = true;
        } else {
            // Symbols are kept verbatim between non-CJK text: they matter in links and prices.
            out.push(c, s, e);
            last_space = false;
        }
    }
}

/// Separators that scammers put between characters to split keywords.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '*' | '·'
                | '-'
                | '_'
                | '|'
                | '/'
                | '\\'
                | '~'
                | '+'
                | '#'
                | '^'
                | '='
                | '•'
                | '‧'
                | '・'
                | '°'
                | '`'
                | '\''
                | '"'
                | '丨'
        )
        || is_emoji(c)
}

fn is_emoji(c: char) -> bool {
    matches!(c,
        '\u{2190}'..='\u{21FF}'     // arrows
        | '\u{2300}'..='\u{23FF}'   // technical
        | '\u{25A0}'..='\u{27BF}'   // geometric shapes, misc symbols, dingbats
        | '\u{2900}'..='\u{297F}'
        | '\u{2B00}'..='\u{2BFF}'
        | '\u{3030}' | '\u{303D}'
        | '\u{1F000}'..='\u{1FAFF}')
}

/// Maps one original character to its normalised form, writing up to 8 chars to `buf` and
/// returning how many. Fast paths: ASCII and CJK ideographs never go through NFKC.
#[inline]
fn map_char(c: char, buf: &mut [char; 8]) -> usize {
    if c.is_ascii() {
        buf[0] = c.to_ascii_lowercase();
        return 1;
    }
    if ('\u{3400}'..='\u{9FFF}').contains(&c) {
        buf[0] = to_simplified(c);
        return 1;
    }
    if lookalike_dot(c).is_some() {
        buf[0] = '.';
        return 1;
    }
    let mut n = 0;
    for m in std::iter::once(c).nfkc() {
        if n == buf.len() {
            break;
        }
        let m = if lookalike_dot(m).is_some() { '.' } else { m };
        let m = if m.is_ascii() {
            m.to_ascii_lowercase()
        } else if ('\u{3400}'..='\u{9FFF}').contains(&m) {
            to_simplified(m)
        } else if m.is_uppercase() {
            m.to_lowercase().next().unwrap_or(m)
        } else {
            m
        };
        buf[n] = m;
        n += 1;
    }
    n
}

const T2S_FIRST: u32 = 0x3400;
const T2S_LAST: u32 = 0x9FFF;

/// Traditional-to-simplified table over the CJK blocks, derived once from the `simplet2s`
/// crate's character mapping.
struct T2s {
    /// One bit per character of the blocks: does it change? 3.4 KB, so that the common case
    /// (a character that stays) reads a table that stays in the first-level cache.
    changes: Vec<u64>,
    /// Indexed by `c - T2S_FIRST`; 0 means "unchanged".
    to: Vec<u32>,
}

fn t2s_table() -> &'static T2s {
    static TABLE: OnceLock<T2s> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![0u32; (T2S_LAST - T2S_FIRST + 1) as usize];
        let mut buf = [0u8; 4];
        for cp in T2S_FIRST..=T2S_LAST {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let converted = simplet2s::convert(c.encode_utf8(&mut buf));
            let mut chars = converted.chars();
            if let (Some(s), None) = (chars.next(), chars.next()) {
                if s != c {
                    table[(cp - T2S_FIRST) as usize] = s as u32;
                }
            }
        }
        let mut changes = vec![0u64; table.len().div_ceil(64)];
        for (i, &to) in table.iter().enumerate() {
            if to != 0 {
                changes[i / 64] |= 1 << (i % 64);
            }
        }
        T2s { changes, to: table }
    })
}

/// The simplified form of a traditional Chinese character, or the character itself.
#[inline]
pub fn to_simplified(c: char) -> char {
    let cp = c as u32;
    if !(T2S_FIRST..=T2S_LAST).contains(&cp) {
        return c;
    }
    let t = t2s_table();
    let i = (cp - T2S_FIRST) as usize;
    if t.changes[i / 64] & (1 << (i % 64)) == 0 {
        return c;
    }
    match t.to[i] {
        0 => c,
        s => char::from_u32(s).unwrap_or(c),
    }
}

/// Evasive spellings of contact channels and the one form each becomes.
const CONTACT_EVASIONS: &[(&str, &str)] = &[
    ("vx", "微信"),
    ("v信", "微信"),
    ("v❤", "微信"),
    ("wx", "微信"),
    ("weixin", "微信"),
    ("wechat", "微信"),
    ("薇信", "微信"),
    ("徽信", "微信"),
    ("威xin", "微信"),
    ("微xin", "微信"),
    ("wei信", "微信"),
    ("微x", "微信"),
    ("薇", "微信"),
    ("扣扣", "qq"),
    ("抠抠", "qq"),
    ("企鹅号", "qq"),
    ("q号", "qq"),
];

struct ContactMatcher {
    ac: AhoCorasick,
}

fn contact_matcher() -> &'static ContactMatcher {
    static M: OnceLock<ContactMatcher> = OnceLock::new();
    M.get_or_init(|| {
        let patterns: Vec<&str> = CONTACT_EVASIONS.iter().map(|(p, _)| *p).collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns)
            .expect("contact evasion patterns compile");
        ContactMatcher { ac }
    })
}

/// Rewrites contact-channel evasions in place. ASCII forms (`vx`, `wx`) only count when they
/// are not part of a longer ASCII word, so `wxyz` or `vxworks` stay as they are. The lone `薇`
/// counts only when followed by a digit or ASCII letter or a colon (a handle follows it).
/// Returns whether anything was replaced.
fn replace_contact_evasions(out: &mut Normalized) -> bool {
    let m = contact_matcher();
    let text = out.text.as_str();
    let mut found = Vec::new();
    for mat in m.ac.find_iter(text) {
        let (s, e) = (mat.start(), mat.end());
        let (pattern, _) = CONTACT_EVASIONS[mat.pattern().as_usize()];
        let before = text[..s].chars().next_back();
        let after = text[e..].chars().next();
        let first_ascii = pattern.as_bytes()[0].is_ascii_alphabetic();
        let last_ascii = pattern.as_bytes()[pattern.len() - 1].is_ascii_alphabetic();
        if first_ascii && before.is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        if last_ascii && after.is_some_and(|c| c.is_ascii_alphanumeric()) {
            // `vx12345` is a handle: a digit after the channel name is fine.
            if !after.is_some_and(|c| c.is_ascii_digit()) {
                continue;
            }
        }
        if pattern == "薇" && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == ':') {
            continue;
        }
        found.push((s, e, mat.pattern().as_usize()));
    }
    if found.is_empty() {
        return false;
    }
    out.replace(
        found
            .into_iter()
            .map(|(s, e, p)| (Span::new(s, e), CONTACT_EVASIONS[p].1)),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `t!(name, input, expected normalised text)`
    macro_rules! t {
        ($name:ident, $input:expr, $expected:expr) => {
            #[test]
            fn $name() {
                assert_eq!(normalize($input).as_str(), $expected, "input {:?}", $input);
            }
        };
    }

    // NFKC, full width, case.
    t!(full_width_letters, "ＡＢＣ１２３", "abc123");
    t!(full_width_contact, "加ｖｘ：ａｂ１２３", "加微信:ab123");
    t!(ascii_lowercase, "Health CODE", "health code");
    t!(circled_letters, "ⓥⓧ", "微信");
    t!(ideographic_space_between_cjk, "健康\u{3000}码", "健康码");
    // Lookalike dots.
    t!(ideographic_dot, "jkm-help。top", "jkm-help.top");
    t!(halfwidth_ideographic_dot, "abc｡cn", "abc.cn");
    t!(fullwidth_dot, "abc．com", "abc.com");
    t!(one_dot_leader, "abc․com", "abc.com");
    // Invisible characters.
    t!(zero_width_space, "密\u{200B}接", "密接");
    t!(zero_width_joiner, "红\u{200D}码", "红码");
    t!(bidi_override, "健\u{202E}康码", "健康码");
    t!(soft_hyphen, "he\u{00AD}alth", "health");
    t!(bom, "\u{FEFF}核酸", "核酸");
    t!(variation_selector, "阳\u{FE0F}性", "阳性");
    // Traditional to simplified.
    t!(traditional_health_code, "健康碼", "健康码");
    t!(traditional_parcel, "快遞檢測陽性", "快递检测阳性");
    t!(traditional_verification, "驗證碼", "验证码");
    t!(traditional_compensation, "理賠", "理赔");
    // Latin text keeps its words apart.
    t!(latin_spaces_collapse, "red   code", "red code");
    t!(leading_trailing_space, "  hello  ", "hello");
    t!(latin_symbols_kept, "a*b", "a*b");
    t!(spaces_around_contact_go, "add vx now", "add微信now");
    // Contact evasions.
    t!(v_xin, "加V信", "加微信");
    t!(vx_with_handle, "加vx123456", "加微信123456");
    t!(wei_xin_homophone, "薇信联系", "微信联系");
    t!(hui_xin_homophone, "徽信联系", "微信联系");
    t!(koukou, "加扣扣", "加qq");
    t!(vxworks_untouched, "vxworks", "vxworks");
    t!(wx_inside_word_untouched, "awxb", "awxb");
    t!(plain_wei_untouched, "薇薇安", "薇薇安");
    t!(empty, "", "");
    // Regressions found by the idempotence property test: a replacement that leaves separators
    // beside new CJK text, and one that makes a new evasion (lone 薇 before a handle).
    t!(replacement_then_separator, "微x*v", "微信v");
    t!(replacement_makes_new_evasion, "薇扣扣", "微信qq");

    /// The fast paths of the character pass decide as the general tests do.
    #[test]
    fn fast_path_tables_agree_with_the_general_tests() {
        for b in 0u8..128 {
            let c = char::from(b);
            assert_eq!(ASCII_SEPARATOR[b as usize], is_separator(c), "{c:?}");
            assert!(!is_invisible(c), "{c:?}");
            let mut buf = [char::default(); 8];
            assert_eq!(map_char(c, &mut buf), 1);
            assert_eq!(buf[0], c.to_ascii_lowercase());
        }
        for cp in T2S_FIRST..=T2S_LAST {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            assert!(!is_invisible(c), "U+{cp:04X}");
            assert_eq!(
                is_plain_ideograph(c),
                !is_separator(c) && !is_invisible(c),
                "U+{cp:04X}"
            );
            let expected = match simplet2s::convert(&c.to_string())
                .chars()
                .collect::<Vec<_>>()[..]
            {
                [s] => s,
                _ => c,
            };
            assert_eq!(to_simplified(c), expected, "U+{cp:04X}");
        }
    }

    #[test]
    fn mixed_text_through_every_path() {
        let original = "A\u{200B}Ｂ 健康碼 ⓥⓧ。 丨 xa\u{3000}yb🔥zc 密*接 é ";
        let n = normalize(original);
        assert_eq!(n.as_str(), "ab健康码微信. 丨 xa yb zc密接é");
        assert!(n.had_invisible());
        let s = n.as_str().find("康码").unwrap();
        let o = n.original_span(Span::new(s, s + "康码".len()));
        assert_eq!(&original[o.range()], "康碼");
    }

    #[test]
    fn spans_map_back_to_original() {
        let original = "请 密*接 人员";
        let n = normalize(original);
        assert_eq!(n.as_str(), "请密接人员");
        let s = n.as_str().find("密接").unwrap();
        let o = n.original_span(Span::new(s, s + "密接".len()));
        assert_eq!(&original[o.range()], "密*接");
    }

    #[test]
    fn replaced_contact_maps_to_whole_evasion() {
        let original = "加ｖｘ好友";
        let n = normalize(original);
        let s = n.as_str().find("微信").unwrap();
        let o = n.original_span(Span::new(s, s + "微信".len()));
        assert_eq!(&original[o.range()], "ｖｘ");
    }

    #[test]
    fn normalisation_is_idempotent_on_examples() {
        for s in [
            "健 康 碼",
            "加ｖｘ：abc",
            "jkm-help。top",
            "Red  Code!",
            "阳🔥性 test",
        ] {
            let once = normalize(s);
            assert_eq!(
                normalize(once.as_str()).as_str(),
                once.as_str(),
                "input {s:?}"
            );
        }
    }
}

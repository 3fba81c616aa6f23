//! Masking the fill of a template: numbers (amounts, phone numbers, codes, dates), links and
//! names become placeholders, so that two copies of one campaign that differ only in those
//! read the same.
//!
//! Input is the engine's normalised text (lower-cased, traditional characters simplified,
//! separators between CJK characters removed, lookalike dots made `.`). The output is a
//! sequence of characters in which
//!
//! - [`NUMBER`] stands for a run of digits, with `,` `.` `:` `-` `/` or one space between
//!   digit groups (`1,000.00`, `138 1234 5678`, `2026-11-30`), and for a run of three or more
//!   `x` standing alone (how many published corpora mask digits);
//! - [`LINK`] stands for an ASCII token that looks like a link: it holds `://`, starts with
//!   `www.`, or has a dot followed by two or more letters (`jkm-help.top/a?b=1`, `t.cn/ab`), or
//!   an `@` between letters (e-mail addresses);
//! - [`NAME`] stands for up to three CJK characters before an honorific (`张三先生`,
//!   `李老师`), two to four after a salutation and before punctuation (`尊敬的王小明，`),
//!   unless they are a generic form of address (`用户`, `客户`, ...), and the word after
//!   `dear`, `hi` or `hello`.
//!
//! Name masking is a heuristic: it catches the forms templates use for a personal greeting,
//! not every name. The report therefore never shows one copy's masked text alone but the part
//! that several copies share (see `report.rs`), where a name that differs from copy to copy
//! disappears whether or not it was recognised.

use crate::chars::is_cjk;

/// Placeholder for a number.
pub const NUMBER: char = 'N';
/// Placeholder for a link or e-mail address.
pub const LINK: char = 'L';
/// Placeholder for a name.
pub const NAME: char = 'P';

/// Where copies of a template differ (see `template.rs`).
pub const GAP: char = '\u{E000}';

/// Honorifics that follow a name.
const HONORIFICS: [&str; 9] = [
    "先生", "女士", "小姐", "老师", "经理", "同学", "总监", "主任", "师傅",
];
/// Salutations that precede a name.
const SALUTATIONS: [&str; 3] = ["尊敬的", "亲爱的", "您好"];
/// Generic forms of address after a salutation: not names.
const ADDRESSES: [&str; 12] = [
    "用户", "客户", "会员", "顾客", "业主", "家长", "朋友", "车主", "旅客", "股东", "老板", "用戶",
];
/// Characters that end a name looking backwards from an honorific.
const NAME_STOPS: [char; 10] = ['的', '您', '你', '好', '尊', '敬', '爱', '位', '请', '致'];

/// Masks `normalized` into `out` (cleared first). Placeholders are upper-case ASCII letters,
/// which normalised text never holds (it is lower-cased).
pub fn mask_into(normalized: &str, out: &mut Vec<char>) {
    out.clear();
    // Tokens are ASCII, so the text is walked as bytes; runs of other characters (CJK text,
    // mostly) are decoded straight into `out`.
    let bytes = normalized.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_token_byte(b) {
            let end = token_end(bytes, i);
            mask_token(&bytes[i..end], out);
            i = end;
        } else if b.is_ascii() {
            out.push(char::from(b));
            i += 1;
        } else {
            // `i` is on a character boundary (every step is a whole character): the run of
            // other characters is decoded up to the next ASCII one.
            for c in normalized[i..].chars() {
                if c.is_ascii() {
                    break;
                }
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    mask_names(out);
}

/// Bytes of an ASCII token that may be (part of) a link or a number.
fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'.' | b'-'
                | b'_'
                | b'/'
                | b':'
                | b'?'
                | b'='
                | b'&'
                | b'%'
                | b'~'
                | b'+'
                | b'@'
                | b'#'
                | b','
        )
}

fn token_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len() {
        if is_token_byte(bytes[end]) {
            end += 1;
        } else if bytes[end] == b' '
            && end > start
            && bytes[end - 1].is_ascii_digit()
            && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            // `138 1234 5678`: one space between digit groups stays in the number.
            end += 1;
        } else {
            break;
        }
    }
    end
}

/// Masks one ASCII token: a link whole, else every number in it.
fn mask_token(tok: &[u8], out: &mut Vec<char>) {
    // Trailing punctuation belongs to the sentence, not the token.
    let mut end = tok.len();
    while end > 0
        && matches!(
            tok[end - 1],
            b'.' | b',' | b':' | b'?' | b'-' | b'/' | b'~' | b'#'
        )
    {
        end -= 1;
    }
    let (body, tail) = tok.split_at(end);
    if is_link(body) {
        out.push(LINK);
    } else {
        mask_numbers(body, out);
    }
    out.extend(tail.iter().map(|&b| char::from(b)));
}

fn is_link(tok: &[u8]) -> bool {
    if tok.len() < 4 {
        return false;
    }
    if tok.windows(3).any(|w| w == b"://") || tok.starts_with(b"www.") {
        return true;
    }
    // A dot followed by two letters (a top-level domain or a path-less short link), or an `@`
    // between letters.
    tok.windows(3).enumerate().any(|(i, w)| {
        let before = i > 0 && tok[i - 1].is_ascii_alphanumeric();
        before
            && matches!(w[0], b'.' | b'@')
            && w[1].is_ascii_alphabetic()
            && w[2].is_ascii_alphabetic()
    })
}

fn mask_numbers(tok: &[u8], out: &mut Vec<char>) {
    let mut i = 0;
    while i < tok.len() {
        let c = tok[i];
        let standalone_x = c == b'x' && (i == 0 || !tok[i - 1].is_ascii_alphabetic()) && {
            let run = tok[i..].iter().take_while(|&&x| x == b'x').count();
            run >= 3 && tok.get(i + run).is_none_or(|n| !n.is_ascii_alphabetic())
        };
        if c.is_ascii_digit() || standalone_x {
            let mut j = i + 1;
            while j < tok.len() {
                let d = tok[j];
                if d.is_ascii_digit() || d == b'x' {
                    j += 1;
                } else if matches!(d, b',' | b'.' | b':' | b'-' | b'/' | b' ')
                    && tok
                        .get(j + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == b'x')
                {
                    j += 2;
                } else {
                    break;
                }
            }
            out.push(NUMBER);
            i = j;
        } else {
            out.push(char::from(c));
            i += 1;
        }
    }
}

fn starts_with(s: &[char], at: usize, word: &str) -> bool {
    (at..).zip(word.chars()).all(|(k, w)| s.get(k) == Some(&w))
}

/// The first characters of every honorific, salutation and greeting [`mask_names`] looks for.
const MARKER_STARTS: [char; 14] = [
    '先', '女', '小', '老', '经', '同', '总', '主', '师', '尊', '亲', '您', 'd', 'h',
];

/// Bit `c % 128` set for every character of [`MARKER_STARTS`].
const MARKER_BITS: u128 = {
    let mut bits = 0u128;
    let mut i = 0;
    while i < MARKER_STARTS.len() {
        bits |= 1 << (MARKER_STARTS[i] as u32 % 128);
        i += 1;
    }
    bits
};

/// Whether `c` may start an honorific, salutation or greeting. Most characters of a message
/// are turned away by one bit test; the few that pass it are compared exactly (a chain of
/// comparisons on every character was half the cost of masking).
fn starts_a_name_marker(c: char) -> bool {
    (MARKER_BITS >> (c as u32 % 128)) & 1 != 0 && MARKER_STARTS.contains(&c)
}

/// Replaces names found by the heuristics of the module docs with [`NAME`].
fn mask_names(s: &mut Vec<char>) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in 0..s.len() {
        if !starts_a_name_marker(s[i]) {
            continue;
        }
        if HONORIFICS.iter().any(|h| starts_with(s, i, h)) {
            let mut start = i;
            while start > 0
                && i - start < 3
                && is_cjk(s[start - 1])
                && !NAME_STOPS.contains(&s[start - 1])
            {
                start -= 1;
            }
            if start < i {
                spans.push((start, i));
            }
        }
        if let Some(sal) = SALUTATIONS.iter().find(|w| starts_with(s, i, w)) {
            let from = i + sal.chars().count();
            let mut end = from;
            while end < s.len() && end - from < 5 && is_cjk(s[end]) {
                end += 1;
            }
            let len = end - from;
            let punct = s
                .get(end)
                .is_some_and(|c| matches!(c, '，' | ',' | ':' | '：' | '!' | '！' | ' '));
            if (2..=4).contains(&len) && punct {
                let word: String = s[from..end].iter().collect();
                if !ADDRESSES.iter().any(|a| word.ends_with(a)) {
                    spans.push((from, end));
                }
            }
        }
        for greeting in ["dear ", "hi ", "hello "] {
            let at_word = i == 0 || !s[i - 1].is_ascii_alphabetic();
            if at_word && starts_with(s, i, greeting) {
                let from = i + greeting.len();
                let mut end = from;
                while end < s.len() && s[end].is_ascii_alphabetic() {
                    end += 1;
                }
                if end > from {
                    spans.push((from, end));
                }
            }
        }
    }
    if spans.is_empty() {
        return;
    }
    spans.sort_unstable();
    let old = std::mem::take(s);
    let mut i = 0;
    for (start, end) in spans {
        if start < i {
            continue;
        }
        s.extend_from_slice(&old[i..start]);
        s.push(NAME);
        i = end;
    }
    s.extend_from_slice(&old[i..]);
}

/// The masked text as a reader sees it: placeholders spelled `{num}`, `{link}`, `{name}`, and
/// `…` where copies differ.
pub fn display(masked: &[char]) -> String {
    let mut s = String::with_capacity(masked.len() * 3);
    for &c in masked {
        match c {
            NUMBER => s.push_str("{num}"),
            LINK => s.push_str("{link}"),
            NAME => s.push_str("{name}"),
            GAP => s.push('…'),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn m(s: &str) -> String {
        let mut out = Vec::new();
        mask_into(normalize(s).as_str(), &mut out);
        display(&out)
    }

    #[test]
    fn numbers_links_and_names_are_masked() {
        let cases = [
            (
                "您的验证码是123456，请在5分钟内输入",
                "您的验证码是{num},请在{num}分钟内输入",
            ),
            ("退款1,000.00元已到账", "退款{num}元已到账"),
            ("致电138 1234 5678", "致电{num}"),
            ("点击jkm-help。top/a?b=1领取", "点击{link}领取"),
            ("访问 https://ex.com/x 查看", "访问{link}查看"),
            ("邮件 a.b@mail.com now", "邮件{link} now"),
            ("尊敬的张小明，您好", "尊敬的{name},您好"),
            ("尊敬的用户，您好", "尊敬的用户,您好"),
            ("王先生您的快递到了", "{name}先生您的快递到了"),
            ("您好李老师", "您好{name}老师"),
            ("Dear John, your parcel", "dear {name}, your parcel"),
            ("积分xxxx分将清零", "积分{num}分将清零"),
            ("box xxl", "box xxl"),
            ("version 2.0 is out.", "version {num} is out."),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(input, want)| m(input) != *want)
            .map(|(input, want)| format!("{input}: got {:?}, want {want:?}", m(input)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn name_markers_start_with_a_marker_character() {
        for w in HONORIFICS
            .iter()
            .chain(&SALUTATIONS)
            .chain(&["dear ", "hi ", "hello "])
        {
            let c = w.chars().next().unwrap();
            assert!(starts_a_name_marker(c), "{w}");
        }
        let others = ('\0'..='\u{FFFF}')
            .filter(|&c| starts_a_name_marker(c))
            .count();
        assert_eq!(others, MARKER_STARTS.len());
    }

    #[test]
    fn no_panic_on_odd_text() {
        for s in [
            "",
            "x",
            "...",
            "@@",
            "先生",
            "尊敬的",
            "dear",
            "1,",
            ",1",
            "a.",
            "://",
        ] {
            let _ = m(s);
        }
    }
}

//! Characters spread apart to split a word: step 5b of the normaliser.
//!
//! Step 5 removes separators next to a CJK character, which undoes `健 康 码` and `阳*性`. Two
//! spellings get past it, and this step closes them up:
//!
//! - single ASCII characters between single spaces, three or more in a row: `加 Q Q 3 3 8 6`
//!   reads `加qq3386`, `w w w . a b c . c o m` reads `www.abc.com`. Ordinary text never writes
//!   three one-character words in a row (`a b c`); words, numbers in groups (`138 1234 5678`)
//!   and initials (`j. k.`) are not single characters between spaces, and stay;
//! - a dot between single CJK characters, in a chain of at least two dots: `健.康.码` reads
//!   `健康码`. One dot between two CJK characters (`好.明天见`) may be a full stop, and stays.
//!
//! Only spaces and dots are dropped, so the offset map keeps the entries of the characters left.
//! Links are found in the original text (links/), which this step does not touch.

use super::Normalized;
use crate::chars::is_cjk;

/// Drops the spaces and dots of the module docs from `out`; false when there are none (the
/// common case, which allocates nothing).
pub(super) fn close_up(out: &mut Normalized) -> bool {
    let bytes = out.text.as_bytes();
    let mut drop: Vec<usize> = Vec::new();
    spaced_singles(bytes, &mut drop);
    dotted_cjk(&out.text, &mut drop);
    if drop.is_empty() {
        return false;
    }
    drop.sort_unstable();
    drop.dedup();
    let old = std::mem::take(out);
    let mut next = drop.iter().peekable();
    for (i, c) in old.text.char_indices() {
        if next.peek() == Some(&&i) {
            next.next();
            continue;
        }
        let end = i + c.len_utf8();
        out.text.push(c);
        out.starts.extend_from_slice(&old.starts[i..end]);
        out.ends.extend_from_slice(&old.ends[i..end]);
    }
    out.had_invisible = old.had_invisible;
    true
}

/// An ASCII character that is not white space or a control.
fn graphic(b: u8) -> bool {
    (0x21..=0x7E).contains(&b)
}

/// A one-character ASCII word at `p`: graphic, with no graphic byte on either side.
fn single(bytes: &[u8], p: usize) -> bool {
    graphic(bytes[p])
        && (p == 0 || !graphic(bytes[p - 1]))
        && bytes.get(p + 1).is_none_or(|&b| !graphic(b))
}

/// The spaces inside runs of three or more one-character words, one space apart.
fn spaced_singles(bytes: &[u8], drop: &mut Vec<usize>) {
    // A run starts at a one-character word before a space: only spaces are looked at (step 5
    // has removed those next to CJK text, so most messages have few).
    let mut from = 0;
    for s in memchr::memchr_iter(b' ', bytes) {
        if s < from.max(1) || !single(bytes, s - 1) {
            continue;
        }
        let p = s - 1;
        let mut end = p;
        while end + 2 < bytes.len() && bytes[end + 1] == b' ' && single(bytes, end + 2) {
            end += 2;
        }
        if (end - p) / 2 + 1 >= 3 {
            drop.extend((p + 1..end).step_by(2));
        }
        from = end + 1;
    }
}

/// The dots of chains like `健.康.码`: each dot between two CJK characters, next to another
/// such dot.
fn dotted_cjk(text: &str, drop: &mut Vec<usize>) {
    let bytes = text.as_bytes();
    // Dots that stand between two CJK characters, in order.
    let mut between: Vec<usize> = Vec::new();
    for i in memchr::memchr_iter(b'.', bytes) {
        if i == 0 {
            continue;
        }
        let before = text[..i].chars().next_back();
        let after = text[i + 1..].chars().next();
        if before.is_some_and(is_cjk) && after.is_some_and(is_cjk) {
            between.push(i);
        }
    }
    // Two such dots one character apart make a chain.
    for (k, &d) in between.iter().enumerate() {
        let linked = |other: usize| {
            let (a, b) = if other < d { (other, d) } else { (d, other) };
            text[a + 1..b].chars().count() == 1
        };
        let prev = k.checked_sub(1).map(|j| between[j]);
        let next = between.get(k + 1).copied();
        if prev.is_some_and(linked) || next.is_some_and(linked) {
            drop.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::normalize::normalize;

    macro_rules! t {
        ($name:ident, $input:expr, $want:expr) => {
            #[test]
            fn $name() {
                assert_eq!(normalize($input).as_str(), $want);
            }
        };
    }

    // Step 5: separators next to CJK characters.
    t!(space_between_cjk, "密 接", "密接");
    t!(many_spaces_between_cjk, "密   接", "密接");
    t!(star_between_cjk, "密*接", "密接");
    t!(middle_dot_between_cjk, "阳·性", "阳性");
    t!(dash_between_cjk, "健-康-码", "健康码");
    t!(underscore_between_cjk, "核_酸", "核酸");
    t!(pipe_between_cjk, "红|码", "红码");
    t!(slash_between_cjk, "理/赔", "理赔");
    t!(emoji_between_cjk, "阳🔥性", "阳性");
    t!(mixed_separators, "健 * 康 · 码", "健康码");
    t!(separator_before_latin, "加 v 信", "加微信");
    t!(tabs_and_newlines, "密\t接\n者", "密接者");
    // Step 5b.
    t!(spaced_contact, "请加 Q Q 3 3 8 6 登记", "请加qq3386登记");
    t!(
        spaced_link,
        "登录 w w w . a b c - d . c o m",
        "登录www.abc-d.com"
    );
    t!(spaced_price, "每份 5 0 0 元", "每份500元");
    t!(two_singles_stay, "a b testing", "a b testing");
    t!(words_stay, "I am a cat", "i am a cat");
    t!(
        number_groups_stay,
        "call 138 1234 5678",
        "call 138 1234 5678"
    );
    t!(initials_stay, "j. k. rowling", "j. k. rowling");
    t!(dotted_cjk, "健.康.码异常", "健康码异常");
    t!(dotted_cjk_longer, "核.酸.阴.性", "核酸阴性");
    t!(one_dot_stays, "好.明天见", "好.明天见");
    t!(dotted_link_stays, "例子.中国", "例子.中国");

    #[test]
    fn spans_still_map_to_the_original() {
        let original = "加 Q Q 3 3 8 与 健.康.码";
        let n = normalize(original);
        assert_eq!(n.as_str(), "加qq338与健康码");
        let at = n.as_str().find("338").unwrap();
        let span = n.original_span(crate::span::Span::new(at, at + 3));
        assert_eq!(&original[span.range()], "3 3 8");
        let at = n.as_str().find("健康码").unwrap();
        let span = n.original_span(crate::span::Span::new(at, at + "健康码".len()));
        assert_eq!(&original[span.range()], "健.康.码");
    }

    #[test]
    fn closing_up_twice_changes_nothing() {
        for s in [
            "请加 Q Q 3 3 8 6 登记",
            "健.康.码",
            "w w w . a . c o m",
            "a b c d e",
        ] {
            let once = normalize(s);
            assert_eq!(normalize(once.as_str()).as_str(), once.as_str(), "{s}");
        }
    }
}

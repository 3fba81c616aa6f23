//! Numbers before units, in one form: step 7 of the normaliser.
//!
//! Scam wording names a quantity in many spellings: `2小时`, `２小时`, `两个小时`, `一个半小时`,
//! `二十五分钟`, `30min`, `24h`, `80块`. A number followed by a unit is rewritten so that one
//! keyword (`<num>小时`, see [`crate::rules::keyword`]) covers them all:
//!
//! - Chinese numerals become ASCII digits: `十五` → `15`, `两` → `2`, `四十` → `40`,
//!   `二十五` → `25`, `一百` → `100`, `二零二二` → `2022`, `半` → `0.5`;
//! - `个半` after a number adds a half: `一个半小时`, `1个半小时` → `1.5小时`;
//! - `个` before an hour unit goes: `两个小时` → `2小时` (it stays before `月`: `3个月`);
//! - units take one spelling: `h` `hr` `hrs` `hour` `hours` `钟头` → `小时`; `min` `mins`
//!   `minute` `minutes` → `分钟`; `块钱` `rmb` `yuan` → `元`, and `块` after ASCII digits.
//!
//! Only a number directly followed by a unit is touched, so `一起`, `一律`, `千万别`, `二维码`
//! and a handle such as `ab12h` keep their characters. Full-width digits are already ASCII
//! (NFKC). The rewritten text maps back to the original like every other step: the digits
//! of `二十五` all map to the three original characters, `小时` from `h` maps to the `h`.
//!
//! The feature n-grams are hashed over this text with digit runs collapsed, so `二十五分钟`
//! and `25分钟` now give the same n-grams; nothing else of the feature space changes.

use super::Normalized;
use crate::span::Span;

/// Units a number may stand before, and the one form each becomes. Longer spellings first.
const UNITS: &[(&str, &str)] = &[
    ("小时", "小时"),
    ("钟头", "小时"),
    ("分钟", "分钟"),
    ("工作日", "工作日"),
    ("星期", "星期"),
    ("礼拜", "礼拜"),
    ("块钱", "元"),
    ("秒", "秒"),
    ("天", "天"),
    ("日", "日"),
    ("周", "周"),
    ("月", "月"),
    ("年", "年"),
    ("元", "元"),
    ("份", "份"),
    ("次", "次"),
    ("人", "人"),
    ("位", "位"),
    ("盒", "盒"),
    ("瓶", "瓶"),
    ("粒", "粒"),
    ("支", "支"),
    ("岁", "岁"),
    ("倍", "倍"),
    ("件", "件"),
    ("张", "张"),
    ("剂", "剂"),
    ("针", "针"),
    ("单", "单"),
];

/// Units spelled in ASCII (after lower-casing); they must not run on into an ASCII letter.
const ASCII_UNITS: &[(&str, &str)] = &[
    ("hours", "小时"),
    ("hour", "小时"),
    ("hrs", "小时"),
    ("hr", "小时"),
    ("h", "小时"),
    ("minutes", "分钟"),
    ("minute", "分钟"),
    ("mins", "分钟"),
    ("min", "分钟"),
    ("rmb", "元"),
    ("yuan", "元"),
];

/// Units before which `个` goes (`两个小时` reads `2小时`).
const HOUR_UNITS: [&str; 2] = ["小时", "钟头"];

/// The value of a Chinese digit.
fn cn_digit(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// The value of a Chinese multiplier inside a number.
fn cn_multiplier(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1_000,
        '万' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

/// Whether a Chinese number may start with `c` (a digit or `十`; `百元` is not a number here).
#[inline]
fn starts_cn_number(c: char) -> bool {
    cn_digit(c).is_some() || c == '十' || c == '拾'
}

/// The characters a Chinese number may start with ([`starts_cn_number`]) and `半`.
const NUMBER_STARTS: [char; 24] = [
    '零', '〇', '一', '壹', '二', '两', '贰', '三', '叁', '四', '肆', '五', '伍', '六', '陆', '七',
    '柒', '八', '捌', '九', '玖', '十', '拾', '半',
];

/// [`NUMBER_STARTS`] by the low 10 bits of their code points: one bit test rules out nearly
/// every other character before the exact test.
const NUMBER_START_BITS: [u64; 16] = {
    let mut bits = [0u64; 16];
    let mut i = 0;
    while i < NUMBER_STARTS.len() {
        let low = NUMBER_STARTS[i] as usize & 1023;
        bits[low / 64] |= 1 << (low % 64);
        i += 1;
    }
    bits
};

/// Whether the code point `cp` may be in [`NUMBER_STARTS`] (false: it certainly is not).
#[inline]
fn may_start_number(cp: u32) -> bool {
    let low = cp as usize & 1023;
    NUMBER_START_BITS[low / 64] & (1 << (low % 64)) != 0
}

/// The value of a run of Chinese numerals: positional (`二十五`, `一百零五`, `两万`) or digit
/// by digit (`二零二二`). `None` when it overflows or reads as neither.
fn cn_value(run: &str) -> Option<u64> {
    let has_multiplier = run.chars().any(|c| cn_multiplier(c).is_some());
    if !has_multiplier {
        let mut v: u64 = 0;
        for c in run.chars() {
            v = v.checked_mul(10)?.checked_add(cn_digit(c)?)?;
        }
        return Some(v);
    }
    let (mut total, mut section, mut digit): (u64, u64, Option<u64>) = (0, 0, None);
    for c in run.chars() {
        if let Some(d) = cn_digit(c) {
            digit = Some(d);
        } else {
            let m = cn_multiplier(c)?;
            if m >= 10_000 {
                section = section.checked_add(digit.take().unwrap_or(0))?;
                // `一万` alone, `十万`: the section before 万 may be 1 when nothing precedes.
                let section_value = if section == 0 { 1 } else { section };
                total = total.checked_add(section_value.checked_mul(m)?)?;
                section = 0;
            } else {
                section = section.checked_add(digit.take().unwrap_or(1).checked_mul(m)?)?;
            }
        }
    }
    total.checked_add(section)?.checked_add(digit.unwrap_or(0))
}

/// The unit at the start of `rest`, as (bytes it takes, its one form). `after_ascii`: the
/// number was written in ASCII digits, where a bare `块` is money too.
fn unit_at(rest: &str, after_ascii: bool) -> Option<(usize, &'static str)> {
    // Every unit of UNITS (and `块`) starts with a CJK character, every one of ASCII_UNITS
    // with an ASCII letter: the first byte says which list can match.
    let first = *rest.as_bytes().first()?;
    if first.is_ascii() {
        return ascii_unit_at(rest);
    }
    for &(spelling, form) in UNITS {
        if rest.starts_with(spelling) {
            return Some((spelling.len(), form));
        }
    }
    if after_ascii && rest.starts_with('块') {
        return Some(('块'.len_utf8(), "元"));
    }
    None
}

/// The unit of [`ASCII_UNITS`] at the start of `rest`, not running on into a letter.
fn ascii_unit_at(rest: &str) -> Option<(usize, &'static str)> {
    for &(spelling, form) in ASCII_UNITS {
        if rest.starts_with(spelling)
            && !rest.as_bytes()[spelling.len()..]
                .first()
                .is_some_and(|b| b.is_ascii_alphabetic())
        {
            return Some((spelling.len(), form));
        }
    }
    None
}

/// What follows a number: the `个`/`个半` it swallows (bytes), whether that adds a half, and
/// the unit after it, if there is one.
fn after_number(rest: &str, after_ascii: bool) -> Option<(usize, bool, usize, &'static str)> {
    const GE: &str = "个";
    const GE_BAN: &str = "个半";
    if let Some(tail) = rest.strip_prefix(GE_BAN) {
        let (len, form) = unit_at(tail, after_ascii)?;
        return Some((GE_BAN.len(), true, len, form));
    }
    if let Some(tail) = rest.strip_prefix(GE) {
        if HOUR_UNITS.iter().any(|u| tail.starts_with(u)) {
            let (len, form) = unit_at(tail, after_ascii)?;
            return Some((GE.len(), false, len, form));
        }
        return None;
    }
    let (len, form) = unit_at(rest, after_ascii)?;
    Some((0, false, len, form))
}

/// One rewrite of the normalised text: `start..end` becomes `with`.
struct Edit {
    start: usize,
    end: usize,
    with: String,
}

/// Whether `rest` is `个` and a unit that keeps it (`个月`, `个人`).
fn starts_kept_ge(rest: &str) -> bool {
    rest.strip_prefix('个')
        .is_some_and(|tail| !tail.starts_with('半') && unit_at(tail, false).is_some())
}

/// Records the rewrite of a number (`start..unit`, its `个` included) to `with`, and of the
/// unit after it to its one form when spelled otherwise. Returns where the unit ends.
fn push_number(
    edits: &mut Vec<Edit>,
    text: &str,
    start: usize,
    unit: usize,
    with: String,
    unit_len: usize,
    form: &str,
) -> usize {
    edits.push(Edit {
        start,
        end: unit,
        with,
    });
    push_unit(edits, text, unit, unit_len, form)
}

/// Records the rewrite of a unit to its one form, when spelled otherwise. Returns where the
/// unit ends.
fn push_unit(edits: &mut Vec<Edit>, text: &str, unit: usize, unit_len: usize, form: &str) -> usize {
    let mut end = unit + unit_len;
    if &text[unit..end] != form {
        // An ASCII unit becomes CJK, and separators kept after it (`1h v`) would be dropped
        // next to CJK by a second normalisation: drop them now, so normalising is idempotent.
        if text.as_bytes()[unit].is_ascii() {
            end += text[end..]
                .chars()
                .take_while(|&c| super::is_separator(c))
                .map(char::len_utf8)
                .sum::<usize>();
        }
        edits.push(Edit {
            start: unit,
            end,
            with: form.to_string(),
        });
    }
    end
}

/// Rewrites numbers before units in `out` (module docs). Returns whether anything changed.
pub(super) fn rewrite(out: &mut Normalized) -> bool {
    let text = out.text.as_str();
    let bytes = text.as_bytes();
    let mut edits: Vec<Edit> = Vec::new();
    let mut i = 0;
    // Where the last rewrite ended.
    let mut rewritten_to = usize::MAX;
    while i < bytes.len() {
        if let Some(e) = edits.last() {
            rewritten_to = e.end;
        }
        let b = bytes[i];
        if b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(|c| c.is_ascii_digit())))
            {
                i += 1;
            }
            // A digit run inside an ASCII word (`ab12h`, a handle or a code) is not a quantity;
            // a unit just rewritten (`一h1块`) is no longer a word.
            if start > 0 && bytes[start - 1].is_ascii_alphabetic() && start != rewritten_to {
                continue;
            }
            if let Some((ge, half, unit_len, form)) = after_number(&text[i..], true) {
                let unit = i + ge;
                if ge > 0 {
                    let mut with = text[start..i].to_string();
                    if half {
                        with.push_str(".5");
                    }
                    i = push_number(&mut edits, text, start, unit, with, unit_len, form);
                } else {
                    i = push_unit(&mut edits, text, unit, unit_len, form);
                }
            }
            continue;
        }
        // Every Chinese numeral and `半` is a three-byte character: others are skipped by
        // their lead byte, and three-byte ones decoded by hand (the hot path of every message).
        if !(0xE0..0xF0).contains(&b) {
            i += match b {
                0..0x80 => 1,
                0xF0.. => 4,
                _ => 2,
            };
            continue;
        }
        let cp = ((b as u32 & 0x0F) << 12)
            | ((bytes[i + 1] as u32 & 0x3F) << 6)
            | (bytes[i + 2] as u32 & 0x3F);
        if !may_start_number(cp) {
            i += 3;
            continue;
        }
        let c = char::from_u32(cp).unwrap_or_default();
        let len = 3;
        if c != '半' && !starts_cn_number(c) {
            i += len;
            continue;
        }
        if c == '半' {
            if let Some((ge, false, unit_len, form)) = after_number(&text[i + len..], false) {
                i = push_number(
                    &mut edits,
                    text,
                    i,
                    i + len + ge,
                    "0.5".into(),
                    unit_len,
                    form,
                );
                continue;
            }
            if starts_kept_ge(&text[i + len..]) {
                // `半个月`: 个 and the unit stay.
                edits.push(Edit {
                    start: i,
                    end: i + len,
                    with: "0.5".into(),
                });
            }
            i += len;
            continue;
        }
        if !starts_cn_number(c) {
            i += len;
            continue;
        }
        let start = i;
        let mut end = i;
        for ch in text[start..].chars() {
            if cn_digit(ch).is_some() || cn_multiplier(ch).is_some() {
                end += ch.len_utf8();
            } else {
                break;
            }
        }
        i = end;
        let Some(value) = cn_value(&text[start..end]) else {
            continue;
        };
        if let Some((ge, half, unit_len, form)) = after_number(&text[end..], false) {
            let mut with = value.to_string();
            if half {
                with.push_str(".5");
            }
            i = push_number(&mut edits, text, start, end + ge, with, unit_len, form);
        } else if starts_kept_ge(&text[end..]) {
            // `三个月`: the number is rewritten, 个 and the unit stay.
            edits.push(Edit {
                start,
                end,
                with: value.to_string(),
            });
        }
    }
    if edits.is_empty() {
        return false;
    }
    out.replace(
        edits
            .iter()
            .map(|e| (Span::new(e.start, e.end), e.with.as_str())),
    );
    true
}

#[cfg(test)]
mod tests {
    use super::super::normalize;
    use super::{cn_value, may_start_number, starts_cn_number, NUMBER_STARTS};
    use crate::span::Span;

    /// `t!(name, input, expected normalised text)`
    macro_rules! t {
        ($name:ident, $input:expr, $expected:expr) => {
            #[test]
            fn $name() {
                assert_eq!(normalize($input).as_str(), $expected, "input {:?}", $input);
            }
        };
    }

    t!(arabic_hours, "2小时出结果", "2小时出结果");
    t!(full_width_digits, "２４小时", "24小时");
    t!(ascii_h, "24h出结果", "24小时出结果");
    t!(ascii_hours_word, "48 hours", "48 hours");
    t!(ascii_hrs, "3hrs", "3小时");
    t!(ascii_min, "30min出报告", "30分钟出报告");
    t!(ascii_minutes, "15minutes", "15分钟");
    t!(ascii_unit_inside_word, "5hot", "5hot");
    t!(handle_untouched, "加ab12h好友", "加ab12h好友");
    t!(liang_ge_xiaoshi, "两个小时", "2小时");
    t!(yi_ge_ban_xiaoshi, "一个半小时", "1.5小时");
    t!(mixed_arabic_ge_ban, "1个半小时", "1.5小时");
    t!(ershiwu_fenzhong, "二十五分钟出报告", "25分钟出报告");
    t!(shiwu, "十五分钟", "15分钟");
    t!(sishi, "四十元", "40元");
    t!(yibai, "一百元", "100元");
    t!(yibai_lingwu, "一百零五天", "105天");
    t!(liang_wan, "两万元", "20000元");
    t!(digit_by_digit_year, "二零二二年", "2022年");
    t!(ban_xiaoshi, "最快半个小时", "最快0.5小时");
    t!(ban_tian, "半天", "0.5天");
    t!(ban_ge_yue_keeps_ge, "半个月", "0.5个月");
    t!(san_ge_yue_keeps_ge, "三个月", "3个月");
    t!(zhongtou, "两个钟头", "2小时");
    t!(kuaiqian, "一份八十块钱", "1份80元");
    t!(kuai_after_digits, "80块", "80元");
    t!(kuai_after_chinese_stays, "一块去", "一块去");
    t!(san_tian, "三天见效", "3天见效");
    t!(not_before_unit, "一起去，一律免费", "一起去,一律免费");
    t!(qianwan_bie, "千万别信", "千万别信");
    t!(erweima, "扫二维码", "扫二维码");
    t!(yi_ge_stays, "一个朋友", "一个朋友");
    t!(ling_yuan_gou, "零元购", "0元购");
    t!(spaced_numerals, "二 十 五 分 钟", "25分钟");
    t!(decimal_hours, "1.5小时", "1.5小时");
    t!(separator_after_ascii_unit, "1h v", "1小时v");
    t!(number_after_rewritten_unit, "一h1块", "1小时1元");
    t!(traditional_form, "兩個小時", "2小时");

    #[test]
    fn the_number_start_filter_lets_every_number_start_through() {
        for cp in 0..=0xFFFFu32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let starts = c == '半' || starts_cn_number(c);
            assert_eq!(starts, NUMBER_STARTS.contains(&c), "U+{cp:04X}");
            if starts {
                assert!(may_start_number(cp), "U+{cp:04X}");
            }
        }
    }

    #[test]
    fn chinese_values() {
        for (run, v) in [
            ("十", 10),
            ("十五", 15),
            ("二十五", 25),
            ("四十", 40),
            ("一百", 100),
            ("一百零五", 105),
            ("两万", 20000),
            ("十万", 100000),
            ("三千二百", 3200),
            ("二零二二", 2022),
            ("两", 2),
            ("零", 0),
        ] {
            assert_eq!(cn_value(run), Some(v), "{run}");
        }
        assert_eq!(cn_value("九九九九九九九九九九九九九九九九九九九九九"), None);
    }

    #[test]
    fn number_spans_map_to_the_whole_original_number() {
        let original = "核酸二十五分钟出报告";
        let n = normalize(original);
        let s = n.as_str().find("25").unwrap();
        let o = n.original_span(Span::new(s, s + 2));
        assert_eq!(&original[o.range()], "二十五");
        let s = n.as_str().find("5分钟").unwrap();
        let o = n.original_span(Span::new(s, s + "5分钟".len()));
        assert_eq!(&original[o.range()], "二十五分钟");
        let original = "24h出";
        let n = normalize(original);
        let s = n.as_str().find("小时").unwrap();
        let o = n.original_span(Span::new(s, s + "小时".len()));
        assert_eq!(&original[o.range()], "h");
    }
}

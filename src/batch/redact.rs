//! `--redact`: masking phone numbers, ID card numbers and bank card numbers wherever a verdict
//! repeats message text (hit `text`, URL `raw`, and the URL fields derived from it).
//!
//! What is masked: every run of at least [`MIN_DIGITS`] digits, where a run may hold single
//! spaces or hyphens between digit groups (`138 1234 5678`, `6222-0212-3456-7890`) and may end in
//! the `X` of an ID card. That covers mobile numbers (11 digits, 13 with `86`), landlines with
//! area code (10-12), 400/800 numbers (10), local landlines (7-8), ID cards (15, or 17 and a
//! check digit or `X`) and bank cards (16-19). It also masks other long numbers (order numbers,
//! dates written as 8 digits) on purpose: a mask that misses a number leaks it, one that hides
//! an order number costs the analyst little. ASCII and full-width digits (`１３８…`) are both
//! digits; other digit forms (circled, Arabic-Indic) are not recognised.
//!
//! Masking keeps byte lengths (an ASCII digit becomes `*`, a full-width digit `＊`, both the
//! same size), so every span in a verdict still points at the same place, and hit texts are
//! cut from the masked ORIGINAL text: a hit that covers only the tail of a number is masked
//! because the whole number was seen.

use crate::verdict::Verdict;

/// Shortest digit run that is masked.
pub const MIN_DIGITS: usize = 7;

/// The byte length of the digit at `i` (ASCII 1, full-width 3), if there is one.
fn digit_at(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'0'..=b'9' => Some(1),
        0xEF if b.get(i + 1) == Some(&0xBC) && matches!(b.get(i + 2), Some(0x90..=0x99)) => Some(3),
        _ => None,
    }
}

/// The byte length of a separator allowed inside a number at `i`.
fn separator_at(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b' ' | b'-' => Some(1),
        // Full-width hyphen-minus.
        0xEF if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x8D) => Some(3),
        _ => None,
    }
}

/// Masks, in place, every number [`MIN_DIGITS`] digits or longer. Returns whether anything
/// was masked.
pub fn mask_numbers(s: &mut String) -> bool {
    if !s.bytes().any(|b| b.is_ascii_digit() || b == 0xEF) {
        return false;
    }
    let mut b = std::mem::take(s).into_bytes();
    let mut masked = false;
    let mut i = 0;
    while i < b.len() {
        if digit_at(&b, i).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        let mut end = i;
        let mut j = i;
        loop {
            if let Some(l) = digit_at(&b, j) {
                digits += 1;
                j += l;
                end = j;
            } else if let Some(l) = separator_at(&b, j).filter(|&l| digit_at(&b, j + l).is_some()) {
                j += l;
            } else {
                break;
            }
        }
        // An ID card's check character.
        if (digits == 17 || digits == 14) && matches!(b.get(end), Some(b'X' | b'x')) {
            end += 1;
        }
        if digits >= MIN_DIGITS {
            masked = true;
            let mut k = start;
            while k < end {
                match digit_at(&b, k) {
                    Some(1) => {
                        b[k] = b'*';
                        k += 1;
                    }
                    // U+FF10..FF19 -> U+FF0A (full-width asterisk): only the last byte changes.
                    Some(_) => {
                        b[k + 2] = 0x8A;
                        k += 3;
                    }
                    None if matches!(b[k], b'X' | b'x') => {
                        b[k] = b'*';
                        k += 1;
                    }
                    None => k += 1,
                }
            }
        }
        i = end.max(start + 1);
    }
    *s = String::from_utf8(b).expect("masking replaces ASCII with ASCII and keeps UTF-8");
    masked
}

/// Masks numbers in every field of `v` that repeats text of `original`, the message `v` is
/// the verdict of.
pub fn redact_verdict(v: &mut Verdict, original: &str) {
    if v.hits.is_empty() && v.urls.is_empty() {
        return;
    }
    let mut masked = original.to_string();
    mask_numbers(&mut masked);
    for h in &mut v.hits {
        match masked.get(h.span.start..h.span.end) {
            Some(t) => t.clone_into(&mut h.text),
            None => {
                mask_numbers(&mut h.text);
            }
        }
    }
    for u in &mut v.urls {
        match masked.get(u.span.start..u.span.end) {
            Some(t) => t.clone_into(&mut u.raw),
            None => {
                mask_numbers(&mut u.raw);
            }
        }
        mask_numbers(&mut u.url);
        mask_numbers(&mut u.host);
        mask_numbers(&mut u.registrable_domain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn m(s: &str) -> String {
        let mut s = s.to_string();
        mask_numbers(&mut s);
        s
    }

    #[test]
    fn masks_phones_ids_and_cards_and_keeps_lengths() {
        let cases = [
            ("致电13812345678退款", "致电***********退款"),
            ("+86 138 1234 5678", "+** *** **** ****"),
            ("客服400-820-8820", "客服***-***-****"),
            ("身份证11010519491231002X", "身份证******************"),
            ("身份证110105491231002", "身份证***************"),
            ("卡号6222 0212 3456 7890 123", "卡号**** **** **** **** ***"),
            ("卡号6222-0212-3456-7890", "卡号****-****-****-****"),
            ("电话１３８１２３４５６７８", "电话＊＊＊＊＊＊＊＊＊＊＊"),
            ("验证码123456，金额1,000元", "验证码123456，金额1,000元"),
            ("no digits", "no digits"),
            ("2 3 4 5 6 7", "2 3 4 5 6 7"),
            ("1 2 3 4 5 6 7", "* * * * * * *"),
            ("ends 1234567", "ends *******"),
        ];
        for (input, want) in cases {
            let got = m(input);
            assert_eq!(got, want, "{input}");
            assert_eq!(got.len(), input.len(), "{input}");
        }
    }

    #[test]
    fn hit_on_the_tail_of_a_number_is_masked_from_the_whole_number() {
        use crate::category::Category;
        use crate::verdict::{Action, Hit};
        let text = "加微信13812345678领取";
        let start = text.find("5678").unwrap();
        let mut v = Verdict {
            id: None,
            verdict: Action::Flag,
            category: Category::Spam,
            score: 0.5,
            hits: vec![Hit {
                rule: "R".into(),
                category: Category::Spam,
                weight: 1.0,
                span: Span::new(start, start + 4),
                text: "5678".into(),
                negated: false,
            }],
            urls: vec![],
            ruleset: "t".into(),
            model: "t".into(),
            campaign: None,
        };
        redact_verdict(&mut v, text);
        assert_eq!(v.hits[0].text, "****");
    }
}

//! Invariants that must hold for any input, checked with proptest.

use proptest::prelude::*;
use smishd::normalize::normalize;
use smishd::{Engine, Message};
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new().expect("compiled-in engine"))
}

/// Characters scammers and ordinary messages mix: keyword pieces, separators, full-width and
/// traditional forms, emoji, invisible characters, dots and digits.
fn tricky_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        '密', '接', '健', '康', '码', '碼', '红', '黄', '核', '酸', '阳', '性', '快', '递', '理',
        '赔', '验', '证', '微', '信', '薇', '扣', 'v', 'x', 'V', 'ｖ', 'ｘ', 'Ｖ', 'a', 'Z', '1',
        '9', '０', ' ', '\t', '\n', '*', '·', '-', '_', '|', '/', '.', '。', '｡', '．', '🔥', '✅',
        '\u{200B}', '\u{200D}', '\u{202E}', '\u{00AD}', '\u{FE0F}', '\u{3000}', 'é', 'e',
        '\u{0301}', 'ß', 'İ', 'ﬁ', '①', '㈱', '，', '：', 'q', 'w', 'h', 't', 'p', ':',
    ])
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..80).prop_map(|v| v.into_iter().collect())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![tricky_string(), any::<String>()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_normalised_byte_maps_inside_the_original_on_char_boundaries(text in any_text()) {
        let n = normalize(&text);
        for (i, _) in n.as_str().char_indices() {
            let end = i + n.as_str()[i..].chars().next().unwrap().len_utf8();
            let (s, e) = n.original_span(i, end);
            prop_assert!(s < e && e <= text.len(), "span {s}..{e} of {}", text.len());
            prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }

    #[test]
    fn hit_and_url_spans_are_original_substrings(text in any_text()) {
        let v = engine().score(&Message::new(&text));
        for h in &v.hits {
            prop_assert!(h.start < h.end && h.end <= text.len());
            prop_assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            prop_assert_eq!(&text[h.start..h.end], h.text.as_str());
        }
        for u in &v.urls {
            prop_assert!(u.start < u.end && u.end <= text.len());
            prop_assert!(text.is_char_boundary(u.start) && text.is_char_boundary(u.end));
            prop_assert_eq!(&text[u.start..u.end], u.raw.as_str());
        }
        prop_assert!((0.0..=1.0).contains(&v.score), "score {}", v.score);
    }

    #[test]
    fn normalisation_is_idempotent(text in tricky_string()) {
        let once = normalize(&text);
        let twice = normalize(once.as_str());
        prop_assert_eq!(twice.as_str(), once.as_str());
    }
}

//! The URL extractor: every link found is a substring of the input at its span.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smishd::links::LinkAnalyzer;
use smishd::normalize::normalize;

fn links() -> &'static LinkAnalyzer {
    static L: OnceLock<LinkAnalyzer> = OnceLock::new();
    L.get_or_init(|| LinkAnalyzer::new().expect("compiled-in lists"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let n = normalize(text);
    for u in links().analyze(text, &n) {
        assert!(!u.span.is_empty() && u.span.end <= text.len());
        assert_eq!(&text[u.span.range()], u.raw);
    }
});

//! The normaliser: every normalised byte maps back inside the input on char boundaries, and
//! normalising twice changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smishd::normalize::normalize;
use smishd::Span;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let n = normalize(text);
    for (i, c) in n.as_str().char_indices() {
        let Span { start: s, end: e } = n.original_span(Span::new(i, i + c.len_utf8()));
        assert!(s < e && e <= text.len());
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
    }
    let twice = normalize(n.as_str());
    assert_eq!(twice.as_str(), n.as_str());
});

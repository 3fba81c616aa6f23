//! The whole scorer: any text gets a verdict whose spans are substrings of it and whose score
//! is a probability.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use smishd::{Engine, Message};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new().expect("compiled-in engine"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line, when it looks like one, is the sender.
    let (sender, text) = match text.split_once('\n') {
        Some((s, t)) if s.len() <= 20 => (Some(s), t),
        _ => (None, text),
    };
    let v = engine().score(&Message::new(text).with_sender(sender));
    assert!((0.0..=1.0).contains(&v.score));
    for h in &v.hits {
        assert_eq!(&text[h.span.range()], h.text);
    }
    for u in &v.urls {
        assert_eq!(&text[u.span.range()], u.raw);
    }
    serde_json::to_string(&v).expect("verdict serialises");
});

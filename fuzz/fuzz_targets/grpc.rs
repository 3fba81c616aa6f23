//! The gRPC request path where it differs from the scorer: protobuf decoding of arbitrary
//! bytes, the text limits, and the verdict -> response conversion (offsets, rounding).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use prost::Message as _;
use smishd::server::proto::{ScoreBatchRequest, ScoreRequest};
use smishd::server::{service, Limits};
use smishd::{Engine, Message};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new().expect("compiled-in engine"))
}

fn one(limits: &Limits, r: ScoreRequest) {
    if limits.check_text(&r.text, None).is_err() {
        return;
    }
    let v = engine().score(&Message::new(&r.text).with_sender(Some(&r.sender)));
    let text = r.text.clone();
    let resp = service::response(r.id, v);
    for h in &resp.hits {
        assert_eq!(&text[h.start as usize..h.end as usize], h.text);
    }
    for u in &resp.urls {
        assert_eq!(&text[u.start as usize..u.end as usize], u.raw);
    }
    assert!((0.0..=1.0).contains(&resp.score));
    // The response must encode and decode back to itself.
    let bytes = resp.encode_to_vec();
    assert_eq!(smishd::server::proto::ScoreResponse::decode(bytes.as_slice()).unwrap(), resp);
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(r) = ScoreRequest::decode(data) {
        one(&limits, r);
    }
    if let Ok(b) = ScoreBatchRequest::decode(data) {
        if limits.check_batch(b.requests.len()).is_ok() {
            for r in b.requests {
                one(&limits, r);
            }
        }
    }
});

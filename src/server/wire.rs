//! How the server decodes requests: the `smishd.v1` request messages with their string fields
//! read as bytes.
//!
//! `string` and `bytes` share one wire encoding, so clients see the published proto unchanged.
//! Decoding strings as bytes moves the UTF-8 check from the decoder, where one bad field fails
//! the whole call (a batch, or every later message of a stream) with INTERNAL, to
//! [`Request::check`], where it is that one message's INVALID_ARGUMENT.

use super::limits::{Failure, Field, Limits};

/// `smishd.v1.ScoreRequest` as received.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScoreRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub text: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub sender: Vec<u8>,
}

/// `smishd.v1.ScoreBatchRequest` as received.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScoreBatchRequest {
    #[prost(message, repeated, tag = "1")]
    pub requests: Vec<ScoreRequest>,
}

/// A request whose fields passed every check.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    pub id: String,
    pub text: String,
    pub sender: String,
}

impl ScoreRequest {
    /// The id to echo in a refusal: the id when it is itself acceptable, else empty (a 3 MB or
    /// non-UTF-8 id is not sent back).
    pub fn echo_id(&self, limits: &Limits) -> String {
        match std::str::from_utf8(&self.id) {
            Ok(id) if id.len() <= limits.max_id_bytes => id.to_string(),
            _ => String::new(),
        }
    }

    /// Checks every field (UTF-8 and length of `id` and `sender`, then the text); the first
    /// problem found is the answer. `index` is the message's place in a batch or stream.
    pub fn check(self, limits: &Limits, index: Option<usize>) -> Result<Checked, Failure> {
        let id = field(self.id, Field::Id, limits.max_id_bytes, index)?;
        let sender = field(self.sender, Field::Sender, limits.max_sender_bytes, index)?;
        let text = String::from_utf8(self.text).map_err(|_| Failure::NotUtf8 {
            index,
            field: Field::Text,
        })?;
        limits.check_text(&text, index)?;
        Ok(Checked { id, text, sender })
    }
}

fn field(
    bytes: Vec<u8>,
    which: Field,
    limit: usize,
    index: Option<usize>,
) -> Result<String, Failure> {
    if bytes.len() > limit {
        return Err(Failure::FieldTooLong {
            index,
            field: which,
            bytes: bytes.len(),
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|_| Failure::NotUtf8 {
        index,
        field: which,
    })
}

/// The generated server trait and router, taking the request types above.
pub mod server {
    include!(concat!(env!("OUT_DIR"), "/wire/smishd.v1.rs"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::proto;
    use prost::Message as _;

    /// The lenient types read exactly what the published ones write.
    #[test]
    fn same_wire_format_as_the_published_types() {
        let published = proto::ScoreBatchRequest {
            requests: vec![proto::ScoreRequest {
                id: "a-1".into(),
                text: "验证码 1234".into(),
                sender: "+861380000".into(),
            }],
        };
        let got = ScoreBatchRequest::decode(published.encode_to_vec().as_slice()).unwrap();
        assert_eq!(got.requests[0].id, b"a-1");
        assert_eq!(got.requests[0].text, "验证码 1234".as_bytes());
        assert_eq!(got.requests[0].sender, b"+861380000");
        assert_eq!(got.encode_to_vec(), published.encode_to_vec());
    }

    #[test]
    fn each_field_is_checked() {
        let limits = Limits {
            max_id_bytes: 4,
            max_sender_bytes: 3,
            ..Limits::default()
        };
        let ok = ScoreRequest {
            id: b"id".to_vec(),
            text: b"hello".to_vec(),
            sender: b"106".to_vec(),
        };
        assert_eq!(
            ok.clone().check(&limits, None).unwrap(),
            Checked {
                id: "id".into(),
                text: "hello".into(),
                sender: "106".into()
            }
        );
        let bad_text = ScoreRequest {
            text: vec![b'a', 0xff],
            ..ok.clone()
        };
        assert_eq!(
            bad_text.check(&limits, Some(1)),
            Err(Failure::NotUtf8 {
                index: Some(1),
                field: Field::Text
            })
        );
        let long_id = ScoreRequest {
            id: b"12345".to_vec(),
            ..ok.clone()
        };
        assert_eq!(long_id.echo_id(&limits), "");
        assert_eq!(
            long_id.check(&limits, None),
            Err(Failure::FieldTooLong {
                index: None,
                field: Field::Id,
                bytes: 5,
                limit: 4
            })
        );
        let bad_sender = ScoreRequest {
            sender: vec![0xc3],
            ..ok
        };
        assert_eq!(bad_sender.echo_id(&limits), "id");
        assert_eq!(
            bad_sender.check(&limits, None),
            Err(Failure::NotUtf8 {
                index: None,
                field: Field::Sender
            })
        );
    }
}

//! Limits that protect the service: sizes, counts, concurrency and deadlines.
//!
//! Every check here returns a [`Failure`] naming the limit and never the text; the service turns
//! failures into `tonic::Status` in one place (`service::status`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::defaults;
use crate::engine::TextProblem;

/// The configured limits. Defaults are in `defaults.rs`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest decoded gRPC message, bytes (tonic refuses larger ones with RESOURCE_EXHAUSTED).
    pub max_message_bytes: usize,
    /// Longest message text, bytes (RESOURCE_EXHAUSTED past it).
    pub max_text_bytes: usize,
    /// Longest request `id`, bytes (RESOURCE_EXHAUSTED past it).
    pub max_id_bytes: usize,
    /// Longest request `sender`, bytes (RESOURCE_EXHAUSTED past it).
    pub max_sender_bytes: usize,
    /// Most messages in one ScoreBatch (RESOURCE_EXHAUSTED past it).
    pub max_batch: usize,
    /// Most calls in flight, unary and streaming together (RESOURCE_EXHAUSTED past it).
    pub max_concurrent_requests: usize,
    /// Most ScoreStream calls open (RESOURCE_EXHAUSTED past it).
    pub max_concurrent_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: defaults::MAX_MESSAGE_BYTES,
            max_text_bytes: defaults::MAX_TEXT_BYTES,
            max_id_bytes: defaults::MAX_ID_BYTES,
            max_sender_bytes: defaults::MAX_SENDER_BYTES,
            max_batch: defaults::MAX_BATCH,
            max_concurrent_requests: defaults::MAX_CONCURRENT_REQUESTS,
            max_concurrent_streams: defaults::MAX_CONCURRENT_STREAMS,
        }
    }
}

impl Limits {
    /// Checks that the limits make sense together.
    pub fn validate(&self) -> Result<(), String> {
        let named = [
            ("max_message_bytes", self.max_message_bytes),
            ("max_text_bytes", self.max_text_bytes),
            ("max_id_bytes", self.max_id_bytes),
            ("max_sender_bytes", self.max_sender_bytes),
            ("max_batch", self.max_batch),
            ("max_concurrent_requests", self.max_concurrent_requests),
            ("max_concurrent_streams", self.max_concurrent_streams),
        ];
        for (name, value) in named {
            if value == 0 {
                return Err(format!("limits.{name} must be at least 1 (got 0)"));
            }
        }
        if self.max_message_bytes < self.max_text_bytes {
            return Err(format!(
                "limits.max_message_bytes ({}) is below limits.max_text_bytes ({})",
                self.max_message_bytes, self.max_text_bytes
            ));
        }
        Ok(())
    }

    /// Checks one message text. `index` is its position in a batch or stream.
    pub fn check_text(&self, text: &str, index: Option<usize>) -> Result<(), Failure> {
        crate::engine::check_text(text, self.max_text_bytes).map_err(|p| match p {
            TextProblem::Blank => Failure::EmptyText { index },
            TextProblem::TooLong { bytes, limit } => Failure::TextTooLong {
                index,
                bytes,
                limit,
            },
        })
    }

    pub fn check_batch(&self, size: usize) -> Result<(), Failure> {
        if size > self.max_batch {
            return Err(Failure::BatchTooLarge {
                size,
                limit: self.max_batch,
            });
        }
        Ok(())
    }
}

/// A request field, as named in refusals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Id,
    Text,
    Sender,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Text => "text",
            Field::Sender => "sender",
        }
    }

    fn limit_name(self) -> &'static str {
        match self {
            Field::Id => "max_id_bytes",
            Field::Text => "max_text_bytes",
            Field::Sender => "max_sender_bytes",
        }
    }
}

/// Why a call, or one message of it, is refused. Carries sizes and limits, never content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    EmptyText {
        index: Option<usize>,
    },
    /// A string field is not valid UTF-8.
    NotUtf8 {
        index: Option<usize>,
        field: Field,
    },
    /// `id` or `sender` over its limit.
    FieldTooLong {
        index: Option<usize>,
        field: Field,
        bytes: usize,
        limit: usize,
    },
    TextTooLong {
        index: Option<usize>,
        bytes: usize,
        limit: usize,
    },
    BatchTooLarge {
        size: usize,
        limit: usize,
    },
    TooManyRequests {
        limit: usize,
    },
    TooManyStreams {
        limit: usize,
    },
    DeadlineExceeded,
    /// The engine is not loaded yet.
    NotReady,
    /// Scoring panicked on this message (a bug); the message fails, the server goes on.
    Internal,
}

impl Failure {
    /// The gRPC code: INVALID_ARGUMENT for a bad field, RESOURCE_EXHAUSTED for every size,
    /// count and concurrency limit.
    pub fn code(&self) -> tonic::Code {
        use tonic::Code;
        match self {
            Failure::EmptyText { .. } | Failure::NotUtf8 { .. } => Code::InvalidArgument,
            Failure::TextTooLong { .. }
            | Failure::FieldTooLong { .. }
            | Failure::BatchTooLarge { .. }
            | Failure::TooManyRequests { .. }
            | Failure::TooManyStreams { .. } => Code::ResourceExhausted,
            Failure::DeadlineExceeded => Code::DeadlineExceeded,
            Failure::NotReady => Code::Unavailable,
            Failure::Internal => Code::Internal,
        }
    }

    /// What is wrong, naming the field, the size and the limit; never the content. Prefixed
    /// with `message N: ` when the failure is one message of a batch or stream.
    pub fn reason(&self) -> String {
        let at = |index: &Option<usize>| match index {
            Some(i) => format!("message {i}: "),
            None => String::new(),
        };
        match self {
            Failure::EmptyText { index } => format!("{}text is empty", at(index)),
            Failure::NotUtf8 { index, field } => {
                format!("{}{} is not valid UTF-8", at(index), field.as_str())
            }
            Failure::TextTooLong {
                index,
                bytes,
                limit,
            } => format!(
                "{}text is {bytes} bytes, over the limit of {limit} bytes (max_text_bytes)",
                at(index)
            ),
            Failure::FieldTooLong {
                index,
                field,
                bytes,
                limit,
            } => format!(
                "{}{} is {bytes} bytes, over the limit of {limit} bytes ({})",
                at(index),
                field.as_str(),
                field.limit_name()
            ),
            Failure::BatchTooLarge { size, limit } => {
                format!("batch of {size} messages is over the limit of {limit} (max_batch)")
            }
            Failure::TooManyRequests { limit } => {
                format!("{limit} calls already in flight (max_concurrent_requests); retry later")
            }
            Failure::TooManyStreams { limit } => {
                format!("{limit} streams already open (max_concurrent_streams); retry later")
            }
            Failure::DeadlineExceeded => "deadline exceeded before scoring finished".into(),
            Failure::NotReady => "engine not loaded yet; retry".into(),
            Failure::Internal => "scoring failed (a bug, logged without the text)".into(),
        }
    }
}

/// Counts calls and streams in flight; a permit is held for the life of a call.
#[derive(Debug)]
pub struct Admission {
    requests: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    request_limit: usize,
    stream_limit: usize,
}

/// What a call holds while it runs; dropping it frees the slots.
#[derive(Debug)]
pub struct Permit {
    _request: OwnedSemaphorePermit,
    _stream: Option<OwnedSemaphorePermit>,
}

impl Admission {
    pub fn new(limits: &Limits) -> Self {
        Admission {
            requests: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            streams: Arc::new(Semaphore::new(limits.max_concurrent_streams)),
            request_limit: limits.max_concurrent_requests,
            stream_limit: limits.max_concurrent_streams,
        }
    }

    /// A slot for one unary call, or RESOURCE_EXHAUSTED without waiting: a gateway would rather
    /// fail over at once than queue behind an overloaded server.
    pub fn request(&self) -> Result<Permit, Failure> {
        let request = try_acquire(&self.requests).ok_or(Failure::TooManyRequests {
            limit: self.request_limit,
        })?;
        Ok(Permit {
            _request: request,
            _stream: None,
        })
    }

    /// A slot for one stream; it counts as a call too.
    pub fn stream(&self) -> Result<Permit, Failure> {
        let stream = try_acquire(&self.streams).ok_or(Failure::TooManyStreams {
            limit: self.stream_limit,
        })?;
        let mut permit = self.request()?;
        permit._stream = Some(stream);
        Ok(permit)
    }
}

fn try_acquire(sem: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    // NoPermits and Closed alike: no slot now.
    sem.clone().try_acquire_owned().ok()
}

/// The deadline a client set with the `grpc-timeout` header, counted from `now`.
///
/// tonic already ends a call whose timeout expires while it waits; this lets synchronous work
/// (a batch scored in chunks) stop between chunks, and refuses a call whose deadline is already
/// gone instead of scoring it for nobody.
pub fn deadline(metadata: &tonic::metadata::MetadataMap, now: Instant) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    parse_grpc_timeout(value).map(|d| now + d)
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Has the deadline passed?
pub fn expired(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values() {
        let cases = [
            ("1S", Some(Duration::from_secs(1))),
            ("250m", Some(Duration::from_millis(250))),
            ("0n", Some(Duration::ZERO)),
            ("2H", Some(Duration::from_secs(7200))),
            ("99999999u", Some(Duration::from_micros(99_999_999))),
            ("123456789S", None),
            ("S", None),
            ("10x", None),
            ("-1S", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(parse_grpc_timeout(v), want, "{v:?}");
        }
    }

    #[test]
    fn text_checks_name_the_limit() {
        let limits = Limits {
            max_text_bytes: 4,
            ..Limits::default()
        };
        assert_eq!(
            limits.check_text("", Some(2)),
            Err(Failure::EmptyText { index: Some(2) })
        );
        assert_eq!(
            limits.check_text("12345", None),
            Err(Failure::TextTooLong {
                index: None,
                bytes: 5,
                limit: 4
            })
        );
        assert!(limits.check_text("1234", None).is_ok());
        // White space alone is refused here as by score and rescore (it once was scored).
        assert_eq!(
            limits.check_text(" \t", None),
            Err(Failure::EmptyText { index: None })
        );
    }

    #[test]
    fn admission_counts_streams_as_requests() {
        let limits = Limits {
            max_concurrent_requests: 2,
            max_concurrent_streams: 1,
            ..Limits::default()
        };
        let a = Admission::new(&limits);
        let s = a.stream().unwrap();
        assert_eq!(
            a.stream().unwrap_err(),
            Failure::TooManyStreams { limit: 1 }
        );
        let r = a.request().unwrap();
        assert_eq!(
            a.request().unwrap_err(),
            Failure::TooManyRequests { limit: 2 }
        );
        drop(s);
        drop(r);
        assert!(a.stream().is_ok());
    }

    #[test]
    fn zero_limits_are_refused() {
        let limits = Limits {
            max_batch: 0,
            ..Limits::default()
        };
        assert!(limits.validate().unwrap_err().contains("max_batch"));
    }
}

//! The compiled-in defaults, in one place: the rule set, domain lists, Public Suffix List and
//! model bundled from rules/ and models/ at build time (see build.rs), and the default limits.

mod bundle {
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

use crate::rules::RuleSource;

pub use bundle::{DOMAIN_FILES, MODEL, PUBLIC_SUFFIX_LIST, RULES_DIGEST};

/// Version of the compiled-in rule set (rules/VERSION).
pub fn rules_version() -> &'static str {
    bundle::RULES_VERSION.trim()
}

/// The compiled-in rule files, named as in the repository (`rules/red_code.toml`).
pub fn rule_sources() -> Vec<RuleSource> {
    bundle::RULE_FILES
        .iter()
        .map(|(name, content)| RuleSource {
            name: name.to_string(),
            content: content.to_string(),
        })
        .collect()
}

/// Default gRPC listen address.
pub const LISTEN: &str = "127.0.0.1:50051";

/// Longest message text accepted, in bytes. SMS concatenation tops out near 1,600 bytes of
/// UTF-8; 64 KiB leaves room for long rich-text channels while bounding the work per message.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Longest request `id` the server accepts, in bytes: ids are keys, not payloads.
pub const MAX_ID_BYTES: usize = 256;

/// Longest request `sender` the server accepts, in bytes: numbers, short codes and
/// alphanumeric sender ids are far shorter.
pub const MAX_SENDER_BYTES: usize = 128;

/// Most links judged in one message: bounds the work a message stuffed with links can cause.
pub const MAX_URLS_PER_MESSAGE: usize = 32;

/// Longest rescore input record (a JSONL line, or a CSV/TSV record with its other columns), in
/// bytes. Escapes can make a JSON line several times longer than its text (`\u0001` is six
/// bytes for one), so this is a multiple of [`MAX_TEXT_BYTES`]; a longer record is rejected
/// while it is read, without ever being held whole.
pub const MAX_RECORD_BYTES: usize = 8 * MAX_TEXT_BYTES;

/// Records per rescore chunk: the unit of parallel scoring, ordering and flushing.
pub const RESCORE_CHUNK_RECORDS: usize = 4096;

/// Bytes of input per rescore chunk: a chunk ends at this size even when it holds fewer records,
/// so memory stays bounded when records are long.
pub const RESCORE_CHUNK_BYTES: usize = 4 << 20;

/// Chunks waiting in each of the rescore queues (reader to scorers, scorers to writer).
pub const RESCORE_QUEUE_CHUNKS: usize = 2;

/// Largest gRPC request message the server decodes, in bytes. A full batch of maximum-length
/// SMS fits with room to spare; anything larger is refused before it is allocated.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Most messages in one `ScoreBatch` call.
pub const MAX_BATCH: usize = 1024;

/// Most RPCs (unary calls and open streams) served at once; past it, RESOURCE_EXHAUSTED.
pub const MAX_CONCURRENT_REQUESTS: usize = 4096;

/// Most `ScoreStream` calls open at once; past it, RESOURCE_EXHAUSTED.
pub const MAX_CONCURRENT_STREAMS: usize = 256;

/// Most gRPC connections open at once (lowered at start to fit the descriptor limit).
pub const MAX_CONNECTIONS: usize = 4096;

/// Time a new connection has to send the HTTP/2 preface, milliseconds: far above a real
/// client's round trip, short enough that silent connections do not pile up.
pub const HANDSHAKE_TIMEOUT_MS: u64 = 10_000;

/// Time a connection may stay open with no call, milliseconds.
pub const IDLE_TIMEOUT_MS: u64 = 300_000;

/// Interval of the server's HTTP/2 keepalive pings, milliseconds.
pub const KEEPALIVE_INTERVAL_MS: u64 = 60_000;

/// Time a keepalive ping may go unanswered, milliseconds.
pub const KEEPALIVE_TIMEOUT_MS: u64 = 20_000;

/// How often the server looks at the rule directory and model file for changes, milliseconds.
pub const RELOAD_POLL_MS: u64 = 1000;

/// How long a shutdown waits for in-flight calls to finish before closing them, milliseconds.
pub const SHUTDOWN_GRACE_MS: u64 = 10_000;

//! Reading a log for `smishd campaigns`: the rescore readers cut it into chunks, a rayon pool
//! parses, scores (with the one engine) and fingerprints each chunk's records in parallel,
//! and the grouping takes the results in input order.
//!
//! Records are read as `rescore` reads them (JSONL with `text`, optional `sender`; CSV/TSV with
//! a header naming `text`), plus an optional time stamp: a JSONL `time` or `timestamp` field
//! (string or number), a CSV/TSV `time` or `timestamp` column. Bad records are rejected with
//! their line number and reason, never their text, as in `rescore`.

use std::borrow::Cow;
use std::io;
use std::sync::mpsc::sync_channel;
use std::thread;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::fingerprint::{hash_str, Fingerprint};
use super::group::{Grouper, Observation, Options as GroupOptions, TimeRef};
use super::mask::mask_into;
use crate::batch::record::{check_text, Chunk, Item, Reason, RecordReader};
use crate::category::Category;
use crate::defaults::{RESCORE_CHUNK_BYTES, RESCORE_CHUNK_RECORDS};
use crate::engine::{Analysis, Engine, Message};
use crate::span::Span;
use crate::verdict::Action;

/// Records per rayon task.
const PIECE_RECORDS: usize = 256;
/// Characters of a time stamp kept.
const MAX_STAMP_CHARS: usize = 64;
/// Rejected records listed on standard error.
const LISTED_REJECTS: usize = 10;

/// What a scan did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub read: u64,
    /// Records scored and fingerprinted.
    pub grouped: u64,
    /// Records scored but too short to have a template (no fingerprint).
    pub short: u64,
    pub rejected: u64,
    /// Records in campaigns dropped to keep memory bounded.
    pub dropped: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn rate(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What became of one record.
enum Outcome {
    Grouped(Scored),
    Short,
    Rejected(u64, Reason),
}

/// A scored, fingerprinted record; its masked text and time stamp are in its [`Piece`].
struct Scored {
    line: u64,
    fingerprint: Fingerprint,
    masked: (u32, u32),
    sender: Option<u64>,
    /// Span in the piece's `times`, and the value when it is a number.
    time: Option<(u32, u32, Option<f64>)>,
    action: Action,
    category: Category,
}

/// One task's records in input order, their masked texts and time stamps in two buffers
/// shared by the piece (not two allocations a record).
#[derive(Default)]
struct Piece {
    outcomes: Vec<Outcome>,
    chars: Vec<char>,
    times: String,
}

impl Piece {
    fn observation(&self, s: &Scored) -> Observation<'_> {
        Observation {
            line: s.line,
            fingerprint: s.fingerprint,
            masked: &self.chars[s.masked.0 as usize..s.masked.1 as usize],
            sender: s.sender,
            time: s.time.map(|(from, to, num)| TimeRef {
                text: &self.times[from as usize..to as usize],
                num,
            }),
            action: s.action,
            category: s.category,
        }
    }
}

/// Reads every record of `reader`, scores it with `engine` and groups it into `grouper`.
pub fn scan(
    mut reader: Box<dyn RecordReader>,
    engine: &Engine,
    threads: Option<usize>,
    group: GroupOptions,
) -> io::Result<(Grouper, Summary)> {
    let start = Instant::now();
    let threads = threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("smishd-campaigns-{i}"))
        .build()
        .map_err(io::Error::other)?;
    let (tx, rx) = sync_channel::<io::Result<Chunk>>(4);
    let reader_thread = thread::Builder::new()
        .name("smishd-read".into())
        .spawn(move || loop {
            let next = reader.next_chunk(RESCORE_CHUNK_RECORDS, RESCORE_CHUNK_BYTES);
            let end = !matches!(next, Ok(Some(_)));
            let sent = match next {
                Ok(Some(c)) => tx.send(Ok(c)),
                Ok(None) => Ok(()),
                Err(e) => tx.send(Err(e)),
            };
            if end || sent.is_err() {
                return;
            }
        })?;

    // Grouping is sequential (input order decides ids and first copies): it runs on its own
    // thread, taking each chunk's results while the pool scores the next chunk.
    let (done_tx, done_rx) = sync_channel::<Vec<Piece>>(2);
    let grouping = thread::Builder::new()
        .name("smishd-group".into())
        .spawn(move || {
            let mut grouper = Grouper::new(group);
            let mut summary = Summary::default();
            for piece in done_rx.iter().flatten() {
                for outcome in &piece.outcomes {
                    summary.read += 1;
                    match *outcome {
                        Outcome::Grouped(ref o) => {
                            summary.grouped += 1;
                            grouper.add(&piece.observation(o));
                        }
                        Outcome::Short => summary.short += 1,
                        Outcome::Rejected(line, reason) => {
                            if summary.rejected < LISTED_REJECTS as u64 {
                                eprintln!("smishd: line {line}: {}", reason.as_str());
                            }
                            summary.rejected += 1;
                        }
                    }
                }
            }
            (grouper, summary)
        })?;
    let mut read_error = None;
    for chunk in rx.iter() {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        let pieces: Vec<Piece> = pool.install(|| {
            chunk
                .items
                .par_chunks(PIECE_RECORDS)
                .map(|items| {
                    let mut piece = Piece {
                        outcomes: Vec::with_capacity(items.len()),
                        ..Piece::default()
                    };
                    for it in items {
                        process(&chunk, it, engine, &mut piece);
                    }
                    piece
                })
                .collect()
        });
        if done_tx.send(pieces).is_err() {
            break;
        }
    }
    drop(done_tx);
    let (grouper, mut summary) = grouping
        .join()
        .map_err(|_| io::Error::other("the grouping thread failed"))?;
    if let Some(e) = read_error {
        return Err(e);
    }
    let _ = reader_thread.join();
    if summary.rejected > LISTED_REJECTS as u64 {
        eprintln!(
            "smishd: ... and {} more rejected records",
            summary.rejected - LISTED_REJECTS as u64
        );
    }
    summary.dropped = grouper.dropped_records();
    summary.elapsed = start.elapsed();
    Ok((grouper, summary))
}

/// One record as read: text, sender and time stamp, borrowed where possible.
struct Record<'a> {
    line: u64,
    text: Cow<'a, str>,
    sender: Option<Cow<'a, str>>,
    time: Option<Cow<'a, str>>,
}

fn process(chunk: &Chunk, item: &Item, engine: &Engine, piece: &mut Piece) {
    let rec = match *item {
        Item::Line { line, bytes } => parse_jsonl(line, chunk.get(bytes)),
        Item::Fields {
            line,
            text,
            sender,
            time,
            ..
        } => parse_fields(chunk, line, text, sender, time),
        Item::Reject { line, reason } => Err((line, reason)),
    };
    let rec = match rec {
        Ok(r) => r,
        Err((line, reason)) => return piece.outcomes.push(Outcome::Rejected(line, reason)),
    };
    thread_local! {
        static SCRATCH: std::cell::RefCell<(Analysis, Vec<char>)> = std::cell::RefCell::default();
    }
    let msg = Message::new(&rec.text).with_sender(rec.sender.as_deref());
    let scored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SCRATCH.with(|cell| {
            let (analysis, masked) = &mut *cell.borrow_mut();
            // The fingerprint comes from the normalised text the verdict was made from.
            let v = engine.judge_with(&msg, analysis).verdict;
            mask_into(analysis.normalized.as_str(), masked);
            Fingerprint::of_masked(masked).map(|fp| {
                let from = piece.chars.len() as u32;
                piece.chars.extend_from_slice(masked);
                (v.verdict, v.category, fp, (from, piece.chars.len() as u32))
            })
        })
    }));
    let outcome = match scored {
        Err(_) => Outcome::Rejected(rec.line, Reason::Internal),
        Ok(None) => Outcome::Short,
        Ok(Some((action, category, fingerprint, masked))) => Outcome::Grouped(Scored {
            line: rec.line,
            fingerprint,
            masked,
            sender: rec
                .sender
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(hash_str),
            time: rec.time.map(|t| {
                let from = piece.times.len();
                piece.times.extend(t.chars().take(MAX_STAMP_CHARS));
                let text = &piece.times[from..];
                (
                    from as u32,
                    piece.times.len() as u32,
                    TimeRef::new(text).num,
                )
            }),
            action,
            category,
        }),
    };
    piece.outcomes.push(outcome);
}

#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sender: Option<&'a RawValue>,
    #[serde(borrow, default, alias = "timestamp")]
    time: Option<&'a RawValue>,
}

/// A raw JSON value as text: a string's content, a number or other scalar as written.
fn scalar(raw: &RawValue) -> Option<Cow<'_, str>> {
    let s = raw.get();
    if s == "null" {
        return None;
    }
    if s.starts_with('"') {
        let inner = &s[1..s.len() - 1];
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        return serde_json::from_str::<String>(s).ok().map(Cow::Owned);
    }
    (!s.starts_with('{') && !s.starts_with('[')).then_some(Cow::Borrowed(s))
}

fn parse_jsonl(line: u64, bytes: &[u8]) -> Result<Record<'_>, (u64, Reason)> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err((line, Reason::EmptyLine));
    }
    let s = std::str::from_utf8(bytes).map_err(|_| (line, Reason::InvalidUtf8))?;
    let raw: RawRecord = match s.trim_start().starts_with('{') {
        true => serde_json::from_str(s).map_err(|_| (line, classify(s)))?,
        false => return Err((line, classify(s))),
    };
    let text = raw.text.ok_or((line, Reason::NoText))?;
    if !text.get().starts_with('"') {
        return Err((line, Reason::TextNotString));
    }
    let text = scalar(text).ok_or((line, Reason::TextNotString))?;
    let sender = match raw.sender {
        None => None,
        Some(r) if r.get().starts_with(['{', '[']) => return Err((line, Reason::SenderNotString)),
        Some(r) => scalar(r),
    };
    check_text(&text).map_err(|r| (line, r))?;
    Ok(Record {
        line,
        text,
        sender,
        time: raw.time.and_then(scalar),
    })
}

/// Why a line that did not parse as a record is bad (as `rescore` says it).
fn classify(s: &str) -> Reason {
    match serde_json::from_str::<serde_json::Value>(s) {
        Err(_) => Reason::NotJson,
        Ok(serde_json::Value::Object(_)) => Reason::DuplicateField,
        Ok(_) => Reason::NotObject,
    }
}

fn parse_fields(
    chunk: &Chunk,
    line: u64,
    text: Option<Span<u32>>,
    sender: Option<Span<u32>>,
    time: Option<Span<u32>>,
) -> Result<Record<'_>, (u64, Reason)> {
    let utf8 = |span: Span<u32>| {
        std::str::from_utf8(chunk.get(span)).map_err(|_| (line, Reason::InvalidUtf8))
    };
    let text = utf8(text.ok_or((line, Reason::NoText))?)?;
    let sender = sender.map(utf8).transpose()?;
    let time = time.map(utf8).transpose()?;
    check_text(text).map_err(|r| (line, r))?;
    Ok(Record {
        line,
        text: Cow::Borrowed(text),
        sender: sender.filter(|s| !s.is_empty()).map(Cow::Borrowed),
        time: time
            .filter(|s| !s.trim().is_empty())
            .map(|t| Cow::Borrowed(t.trim())),
    })
}

//! The rescore pipeline: a reader thread, a rayon scoring pool, a writer thread, and bounded
//! queues between them.
//!
//! ```text
//! reader thread --(queue of chunks)--> scoring (rayon, in order) --(queue)--> writer thread
//! ```
//!
//! The reader cuts the input into chunks (at most [`RESCORE_CHUNK_RECORDS`] records or
//! [`RESCORE_CHUNK_BYTES`] bytes). Each chunk is a pool task that splits it into pieces, scores
//! them in parallel and collects them in order; the writer takes the chunks' results in input
//! order, so output order is input order without a reordering buffer. Both queues hold
//! [`RESCORE_QUEUE_CHUNKS`] chunks, so only a handful of chunks exist at once whatever the
//! input size: memory is bounded by the chunk size, not the file size.
//!
//! Each record is either scored (one output line) or rejected (one rejects line with its line
//! number and reason), never both and never neither, so read = scored + rejected.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::compare::{self, Changes};
use super::record::{
    parse_fields, parse_jsonl, reject, write_reject, write_verdict, Record, Rejected,
};
use super::record::{Chunk, Item, Reason, RecordReader};
use super::redact::redact_verdict;
use super::write::Sink;
use crate::defaults::{RESCORE_CHUNK_BYTES, RESCORE_CHUNK_RECORDS, RESCORE_QUEUE_CHUNKS};
use crate::engine::{Engine, Message};
use crate::verdict::Verdict;
use indicatif::ProgressBar;
use rayon::prelude::*;

/// Records scored as one rayon task: enough to make the task overhead vanish, few enough that
/// a chunk splits into many tasks and both cores stay busy to its end.
const PIECE_RECORDS: usize = 128;

/// Rejects listed on standard error when there is no rejects file.
const LISTED_REJECTS: usize = 10;

/// The engines a run scores with.
#[derive(Clone, Copy)]
pub struct Engines<'a> {
    /// The running rule set and model: the verdicts written.
    pub running: &'a Engine,
    /// Compare mode: the candidate; only records whose verdict or category changes are written.
    pub candidate: Option<&'a Engine>,
}

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Mask numbers in output fields that repeat message text.
    pub redact: bool,
    /// Scoring threads; `None` for one per core.
    pub threads: Option<usize>,
    pub chunk_records: usize,
    pub chunk_bytes: usize,
    pub queue_chunks: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            redact: false,
            threads: None,
            chunk_records: RESCORE_CHUNK_RECORDS,
            chunk_bytes: RESCORE_CHUNK_BYTES,
            queue_chunks: RESCORE_QUEUE_CHUNKS,
        }
    }
}

/// Where the run reports progress (a terminal's progress bar), and the raw input bytes read.
#[derive(Clone, Default)]
pub struct Progress {
    pub bar: Option<ProgressBar>,
    pub consumed: Arc<AtomicU64>,
}

/// What a completed run did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub read: u64,
    pub scored: u64,
    pub rejected: u64,
    /// Compare mode: counts by change.
    pub changes: Option<Changes>,
    pub elapsed: Duration,
}

impl Summary {
    pub fn rate(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why a run could not be completed. The output file, if any, was not put in place.
#[derive(Debug)]
pub enum RunError {
    Read(io::Error),
    Write(io::Error),
    Rejects(io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Read(e) => write!(f, "reading the input: {e}"),
            RunError::Write(e) => write!(f, "writing the output: {e}"),
            RunError::Rejects(e) => write!(f, "writing the rejects file: {e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Read(e) | RunError::Write(e) | RunError::Rejects(e) => Some(e),
        }
    }
}

/// Rescoring from `reader` to `out` (verdicts, or change lines in compare mode) and `rejects`
/// (standard error lists the first few when `None`). The sinks are committed only when every
/// record was read, scored and written.
pub fn run(
    mut reader: Box<dyn RecordReader>,
    engines: Engines<'_>,
    out: Sink,
    rejects: Option<Sink>,
    opts: &Options,
    progress: Progress,
) -> Result<Summary, RunError> {
    let start = Instant::now();
    let threads = opts
        .threads
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("smishd-score-{i}"))
        .build()
        .map_err(|e| RunError::Read(io::Error::other(e)))?;

    let (chunk_tx, chunk_rx) = sync_channel::<io::Result<Chunk>>(opts.queue_chunks);
    // Spans into a chunk are u32: keep chunks far below 4 GiB whatever the options say.
    let max_records = opts.chunk_records.max(1);
    let max_bytes = opts.chunk_bytes.clamp(1, 1 << 30);
    // Detached on purpose when the run fails: it may be blocked reading a pipe that never
    // closes, and the process is about to end anyway.
    let reader_thread = thread::Builder::new()
        .name("smishd-read".into())
        .spawn(move || loop {
            match reader.next_chunk(max_records, max_bytes) {
                Ok(Some(c)) => {
                    if chunk_tx.send(Ok(c)).is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let _ = chunk_tx.send(Err(e));
                    return;
                }
            }
        })
        .map_err(RunError::Read)?;

    // The writer receives, in input order, one receiver per chunk, and waits on each for that
    // chunk's scored pieces. Chunks are scored as pool tasks, so the pool moves on to the next
    // chunk while the last pieces of one finish (no idle core at chunk ends), and the order
    // still comes out right. The queue bounds the chunks in flight.
    let (order_tx, order_rx) = sync_channel::<Receiver<Vec<Piece>>>(opts.queue_chunks);
    let writer_progress = progress.clone();
    let writer = thread::Builder::new()
        .name("smishd-write".into())
        .spawn(move || write_pieces(order_rx, out, rejects, writer_progress, start))
        .map_err(RunError::Write)?;

    let ctx = Ctx {
        engines,
        redact: opts.redact,
    };
    let mut read_error = None;
    pool.in_place_scope(|scope| {
        for msg in chunk_rx.iter() {
            let chunk = match msg {
                Ok(c) => c,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            };
            let (tx, rx) = sync_channel(1);
            if order_tx.send(rx).is_err() {
                // The writer failed; its error is reported below.
                break;
            }
            let ctx = &ctx;
            scope.spawn(move |_| {
                let pieces: Vec<Piece> = chunk
                    .items
                    .par_chunks(PIECE_RECORDS)
                    .map(|items| ctx.score_piece(&chunk, items))
                    .collect();
                // Fails only when the writer has failed, which is reported below.
                let _ = tx.send(pieces);
            });
        }
        drop(order_tx);
    });
    drop(chunk_rx);
    let written = writer.join().expect("the writer thread does not panic");
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    if let Some(e) = read_error {
        // Dropping `written`'s sinks removes the temporary files.
        drop(written);
        return Err(RunError::Read(e));
    }
    let written = written?;
    let _ = reader_thread.join();
    // The rejects file first: once the output is in place, everything is.
    if let Some(r) = written.rejects {
        r.commit().map_err(RunError::Rejects)?;
    }
    written.out.commit().map_err(RunError::Write)?;
    let mut summary = written.summary;
    summary.elapsed = start.elapsed();
    if engines.candidate.is_none() {
        summary.changes = None;
    }
    Ok(summary)
}

/// What the writer thread hands back: the sinks, still to commit, and the counts.
struct Written {
    out: Sink,
    rejects: Option<Sink>,
    summary: Summary,
}

fn write_pieces(
    order: Receiver<Receiver<Vec<Piece>>>,
    mut out: Sink,
    mut rejects: Option<Sink>,
    progress: Progress,
    start: Instant,
) -> Result<Written, RunError> {
    let mut summary = Summary {
        changes: Some(Changes::default()),
        ..Summary::default()
    };
    let mut listed = 0;
    for rx in order {
        let Ok(pieces) = rx.recv() else {
            // The chunk was never scored (a scoring task died): never commit a run with a gap.
            return Err(RunError::Write(io::Error::other("a chunk was not scored")));
        };
        for p in &pieces {
            out.write_all(&p.out).map_err(RunError::Write)?;
            match &mut rejects {
                Some(r) => r.write_all(&p.rejects).map_err(RunError::Rejects)?,
                None => {
                    for (line, reason) in &p.listed {
                        if listed < LISTED_REJECTS {
                            let msg = format!("smishd: line {line}: {}", reason.as_str());
                            match &progress.bar {
                                Some(bar) => bar.suspend(|| eprintln!("{msg}")),
                                None => eprintln!("{msg}"),
                            }
                        }
                        listed += 1;
                    }
                }
            }
            summary.scored += p.scored;
            summary.rejected += p.listed.len() as u64;
            if let (Some(all), Some(c)) = (&mut summary.changes, &p.changes) {
                all.merge(c);
            }
        }
        out.end_chunk().map_err(RunError::Write)?;
        if let Some(r) = &mut rejects {
            r.end_chunk().map_err(RunError::Rejects)?;
        }
        summary.read = summary.scored + summary.rejected;
        if let Some(bar) = &progress.bar {
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            bar.set_position(progress.consumed.load(Ordering::Relaxed));
            bar.set_message(format!(
                "{} records, {:.0} records/s",
                summary.read,
                summary.read as f64 / secs
            ));
        }
    }
    if listed > LISTED_REJECTS {
        eprintln!(
            "smishd: ... and {} more rejected records (--rejects PATH keeps them all)",
            listed - LISTED_REJECTS
        );
    }
    Ok(Written {
        out,
        rejects,
        summary,
    })
}

/// The output of scoring part of a chunk.
#[derive(Default)]
struct Piece {
    out: Vec<u8>,
    rejects: Vec<u8>,
    /// Every rejected record of the piece, for the counts and the standard-error list.
    listed: Vec<(u64, Reason)>,
    scored: u64,
    changes: Option<Changes>,
}

/// Everything a scoring task needs; shared by reference across the pool.
struct Ctx<'a> {
    engines: Engines<'a>,
    redact: bool,
}

impl Ctx<'_> {
    fn score_piece(&self, chunk: &Chunk, items: &[Item]) -> Piece {
        let mut p = Piece {
            out: Vec::with_capacity(items.len() * 320),
            changes: self.engines.candidate.map(|_| Changes::default()),
            ..Piece::default()
        };
        let mut scratch = Vec::with_capacity(1024);
        for item in items {
            let parsed = match *item {
                Item::Line { line, bytes } => parse_jsonl(line, chunk.get(bytes)),
                Item::Fields {
                    line,
                    text,
                    id,
                    sender,
                    ..
                } => parse_fields(chunk, line, text, id, sender),
                Item::Reject { line, reason } => Err(reject(line, reason)),
            };
            let result = parsed.and_then(|rec| {
                self.score_record(&rec, &mut p, &mut scratch)
                    .map_err(|reason| Rejected {
                        line: rec.line,
                        reason,
                        id: rec.id,
                    })
            });
            match result {
                Ok(()) => p.scored += 1,
                Err(r) => {
                    write_reject(&mut p.rejects, &r);
                    p.listed.push((r.line, r.reason));
                }
            }
        }
        p
    }

    fn score_record(
        &self,
        rec: &Record<'_>,
        p: &mut Piece,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Reason> {
        let msg = Message::new(&rec.text).with_sender(rec.sender.as_deref());
        let mut before = score_guarded(self.engines.running, &msg)?;
        match self.engines.candidate {
            None => {
                if self.redact {
                    redact_verdict(&mut before, &rec.text);
                }
                write_verdict(&mut p.out, rec.id, &before, scratch);
            }
            Some(candidate) => {
                let after = score_guarded(candidate, &msg)?;
                let changes = p.changes.as_mut().expect("compare mode counts changes");
                // Change lines carry rule ids, scores and categories, no message text, so
                // there is nothing for --redact to mask in them.
                if changes.add(&before, &after) {
                    compare::write_change(&mut p.out, rec.line, rec.id, &before, &after);
                }
            }
        }
        Ok(())
    }
}

/// Scores one message; a panic in the engine rejects the record instead of ending the run.
/// (The panic hook installed by the CLI keeps the message text out of the report.)
fn score_guarded(engine: &Engine, msg: &Message<'_>) -> Result<Verdict, Reason> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.score(msg)))
        .map_err(|_| Reason::Internal)
}

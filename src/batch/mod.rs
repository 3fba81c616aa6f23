//! Batch rescoring of message logs (`smishd rescore`): JSONL, CSV and TSV input (gzip too),
//! scored in parallel in bounded memory, one verdict line per good record in input order,
//! every bad record accounted for in the rejects with its line number and reason.
//!
//! - `read.rs`: opening the input, gzip detection, capped record readers, chunks;
//! - `delimited.rs`: the CSV/TSV reader (`csv_core` parsing under the record size cap);
//! - `pipeline.rs`: reader thread, rayon scoring in order, writer thread, the run's counts;
//! - `record.rs`: one record parsed (JSONL line or CSV/TSV fields) and one output line encoded;
//! - `write.rs`: standard output flushed per chunk, or a file that appears only whole;
//! - `compare.rs`: scoring with a candidate rule set or model and reporting what changed;
//! - `redact.rs`: masking phone, ID card and bank card numbers in output that repeats text.
//!
//! Rejected records are reported by line number and reason, never by their text.

pub mod compare;
pub mod delimited;
pub mod pipeline;
pub mod read;
pub mod record;
pub mod redact;
pub mod write;

pub use pipeline::{run, Engines, Options, Progress, RunError, Summary};
pub use record::{Format, Reason};

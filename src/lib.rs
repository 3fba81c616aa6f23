//! smishd decides, in microseconds, whether an SMS is fraud, which scam it is, and why.
//!
//! # The way of one message
//!
//! ```text
//! Message { text, sender }                                                  analysis.rs
//!   -> normalise   Normalized { text, map back to original byte offsets }    normalize.rs
//!   -> rules       Aho-Corasick over normalised text -> fired rules + spans   rules/
//!   -> links       the text as a phone shows it -> links -> registrable
//!                  domain -> reputation                                       links/
//!   -> sender      the kind of sender id                                      sender.rs
//!      = Analysis  everything the stages found                                analysis.rs
//!   -> features    hashed n-grams + rule, link, sender and evidence signals   features.rs
//!   -> model       sparse dot product -> class probabilities                 model/
//!   -> verdict     score = P(fraud), category, allow/flag/block, hits         verdict.rs
//!      = Judgement the verdict and its evidence                               verdict.rs
//! ```
//!
//! [`Engine::judge`](engine::Engine::judge) runs the whole way with a per-thread scratch
//! analysis, and is the one place a verdict is made: `score`, `rescore`, `eval` and the daemon
//! all answer from it; `train` reads the same analysis and features through the engine.
//! What a character is (invisible, a lookalike dot) is decided once, in chars.rs, for the
//! normaliser and the links alike. ARCHITECTURE.md says who may import whom.
//!
//! One [`Engine`] owns everything compiled. It is immutable, synchronous and
//! `Send + Sync`, built once (from a directory or the defaults compiled into the binary, see
//! defaults.rs) and shared through `Arc`; a reload builds a new one and swaps it in.
//!
//! # Layout
//!
//! - `error.rs`: the library's error, its kinds and its source;
//! - `category.rs`: the contract's categories and the class count;
//! - `chars.rs`: what a character is (invisible, a lookalike dot, CJK), for every stage
//!   that reads text;
//! - `normalize.rs`: obfuscation-proof normalisation with an offset map;
//! - `rules/`: rule file format, compilation and lint, matching;
//! - `links/`: the text as a phone shows it (`fold.rs`), links in it (`scan.rs`), registrable
//!   domains from the Public Suffix List (`host.rs`), domain lists (`lists.rs`), brand
//!   lookalikes (`lookalike.rs`), heuristics and the reputation class (`reputation.rs`);
//! - `sender.rs`: the kind of sender id;
//! - `analysis.rs`: the types that travel between stages (the message, its analysis, the
//!   summed rule evidence) and the rules-only scorer;
//! - `fnv.rs`: FNV-1a, the one hand-written hash (feature ids, the split, domain lists);
//! - `features.rs`: the feature schema (hashed n-grams, rule, link and sender signals);
//! - `model/`: the linear model's file format (`file.rs`) and sparse inference (`infer.rs`);
//!   it is handed feature ids by the engine and knows nothing else;
//! - `train.rs`: training the model with linfa-logistic;
//! - `eval/`: labelled data and the train/validation split (`data.rs`), evaluation figures
//!   (`figures.rs`), the precision-recall plot (`plot.rs`);
//! - `verdict.rs`: thresholds, the verdict and the evidence behind it (a [`Judgement`]);
//! - `engine.rs`: the engine and its builder, and the one way through it
//!   ([`Engine::judge`](engine::Engine::judge)) every face uses;
//! - `defaults.rs`: everything compiled in, in one place;
//! - `campaign/`: template fingerprints, the daemon's sliding window of campaigns, and the
//!   campaigns report of a log;
//! - `batch/`: batch rescoring of message logs: records and their parsing and output lines
//!   (`record.rs`), opening, gzip and JSONL (`read.rs`), CSV/TSV (`delimited.rs`), threads
//!   scoring in order (`pipeline.rs`), atomic output (`write.rs`), compare, redact;
//! - `server/`: the gRPC daemon (service, hot reload, config, limits, metrics);
//! - `cli/`: one file per subcommand, and what they share (`args.rs`).
//!
//! smishd stores no message text and logs none: only matched fragments and links appear in a
//! verdict.

pub mod analysis;
pub mod batch;
pub mod campaign;
pub mod category;
pub mod chars;
pub mod cli;
pub mod defaults;
pub mod engine;
pub mod error;
pub mod eval;
pub mod features;
pub mod fnv;
pub mod links;
pub mod loco;
pub mod model;
pub mod normalize;
pub mod plot;
pub mod rules;
pub mod sender;
pub mod server;
pub mod span;
pub mod train;
pub mod verdict;

pub use analysis::{Analysis, Message};
pub use category::Category;
pub use category::CLASSES;
pub use engine::{Engine, EngineBuilder};
pub use error::{Error, ErrorKind, Result};
pub use span::Span;
pub use verdict::{Action, Evidence, Hit, Judgement, RuleHits, Thresholds, Verdict};

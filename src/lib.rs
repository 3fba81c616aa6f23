//! smishd decides, in microseconds, whether an SMS is fraud, which scam it is, and why.
//!
//! # The way of one message
//!
//! ```text
//! Message { text, sender }
//!   -> normalise   Normalized { text, map back to original byte offsets }      normalize.rs
//!   -> rules       Aho-Corasick over normalised text -> fired rules + spans     rules/
//!   -> links       URLs in the original text -> registrable domain -> reputation links/
//!   -> features    sparse vector: hashed n-grams + hit, link and sender signals features.rs
//!   -> model       sparse dot product -> class probabilities                   model/
//!   -> verdict     score = P(fraud), category, allow/flag/block                verdict.rs
//! ```
//!
//! One [`Engine`](engine::Engine) owns everything compiled. It is immutable, synchronous and
//! `Send + Sync`, built once (from a directory or the defaults compiled into the binary, see
//! defaults.rs) and shared through `Arc`; a reload builds a new one and swaps it in.
//!
//! # Layout
//!
//! - `category.rs`: the contract's categories;
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
//! - `features.rs`: the feature schema (hashed n-grams, rule, link and sender signals);
//! - `model/`: the linear model's file format (`file.rs`) and sparse inference (`infer.rs`);
//!   it is handed feature ids by the engine and knows nothing else;
//! - `train.rs`: training the model with linfa-logistic;
//! - `eval.rs`: labelled data, the train/validation split, evaluation figures and the PR plot;
//! - `verdict.rs`: thresholds, the verdict and the evidence behind it (a [`Judgement`]);
//! - `engine.rs`: the engine and its builder, and the one way through it
//!   ([`Engine::judge`](engine::Engine::judge)) every face uses;
//! - `defaults.rs`: everything compiled in, in one place;
//! - `campaign/`: template fingerprints, the daemon's sliding window of campaigns, and the
//!   campaigns report of a log;
//! - `batch/`: batch rescoring of message logs (read, score in order, write atomically, compare, redact);
//! - `server/`: the gRPC daemon (service, hot reload, config, limits, metrics);
//! - `cli/`: one file per subcommand.
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
pub mod links;
pub mod loco;
pub mod model;
pub mod normalize;
pub mod rules;
pub mod sender;
pub mod server;
pub mod train;
pub mod verdict;

pub use analysis::{Analysis, Message};
pub use category::Category;
pub use category::CLASSES;
pub use engine::{Engine, EngineBuilder};
pub use error::{Error, ErrorKind, Result};
pub use verdict::{Action, Evidence, Hit, Judgement, RuleHits, Thresholds, Verdict};

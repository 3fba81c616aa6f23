//! Labelled data and evaluation: reading `label<TAB>text` files (the contract's `eval` data),
//! the deterministic train/validation split shared with training, and the figures `smishd eval`
//! reports (per-category precision/recall/F1, detection and false-positive rates, confusion
//! matrix, threshold sweep, precision-recall curve).
//!
//! - `data.rs`: labelled files, labels and the split;
//! - `figures.rs`: the figures of scored rows;
//! - `plot.rs`: the precision-recall curve as SVG.

pub mod data;
pub mod figures;
pub mod plot;

pub use data::{
    is_validation, is_validation_key, parse_label, read_labelled, source_licence, split_hash, Gold,
    LabelledFile, LabelledRow, VALIDATION_PERCENT,
};
pub use figures::{predicted_category, prf, report, ClassFigures, Report, Scored, SweepPoint};
pub use plot::pr_svg;

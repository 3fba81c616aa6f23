//! Where the benchmarks find the shared corpora when not told: `shared/data` beside the clone,
//! or beside the folder that holds it (a worktree), looked up from the crate's own directory so
//! that the directory `cargo bench` is run from does not matter.

// Each benchmark uses the part it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The folder of shared corpora, if there is one beside the clone.
pub fn beside() -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/data", "../../shared/data"]
        .iter()
        .map(|rel| crate_dir.join(rel))
        .find(|p| p.is_dir())
}

/// The folder of shared corpora; without one, stops with what to pass instead (`how`).
pub fn dir(how: &str) -> PathBuf {
    beside().unwrap_or_else(|| panic!("no shared/data beside the clone: {how}"))
}

/// The messages most benchmarks time: `$SMISHD_BENCH_DATA` (a `label<TAB>text` file), else the
/// cn spam sample of the shared corpora.
pub fn cn_sample(how: &str) -> PathBuf {
    std::env::var_os("SMISHD_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir(how).join("cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv"))
}

//! `smishd train`: train the linear model on labelled files and write a model file.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::Args;

use super::args::{EngineArgs, Exit};
use crate::engine::Engine;
use crate::train::{train, TrainOptions};

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Labelled TSV file (`label<TAB>text`); repeat for several.
    #[arg(long, value_name = "FILE", required = true)]
    pub data: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Number of hashed n-gram buckets kept as model columns.
    #[arg(long, value_name = "K", default_value_t = TrainOptions::default().ngrams)]
    pub ngrams: usize,
    /// L2 regularisation strength.
    #[arg(long, default_value_t = TrainOptions::default().alpha)]
    pub alpha: f32,
    /// L-BFGS iterations at most.
    #[arg(long, value_name = "N", default_value_t = TrainOptions::default().max_iterations)]
    pub iterations: u64,
    /// Training rows kept at most per (source, class).
    #[arg(long, value_name = "N", default_value_t = TrainOptions::default().cap)]
    pub cap: usize,
    /// Model version written in the file (default: date and weight hash).
    #[arg(long = "model-version", value_name = "V")]
    pub model_version: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: TrainArgs) -> anyhow::Result<Exit> {
    check_out(&args.out)?;
    // Training labels and features come from the rules alone; a loaded model plays no part.
    let mut builder = Engine::builder().without_model();
    if let Some(dir) = &args.engine.rules {
        builder = builder.rules_dir(dir);
    }
    let engine = builder.build()?;
    for path in &args.data {
        if let Err(e) = std::fs::File::open(path) {
            eprintln!("smishd: error: {}: {e}", path.display());
            return Ok(Exit::Error);
        }
    }
    let opts = TrainOptions {
        data: args.data.clone(),
        ngrams: args.ngrams,
        alpha: args.alpha,
        max_iterations: args.iterations,
        cap: args.cap,
        version: args.model_version.clone(),
        ..TrainOptions::default()
    };
    let trained = train(&engine, &opts, &mut |line| eprintln!("train: {line}"))?;
    let text = trained.file.write();
    std::fs::write(&args.out, &text).with_context(|| format!("writing {}", args.out.display()))?;
    for line in &trained.summary {
        println!("{line}");
    }
    println!(
        "wrote {} (model {}, {} bytes)",
        args.out.display(),
        trained.file.header.model_version,
        text.len()
    );
    Ok(Exit::Ok)
}

/// Fails at once, not after minutes of fitting, when the model could not be written: `--out`
/// is a directory, its folder is missing or not writable, or the file exists read-only. The
/// file itself is left untouched (an existing model survives a training run that fails).
fn check_out(out: &Path) -> anyhow::Result<()> {
    if out.is_dir() {
        bail!("--out {}: is a directory", out.display());
    }
    let name = out
        .file_name()
        .ok_or_else(|| anyhow!("--out {}: names no file", out.display()))?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if out.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .with_context(|| format!("--out {}: cannot write it", out.display()))?;
    }
    let probe = dir.join(format!(
        ".{}.probe-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| {
            format!(
                "--out {}: cannot create files in {}",
                out.display(),
                dir.display()
            )
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

//! `smishd rescore`: batch rescoring of message logs (see `batch/` for the pipeline).

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{EngineArgs, Exit};
use crate::batch::write::Sink;
use crate::batch::{self, read, Engines, Format, Options, Progress};
use crate::engine::Engine;

#[derive(Debug, Args)]
#[command(after_help = "\
Input: JSONL (one object a line: `text` required, `id` any JSON value echoed, `sender` optional) \
or CSV/TSV with a header naming `text` (and optionally `id`, echoed as a string, and `sender`). \
A .gz input (by name or content) is read compressed.

Output: one verdict line (the contract's JSON) per good record, in input order. A bad record \
(not JSON, no text, text not a string or empty, invalid UTF-8, over the size limit, a blank line, \
an unterminated quote, a CSV/TSV record with more or fewer fields than the header) goes to the rejects with its line number and reason, never its text. \
read = scored + rejected. An output file appears only when the run is complete.

With --compare-rules/--compare-model the output holds one line per record whose verdict or \
category changes between the running engine and the candidate, and the summary counts them by \
change.

Exit status: 0 every record scored; 1 some records rejected (0 with --accept-rejects); 2 the run \
could not be done.")]
pub struct RescoreArgs {
    /// Input file, or `-` for standard input.
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// Output file (written whole or not at all), or `-` for standard output (flushed per chunk).
    #[arg(long, value_name = "PATH")]
    pub output: PathBuf,
    /// Input format [default: from the input's extension (.jsonl/.csv/.tsv, optionally .gz),
    /// else jsonl].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write every rejected record (line number, id when known, reason) here as JSONL; without
    /// it the first few are listed on standard error.
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,
    /// Exit 0 when records were rejected (they are still kept in --rejects and counted): for a
    /// worker whose caller reconciles the counts, such as one Spark partition. Exit 1 and 2
    /// keep their meaning otherwise.
    #[arg(long, requires = "rejects")]
    pub accept_rejects: bool,
    /// Candidate rule directory: report records whose verdict or category it changes.
    #[arg(long, value_name = "DIR")]
    pub compare_rules: Option<PathBuf>,
    /// Candidate model file (`none`: rules alone): report records whose verdict or category it
    /// changes.
    #[arg(long, value_name = "FILE")]
    pub compare_model: Option<PathBuf>,
    /// Mask phone, ID card and bank card numbers in output fields that repeat message text.
    #[arg(long)]
    pub redact: bool,
    /// Scoring threads [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: RescoreArgs) -> anyhow::Result<Exit> {
    let stdin = args.input.as_os_str() == "-";
    if let Some(r) = &args.rejects {
        if r.as_os_str() == "-"
            || same_path(r, &args.output)
            || (!stdin && same_path(r, &args.input))
        {
            bail!(
                "--rejects {} must be a file other than the input and the output",
                r.display()
            );
        }
    }
    if !stdin && args.output.as_os_str() != "-" && same_path(&args.input, &args.output) {
        bail!("--output {} is the input file", args.output.display());
    }

    let running = args
        .engine
        .engine()
        .context("loading the rule set and model")?;
    let candidate = if args.compare_rules.is_some() || args.compare_model.is_some() {
        let rules = args
            .compare_rules
            .as_deref()
            .or(args.engine.rules.as_deref());
        let model = args
            .compare_model
            .as_deref()
            .or(args.engine.model.as_deref());
        Some(Engine::from_paths(rules, model).context("loading the candidate rule set or model")?)
    } else {
        None
    };

    let format = args.format.unwrap_or_else(|| {
        if stdin {
            Format::Jsonl
        } else {
            Format::from_path(&args.input)
        }
    });
    let consumed = Arc::new(AtomicU64::new(0));
    let input_path = (!stdin).then_some(args.input.as_path());
    let input = read::open(input_path, consumed.clone())
        .with_context(|| format!("cannot read the input {}", args.input.display()))?;
    let reader = read::reader(input, format, stdin)
        .with_context(|| format!("cannot read the input {}", args.input.display()))?;

    for target in std::iter::once(&args.output).chain(args.rejects.as_ref()) {
        for stale in crate::batch::write::stale_partials(target) {
            eprintln!(
                "smishd: warning: {} was left by a run that was killed; remove it",
                stale.display()
            );
        }
    }
    let out = Sink::create(&args.output)
        .with_context(|| format!("cannot create the output {}", args.output.display()))?;
    let rejects = match &args.rejects {
        Some(p) => Some(
            Sink::create(p)
                .with_context(|| format!("cannot create the rejects file {}", p.display()))?,
        ),
        None => None,
    };

    let total = input_path
        .and_then(|p| std::fs::metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let progress = Progress {
        bar: io::stderr().is_terminal().then(|| progress_bar(total)),
        consumed,
    };
    // The default hook prints the panic message, which may quote message text.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("smishd: internal error{at} (details withheld: they may quote message text)");
    }));

    let opts = Options {
        redact: args.redact,
        threads: args.threads.map(usize::from),
        ..Options::default()
    };
    let engines = Engines {
        running: &running,
        candidate: candidate.as_ref(),
    };
    let summary = batch::run(reader, engines, out, rejects, &opts, progress)?;

    eprintln!(
        "smishd: read {}, scored {}, rejected {}, {:.0} records/s ({:.2} s)",
        summary.read,
        summary.scored,
        summary.rejected,
        summary.rate(),
        summary.elapsed.as_secs_f64()
    );
    if let Some(changes) = &summary.changes {
        eprintln!(
            "smishd: compare: {} of {} scored records changed verdict or category (running {} / {} -> candidate {} / {})",
            changes.total(),
            summary.scored,
            running.ruleset_version(),
            running.model_version(),
            candidate.as_ref().map_or("", |c| c.ruleset_version()),
            candidate.as_ref().map_or("", |c| c.model_version()),
        );
        changes.write_table(&mut io::stderr().lock())?;
    }
    Ok(if summary.rejected > 0 && !args.accept_rejects {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn progress_bar(total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} ETA {eta}",
            )
            .expect("valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .expect("valid template"),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

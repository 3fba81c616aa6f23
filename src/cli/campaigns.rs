//! `smishd campaigns`: group a message log into campaigns (see `campaign/`).

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use super::args::{EngineArgs, Exit};
use crate::batch::{read, Format};
use crate::campaign::{group, report, scan};

#[derive(Debug, Args)]
#[command(after_help = "\
Input as for `rescore`: JSONL (`text` required, `sender` optional) or CSV/TSV with a header naming \
`text` (and optionally `sender`); .gz read compressed. A JSONL `time` or `timestamp` field (string \
or number), or a CSV/TSV `time` or `timestamp` column, dates each record; first and last seen are \
line numbers when there is none.

Each campaign: id, size, distinct senders, first and last seen, copies by verdict and category, \
and the template its copies share with numbers, links and names masked (`…` where copies \
differ). Campaigns with the most copies that smishd allowed come first.

Exit status: 0 every record read; 1 some records rejected; 2 the run could not be done.")]
pub struct CampaignsArgs {
    /// Input file, or `-` for standard input.
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// Input format [default: from the input's extension, else jsonl].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Report campaigns of at least N copies.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub min_size: u64,
    /// One JSON object a line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the largest campaigns' copies along the log as an SVG picture in FILE
    /// (campaign ids, counts and time stamps; no text).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Campaigns held in memory at once; beyond it the smallest are dropped.
    #[arg(long, value_name = "N", default_value_t = 200_000,
          value_parser = clap::value_parser!(u64).range(2..))]
    pub max_campaigns: u64,
    /// Scoring threads [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: CampaignsArgs) -> anyhow::Result<Exit> {
    let engine = args
        .engine
        .engine()
        .context("loading the rule set and model")?;
    let stdin = args.input.as_os_str() == "-";
    let format = args.format.unwrap_or_else(|| {
        if stdin {
            Format::Jsonl
        } else {
            Format::from_path(&args.input)
        }
    });
    let input_path = (!stdin).then_some(args.input.as_path());
    let input = read::open(input_path, Arc::new(AtomicU64::new(0)))
        .with_context(|| format!("cannot read the input {}", args.input.display()))?;
    let reader = read::reader(input, format, false)
        .with_context(|| format!("cannot read the input {}", args.input.display()))?;
    let opts = group::Options {
        max_campaigns: usize::try_from(args.max_campaigns).unwrap_or(usize::MAX),
        timeline: args.svg.is_some(),
    };
    let (grouper, summary) = scan::scan(reader, &engine, args.threads.map(usize::from), opts)
        .with_context(|| format!("reading the input {}", args.input.display()))?;
    let timeline = grouper.timeline().cloned();
    let campaigns = grouper.finish(args.min_size);
    if let (Some(path), Some(timeline)) = (&args.svg, &timeline) {
        std::fs::write(path, report::svg(&campaigns, timeline))
            .with_context(|| format!("cannot write the picture {}", path.display()))?;
    }

    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        report::write_jsonl(&mut out, &campaigns)?;
    } else {
        report::write_table(&mut out, &campaigns)?;
    }
    out.flush()?;
    let in_campaigns: u64 = campaigns.iter().map(|c| c.size).sum();
    eprintln!(
        "smishd: read {}, grouped {}, too short for a template {}, rejected {}; {} campaigns of {}+ copies hold {} records; {:.0} records/s ({:.2} s)",
        summary.read,
        summary.grouped,
        summary.short,
        summary.rejected,
        campaigns.len(),
        args.min_size,
        in_campaigns,
        summary.rate(),
        summary.elapsed.as_secs_f64()
    );
    if summary.dropped > 0 {
        eprintln!(
            "smishd: {} records were in small campaigns dropped to bound memory (--max-campaigns)",
            summary.dropped
        );
    }
    Ok(if summary.rejected > 0 {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

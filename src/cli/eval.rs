//! `smishd eval`: precision, recall and false-positive rate on labelled files.
//!
//! `--show N` prints the text of the worst misses to the analyst's terminal (their own data);
//! nothing here goes to a log.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::args::{EngineArgs, Exit};
use crate::category::Category;
use crate::engine::{Analysis, Engine, Message};
use crate::eval::{
    is_validation_key, pr_svg, predicted_category, read_labelled, report, split_hash, LabelledFile,
    Report, Scored,
};

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 every line evaluated (rows with unknown labels are \
reported and skipped); 1 some lines were bad (reported; the figures cover the good ones); 2 a \
file could not be read."
)]
pub struct EvalArgs {
    /// Labelled TSV file (`label<TAB>text`); repeat for several.
    #[arg(long, value_name = "FILE", required = true)]
    pub data: Vec<PathBuf>,
    /// Print the figures as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print the N worst false positives and false negatives (with their text).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub show: usize,
    /// Write the precision-recall curve of fraud detection to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Only the validation split (texts `smishd train` held out), so figures are on data the
    /// model was not trained on.
    #[arg(long)]
    pub holdout: bool,
    /// Count each normalised text once per file (corpora repeat some texts hundreds of times).
    #[arg(long)]
    pub unique: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: EvalArgs) -> anyhow::Result<Exit> {
    let engine = args.engine.engine()?;
    let Some(files) = read_files(&args.data) else {
        return Ok(Exit::Error);
    };
    let (scored, considered) = score_files(&engine, &files, args.holdout, args.unique);
    let figures = Figures::of(&files, &scored, &considered);
    if let Some(plot) = &args.plot {
        let title = format!(
            "fraud detection, model {}{}",
            engine.model_version(),
            if args.holdout { ", holdout" } else { "" }
        );
        std::fs::write(plot, pr_svg(&figures.total, &title))
            .with_context(|| format!("writing {}", plot.display()))?;
    }
    let mut out = io::stdout().lock();
    if args.json {
        write_json(&mut out, &args, &engine, &files, &figures)?;
    } else {
        write_text(&mut out, &args, &engine, &files, &figures)?;
    }
    out.flush()?;
    // Bad lines are failures, as rejected records are for rescore: the figures cover only the
    // good lines. Unknown labels are not (the contract says to report and skip them).
    Ok(if files.iter().any(|f| !f.bad.is_empty()) {
        Exit::Failures
    } else {
        Exit::Ok
    })
}

/// Read: every labelled file, its bad lines and unknown labels reported on standard error.
/// `None` when a file cannot be read at all.
fn read_files(paths: &[PathBuf]) -> Option<Vec<LabelledFile>> {
    let mut files: Vec<LabelledFile> = Vec::new();
    for path in paths {
        match read_labelled(path) {
            Ok(f) => files.push(f),
            Err(e) => {
                eprintln!("smishd: error: {}: {e}", path.display());
                return None;
            }
        }
    }
    for f in &files {
        for (line, reason) in f.bad.iter().take(10) {
            eprintln!("{}: line {line}: {reason}", f.path.display());
        }
        if f.bad.len() > 10 {
            eprintln!("{}: {} more bad lines", f.path.display(), f.bad.len() - 10);
        }
        for (label, n) in &f.unknown {
            eprintln!(
                "{}: skipped {n} rows with unknown label {label:?}",
                f.path.display()
            );
        }
    }
    Some(files)
}

/// A scored row and the index of its text in its file (the text is kept only by reference
/// into the files).
type ScoredRow = (Scored, usize);

/// Score: every row through the engine's one verdict call, with a scratch analysis per pool
/// thread. Returns the rows kept (`holdout`: the validation split only; `unique`: each
/// normalised text once per file) and how many rows each file had.
fn score_files(
    engine: &Engine,
    files: &[LabelledFile],
    holdout: bool,
    unique: bool,
) -> (Vec<ScoredRow>, Vec<usize>) {
    let mut scored: Vec<ScoredRow> = Vec::new();
    let mut considered = vec![0usize; files.len()];
    for (fi, f) in files.iter().enumerate() {
        let rows: Vec<Option<(Scored, usize, u64)>> = f
            .rows
            .par_iter()
            .enumerate()
            .map_init(Analysis::default, |scratch, (ri, row)| {
                let msg = Message::new(&row.text);
                engine.analyze_into(&msg, scratch);
                let key = split_hash(scratch.normalized.as_str());
                if holdout && !is_validation_key(key) {
                    return None;
                }
                let judged = engine.judge_analysis(&msg, scratch);
                let v = &judged.verdict;
                Some((
                    Scored {
                        file: fi,
                        line: row.line,
                        gold: row.gold,
                        predicted: predicted_category(v.verdict, v.category),
                        action: v.verdict,
                        detected: v.is_fraud(),
                        score: v.score,
                        forced: judged.evidence.forced_fraud(),
                    },
                    ri,
                    key,
                ))
            })
            .collect();
        considered[fi] = f.rows.len();
        let mut seen = std::collections::HashSet::new();
        scored.extend(
            rows.into_iter()
                .flatten()
                .filter(|(_, _, key)| !unique || seen.insert(*key))
                .map(|(s, ri, _)| (s, ri)),
        );
    }
    (scored, considered)
}

/// Report: the figures over every row and per file, and the worst mistakes.
struct Figures<'a> {
    total: Report,
    /// (path, figures, rows read) per file.
    per_file: Vec<(String, Report, usize)>,
    /// Legit or spam called fraud, highest score first.
    false_positives: Vec<&'a ScoredRow>,
    /// Fraud missed, lowest score first.
    false_negatives: Vec<&'a ScoredRow>,
}

impl<'a> Figures<'a> {
    fn of(files: &[LabelledFile], scored: &'a [ScoredRow], considered: &[usize]) -> Self {
        let all: Vec<Scored> = scored.iter().map(|(s, _)| s.clone()).collect();
        let per_file = files
            .iter()
            .enumerate()
            .map(|(fi, f)| {
                let rows: Vec<Scored> = all.iter().filter(|s| s.file == fi).cloned().collect();
                (f.path.display().to_string(), report(&rows), considered[fi])
            })
            .collect();
        let mut false_positives: Vec<&ScoredRow> = scored
            .iter()
            .filter(|(s, _)| !s.gold.is_fraud() && s.detected)
            .collect();
        false_positives.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
        let mut false_negatives: Vec<&ScoredRow> = scored
            .iter()
            .filter(|(s, _)| s.gold.is_fraud() && !s.detected)
            .collect();
        false_negatives.sort_by(|a, b| a.0.score.total_cmp(&b.0.score));
        Figures {
            total: report(&all),
            per_file,
            false_positives,
            false_negatives,
        }
    }
}

fn text_of<'f>(files: &'f [LabelledFile], s: &Scored, ri: usize) -> &'f str {
    files[s.file].rows[ri].text.as_str()
}

fn write_json(
    out: &mut impl Write,
    args: &EvalArgs,
    engine: &Engine,
    files: &[LabelledFile],
    figures: &Figures<'_>,
) -> io::Result<()> {
    let t = *engine.thresholds();
    let (rep, per_file) = (&figures.total, &figures.per_file);
    let (fps, fns) = (&figures.false_positives, &figures.false_negatives);
    let show = |v: &[&(Scored, usize)]| -> Vec<serde_json::Value> {
        v.iter()
            .take(args.show)
            .map(|(s, ri)| {
                serde_json::json!({
                    "file": files[s.file].path.display().to_string(),
                    "line": s.line,
                    "gold": s.gold.name(),
                    "predicted": s.predicted.as_str(),
                    "verdict": s.action.as_str(),
                    "score": s.score,
                    "text": text_of(files, s, *ri),
                })
            })
            .collect()
    };
    let value = serde_json::json!({
        "model": engine.model_version(),
        "ruleset": engine.ruleset_version(),
        "holdout": args.holdout,
        "unique": args.unique,
        "thresholds": {"flag": t.flag, "block": t.block, "spam_flag": t.spam_flag},
        "files": per_file.iter().zip(files).map(|((name, r, n), f)| serde_json::json!({
            "path": name,
            "rows_read": n,
            "rows_evaluated": r.rows,
            "bad_lines": f.bad.len(),
            "skipped_labels": f.unknown,
            "figures": r,
        })).collect::<Vec<_>>(),
        "total": rep,
        "worst_false_positives": show(fps),
        "worst_false_negatives": show(fns),
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}

fn write_text(
    out: &mut impl Write,
    args: &EvalArgs,
    engine: &Engine,
    files: &[LabelledFile],
    figures: &Figures<'_>,
) -> io::Result<()> {
    write_setup(out, args, engine)?;
    write_per_file(out, files, &figures.per_file)?;
    writeln!(out)?;
    write_totals(out, &figures.total)?;
    writeln!(out)?;
    write_categories(out, &figures.total)?;
    writeln!(out)?;
    write_confusion(out, &figures.total)?;
    writeln!(out)?;
    write_sweep(out, &figures.total)?;
    if args.show > 0 {
        for (title, list) in [
            ("worst false positives", &figures.false_positives),
            ("worst false negatives", &figures.false_negatives),
        ] {
            writeln!(out)?;
            write_worst(out, title, list, files, args.show)?;
        }
    }
    Ok(())
}

/// The engine's versions and thresholds, and which rows were counted.
fn write_setup(out: &mut impl Write, args: &EvalArgs, engine: &Engine) -> io::Result<()> {
    let t = *engine.thresholds();
    writeln!(
        out,
        "model {}, rules {}, thresholds flag {} block {} spam {}{}{}",
        engine.model_version(),
        engine.ruleset_version(),
        t.flag,
        t.block,
        t.spam_flag,
        if args.holdout {
            "; validation split only (--holdout)"
        } else {
            "; all rows"
        },
        if args.unique {
            "; each normalised text once (--unique)"
        } else {
            ""
        }
    )
}

/// One line a file (rows, bad lines, skipped labels), and its rates when there are several.
fn write_per_file(
    out: &mut impl Write,
    files: &[LabelledFile],
    per_file: &[(String, Report, usize)],
) -> io::Result<()> {
    for ((name, r, n), f) in per_file.iter().zip(files) {
        writeln!(
            out,
            "{name}: {} rows evaluated of {n} labelled ({} bad lines, {} unknown labels skipped)",
            r.rows,
            f.bad.len(),
            f.skipped()
        )?;
        if per_file.len() > 1 {
            writeln!(
                out,
                "  fraud detected {}; legit called fraud {}; spam called fraud {}; spam recognised {}",
                pct(r.fraud_detected, r.fraud_rows),
                pct(r.legit_called_fraud, r.legit_rows),
                pct(r.spam_called_fraud, r.spam_rows),
                pct(r.spam_recognised, r.spam_rows)
            )?;
        }
    }
    Ok(())
}

/// The headline rates over every file.
fn write_totals(out: &mut impl Write, rep: &Report) -> io::Result<()> {
    writeln!(
        out,
        "fraud detected (flag/block, fraud category): {}",
        pct(rep.fraud_detected, rep.fraud_rows)
    )?;
    writeln!(
        out,
        "legit messages called fraud:                 {}",
        pct(rep.legit_called_fraud, rep.legit_rows)
    )?;
    writeln!(
        out,
        "spam called fraud:                           {}",
        pct(rep.spam_called_fraud, rep.spam_rows)
    )?;
    writeln!(
        out,
        "spam recognised as spam:                     {}",
        pct(rep.spam_recognised, rep.spam_rows)
    )?;
    if let Some(ap) = rep.average_precision {
        writeln!(out, "average precision (fraud vs rest):           {ap:.4}")?;
    }
    Ok(())
}

/// Precision, recall, F1, support and predicted count per category.
fn write_categories(out: &mut impl Write, rep: &Report) -> io::Result<()> {
    writeln!(
        out,
        "{:<24} {:>9} {:>9} {:>9} {:>8} {:>9}",
        "category", "precision", "recall", "f1", "support", "predicted"
    )?;
    for c in &rep.per_category {
        writeln!(
            out,
            "{:<24} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>9}",
            c.category, c.precision, c.recall, c.f1, c.support, c.predicted
        )?;
    }
    Ok(())
}

/// Label against predicted category.
fn write_confusion(out: &mut impl Write, rep: &Report) -> io::Result<()> {
    writeln!(out, "confusion matrix (rows: label, columns: predicted)")?;
    write!(out, "{:<24}", "")?;
    for c in Category::ALL {
        write!(out, " {:>10}", short(c.as_str()))?;
    }
    writeln!(out)?;
    for (gold, row) in &rep.confusion {
        write!(out, "{gold:<24}")?;
        for c in Category::ALL {
            write!(out, " {:>10}", row.get(c.as_str()).copied().unwrap_or(0))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The rates at each flag threshold.
fn write_sweep(out: &mut impl Write, rep: &Report) -> io::Result<()> {
    writeln!(
        out,
        "threshold sweep (flag at P(fraud) >= t; forced blocks always count)"
    )?;
    writeln!(
        out,
        "{:>6} {:>14} {:>14} {:>14} {:>10}",
        "t", "fraud detected", "legit->fraud", "spam->fraud", "precision"
    )?;
    for p in &rep.sweep {
        writeln!(
            out,
            "{:>6.2} {:>13.2}% {:>13.3}% {:>13.3}% {:>10.4}",
            p.threshold,
            100.0 * p.fraud_detected,
            100.0 * p.legit_called_fraud,
            100.0 * p.spam_called_fraud,
            p.precision
        )?;
    }
    Ok(())
}

/// The first `show` rows of a list of errors, with their text (`--show`).
fn write_worst(
    out: &mut impl Write,
    title: &str,
    list: &[&ScoredRow],
    files: &[LabelledFile],
    show: usize,
) -> io::Result<()> {
    writeln!(out, "{title} ({} in all)", list.len())?;
    for (s, ri) in list.iter().take(show) {
        writeln!(
            out,
            "  {}:{} {} -> {} {} {:.4}  {}",
            files[s.file].path.display(),
            s.line,
            s.gold.name(),
            s.action.as_str(),
            s.predicted.as_str(),
            s.score,
            one_line(text_of(files, s, *ri))
        )?;
    }
    Ok(())
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "n/a (no such rows)".into()
    } else {
        format!("{:.2}% ({a}/{b})", 100.0 * a as f64 / b as f64)
    }
}

fn short(s: &str) -> String {
    match s {
        "close_contact_red_code" => "red_code".into(),
        "positive_parcel" => "parcel".into(),
        "paid_fast_test" => "fast_test".into(),
        "miracle_drug" => "drug".into(),
        "generic_fraud" => "generic".into(),
        other => other.into(),
    }
}

fn one_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > 160 {
        let mut t: String = s.chars().take(160).collect();
        t.push('…');
        t
    } else {
        s
    }
}

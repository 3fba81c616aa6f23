//! Whole-process rescore benchmark: records per second and peak resident memory of
//! `smishd rescore` on a million JSONL (or CSV) records, JSONL out, release build.
//!
//! ```text
//! cargo bench --bench rescore [-- --records N] [--runs R] [--threads T] [--data DIR]
//!                                  [--rules DIR] [--model FILE] [--format csv] [--keep]
//! ```
//!
//! Builds N records (default 1,000,000) from DIR/cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv
//! and DIR/telecom_fraud_texts_5/telecom_fraud5.tsv (DIR defaults to shared/data beside
//! the clone or its parent folder), repeated with distinct ids and a sender on every fourth record, in
//! /tmp (never in the repository); `--format csv` writes the same records as CSV (`id,text,sender`,
//! RFC 4180 quoting where a text needs it). Then runs the real binary R times (default 5) under
//! `/usr/bin/time -v` with `--threads T` (default 2, the target machine's cores) and prints the
//! median wall-clock rate and peak RSS. Every run must exit 0 and write exactly N lines, so a
//! fast wrong answer fails. `--rules`/`--model` are passed to smishd (default: compiled in).
//!
//! On a shared machine the wall-clock rate depends on what else runs, so each run also prints
//! the CPU time it used (user + system) and the rate that CPU time would give on `T` otherwise
//! idle cores, `N / ((user + sys) / T)`: an estimate, labelled as one.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[path = "common/data.rs"]
mod data;
#[path = "common/process.rs"]
mod process;

use process::{load_average, texts, Flags, Runs, Timed};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags = Flags(&args);
    let records = flags.count("--records", 1_000_000);
    let runs = flags.count("--runs", 5);
    let threads = flags.count("--threads", 2);
    let keep = args.iter().any(|a| a == "--keep");
    let csv = match flags.get("--format").as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => panic!("--format jsonl|csv, not {other}"),
    };
    let mut engine_args = Vec::new();
    for flag in ["--rules", "--model"] {
        if let Some(v) = flags.get(flag) {
            engine_args.push(flag.to_string());
            engine_args.push(v);
        }
    }
    let data = flags.data_dir();

    let ext = if csv { "csv" } else { "jsonl" };
    let input = PathBuf::from(format!("/tmp/smishd-bench-{records}.{ext}"));
    let output = PathBuf::from(format!("/tmp/smishd-bench-{records}.out.jsonl"));
    let bytes = build_input(&data, records, &input, csv);
    println!(
        "input {} ({} records, {:.1} MB); {runs} runs, --threads {threads}, {} cores online",
        input.display(),
        records,
        bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let mut figures = Runs::new(records, threads);
    for run in 1..=runs {
        let mut args: Vec<OsString> = ["rescore", "--threads", &threads.to_string(), "--input"]
            .map(OsString::from)
            .to_vec();
        args.extend([
            input.clone().into(),
            "--output".into(),
            output.clone().into(),
        ]);
        args.extend(engine_args.iter().map(OsString::from));
        let t = Timed::smishd(&args, run);
        assert!(
            t.stdout.is_empty(),
            "run {run}: verdicts on stdout, not in --output"
        );
        let lines = BufReader::new(File::open(&output).unwrap()).lines().count();
        assert_eq!(lines, records, "run {run}: output lines");
        figures.add(run, &t);
    }
    let (rate, rss, cpu_rate) = figures.medians();
    println!(
        "median: {rate:.0} records/s wall, peak RSS {rss:.1} MB (whole process, {} in, JSONL \
         out); CPU-time estimate on {threads} idle cores {cpu_rate:.0} records/s; load average {}",
        if csv { "CSV" } else { "JSONL" },
        load_average()
    );
    if !keep {
        let _ = std::fs::remove_file(&output);
    }
}

/// Writes `records` JSONL (or CSV) records built from the two TSV sets; returns the file size.
fn build_input(data: &Path, records: usize, path: &Path, csv: bool) -> u64 {
    let texts = texts(
        data,
        &[
            "cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv",
            "telecom_fraud_texts_5/telecom_fraud5.tsv",
        ],
    );
    let mut w = BufWriter::new(File::create(path).unwrap());
    if csv {
        writeln!(w, "id,text,sender").unwrap();
        for i in 0..records {
            let text = &texts[i % texts.len()];
            let sender = if i % 4 == 3 { "10690000" } else { "" };
            if text.contains([',', '"', '\n', '\r']) {
                writeln!(w, "r{i},\"{}\",{sender}", text.replace('"', "\"\"")).unwrap();
            } else {
                writeln!(w, "r{i},{text},{sender}").unwrap();
            }
        }
        w.flush().unwrap();
        return std::fs::metadata(path).unwrap().len();
    }
    for i in 0..records {
        let rec = if i % 4 == 3 {
            serde_json::json!({"id": format!("r{i}"), "text": texts[i % texts.len()], "sender": "10690000"})
        } else {
            serde_json::json!({"id": format!("r{i}"), "text": texts[i % texts.len()]})
        };
        serde_json::to_writer(&mut w, &rec).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

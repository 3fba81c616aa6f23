//! Whole-process rescore benchmark: records per second and peak resident memory of
//! `smishd rescore` on a million JSONL (or CSV) records, JSONL out, release build.
//!
//! ```text
//! cargo bench --bench rescore [-- --records N] [--runs R] [--threads T] [--data DIR]
//!                                  [--rules DIR] [--model FILE] [--format csv] [--keep]
//! ```
//!
//! Builds N records (default 1,000,000) from DIR/cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv
//! and DIR/telecom_fraud_texts_5/telecom_fraud5.tsv (DIR defaults to ../shared/data or
//! ../../shared/data), repeated with distinct ids and a sender on every fourth record, in
//! /tmp (never in the repository); `--format csv` writes the same records as CSV (`id,text,sender`,
//! RFC 4180 quoting where a text needs it). Then runs the real binary R times (default 5) under
//! `/usr/bin/time -v` with `--threads T` (default 2, the target machine's cores) and prints the
//! median wall-clock rate and peak RSS. Every run must exit 0 and write exactly N lines, so a
//! fast wrong answer fails. `--rules`/`--model` are passed to smishd (default: compiled in).
//!
//! On a shared machine the wall-clock rate depends on what else runs, so each run also prints
//! the CPU time it used (user + system) and the rate that CPU time would give on `T` otherwise
//! idle cores, `N / ((user + sys) / T)`: an estimate, labelled as one.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let records: usize = opt("--records").map_or(1_000_000, |s| s.parse().expect("--records N"));
    let runs: usize = opt("--runs").map_or(5, |s| s.parse().expect("--runs R"));
    let threads: usize = opt("--threads").map_or(2, |s| s.parse().expect("--threads T"));
    let keep = args.iter().any(|a| a == "--keep");
    let csv = match opt("--format").as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => panic!("--format jsonl|csv, not {other}"),
    };
    let mut engine_args = Vec::new();
    for flag in ["--rules", "--model"] {
        if let Some(v) = opt(flag) {
            engine_args.push(flag.to_string());
            engine_args.push(v);
        }
    }
    let data = opt("--data").map(PathBuf::from).unwrap_or_else(|| {
        ["../shared/data", "../../shared/data"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .expect("no ../shared/data; pass --data DIR")
    });

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

    let bin = env!("CARGO_BIN_EXE_smishd");
    let mut rates = Vec::new();
    let mut rss_mb = Vec::new();
    let mut cpu_rates = Vec::new();
    for run in 1..=runs {
        let o = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(bin)
            .args(["rescore", "--threads", &threads.to_string(), "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .args(&engine_args)
            .output()
            .expect("run /usr/bin/time -v smishd rescore");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "run {run} failed: {err}");
        let wall = field(&err, "Elapsed (wall clock) time").map(parse_clock);
        let rss = field(&err, "Maximum resident set size (kbytes)")
            .and_then(|s| s.trim().parse::<f64>().ok());
        let cpu: f64 = ["User time (seconds)", "System time (seconds)"]
            .iter()
            .filter_map(|f| field(&err, f).and_then(|s| s.trim().parse::<f64>().ok()))
            .sum();
        let (Some(wall), Some(rss)) = (wall, rss) else {
            panic!("no timing in /usr/bin/time output: {err}")
        };
        let lines = BufReader::new(File::open(&output).unwrap()).lines().count();
        assert_eq!(lines, records, "run {run}: output lines");
        let summary = err
            .lines()
            .find(|l| l.starts_with("smishd: read"))
            .unwrap_or("");
        let rate = records as f64 / wall;
        let cpu_rate = records as f64 / (cpu / threads as f64).max(1e-9);
        println!(
            "run {run}: {wall:.2} s wall, {rate:.0} records/s, peak RSS {:.1} MB, CPU {cpu:.2} s \
             (est. {cpu_rate:.0} records/s on {threads} idle cores)  [{summary}]",
            rss / 1024.0
        );
        rates.push(rate);
        cpu_rates.push(cpu_rate);
        rss_mb.push(rss / 1024.0);
    }
    println!(
        "median: {:.0} records/s wall, peak RSS {:.1} MB (whole process, {} in, JSONL out); \
         CPU-time estimate on {threads} idle cores {:.0} records/s; load average {}",
        median(&mut rates),
        median(&mut rss_mb),
        if csv { "CSV" } else { "JSONL" },
        median(&mut cpu_rates),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    if !keep {
        let _ = std::fs::remove_file(&output);
    }
}

/// Writes `records` JSONL (or CSV) records built from the two TSV sets; returns the file size.
fn build_input(data: &Path, records: usize, path: &Path, csv: bool) -> u64 {
    let mut texts = Vec::new();
    for f in [
        "cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv",
        "telecom_fraud_texts_5/telecom_fraud5.tsv",
    ] {
        let p = data.join(f);
        let r = BufReader::new(File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
        for line in r.lines() {
            let line = line.unwrap();
            if let Some((_, text)) = line.split_once('\t') {
                texts.push(text.to_string());
            }
        }
    }
    assert!(!texts.is_empty(), "no texts in {}", data.display());
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

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit_once(": "))
        .map(|(_, v)| v)
}

/// `m:ss.cc` or `h:mm:ss` to seconds.
fn parse_clock(s: &str) -> f64 {
    s.trim().split(':').fold(0.0, |acc, part| {
        acc * 60.0 + part.parse::<f64>().unwrap_or(0.0)
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

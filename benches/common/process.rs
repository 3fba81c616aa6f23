//! What the whole-process benchmarks (`rescore`, `campaign -- --batch`) share: their flags, and
//! runs of the real binary under `/usr/bin/time -v`, read back into wall time, CPU time and peak
//! memory, with the medians they print.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `--name VALUE` flags after `cargo bench --bench NAME --`.
pub struct Flags<'a>(pub &'a [String]);

impl Flags<'_> {
    pub fn get(&self, name: &str) -> Option<String> {
        let args = self.0;
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    }

    /// A count flag, or `default`.
    pub fn count(&self, name: &str, default: usize) -> usize {
        self.get(name).map_or(default, |s| {
            s.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, not {s:?}"))
        })
    }

    /// `--data DIR`, or the shared data beside the clone (or beside the folder of worktrees).
    pub fn data_dir(&self) -> PathBuf {
        self.get("--data")
            .map(PathBuf::from)
            .unwrap_or_else(|| super::data::dir("pass --data DIR"))
    }
}

/// One run of `smishd ARGS` under `/usr/bin/time -v`.
pub struct Timed {
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub wall: f64,
    pub cpu: f64,
    pub rss_mb: f64,
}

impl Timed {
    /// Runs the release binary; a failed run or a missing figure fails the benchmark.
    pub fn smishd(args: &[OsString], run: usize) -> Timed {
        let o = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_smishd"))
            .args(args)
            .output()
            .expect("run /usr/bin/time -v smishd");
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "run {run} failed: {stderr}");
        let number = |name: &str| field(&stderr, name).and_then(|s| s.trim().parse::<f64>().ok());
        let wall = field(&stderr, "Elapsed (wall clock) time").map(parse_clock);
        let rss = number("Maximum resident set size (kbytes)");
        let cpu = number("User time (seconds)").unwrap_or(0.0)
            + number("System time (seconds)").unwrap_or(0.0);
        let (Some(wall), Some(rss)) = (wall, rss) else {
            panic!("no timing in /usr/bin/time output: {stderr}")
        };
        Timed {
            stdout: o.stdout,
            wall,
            cpu,
            rss_mb: rss / 1024.0,
            stderr,
        }
    }

    /// smishd's own closing line (`smishd: read N, ...`), or "".
    pub fn summary(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("smishd: read"))
            .unwrap_or("")
    }
}

/// The figures of several runs over `records` records with `threads` threads.
pub struct Runs {
    records: usize,
    threads: usize,
    rates: Vec<f64>,
    cpu_rates: Vec<f64>,
    rss_mb: Vec<f64>,
}

impl Runs {
    pub fn new(records: usize, threads: usize) -> Runs {
        Runs {
            records,
            threads,
            rates: Vec::new(),
            cpu_rates: Vec::new(),
            rss_mb: Vec::new(),
        }
    }

    /// Prints one run's line and keeps its figures. The CPU-time rate is what the run's CPU
    /// time would give on `threads` otherwise idle cores: an estimate, labelled as one.
    pub fn add(&mut self, run: usize, t: &Timed) {
        let (records, threads) = (self.records as f64, self.threads);
        let rate = records / t.wall;
        let cpu_rate = records / (t.cpu / threads as f64).max(1e-9);
        println!(
            "run {run}: {:.2} s wall, {rate:.0} records/s, peak RSS {:.1} MB, CPU {:.2} s \
             (est. {cpu_rate:.0} records/s on {threads} idle cores)  [{}]",
            t.wall,
            t.rss_mb,
            t.cpu,
            t.summary()
        );
        self.rates.push(rate);
        self.cpu_rates.push(cpu_rate);
        self.rss_mb.push(t.rss_mb);
    }

    /// Medians of records/s wall, peak RSS in MB, and records/s from CPU time.
    pub fn medians(&mut self) -> (f64, f64, f64) {
        (
            median(&mut self.rates),
            median(&mut self.rss_mb),
            median(&mut self.cpu_rates),
        )
    }
}

/// The texts of `label<TAB>text` files under `data`, in file order.
pub fn texts(data: &Path, files: &[&str]) -> Vec<String> {
    let mut texts = Vec::new();
    for f in files {
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
    texts
}

/// The machine's load average, as /proc/loadavg gives it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
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

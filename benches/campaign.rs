//! Campaign fingerprints: grouping quality on labelled pairs, per-message cost, and the
//! daemon window's memory under a million distinct messages.
//!
//! `cargo bench --bench campaign [-- PATH] [--pairs PAIRS.tsv] [--daemon]`
//! `cargo bench --bench campaign -- --batch [--records N] [--runs R] [--threads T] [--data DIR]`
//!
//! - PATH (`label<TAB>text`; default $SMISHD_BENCH_DATA, else the cn spam sample of
//!   shared/data beside the clone or its parent folder): the messages timed.
//! - PAIRS: a labelled pair sample, `corpus<TAB>same|diff<TAB>...<TAB>...<TAB>text a<TAB>text b`
//!   (columns 3 and 4 ignored). Prints precision and recall of "same template" for the shipped
//!   fingerprint and for the alternatives it was chosen over (other shingle sizes and band
//!   shapes, SimHash at several Hamming radii).
//! - `--daemon`: only the daemon's scoring with and without its campaign window, in
//!   alternating passes (the cost campaigns add where the daemon pays it).
//!
//! - `--batch`: the whole `smishd campaigns` process instead, on N JSONL records (default
//!   1,000,000) built in /tmp from DIR/cn_sms_spam_800k_sample (all rows) and
//!   DIR/fbs_spam_sms_ccs20 (all rows), repeated in turn with a sender drawn from 300,000 and a
//!   time stamp 2.4 s after the previous record's, so every text recurs about six times (DIR
//!   defaults to shared/data beside the clone or its parent folder). Runs the release binary R times (default 3) with
//!   `--threads T` (default 2) under `/usr/bin/time -v`: median records/s (wall, and from CPU
//!   time on T idle cores, an estimate) and peak RSS. Every run must read N records and print
//!   the same campaigns as the first.
//!
//! Medians over several runs; the counts found are printed so that a fast wrong answer shows.

use std::time::{Duration, Instant};

use smishd::campaign::fingerprint::{
    hash_str, minhash_bands, same_template, shingles, Fingerprint, MIN_CONTENT,
};
use smishd::campaign::mask::mask_into;
use smishd::campaign::{Window, WindowConfig};
use smishd::normalize::{normalize, normalize_into, Normalized};
use smishd::server::metrics::Metrics;
use smishd::server::Loaded;
use smishd::{Engine, Message};

const RUNS: usize = 7;

#[path = "campaign/batch.rs"]
mod batch;
#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/data.rs"]
mod data;
#[path = "common/process.rs"]
mod process;

use cpu::thread_cpu_seconds;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--batch") {
        return batch::run(&args);
    }
    let pairs = args
        .iter()
        .position(|a| a == "--pairs")
        .and_then(|i| args.get(i + 1).cloned());
    let path = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with('-') && (*i == 0 || args[i - 1] != "--pairs") && !a.is_empty()
        })
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| {
            data::cn_sample("pass a label<TAB>text file")
                .display()
                .to_string()
        });
    if let Some(p) = pairs {
        pair_quality(&p);
    }
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let texts: Vec<&str> = data
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t))
        .collect();
    println!("\n{} messages from {path}", texts.len());
    if args.iter().any(|a| a == "--daemon") {
        return daemon_cost(&texts);
    }
    cost(&texts);
    daemon_cost(&texts);
    window_memory();
}

/// One way of deciding that two masked texts are copies of one template.
enum Method {
    MinHash {
        shingle: usize,
        rows: usize,
        bands: usize,
    },
    SimHash {
        shingle: usize,
        radius: u32,
    },
}

impl Method {
    fn name(&self) -> String {
        match self {
            Method::MinHash {
                shingle,
                rows,
                bands,
            } => format!("MinHash {shingle}-grams {bands} bands x {rows} rows"),
            Method::SimHash { shingle, radius } => {
                format!("SimHash-64 {shingle}-grams, Hamming <= {radius}")
            }
        }
    }

    fn same(&self, a: &[char], b: &[char]) -> Option<bool> {
        match *self {
            Method::MinHash {
                shingle,
                rows,
                bands,
            } => {
                let (mut ka, mut kb) = (vec![0; bands], vec![0; bands]);
                if !minhash_bands(a, shingle, rows, &mut ka)
                    || !minhash_bands(b, shingle, rows, &mut kb)
                {
                    return None;
                }
                Some(ka.iter().zip(&kb).any(|(x, y)| x == y))
            }
            Method::SimHash { shingle, radius } => {
                let (ha, na) = simhash(a, shingle);
                let (hb, nb) = simhash(b, shingle);
                if na < MIN_CONTENT || nb < MIN_CONTENT {
                    return None;
                }
                Some((ha ^ hb).count_ones() <= radius)
            }
        }
    }
}

fn simhash(masked: &[char], shingle: usize) -> (u64, usize) {
    let mut v = [0i32; 64];
    let n = shingles(masked, shingle, |h| {
        for (i, x) in v.iter_mut().enumerate() {
            *x += if h >> i & 1 == 1 { 1 } else { -1 };
        }
    });
    let mut out = 0u64;
    for (i, x) in v.iter().enumerate() {
        if *x > 0 {
            out |= 1 << i;
        }
    }
    (out, n)
}

fn masked(text: &str) -> Vec<char> {
    let mut out = Vec::new();
    mask_into(normalize(text).as_str(), &mut out);
    out
}

fn pair_quality(path: &str) {
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let pairs: Vec<(String, bool, Vec<char>, Vec<char>)> = data
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 6).then(|| (f[0].to_string(), f[1] == "same", masked(f[4]), masked(f[5])))
        })
        .collect();
    let same = pairs.iter().filter(|p| p.1).count();
    println!(
        "{} labelled pairs ({} same template, {} different) from {path}",
        pairs.len(),
        same,
        pairs.len() - same
    );
    let mut methods = vec![];
    for shingle in [2, 3, 4] {
        for (bands, rows) in [
            (10, 6),
            (16, 4),
            (8, 8),
            (12, 5),
            (20, 3),
            (12, 4),
            (10, 4),
            (8, 3),
        ] {
            methods.push(Method::MinHash {
                shingle,
                rows,
                bands,
            });
        }
    }
    for shingle in [2, 3] {
        for radius in [3, 6, 9, 12] {
            methods.push(Method::SimHash { shingle, radius });
        }
    }
    println!(
        "{:<44} {:>9} {:>9} {:>6}  {:>4} {:>4} {:>4} {:>4} {:>7}",
        "method", "precision", "recall", "F1", "tp", "fp", "fn", "tn", "no fp"
    );
    for m in &methods {
        let (mut tp, mut fp, mut fneg, mut tn, mut none) = (0, 0, 0, 0, 0);
        for (_, label, a, b) in &pairs {
            match (m.same(a, b), label) {
                (None, _) => none += 1,
                (Some(true), true) => tp += 1,
                (Some(true), false) => fp += 1,
                (Some(false), true) => fneg += 1,
                (Some(false), false) => tn += 1,
            }
        }
        let p = tp as f64 / (tp + fp).max(1) as f64;
        let r = tp as f64 / (tp + fneg).max(1) as f64;
        println!(
            "{:<44} {:>9.3} {:>9.3} {:>6.3}  {:>4} {:>4} {:>4} {:>4} {:>7}",
            m.name(),
            p,
            r,
            2.0 * p * r / (p + r).max(1e-9),
            tp,
            fp,
            fneg,
            tn,
            none
        );
    }
    // The shipped fingerprint must agree with its own parameters' row above.
    let shipped = pairs
        .iter()
        .filter(
            |(_, _, a, b)| match (Fingerprint::of_masked(a), Fingerprint::of_masked(b)) {
                (Some(x), Some(y)) => same_template(&x, &y),
                _ => false,
            },
        )
        .count();
    println!("shipped fingerprint: {shipped} pairs grouped");
}

fn cost(texts: &[&str]) {
    let mut norm = Normalized::default();
    let mut m = Vec::new();
    bench("normalise + mask + fingerprint", texts, |t| {
        normalize_into(t, &mut norm);
        mask_into(norm.as_str(), &mut m);
        usize::from(Fingerprint::of_masked(&m).is_some())
    });
    // What the daemon adds to a verdict: its normalised text is there already.
    let normalized: Vec<String> = texts
        .iter()
        .map(|t| normalize(t).as_str().to_string())
        .collect();
    let mut j = 0usize;
    bench("mask + fingerprint (normalised text known)", texts, |_| {
        j += 1;
        mask_into(&normalized[j % normalized.len()], &mut m);
        usize::from(Fingerprint::of_masked(&m).is_some())
    });
    let window = Window::new(WindowConfig::default());
    let fps: Vec<Option<Fingerprint>> = texts
        .iter()
        .map(|t| Fingerprint::of(normalize(t).as_str()))
        .collect();
    let mut i = 0usize;
    bench("window count (fingerprint known)", texts, |_| {
        i += 1;
        match &fps[i % fps.len()] {
            Some(fp) => {
                let c = window.count(fp, Some(hash_str(&i.to_string())), Duration::ZERO);
                usize::from(c.size >= 2)
            }
            None => 0,
        }
    });
    let engine = Engine::new().expect("compiled-in engine");
    bench("score (whole verdict), for comparison", texts, |t| {
        usize::from(engine.score(&Message::new(t)).is_fraud())
    });
}

/// The daemon's own scoring of one message (rule hit counters, verdict metrics), with the
/// campaign window and without, on one core: the cost of campaigns where the daemon pays it.
/// Each message has a sender from 300,000. The two are timed in alternating passes, so that a
/// change in the machine's load falls on both.
fn daemon_cost(texts: &[&str]) {
    let metrics = Metrics::new();
    let loaded = Loaded::new(Engine::new().expect("compiled-in engine"), &metrics);
    let window = Window::new(WindowConfig::default());
    let senders: Vec<String> = (0..300_000).map(|i| format!("1{i:010}")).collect();
    let pass = |campaigns: Option<&Window>| {
        let c0 = thread_cpu_seconds();
        let mut fraud = 0usize;
        for (i, t) in texts.iter().enumerate() {
            let msg = Message::new(t).with_sender(Some(&senders[i % senders.len()]));
            fraud += usize::from(loaded.score(&msg, &metrics, campaigns).is_fraud());
        }
        (thread_cpu_seconds() - c0, fraud)
    };
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut counted = (0, 0);
    for _ in 0..RUNS {
        let (t, n) = pass(None);
        off.push(t);
        counted.0 = n;
        let (t, n) = pass(Some(&window));
        on.push(t);
        counted.1 = n;
    }
    off.sort_by(f64::total_cmp);
    on.sort_by(f64::total_cmp);
    let per = |v: &[f64]| v[RUNS / 2] * 1e6 / texts.len() as f64;
    println!(
        "daemon score, campaigns off / on (alternating passes): median {:.3} / {:.3} µs/message CPU, \
         campaigns cost {:.3} µs, off/on {:.3}; fraud counted {} / {}",
        per(&off),
        per(&on),
        per(&on) - per(&off),
        per(&off) / per(&on),
        counted.0,
        counted.1
    );
}

/// The window's tables are allocated once: feed it a million distinct fingerprints and report
/// the process's resident memory along the way.
fn window_memory() {
    let rss0 = rss_kib();
    let window = Window::new(WindowConfig::default());
    let mut trace = Vec::new();
    let start = Instant::now();
    let mut linked = 0;
    for n in 0..1_000_000u64 {
        let keys = std::array::from_fn(|b| hash_str(&format!("{n}/{b}")));
        let c = window.count(&Fingerprint { keys }, Some(n), Duration::from_millis(n / 2));
        linked += usize::from(c.size >= 2);
        if n % 250_000 == 0 {
            trace.push(rss_kib());
        }
    }
    trace.push(rss_kib());
    println!(
        "window: tables {:.1} MiB; RSS {} KiB before, then {:?} KiB every 250,000 distinct messages ({:.2} s for 1,000,000; {} wrongly linked)",
        window.memory_bytes() as f64 / (1 << 20) as f64,
        rss0,
        trace,
        start.elapsed().as_secs_f64(),
        linked
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn bench(name: &str, texts: &[&str], mut f: impl FnMut(&str) -> usize) {
    let mut cpu = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let c0 = thread_cpu_seconds();
        count = 0;
        for t in texts {
            count += f(t);
        }
        cpu.push(thread_cpu_seconds() - c0);
    }
    cpu.sort_by(f64::total_cmp);
    let med = cpu[RUNS / 2];
    println!(
        "{name:<40} median {:>6.3} µs/message CPU ({:.0} msg/s), counted {count}",
        med * 1e6 / texts.len() as f64,
        texts.len() as f64 / med
    );
}

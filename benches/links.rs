//! Links benchmark on the research data (not part of `cargo test`):
//!
//! ```text
//! cargo bench --bench links [-- DATA_DIR]      # DATA_DIR defaults to shared/data beside the clone
//! ```
//!
//! 1. Loads the 141k Phishing.Database hosts and the 248k OpenPhish hosts as the malicious
//!    list of a rules directory and reports load time (list parse alone, and the whole
//!    `LinkAnalyzer::from_dir` with the suffix list), resident memory before and after
//!    (VmRSS, VmHWM from /proc/self/status), and lookups per second (hits and misses).
//! 2. Runs extraction + reputation over the 142k-message SMS sample and reports messages per
//!    second, with counts (messages with links, links, malicious links) so that a fast wrong
//!    answer shows.
//!
//! Each timing is the median of several runs.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[path = "common/data.rs"]
mod data;

use smishd::links::{DomainSet, LinkAnalyzer, Reputation};

const RUNS: usize = 5;

fn main() {
    let data = data_dir();
    let pdb = data.join("phishing_domains/phishing_database_domains_ACTIVE_2026-03-13.txt");
    let openphish = data.join("phishing_domains/openphish_hosts.tsv");
    let sms = data.join("cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv");

    // The rules directory: domains/malicious.txt = both feeds, one host a line.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("domains")).unwrap();
    let list_path = dir.path().join("domains/malicious.txt");
    let (n_pdb, n_op) = {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&list_path).unwrap());
        let n_pdb = copy_first_field(&pdb, false, &mut out);
        let n_op = copy_first_field(&openphish, true, &mut out);
        out.flush().unwrap();
        (n_pdb, n_op)
    };
    println!(
        "malicious hosts: {n_pdb} (Phishing.Database) + {n_op} (OpenPhish) = {} lines",
        n_pdb + n_op
    );

    // Memory first, in a process that has loaded nothing yet.
    let (rss0, _) = mem();
    let t = Instant::now();
    let analyzer = LinkAnalyzer::from_dir(dir.path()).expect("load");
    let first_load = t.elapsed().as_secs_f64();
    let (rss1, hwm1) = mem();
    let set = &analyzer.lists().malicious;
    println!(
        "loaded: {} distinct names, {:.1} MiB of hashes; first from_dir {:.1} ms",
        set.len(),
        set.heap_bytes() as f64 / 1048576.0,
        first_load * 1e3
    );
    println!(
        "memory: VmRSS {:.1} MiB -> {:.1} MiB (+{:.1} MiB), VmHWM {:.1} MiB",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        (rss1 as f64 - rss0 as f64) / 1024.0,
        hwm1 as f64 / 1024.0
    );

    let text = std::fs::read_to_string(&list_path).unwrap();
    let (wall, cpu) = timed(|| {
        black_box(DomainSet::parse(&text, "bench").unwrap());
    });
    println!(
        "list parse ({} lines): median wall {:.1} ms, cpu {:.1} ms",
        n_pdb + n_op,
        wall * 1e3,
        cpu * 1e3
    );
    let (wall, cpu) = timed(|| {
        black_box(LinkAnalyzer::from_dir(dir.path()).unwrap());
    });
    println!(
        "LinkAnalyzer::from_dir (suffix list + all lists): median wall {:.1} ms, cpu {:.1} ms",
        wall * 1e3,
        cpu * 1e3
    );

    // Lookups: every listed host (all hit), and the same hosts under a made-up parent
    // (all miss), walking parents down to the registrable domain as a link does.
    let psl = analyzer.suffix_list();
    let hits: Vec<(String, String)> = text
        .lines()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .filter_map(|h| {
            let reg = psl.split(&h).registrable?.to_string();
            Some((h, reg))
        })
        .collect();
    let misses: Vec<(String, String)> = hits
        .iter()
        .map(|(h, _)| {
            let m = format!("{h}.not-listed-bench.com");
            (m, "not-listed-bench.com".to_string())
        })
        .collect();
    for (name, queries, expect_hit) in [("hit", &hits, true), ("miss", &misses, false)] {
        let mut found = 0;
        let (wall, cpu) = timed(|| {
            found = 0;
            for (h, reg) in queries.iter() {
                found += usize::from(set.contains_host(black_box(h), reg));
            }
        });
        println!(
            "lookups ({name}): {} queries, {found} found (expected {}), median {:.2} M queries/s wall, {:.2} M/s cpu",
            queries.len(),
            if expect_hit { queries.len() } else { 0 },
            queries.len() as f64 / wall / 1e6,
            queries.len() as f64 / cpu / 1e6
        );
        if expect_hit && found != queries.len() {
            let missed: Vec<&str> = queries
                .iter()
                .filter(|(h, reg)| !set.contains_host(h, reg))
                .map(|(h, _)| h.as_str())
                .take(10)
                .collect();
            println!("  not found: {missed:?}");
        }
    }

    // Extraction + reputation over the SMS sample.
    let messages = read_messages(&sms);
    let bytes: usize = messages.iter().map(String::len).sum();
    let mut counts = Counts::default();
    let (wall, cpu) = timed(|| {
        counts = Counts::default();
        for m in &messages {
            let found = analyzer.find(black_box(m));
            counts.add(&found);
        }
    });
    println!(
        "sms sample: {} messages ({:.1} MiB): median {:.0} messages/s wall, {:.0} messages/s cpu ({:.2} µs/message cpu, {:.0} MiB/s cpu)",
        messages.len(),
        bytes as f64 / 1048576.0,
        messages.len() as f64 / wall,
        messages.len() as f64 / cpu,
        cpu / messages.len() as f64 * 1e6,
        bytes as f64 / 1048576.0 / cpu
    );
    println!(
        "  messages with links {}, links {}, malicious {}, suspicious {}, trusted {}, unknown {}",
        counts.messages_with_links,
        counts.links,
        counts.by_rep[0],
        counts.by_rep[1],
        counts.by_rep[3],
        counts.by_rep[2]
    );
    for (r, n) in counts.top_reasons() {
        println!("  reason {r}: {n}");
    }
    // SMISHD_BENCH_DUMP=1 lists every link found, to check by eye for false links.
    if std::env::var_os("SMISHD_BENCH_DUMP").is_some() {
        for m in &messages {
            for u in analyzer.find(m) {
                println!(
                    "  link {:?} -> {} {} {:?}",
                    u.raw,
                    u.host,
                    u.reputation.as_str(),
                    u.reasons
                );
            }
        }
    }

    // The fast path alone: messages the byte scan rejects.
    let plain: Vec<&String> = messages
        .iter()
        .filter(|m| !smishd::links::may_contain_link(m))
        .collect();
    let (wall, cpu) = timed(|| {
        for m in &plain {
            black_box(analyzer.find(black_box(m)));
        }
    });
    let n = plain.len().max(1) as f64;
    println!(
        "fast path: {} of {} messages rejected by the byte scan, median {:.0} ns/message wall, {:.0} ns/message cpu",
        plain.len(),
        messages.len(),
        wall / n * 1e9,
        cpu / n * 1e9
    );
}

#[derive(Default)]
struct Counts {
    messages_with_links: usize,
    links: usize,
    by_rep: [usize; 4],
    reasons: std::collections::BTreeMap<&'static str, usize>,
}

impl Counts {
    fn add(&mut self, found: &[smishd::links::UrlFinding]) {
        if !found.is_empty() {
            self.messages_with_links += 1;
        }
        self.links += found.len();
        for u in found {
            let i = Reputation::ALL
                .iter()
                .position(|r| *r == u.reputation)
                .unwrap();
            self.by_rep[i] += 1;
            for r in &u.reasons {
                *self.reasons.entry(r).or_default() += 1;
            }
        }
    }

    fn top_reasons(&self) -> Vec<(&'static str, usize)> {
        let mut v: Vec<_> = self.reasons.iter().map(|(k, v)| (*k, *v)).collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        v
    }
}

/// Runs `f` RUNS times; returns the median wall time and the median on-CPU time of this
/// thread (from /proc/thread-self/schedstat), in seconds. The CPU time is what to compare on
/// a shared machine: wall time includes waiting for a core.
fn timed(mut f: impl FnMut()) -> (f64, f64) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..RUNS {
        let c0 = cpu_ns();
        let t = Instant::now();
        f();
        wall.push(t.elapsed().as_secs_f64());
        cpu.push((cpu_ns() - c0) as f64 / 1e9);
    }
    (med(wall), med(cpu))
}

fn med(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Nanoseconds this thread has run on a CPU.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn data_dir() -> PathBuf {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| data::dir("pass it as `cargo bench --bench links -- DIR`"))
}

/// Copies the first field of every line (skipping a header) to `out`; returns the count.
fn copy_first_field(path: &Path, header: bool, out: &mut impl Write) -> usize {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut n = 0;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.unwrap();
        if header && i == 0 {
            continue;
        }
        let field = line.split('\t').next().unwrap_or("").trim();
        if !field.is_empty() {
            writeln!(out, "{field}").unwrap();
            n += 1;
        }
    }
    n
}

fn read_messages(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
        .collect()
}

/// (VmRSS, VmHWM) in KiB.
fn mem() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

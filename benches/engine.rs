//! Engine micro-benchmarks over real messages: normalise + rule matching, and the whole
//! verdict, on one core.
//!
//! `cargo bench --bench engine [-- PATH]` (`label<TAB>text`; default $SMISHD_BENCH_DATA, else
//! cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv of shared/data beside the clone or its parent
//! folder). Prints the median of several runs and the counts
//! found, so a fast wrong answer shows.

use std::time::Instant;

use smishd::normalize::{normalize_into, Normalized};
use smishd::{Engine, Message};

#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/data.rs"]
mod data;

use cpu::thread_cpu_seconds;

const RUNS: usize = 7;

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| {
            data::cn_sample("pass a label<TAB>text file")
                .display()
                .to_string()
        });
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let texts: Vec<&str> = data
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t))
        .collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let engine = Engine::new().expect("compiled-in engine");
    println!(
        "{} messages, {:.1} MB, mean {} bytes; rule set {} ({} rules, {} keywords); model {}",
        texts.len(),
        bytes as f64 / 1e6,
        bytes / texts.len().max(1),
        engine.ruleset_version(),
        engine.rules().rules().len(),
        engine.rules().keyword_count(),
        engine.model_version()
    );

    let mut norm = Normalized::default();
    bench("normalise", &texts, |t| {
        normalize_into(t, &mut norm);
        norm.len()
    });
    let mut norm = Normalized::default();
    bench("normalise + match", &texts, |t| {
        normalize_into(t, &mut norm);
        engine.rules().find(t, &norm).fired.len()
    });
    bench("analyse (normalise, match, links)", &texts, |t| {
        let a = engine.analyze(&Message::new(t));
        a.fired.len() + a.urls.len()
    });
    bench("score (whole verdict)", &texts, |t| {
        let v = engine.score(&Message::new(t));
        usize::from(v.is_fraud())
    });
}

/// Runs `f` over every text RUNS times; prints the median rates (wall and CPU time) and the
/// checksum of results.
fn bench(name: &str, texts: &[&str], mut f: impl FnMut(&str) -> usize) {
    let mut wall = Vec::with_capacity(RUNS);
    let mut cpu = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
        count = 0;
        for t in texts {
            count += f(t);
        }
        wall.push(texts.len() as f64 / start.elapsed().as_secs_f64());
        cpu.push(texts.len() as f64 / (thread_cpu_seconds() - cpu_start));
    }
    wall.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cpu.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name:<36} wall median {:>9.0} msg/s (min {:.0}, max {:.0})  cpu median {:>9.0} msg/s \
         ({:.2} µs/msg)  count {count}",
        wall[RUNS / 2],
        wall[0],
        wall[RUNS - 1],
        cpu[RUNS / 2],
        1e6 / cpu[RUNS / 2]
    );
}

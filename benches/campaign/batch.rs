//! `cargo bench --bench campaign -- --batch`: the whole `smishd campaigns` process on a large
//! log (see the module docs of `campaign.rs`).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run(args: &[String]) {
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let records: usize = opt("--records").map_or(1_000_000, |s| s.parse().expect("--records N"));
    let runs: usize = opt("--runs").map_or(3, |s| s.parse().expect("--runs R"));
    let threads: usize = opt("--threads").map_or(2, |s| s.parse().expect("--threads T"));
    let data = opt("--data").map(PathBuf::from).unwrap_or_else(|| {
        ["../shared/data", "../../shared/data"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .expect("no ../shared/data; pass --data DIR")
    });
    let input = PathBuf::from(format!("/tmp/smishd-campaigns-{records}.jsonl"));
    let bytes = build_input(&data, records, &input);
    println!(
        "input {} ({records} records, {:.1} MB); {runs} runs, --threads {threads}, {} cores online",
        input.display(),
        bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let bin = env!("CARGO_BIN_EXE_smishd");
    let (mut rates, mut cpu_rates, mut rss_mb) = (Vec::new(), Vec::new(), Vec::new());
    let mut first_output: Option<Vec<u8>> = None;
    for run in 1..=runs {
        let o = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(bin)
            .args(["campaigns", "--json", "--threads", &threads.to_string()])
            .arg("--input")
            .arg(&input)
            .output()
            .expect("run /usr/bin/time -v smishd campaigns");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "run {run} failed: {err}");
        let summary = err
            .lines()
            .find(|l| l.starts_with("smishd: read"))
            .unwrap_or("");
        assert!(
            summary.starts_with(&format!("smishd: read {records},")),
            "run {run}: {summary}"
        );
        match &first_output {
            None => first_output = Some(o.stdout.clone()),
            Some(f) => assert!(*f == o.stdout, "run {run} found other campaigns"),
        }
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
    let campaigns = first_output.map_or(0, |o| o.split(|&b| b == b'\n').count() - 1);
    println!(
        "median: {:.0} records/s wall, peak RSS {:.1} MB; CPU-time estimate on {threads} idle \
         cores {:.0} records/s; {campaigns} campaigns of 5+; load average {}",
        median(&mut rates),
        median(&mut rss_mb),
        median(&mut cpu_rates),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}

/// Writes `records` JSONL records (text, sender, time) built from the two corpora; returns the
/// file size.
fn build_input(data: &Path, records: usize, path: &Path) -> u64 {
    let mut texts = Vec::new();
    for f in [
        "cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv",
        "fbs_spam_sms_ccs20/fbs_sms.tsv",
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
    let mut state = 14u64;
    let mut w = BufWriter::new(File::create(path).unwrap());
    // 2026-11-01T00:00:00Z, then 2.4 s a record.
    let start = 1_793_491_200u64;
    for (i, text) in texts.iter().cycle().take(records).enumerate() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let sender = format!("1{:010}", (state >> 33) % 300_000);
        let rec = serde_json::json!({
            "id": format!("r{i}"),
            "text": text,
            "sender": sender,
            "time": iso(start + i as u64 * 12 / 5),
        });
        serde_json::to_writer(&mut w, &rec).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
fn iso(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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

//! `cargo bench --bench campaign -- --batch`: the whole `smishd campaigns` process on a large
//! log (see the module docs of `campaign.rs`).

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::process::{load_average, texts, Flags, Runs, Timed};

pub fn run(args: &[String]) {
    let flags = Flags(args);
    let records = flags.count("--records", 1_000_000);
    let runs = flags.count("--runs", 3);
    let threads = flags.count("--threads", 2);
    let data = flags.data_dir();
    let input = PathBuf::from(format!("/tmp/smishd-campaigns-{records}.jsonl"));
    let bytes = build_input(&data, records, &input);
    println!(
        "input {} ({records} records, {:.1} MB); {runs} runs, --threads {threads}, {} cores online",
        input.display(),
        bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut figures = Runs::new(records, threads);
    let mut first_output: Option<Vec<u8>> = None;
    for run in 1..=runs {
        let mut args: Vec<OsString> = ["campaigns", "--json", "--threads", &threads.to_string()]
            .map(OsString::from)
            .to_vec();
        args.extend(["--input".into(), input.clone().into()]);
        let t = Timed::smishd(&args, run);
        let summary = t.summary();
        assert!(
            summary.starts_with(&format!("smishd: read {records},")),
            "run {run}: {summary}"
        );
        match &first_output {
            None => first_output = Some(t.stdout.clone()),
            Some(f) => assert!(*f == t.stdout, "run {run} found other campaigns"),
        }
        figures.add(run, &t);
    }
    let campaigns = first_output.map_or(0, |o| o.split(|&b| b == b'\n').count() - 1);
    let (rate, rss, cpu_rate) = figures.medians();
    println!(
        "median: {rate:.0} records/s wall, peak RSS {rss:.1} MB; CPU-time estimate on {threads} \
         idle cores {cpu_rate:.0} records/s; {campaigns} campaigns of 5+; load average {}",
        load_average()
    );
}

/// Writes `records` JSONL records (text, sender, time) built from the two corpora; returns the
/// file size.
fn build_input(data: &Path, records: usize, path: &Path) -> u64 {
    let texts = texts(
        data,
        &[
            "cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv",
            "fbs_spam_sms_ccs20/fbs_sms.tsv",
        ],
    );
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

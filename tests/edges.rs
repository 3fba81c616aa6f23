//! The command line at its edges: a closed pipe, a disk that fills at the last moment, files a
//! killed run left behind, an output path that cannot be written, text with nothing visible.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{run, smishd, stderr, stdout};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A message with many hits: its JSON verdict is several KiB.
fn long_verdict_text() -> String {
    "您的快递检测呈阳性已销毁，请联系客服理赔，点击链接 jkm-help.top 办理。".repeat(12)
}

/// `score --json` into a closed pipe exited 2 ("Broken pipe") once the JSON was longer than
/// standard output's buffer: serde_json's error hides the io::Error from the error chain.
#[test]
fn score_json_into_a_closed_pipe_exits_zero() {
    let text = long_verdict_text();
    let o = run(&["score", "--json", &text]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        o.stdout.len() > 4096,
        "only {} bytes of JSON",
        o.stdout.len()
    );

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = smishd()
        .args(["score", "--json", &text])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

/// Runs the command with a file-size limit (RLIMIT_FSIZE) and SIGXFSZ ignored, so a write past
/// the limit fails with EFBIG as a write to a full disk fails with ENOSPC.
fn run_with_file_limit(mut cmd: Command, bytes: u64) -> Output {
    // SAFETY: setrlimit and signal are async-signal-safe and change only the child.
    unsafe {
        cmd.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

/// rescore left its hidden `.NAME.partial-PID-N` file behind when the final flush failed
/// (a full disk): the file was no longer owned by anything that would remove it.
#[test]
fn rescore_removes_its_temporary_file_when_the_final_flush_fails() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let lines: String = (0..400)
        .map(|i| {
            format!("{{\"id\":{i},\"text\":\"您的快递检测呈阳性已销毁，请联系客服理赔 {i}\"}}\n")
        })
        .collect();
    std::fs::write(&input, lines).unwrap();
    let out = dir.path().join("out.jsonl");
    let mut cmd = smishd();
    cmd.args(["rescore", "--input", s(&input), "--output", s(&out)]);
    // The output (hundreds of KiB, under the 1 MiB write buffer) reaches the disk only at the
    // final flush, which fails past 64 KiB.
    let o = run_with_file_limit(cmd, 64 * 1024);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(names(dir.path()), ["in.jsonl"], "{}", stderr(&o));

    // The same run with room writes the output.
    let o = smishd()
        .args(["rescore", "--input", s(&input), "--output", s(&out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::metadata(&out).unwrap().len() > 64 * 1024);
}

/// A process id that is not running.
fn dead_pid() -> u32 {
    (100_000..4_000_000)
        .rev()
        .step_by(997)
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .unwrap()
}

/// Temporary files of a run killed with SIGKILL were never reported.
#[test]
fn rescore_reports_partial_files_a_killed_run_left() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"text\":\"今晚一起吃饭吗\"}\n").unwrap();
    let out = dir.path().join("out.jsonl");
    let stale = format!(".out.jsonl.partial-{}-0", dead_pid());
    std::fs::write(dir.path().join(&stale), "half a run").unwrap();
    // Another output's partial file is not this run's business.
    let other = format!(".other.jsonl.partial-{}-0", dead_pid());
    std::fs::write(dir.path().join(&other), "x").unwrap();

    let o = smishd()
        .args(["rescore", "--input", s(&input), "--output", s(&out)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&stale) && err.contains("killed"),
        "not reported:\n{err}"
    );
    assert!(!err.contains(&other), "{err}");
    // Reported, not removed.
    assert!(dir.path().join(&stale).exists());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        1,
        "{err}"
    );
}

/// train checked `--out` only after fitting: minutes of work lost to a typo in a path.
#[test]
fn train_checks_out_before_fitting() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.tsv");
    let mut rows = String::from("label\ttext\n");
    for i in 0..40 {
        rows.push_str(&format!("ham\t今晚{i}点一起吃饭吗\n"));
        rows.push_str(&format!(
            "fraud\t您的快递检测呈阳性已销毁，请联系客服理赔{i}\n"
        ));
    }
    std::fs::write(&data, rows).unwrap();
    let missing = dir.path().join("no-such-dir").join("m.model");
    let as_dir = dir.path().to_path_buf();
    for (out, says) in [
        (&missing, "cannot create files in"),
        (&as_dir, "is a directory"),
    ] {
        let o = run(&["train", "--data", s(&data), "--out", s(out)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("--out") && err.contains(says), "{err}");
        assert!(!err.contains("train:"), "fitting started first:\n{err}");
        assert!(stdout(&o).is_empty());
    }
    assert_eq!(names(dir.path()), ["train.tsv"]);
}

/// eval exited 0 on bad input lines, where rescore exits 1 on rejected records.
#[test]
fn eval_exits_one_on_bad_lines_like_rescore() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tsv");
    std::fs::write(
        &good,
        "label\ttext\nham\t今晚一起吃饭吗\nfraud\t您的快递检测呈阳性已销毁，请联系客服理赔\nodd\t未知标签\n",
    )
    .unwrap();
    let o = run(&["eval", "--data", s(&good)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // An unknown label is reported and skipped, not a failure.
    assert!(stderr(&o).contains("unknown label"), "{}", stderr(&o));

    let bad = dir.path().join("bad.tsv");
    let mut content = b"label\ttext\nham\t\xe4\xbb\x8a\xff\nno tab here\nham\t".to_vec();
    content.extend_from_slice(
        "今晚一起吃饭吗\nfraud\t您的快递检测呈阳性已销毁，请联系客服理赔\n".as_bytes(),
    );
    content.extend_from_slice(b"ham\t\n");
    std::fs::write(&bad, content).unwrap();
    let o = run(&["eval", "--data", s(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for (line, reason) in [(2, "invalid UTF-8"), (3, "no tab"), (6, "empty text")] {
        assert!(
            err.contains(&format!("line {line}: {reason}")),
            "line {line}:\n{err}"
        );
    }
    // The figures still cover the good lines.
    assert!(stdout(&o).contains("2 rows evaluated"), "{}", stdout(&o));
    let o = run(&["eval", "--json", "--data", s(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

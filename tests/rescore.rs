//! `smishd rescore` as analysts and pipelines run it: bad records accounted for, order kept,
//! gzip, CSV/TSV quoting, streaming through pipes, no half-written output, compare, redact.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{run, run_with_stdin, smishd, stderr};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json_lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `read N, scored N, rejected N` from the summary on standard error.
fn counts(err: &str) -> (u64, u64, u64) {
    let line = err
        .lines()
        .find(|l| l.starts_with("smishd: read "))
        .unwrap_or_else(|| panic!("no summary in: {err}"));
    let n = |key: &str| -> u64 {
        let rest = &line[line.find(key).unwrap() + key.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (n("read "), n("scored "), n("rejected "))
}

/// Files left in `dir`, by name.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn bad_records_reconcile_keep_order_and_name_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let big = format!(r#"{{"id":"big","text":"{}"}}"#, "骗".repeat(3 << 20));
    let mut data: Vec<u8> = Vec::new();
    let mut push = |line: &[u8]| {
        data.extend_from_slice(line);
        data.push(b'\n');
    };
    push(r#"{"id":1,"text":"疾控中心通知：您已被判定为密接人员，健康码将转为红码，请立即添加微信提供身份证号和验证码解除"}"#.as_bytes()); // 1
    push(b"not json at all"); // 2
    push(br#"{"id":3}"#); // 3: no text
    push(b"{\"id\":4,\"text\":\"bad \xff\xfe bytes\"}"); // 4
    push(big.as_bytes()); // 5: 9 MB line
    push(b""); // 6
    push(b"{\"id\":7,\"text\":\"crlf line\",\"sender\":\"10086\"}\r"); // 7: CRLF
    push(br#"{"id":8,"text":42}"#); // 8
    push(b"   "); // 9
    push(br#"{"id":{"shard":2,"n":10},"text":"\u4f60\u597d \"quoted\""}"#); // 10
    push(br#"[1,2,3]"#); // 11
    push(br#"{"id":12,"text":""}"#); // 12
    push(br#"{"id":13,"text":"last line, no newline"}"#); // 13
    data.pop();
    fs::write(&input, &data).unwrap();
    let out = dir.path().join("out.jsonl");
    let rejects = dir.path().join("rejects.jsonl");

    let o = run(&[
        "rescore",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--rejects",
        s(&rejects),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let (read, scored, rejected) = counts(&err);
    assert_eq!((read, scored, rejected), (13, 4, 9), "{err}");

    let verdicts = json_lines(&out);
    let ids: Vec<Value> = verdicts.iter().map(|v| v["id"].clone()).collect();
    assert_eq!(
        ids,
        vec![
            Value::from(1),
            Value::from(7),
            serde_json::json!({"shard": 2, "n": 10}),
            Value::from(13)
        ]
    );
    for v in &verdicts {
        for field in [
            "verdict", "category", "score", "hits", "urls", "ruleset", "model",
        ] {
            assert!(v.get(field).is_some(), "missing {field}: {v}");
        }
    }

    let rej = json_lines(&rejects);
    let got: Vec<(u64, &str)> = rej
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "not JSON"),
            (3, "no text field"),
            (4, "invalid UTF-8"),
            (5, "record over the size limit"),
            (6, "empty line"),
            (8, "text is not a string"),
            (9, "empty line"),
            (11, "not a JSON object"),
            (12, "text is empty"),
        ]
    );
    assert_eq!(read, scored + rej.len() as u64);
    // A rejected record keeps its id when it could be read, to find it again.
    assert_eq!(rej[1]["id"], 3);
    // Privacy: the rejects name lines and reasons, never the text.
    let rejects_text = fs::read_to_string(&rejects).unwrap();
    assert!(!rejects_text.contains("not json at all") && !rejects_text.contains("bytes"));
}

#[test]
fn accept_rejects_keeps_them_and_exits_0_on_a_pipe() {
    // A per-partition worker: standard input to standard output, rejects to a file, and a bad
    // record is not a failed task; without --rejects the flag is refused.
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    let input = b"{\"id\":\"a\",\"text\":\"\xe4\xbd\xa0\xe5\xa5\xbd\"}\nnot json\n\n{\"id\":\"d\",\"text\":\"ok\"}\n";
    let args = [
        "rescore",
        "--input",
        "-",
        "--output",
        "-",
        "--rejects",
        s(&rejects),
        "--accept-rejects",
    ];
    let o = run_with_stdin(&args, input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(counts(&stderr(&o)), (4, 2, 2));
    let ids: Vec<Value> = String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids, ["a", "d"]);
    let rej: Vec<(u64, String)> = json_lines(&rejects)
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rej,
        [(2, "not JSON".to_owned()), (3, "empty line".to_owned())]
    );

    // The contract's status without the flag, and the flag alone is a usage error.
    let o = run_with_stdin(&args[..7], input);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run_with_stdin(
        &[
            "rescore",
            "--input",
            "-",
            "--output",
            "-",
            "--accept-rejects",
        ],
        input,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--rejects"), "{}", stderr(&o));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// `n` numbered JSONL records.
fn numbered(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\":{i},\"text\":\"第{i}条：您的快递已到，请凭取件码取件\"}}\n"))
        .collect()
}

#[test]
fn gzip_input_by_name_by_content_and_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(numbered(10_000).as_bytes());
    let named = dir.path().join("in.jsonl.gz");
    let unnamed = dir.path().join("in.log");
    fs::write(&named, &gz).unwrap();
    fs::write(&unnamed, &gz).unwrap();
    for input in [&named, &unnamed] {
        let out = dir.path().join("out.jsonl");
        let o = run(&["rescore", "--input", s(input), "--output", s(&out)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let ids: Vec<u64> = json_lines(&out)
            .iter()
            .map(|v| v["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, (0..10_000).collect::<Vec<u64>>());
        assert_eq!(counts(&stderr(&o)), (10_000, 10_000, 0));
    }
    let o = run_with_stdin(&["rescore", "--input", "-", "--output", "-"], &gz);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 10_000);
}

#[test]
fn csv_and_tsv_with_quoting_crlf_and_multiline_fields() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    fs::write(
        &csv,
        "label,id,text,sender\r\n\
         spam,a1,\"您已被判定为密接人员，健康码将转为红码, 速点\",10086\r\n\
         ham,a2,\"他说\"\"你好\"\"\",\r\n\
         ham,a3,\"两行\n消息\",95555\r\n\
         \r\n\
         ham,a4\r\n\
         ham,\"a,5\",最后一条,\r\n",
    )
    .unwrap();
    let out = dir.path().join("csv.out");
    let rejects = dir.path().join("csv.rejects");
    // A rule set of the test's own, so the hits below do not depend on the shipped rules.
    let rules = rule_dir(dir.path(), "rules", false);
    let o = run(&[
        "rescore",
        "--input",
        s(&csv),
        "--output",
        s(&out),
        "--rejects",
        s(&rejects),
        "--rules",
        s(&rules),
        "--model",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(counts(&stderr(&o)), (6, 4, 2));
    let v = json_lines(&out);
    let ids: Vec<&str> = v.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a1", "a2", "a3", "a,5"]);
    // Spans point into the unquoted text.
    let text = "您已被判定为密接人员，健康码将转为红码, 速点";
    let hits = v[0]["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        let (a, b) = (
            h["start"].as_u64().unwrap() as usize,
            h["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], h["text"].as_str().unwrap());
    }
    let rej: Vec<(u64, String)> = json_lines(&rejects)
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rej,
        [
            (6, "empty line".to_string()),
            (7, "wrong number of fields".to_string())
        ]
    );

    let tsv = dir.path().join("in.tsv.gz");
    fs::write(
        &tsv,
        gzip(
            "text\tid\n\"tab\there\"\t1\n\"quoted \"\"word\"\"\"\t2\nplain \"inner\" quotes\t3\n"
                .as_bytes(),
        ),
    )
    .unwrap();
    let out = dir.path().join("tsv.out");
    let o = run(&["rescore", "--input", s(&tsv), "--output", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<String> = json_lines(&out)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

#[test]
fn a_header_without_text_or_a_missing_output_dir_is_status_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    fs::write(&csv, "id,body\n1,hello\n").unwrap();
    let out = dir.path().join("out.jsonl");
    let o = run(&["rescore", "--input", s(&csv), "--output", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`text` column"), "{}", stderr(&o));
    assert_eq!(names(dir.path()), ["in.csv"]);

    let jsonl = dir.path().join("in.jsonl");
    fs::write(&jsonl, numbered(3)).unwrap();
    let nowhere = dir.path().join("no/such/dir/out.jsonl");
    let o = run(&["rescore", "--input", s(&jsonl), "--output", s(&nowhere)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot create the output"),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "rescore",
        "--input",
        s(&dir.path().join("absent.jsonl")),
        "--output",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read the input"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_truncated_gzip_fails_the_run_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(numbered(50_000).as_bytes());
    let input = dir.path().join("in.jsonl.gz");
    fs::write(&input, &gz[..gz.len() * 2 / 3]).unwrap();
    let out = dir.path().join("out.jsonl");
    let rejects = dir.path().join("rejects.jsonl");
    let o = run(&[
        "rescore",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--rejects",
        s(&rejects),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("reading the input"), "{}", stderr(&o));
    // Neither the output, the rejects nor a temporary file remains.
    assert_eq!(names(dir.path()), ["in.jsonl.gz"]);
}

/// Starts `rescore --input - --output DIR/out.jsonl`, feeds it `records` lines and keeps its
/// standard input open, as a slow upstream would.
fn start_slow_run(dir: &Path, records: usize) -> (Child, PathBuf) {
    let out = dir.join("out.jsonl");
    let mut child = smishd()
        .args(["rescore", "--input", "-", "--output", s(&out)])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(numbered(records).as_bytes())
        .unwrap();
    child.stdin.as_mut().unwrap().flush().unwrap();
    // Wait until the run has started writing its temporary file.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !names(dir).iter().any(|n| n.contains(".partial-")) {
        assert!(
            Instant::now() < deadline,
            "no temporary output appeared: {:?}",
            names(dir)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    (child, out)
}

#[cfg(unix)]
#[test]
fn a_terminated_run_leaves_no_output_and_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, out) = start_slow_run(dir.path(), 20_000);
        // SAFETY: signalling a child process we started and still own.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        assert!(!out.exists());
        assert!(
            names(dir.path()).is_empty(),
            "left behind: {:?}",
            names(dir.path())
        );
    }
}

#[cfg(unix)]
#[test]
fn a_killed_run_never_leaves_output_that_looks_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, out) = start_slow_run(dir.path(), 20_000);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists());
    // SIGKILL cannot be caught: a hidden, clearly partial file may remain, never the target.
    for name in names(dir.path()) {
        assert!(name.starts_with(".out.jsonl.partial-"), "{name}");
    }
}

#[test]
fn stdin_to_stdout_streams_record_by_record() {
    let mut child = smishd()
        .args(["rescore", "--input", "-", "--output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        writeln!(stdin, "{{\"id\":{i},\"text\":\"消息{i}\"}}").unwrap();
        stdin.flush().unwrap();
        // The verdict comes back while standard input is still open.
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["id"], i);
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
}

/// A rule directory written by the test: two rules, rules-only scoring (`--model none`).
fn rule_dir(root: &Path, name: &str, with_parcel: bool) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("VERSION"), format!("test-{name}\n")).unwrap();
    let mut rules = String::from(
        r#"
[[rule]]
id = "TEST_RED_CODE"
category = "close_contact_red_code"
weight = 3.0
action = "block"
description = "close contact and a code colour"
all = [["密接"], ["红码"]]
"#,
    );
    if with_parcel {
        rules.push_str(
            r#"
[[rule]]
id = "TEST_PARCEL"
category = "positive_parcel"
weight = 3.0
action = "block"
description = "positive parcel compensation"
all = [["快递"], ["阳性"]]
"#,
        );
    }
    fs::write(dir.join("test.toml"), rules).unwrap();
    dir
}

#[test]
fn compare_reports_the_records_a_removed_rule_changes() {
    let root = tempfile::tempdir().unwrap();
    let running = rule_dir(root.path(), "running", true);
    let candidate = rule_dir(root.path(), "candidate", false);
    let input = root.path().join("in.jsonl");
    fs::write(
        &input,
        [
            r#"{"id":"p1","text":"您的快递检测阳性已销毁，请联系理赔"}"#,
            r#"{"id":"r1","text":"您是密接，健康码将转红码"}"#,
            r#"{"id":"h1","text":"今晚一起吃饭吗"}"#,
            r#"{"id":"p2","text":"快递阳性，点击办理赔付"}"#,
            r#"{"id":"p3","text":"【通知】快递外包装核酸阳性，退款请加客服"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let out = root.path().join("changes.jsonl");
    let o = run(&[
        "rescore",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--rules",
        s(&running),
        "--model",
        "none",
        "--compare-rules",
        s(&candidate),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(counts(&err), (5, 5, 0));
    assert!(err.contains("3 of 5 scored records changed"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.trim() == "3  block/positive_parcel -> allow/none"),
        "{err}"
    );
    let changes = json_lines(&out);
    let got: Vec<(u64, &str)> = changes
        .iter()
        .map(|c| (c["line"].as_u64().unwrap(), c["id"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(1, "p1"), (4, "p2"), (5, "p3")]);
    assert_eq!(
        changes[0]["before"]["rules"],
        serde_json::json!(["TEST_PARCEL"])
    );
    assert_eq!(changes[0]["after"]["rules"], serde_json::json!([]));
    assert_eq!(changes[0]["change"], "block/positive_parcel -> allow/none");
    assert!(
        !fs::read_to_string(&out).unwrap().contains("快递"),
        "no message text in changes"
    );

    // The same rule set on both sides changes nothing.
    let o = run(&[
        "rescore",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--rules",
        s(&running),
        "--model",
        "none",
        "--compare-rules",
        s(&running),
    ]);
    assert!(
        stderr(&o).contains("0 of 5 scored records changed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), "");
}

#[test]
fn redact_masks_numbers_in_every_field_that_repeats_text() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("rules");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("VERSION"), "test-redact\n").unwrap();
    // Keywords with digits, so hit texts repeat parts of the numbers.
    fs::write(
        dir.join("numbers.toml"),
        r#"
[[rule]]
id = "TEST_CARD"
category = "generic_fraud"
weight = 3.0
description = "a transfer to a card"
any = ["卡号6222"]

[[rule]]
id = "TEST_PHONE"
category = "generic_fraud"
weight = 3.0
description = "a phone number to call"
any = ["13812345678", "11010519491231002x"]
"#,
    )
    .unwrap();
    let text = "请转账到卡号6222 0212 3456 7890，致电13812345678，身份证11010519491231002X，\
                详见 http://pay-help.top/u/13912345678 办理";
    let input = format!("{}\n", serde_json::json!({"id": "r", "text": text}));
    let args = [
        "rescore",
        "--input",
        "-",
        "--output",
        "-",
        "--rules",
        s(&dir),
        "--model",
        "none",
    ];

    let plain = run_with_stdin(&args, input.as_bytes());
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(
        plain.contains("卡号6222") && plain.contains("13812345678"),
        "{plain}"
    );

    let mut redacted_args = args.to_vec();
    redacted_args.push("--redact");
    let o = run_with_stdin(&redacted_args, input.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = String::from_utf8(o.stdout).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let hits: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        hits,
        ["卡号****", "***********", "******************"],
        "{line}"
    );
    // The link, as written and as canonical URL, is masked too.
    let urls = v["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1, "{line}");
    assert_eq!(urls[0]["raw"], "http://pay-help.top/u/***********");
    assert_eq!(urls[0]["host"], "pay-help.top");
    for digits in ["6222", "138", "139", "5678", "1101", "002X"] {
        assert!(!line.contains(digits), "{digits} in {line}");
    }
    // Spans still point at the same place.
    for h in v["hits"].as_array().unwrap() {
        let (a, b) = (
            h["start"].as_u64().unwrap() as usize,
            h["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(text[a..b].len(), h["text"].as_str().unwrap().len());
    }
}

#[test]
fn output_order_holds_across_many_chunks_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    fs::write(&input, numbered(30_000)).unwrap();
    let out = dir.path().join("out.jsonl");
    let o = run(&[
        "rescore",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--threads",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<u64> = json_lines(&out)
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (0..30_000).collect::<Vec<u64>>());
    assert_eq!(names(dir.path()), ["in.jsonl", "out.jsonl"]);
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smishd"))
        .args(["rescore", "--input", "-", "--output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(numbered(20_000).as_bytes());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

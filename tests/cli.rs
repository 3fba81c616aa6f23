//! The command line as users run it: exit codes, bad input, JSON output.

use crate::common::{run, run_with_stdin, stderr, stdout};

#[test]
fn score_json_has_contract_fields_and_original_spans() {
    let text = "您已被判定为密 接人员，健康碼将转为红码";
    let o = run(&["score", "--json", text]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for field in [
        "verdict", "category", "score", "hits", "urls", "ruleset", "model",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        let (s, e) = (
            h["start"].as_u64().unwrap() as usize,
            h["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[s..e], h["text"].as_str().unwrap());
    }
}

#[test]
fn empty_text_is_a_clear_error() {
    let o = run(&["score", ""]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
}

/// Text made only of zero-width characters was scored while white space alone was refused.
#[test]
fn zero_width_only_text_is_refused_like_white_space() {
    for t in [" \t ", "\u{200b}\u{200d}", "\u{feff} \u{2060}\u{200e}"] {
        let o = run(&["score", t]);
        assert_eq!(o.status.code(), Some(2), "{t:?}");
        assert!(stderr(&o).contains("empty"), "{t:?}: {}", stderr(&o));
    }
    let o = run(&["score", "\u{200b}hi"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn invalid_utf8_on_stdin_is_a_clear_error() {
    let o = run_with_stdin(&["score"], b"\xff\xfe\x00abc");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not valid UTF-8"), "{}", stderr(&o));
}

#[test]
fn one_megabyte_of_text_is_refused_without_panic() {
    let big = "验".repeat(350_000);
    let o = run_with_stdin(&["score"], big.as_bytes());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("over the limit"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn broken_rule_file_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("VERSION"), "test-1\n").unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nid = \"BAD\"\ncategory = \"no_such\"\nweight = 1.0\ndescription = \"x\"\nall = [[]]\n",
    )
    .unwrap();
    let o = run(&["rules", "lint", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("bad.toml:1"), "{out}");
    assert!(out.contains("unknown category"), "{out}");
    assert!(out.contains("all[0] is empty"), "{out}");

    let o = run(&["score", "--rules", dir.path().to_str().unwrap(), "测试"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml:1"), "{}", stderr(&o));
}

#[test]
fn closed_stdout_exits_quietly() {
    use std::process::Stdio;
    let mut child = crate::common::smishd()
        .args(["rules", "lint"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

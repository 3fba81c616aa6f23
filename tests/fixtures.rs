//! Classifier behaviour from fixture files anyone can read and extend:
//! tests/fixtures/messages/*.txt.
//!
//! A case is parameter lines (`name: value`), a blank line, the message (one or more lines),
//! and a line `---` before the next case. Parameters:
//! - `expect`: `fraud` (flag or block with a fraud category), `not_fraud`, or `spam`;
//! - `category`: the exact category;
//! - `verdict`: `allow`, `flag` or `block`;
//! - `sender`: the sender id;
//! - `hits`: rule ids that must fire (comma-separated); `no_hits`: rule ids that must not;
//! - `reputation`: the reputation of the first link (`malicious`, `suspicious`, ...).
//!
//! Unknown parameters are an error. Every failing case of a file is reported, with the rules
//! that fired and the ones expected.

use std::path::Path;

use smishd::{Engine, Message};

struct Case {
    line: usize,
    params: Vec<(String, String)>,
    text: String,
}

const KNOWN: &[&str] = &[
    "expect",
    "category",
    "verdict",
    "sender",
    "hits",
    "no_hits",
    "reputation",
];

fn parse(path: &Path) -> Vec<Case> {
    let content = std::fs::read_to_string(path).unwrap();
    let mut cases = Vec::new();
    for (block_start, block) in split_cases(&content) {
        let (head, body) = block.split_once("\n\n").unwrap_or_else(|| {
            panic!(
                "{}:{block_start}: a case needs parameters, a blank line, then the message",
                path.display()
            )
        });
        let mut params = Vec::new();
        for (i, line) in head.lines().enumerate() {
            let (k, v) = line.split_once(':').unwrap_or_else(|| {
                panic!(
                    "{}:{}: expected `name: value`",
                    path.display(),
                    block_start + i
                )
            });
            let k = k.trim();
            assert!(
                KNOWN.contains(&k),
                "{}:{}: unknown parameter {k:?}",
                path.display(),
                block_start + i
            );
            params.push((k.to_string(), v.trim().to_string()));
        }
        let text = body.trim_end_matches('\n').to_string();
        assert!(
            !text.is_empty(),
            "{}:{block_start}: empty message",
            path.display()
        );
        cases.push(Case {
            line: block_start,
            params,
            text,
        });
    }
    cases
}

/// Splits a fixture file at `---` lines; yields (first line number, block).
fn split_cases(content: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut block = String::new();
    let mut start = 1;
    for (i, line) in content.lines().enumerate() {
        if line.trim() == "---" {
            if !block.trim().is_empty() {
                out.push((start, block.trim_start_matches('\n').to_string()));
            }
            block.clear();
            start = i + 2;
        } else if !(block.is_empty() && line.starts_with('#')) {
            block.push_str(line);
            block.push('\n');
        } else {
            start = i + 2;
        }
    }
    if !block.trim().is_empty() {
        out.push((start, block.trim_start_matches('\n').to_string()));
    }
    out
}

fn check(engine: &Engine, path: &Path, case: &Case) -> Option<String> {
    let sender = case
        .params
        .iter()
        .find(|(k, _)| k == "sender")
        .map(|(_, v)| v.as_str());
    let v = engine.score(&Message::new(&case.text).with_sender(sender));
    let mut fired: Vec<&str> = v.hits.iter().map(|h| h.rule.as_str()).collect();
    fired.sort_unstable();
    fired.dedup();
    let mut problems = Vec::new();
    for (k, want) in &case.params {
        match k.as_str() {
            "expect" => {
                let ok = match want.as_str() {
                    "fraud" => v.is_fraud(),
                    "not_fraud" => !v.is_fraud(),
                    "spam" => !v.is_fraud() && v.category == smishd::Category::Spam,
                    other => panic!("{}:{}: expect {other:?}", path.display(), case.line),
                };
                if !ok {
                    problems.push(format!("expected {want}"));
                }
            }
            "category" if v.category.as_str() != want => problems.push(format!("category {want}")),
            "verdict" if v.verdict.as_str() != want => problems.push(format!("verdict {want}")),
            "hits" => {
                for id in want.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if !fired.contains(&id) {
                        problems.push(format!("expected hit {id}"));
                    }
                }
            }
            "no_hits" => {
                for id in want.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if fired.contains(&id) {
                        problems.push(format!("unexpected hit {id}"));
                    }
                }
            }
            "reputation" => {
                let got = v
                    .urls
                    .first()
                    .map(|u| u.reputation.as_str())
                    .unwrap_or("no link");
                if got != want {
                    problems.push(format!("reputation {want}, got {got}"));
                }
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "{}:{}: {} — got {} {} score {:.3}, fired [{}]",
        path.display(),
        case.line,
        problems.join("; "),
        v.verdict.as_str(),
        v.category,
        v.score,
        fired.join(", ")
    ))
}

#[test]
fn fixture_messages() {
    let engine = Engine::new().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messages");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for path in &paths {
        for case in parse(path) {
            total += 1;
            failures.extend(check(&engine, path, &case));
        }
    }
    assert!(total > 0, "no fixture cases found in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {total} fixture cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

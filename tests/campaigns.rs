//! `smishd campaigns`: near-duplicate copies of one template become one campaign, unrelated
//! messages do not, and the report shows only masked templates.

use serde_json::Value;

use crate::common::{run, stderr, stdout};

const SURNAMES: [&str; 10] = ["张", "李", "王", "赵", "陈", "刘", "杨", "黄", "周", "吴"];
const GIVEN: [&str; 5] = ["伟", "芳", "秀英", "建国", "小红"];

/// Copy `i` of one parcel-compensation template: a different name, parcel number, amount and
/// link each time, and a few characters changed (verb, punctuation, an inserted word).
pub fn campaign_copy(i: usize) -> (String, String) {
    let name = format!("{}{}", SURNAMES[i % 10], GIVEN[i / 10 % 5]);
    let verb = ["点击", "打开", "登录"][i % 3];
    let comma = if i % 2 == 0 { "，" } else { "," };
    let urgent = if i % 4 == 0 { "尽快" } else { "" };
    let text = format!(
        "【速达物流】{name}先生您好{comma}您的包裹{}因检测阳性已被销毁{comma}请{urgent}{verb}sd-claim{}.top/c{} 申请理赔{}元{comma}24小时内有效。",
        7_300_000 + i * 7919,
        i,
        i * 31 % 97,
        100 + i * 13
    );
    (format!("1390000{:04}", i * 37), text)
}

fn write_jsonl(dir: &tempfile::TempDir, name: &str, records: &[(String, String)]) -> String {
    let path = dir.path().join(name);
    let mut s = String::new();
    for (i, (sender, text)) in records.iter().enumerate() {
        let rec = serde_json::json!({"id": i, "sender": sender, "text": text,
                                     "time": format!("2026-11-30T10:{:02}:00Z", i % 60)});
        s.push_str(&rec.to_string());
        s.push('\n');
    }
    std::fs::write(&path, s).unwrap();
    path.to_string_lossy().into_owned()
}

fn campaigns(path: &str, min_size: &str) -> Vec<Value> {
    let out = run(&[
        "campaigns",
        "--input",
        path,
        "--json",
        "--min-size",
        min_size,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

fn unrelated() -> Vec<String> {
    include_str!("fixtures/campaigns/unrelated.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn fifty_fills_from_fifty_senders_are_one_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let copies: Vec<(String, String)> = (0..50).map(campaign_copy).collect();
    let path = write_jsonl(&dir, "copies.jsonl", &copies);
    let got = campaigns(&path, "2");
    assert_eq!(got.len(), 1, "{got:#?}");
    let c = &got[0];
    assert_eq!(c["size"], 50);
    assert_eq!(c["senders"], 50);
    assert_eq!(c["first_seen"], "2026-11-30T10:00:00Z");
    assert_eq!(c["last_seen"], "2026-11-30T10:49:00Z");
    assert_eq!(c["seen_by"], "time");
    assert_eq!(c["id"].as_str().unwrap().len(), 16);
    let v = &c["verdicts"];
    let total =
        v["allow"].as_u64().unwrap() + v["flag"].as_u64().unwrap() + v["block"].as_u64().unwrap();
    assert_eq!(total, 50);
    // The template keeps what the copies share and none of what they vary.
    let t = c["template"].as_str().unwrap();
    assert!(t.contains("检测阳性已被销毁"), "{t}");
    for (i, (sender, _)) in copies.iter().enumerate() {
        let name = format!("{}{}", SURNAMES[i % 10], GIVEN[i / 10 % 5]);
        assert!(!t.contains(&name), "name {name} in {t}");
        assert!(!t.contains(&sender[..]), "{t}");
        assert!(!t.contains(&format!("sd-claim{i}")), "{t}");
    }
    assert!(!t.chars().any(|c| c.is_ascii_digit()), "a number in {t}");
}

#[test]
fn fifty_unrelated_messages_are_not_a_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let msgs: Vec<(String, String)> = unrelated()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("1380000{i:04}"), t))
        .collect();
    assert_eq!(msgs.len(), 50);
    let path = write_jsonl(&dir, "unrelated.jsonl", &msgs);
    let got = campaigns(&path, "2");
    assert!(got.is_empty(), "{got:#?}");
    // Listed one by one, each is a campaign of one whose text is never shown.
    let single = campaigns(&path, "1");
    assert_eq!(single.len(), 50);
    assert!(single
        .iter()
        .all(|c| c["size"] == 1 && c["template"].is_null()));
}

#[test]
fn a_campaign_among_unrelated_messages_is_found_and_line_numbers_stand_in_for_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.tsv");
    let mut tsv = String::from("sender\ttext\n");
    let others = unrelated();
    for (i, other) in others.iter().enumerate() {
        tsv.push_str(&format!("100{i}\t{other}\n"));
        if i % 5 == 0 {
            tsv.push_str(&format!("200{i}\t{}\n", campaign_copy(i).1));
        }
    }
    std::fs::write(&path, tsv).unwrap();
    let out = run(&[
        "campaigns",
        "--input",
        path.to_str().unwrap(),
        "--min-size",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{table}");
    // size 10, 10 senders, first copy on line 3 (header is line 1), last on line 57.
    assert!(rows[0].trim_start().starts_with("10 "), "{table}");
    assert!(rows[0].contains("line 3 .. 57"), "{table}");
    assert!(stderr(&out).contains("read 60"), "{}", stderr(&out));
}

#[test]
fn the_report_does_not_depend_on_the_number_of_threads() {
    // Enough records for many parallel pieces: campaign copies between unrelated messages.
    let dir = tempfile::tempdir().unwrap();
    let others = unrelated();
    let records: Vec<(String, String)> = (0..3000)
        .map(|i| match i % 3 {
            0 => campaign_copy(i % 200),
            _ => (format!("1{i:010}"), others[i % others.len()].clone()),
        })
        .collect();
    let path = write_jsonl(&dir, "many.jsonl", &records);
    let report = |threads: &str| {
        let out = run(&[
            "campaigns",
            "--input",
            &path,
            "--json",
            "--min-size",
            "1",
            "--threads",
            threads,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let one = report("1");
    assert!(one.lines().count() > 1, "{one}");
    assert_eq!(report("3"), one);
}

/// Whether `svg` is one well-formed element: every tag closed in order, attribute values
/// quoted, no stray `<` or `&` in text.
fn well_formed(svg: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg.trim();
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if text.contains('>')
            || text
                .replace("&amp;", "")
                .replace("&lt;", "")
                .replace("&gt;", "")
                .replace("&quot;", "")
                .contains('&')
        {
            return Err(format!("stray character in text {text:?}"));
        }
        let gt = rest[lt..].find('>').ok_or("unclosed tag")? + lt;
        let tag = &rest[lt + 1..gt];
        if tag.matches('"').count() % 2 != 0 || tag.contains('<') {
            return Err(format!("bad tag <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name) {
                return Err(format!("</{name}> closes the wrong element"));
            }
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().unwrap_or(""));
        }
        rest = &rest[gt + 1..];
        if open.is_empty() && !rest.trim().is_empty() {
            return Err("text after the root element".into());
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {open:?}"))
    }
}

#[test]
fn the_picture_is_a_well_formed_svg_of_ids_and_counts_without_text() {
    let dir = tempfile::tempdir().unwrap();
    let others = unrelated();
    let records: Vec<(String, String)> = (0..400)
        .map(|i| match i % 4 {
            0 => campaign_copy(i),
            1 => (
                format!("1370000{i:04}"),
                format!(
                    "尊敬的会员，您的积分{}分即将过期，请登录jf-{i}.cc兑换礼品，退订回T",
                    i * 7
                ),
            ),
            _ => (format!("1{i:010}"), others[i % others.len()].clone()),
        })
        .collect();
    let path = write_jsonl(&dir, "log.jsonl", &records);
    let svg_path = dir.path().join("sizes.svg");
    let out = run(&[
        "campaigns",
        "--input",
        &path,
        "--json",
        "--svg",
        svg_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(report.len() >= 2, "{report:#?}");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    well_formed(&svg).unwrap_or_else(|e| panic!("{e}:\n{svg}"));
    assert!(svg.starts_with("<svg"), "{svg}");
    // One line a campaign, named by id and size.
    assert_eq!(
        svg.matches("<polyline").count(),
        report.len().min(10),
        "{svg}"
    );
    for c in &report {
        let legend = format!("{} ({})", c["id"].as_str().unwrap(), c["size"]);
        assert!(svg.contains(&legend), "{legend} not in {svg}");
    }
    // No text of any message, template or sender.
    for (sender, text) in &records {
        assert!(!svg.contains(&sender[..]), "sender {sender} in the picture");
        for piece in text.chars().collect::<Vec<_>>().chunks(4) {
            let piece: String = piece.iter().collect();
            if piece.chars().count() == 4 && !piece.is_ascii() {
                assert!(!svg.contains(&piece), "{piece:?} in the picture");
            }
        }
    }
    assert!(!svg.contains("{num}") && !svg.contains('…'));
    // Without --svg no picture, with an unwritable path a clear error.
    let bad = run(&[
        "campaigns",
        "--input",
        &path,
        "--svg",
        "/nonexistent/dir/x.svg",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("cannot write the picture"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn bad_records_are_reported_by_line_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"text\":\"fine message with enough text\"}\nnot json\n{\"id\":1}\n",
    )
    .unwrap();
    let out = run(&["campaigns", "--input", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("line 2: not JSON"), "{err}");
    assert!(err.contains("line 3: no text field"), "{err}");
    assert!(
        err.contains("read 3") && err.contains("rejected 2"),
        "{err}"
    );
    assert!(!err.contains("fine message"), "{err}");
}

const CAMPAIGN_RULE: &str = r#"
[[rule]]
id = "TEST_CLAIM_CAMPAIGN"
category = "positive_parcel"
weight = 3.0
action = "block"
description = "test rule: compensation claims arriving as a campaign"
campaign_min_size = 20
all = [["理赔"]]
hit = ["申请理赔"]
miss = ["已到"]
"#;

/// The daemon: a synthetic campaign mixed into ordinary traffic on one stream. Verdicts name
/// the campaign from the copy that reaches the threshold on, never before and never on the
/// other messages; a rule with `campaign_min_size` counts from then on too; the metrics list
/// the campaign by id with no text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_names_a_campaign_after_the_threshold() {
    use crate::server::{bounded, config, metric, Server};
    use smishd::server::proto::ScoreRequest;

    bounded(async {
        // One rule, which counts only in a campaign of 20 copies or more.
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("VERSION"), "test-campaign").unwrap();
        std::fs::write(rules.path().join("campaign.toml"), CAMPAIGN_RULE).unwrap();
        let mut cfg = config(rules.path());
        cfg.campaigns.window_secs = 600;
        cfg.campaigns.min_size = 20;
        cfg.campaigns.min_senders = 5;
        let server = Server::serving(cfg).await;
        let mut client = server.client().await;
        let others = unrelated();
        let mut requests = Vec::new();
        for i in 0..60 {
            let (sender, text) = if i % 2 == 0 {
                campaign_copy(i / 2)
            } else {
                (
                    format!("1370000{i:04}"),
                    others[i / 2 % others.len()].clone(),
                )
            };
            requests.push(ScoreRequest {
                id: i.to_string(),
                text,
                sender,
            });
        }
        let answers = client
            .score_stream(tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        let answers: Vec<_> = tokio_stream::StreamExt::collect::<Vec<_>>(answers)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(answers.len(), 60);
        let mut id = None;
        for (i, a) in answers.iter().enumerate() {
            let copy = i / 2 + 1;
            // The campaign rule counts from the threshold on, and only on the copies.
            let blocked = a.verdict == "block";
            assert_eq!(
                blocked,
                i % 2 == 0 && copy >= 20,
                "message {i}: {}",
                a.verdict
            );
            match (&a.campaign, i % 2 == 0) {
                (Some(c), true) => {
                    assert!(copy >= 20, "campaign before the threshold at copy {copy}");
                    assert_eq!(c.size as usize, copy);
                    assert!(c.senders as usize >= copy - 2, "{c:?}");
                    assert_eq!(*id.get_or_insert(c.id.clone()), c.id);
                }
                (None, true) => assert!(copy < 20, "no campaign at copy {copy}"),
                (Some(c), false) => panic!("an unrelated message got {c:?}"),
                (None, false) => {}
            }
        }
        let id = id.expect("the campaign was named");
        assert_eq!(id.len(), 16);
        let m = server.scrape().await;
        assert_eq!(
            metric(&m, &format!("smishd_campaign_size{{campaign=\"{id}\"}}")),
            Some(30.0),
            "{m}"
        );
        assert_eq!(metric(&m, "smishd_campaign_signals_total"), Some(11.0));
        assert!(!m.contains("检测") && !m.contains("1390000"), "{m}");
        server.stop().await.unwrap();
    })
    .await
}

/// With campaigns turned off, no verdict carries one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_without_campaigns() {
    use crate::server::{bounded, config, rules_dir, Server};
    use smishd::server::proto::ScoreRequest;

    bounded(async {
        let rules = rules_dir("test-1");
        let mut cfg = config(rules.path());
        cfg.campaigns.enabled = false;
        cfg.campaigns.min_size = 2;
        let server = Server::serving(cfg).await;
        let mut client = server.client().await;
        for i in 0..5 {
            let (sender, text) = campaign_copy(i);
            let r = client
                .score(ScoreRequest {
                    id: String::new(),
                    text,
                    sender,
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(r.campaign, None);
        }
        assert!(!server.scrape().await.contains("smishd_campaign_size"));
        server.stop().await.unwrap();
    })
    .await
}

//! The same message and engine give the same verdict through every face: `smishd score --json`,
//! `smishd rescore`, and the gRPC `Score` call. Messages: the rule set's own examples, links in
//! their tricky forms, and pseudo-random mixes of keyword pieces, separators and invisible
//! characters (a fixed seed, so a failure reproduces).

use std::time::Duration;

use serde_json::{json, Value};
use smishd::server::proto::classifier_client::ClassifierClient;
use smishd::server::proto::ScoreRequest;
use smishd::server::Config;
use tokio::net::TcpListener;
use tonic::transport::Endpoint;

use crate::common::{run, run_with_stdin, stderr};

fn messages() -> Vec<(String, Option<String>)> {
    let engine = smishd::Engine::new().unwrap();
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (i, rule) in engine.rules().rules().iter().enumerate().step_by(4) {
        for text in rule.hit.iter().take(1).chain(rule.miss.iter().take(1)) {
            let sender = (i % 3 == 0).then(|| "13800138000".to_string());
            out.push((text.clone(), sender));
        }
    }
    for t in [
        "【顺丰】您的快件检测阳性已销毁，点击 sf-expresss。com/pei 理赔",
        "请点击abc-health.cn核验，或访问 http://www.gov.cn@evil.top/login",
        "hxxp://jkm-help[.]top 核酸 24小时出结果，加ｖｘ：hs2022",
        "特效药到货，免处方，t.cn/A6xJkM9 下单",
    ] {
        out.push((t.to_string(), Some("1069012345".into())));
    }
    let pieces = [
        "密",
        "接",
        "健康碼",
        "红码",
        "核酸",
        "阳性",
        "快递",
        "理赔",
        "验证码",
        "身份证",
        "ｖｘ",
        "V信",
        " ",
        "*",
        "·",
        "🔥",
        "\u{200B}",
        "。",
        "jkm-help",
        "top",
        "点击",
        "http://",
        "1",
        "x",
    ];
    let mut seed: u64 = 0x5eed;
    for _ in 0..30 {
        let mut s = String::new();
        for _ in 0..12 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        if !s.trim().is_empty() {
            out.push((s, None));
        }
    }
    out
}

/// The fields every face carries, in one comparable form.
fn canonical(v: &Value) -> Value {
    let hits: Vec<Value> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| json!([h["rule"], h["category"], h["start"], h["end"], h["text"]]))
        .collect();
    let urls: Vec<Value> = v["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            json!([
                u["raw"],
                u["start"],
                u["end"],
                u["url"],
                u["host"],
                u["registrable_domain"],
                u["reputation"],
                u["reasons"]
            ])
        })
        .collect();
    json!({
        "verdict": v["verdict"], "category": v["category"],
        "score": (v["score"].as_f64().unwrap() * 10_000.0).round() as i64,
        "hits": hits, "urls": urls, "ruleset": v["ruleset"], "model": v["model"],
    })
}

#[test]
fn score_rescore_and_grpc_agree() {
    let msgs = messages();
    assert!(msgs.len() > 40, "{} messages", msgs.len());

    // score --json, one process per message.
    let from_score: Vec<Value> = msgs
        .iter()
        .map(|(text, sender)| {
            let mut args = vec!["score", "--json"];
            if let Some(s) = sender {
                args.extend(["--sender", s]);
            }
            args.push("-");
            let o = run_with_stdin(&args, text.as_bytes());
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            canonical(&serde_json::from_slice(&o.stdout).unwrap())
        })
        .collect();

    // rescore, all at once.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    let lines: Vec<String> = msgs
        .iter()
        .enumerate()
        .map(|(i, (text, sender))| json!({"id": i, "text": text, "sender": sender}).to_string())
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let o = run(&[
        "rescore",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let from_rescore: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| canonical(&serde_json::from_str(l).unwrap()))
        .collect();

    // gRPC Score against the real server with the compiled-in defaults.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let from_grpc: Vec<Value> = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = Config {
            reload_poll_ms: 0,
            reload_on_sighup: false,
            ..Config::default()
        };
        let server = tokio::spawn(smishd::server::run(listener, None, config, async move {
            let _ = stopped.await;
        }));
        let endpoint = Endpoint::from_shared(format!("http://{addr}")).unwrap();
        let mut client = ClassifierClient::new(endpoint.connect().await.unwrap());
        let mut out = Vec::new();
        for (i, (text, sender)) in msgs.iter().enumerate() {
            let req = ScoreRequest {
                id: i.to_string(),
                text: text.clone(),
                sender: sender.clone().unwrap_or_default(),
            };
            // The engine loads in the background: UNAVAILABLE until then.
            let mut tries = 0;
            let r = loop {
                match client.score(req.clone()).await {
                    Ok(r) => break r.into_inner(),
                    Err(s) if s.code() == tonic::Code::Unavailable && tries < 200 => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(25)).await;
                    }
                    Err(s) => panic!("grpc: {s}"),
                }
            };
            let v = json!({
                "verdict": r.verdict, "category": r.category, "score": r.score,
                "hits": r.hits.iter().map(|h| json!({"rule": h.rule, "category": h.category,
                    "start": h.start, "end": h.end, "text": h.text})).collect::<Vec<_>>(),
                "urls": r.urls.iter().map(|u| json!({"raw": u.raw, "start": u.start,
                    "end": u.end, "url": u.url, "host": u.host,
                    "registrable_domain": u.registrable_domain, "reputation": u.reputation,
                    "reasons": u.reasons})).collect::<Vec<_>>(),
                "ruleset": r.ruleset, "model": r.model,
            });
            out.push(canonical(&v));
        }
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        out
    });

    assert_eq!(from_rescore.len(), msgs.len());
    let mut fraud = 0;
    for (i, (text, _)) in msgs.iter().enumerate() {
        assert_eq!(
            from_score[i], from_rescore[i],
            "score vs rescore for {text:?}"
        );
        assert_eq!(from_score[i], from_grpc[i], "score vs grpc for {text:?}");
        fraud += usize::from(from_score[i]["verdict"] != "allow");
    }
    // The set must exercise both answers, or agreement proves little.
    assert!(
        fraud > 5 && fraud < msgs.len() - 5,
        "{fraud} of {} not allowed",
        msgs.len()
    );
}

//! The linear model: file round trip, loader refusals, and train -> score -> eval through the
//! real binary on a small set written here.

use std::fs;
use std::path::Path;

use smishd::model::{Header, Model, ModelFile, Source, Weight};
use smishd::{Category, Engine, Message};

use crate::common::{run, stderr, stdout};

fn sample_file() -> ModelFile {
    ModelFile {
        header: Header {
            model_version: "test-1".into(),
            selected_ngrams: 2,
            sources: vec![Source {
                name: "own.tsv".into(),
                rows: 12,
                licence: "written for this test | with a bar".into(),
            }],
            training: vec!["by hand".into()],
            validation: vec!["none precision 1".into()],
        },
        bias: [1.0, -0.5, -2.0, -2.0, -2.0, -2.0, -1.0],
        weights: vec![
            Weight {
                id: 17,
                w: [0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 1.5],
                name: None,
            },
            Weight {
                id: smishd::features::signal_id("rule:", "RED_CODE_THREAT"),
                w: [-1.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0],
                name: Some("rule:RED_CODE_THREAT".into()),
            },
        ],
    }
}

#[test]
fn model_file_round_trips() {
    let file = sample_file();
    let text = file.write();
    let back = ModelFile::parse(&text, "test").expect("parses");
    assert_eq!(back, file);
    let model = Model::parse(&text, "test").unwrap();
    assert_eq!(model.version(), "test-1");
    // Feature 17 present: generic_fraud logit 1.5 - 1.0 = 0.5 above the bias.
    let with = model.predict_features(&[17]);
    let without = model.predict_features(&[18]);
    assert!(with[Category::GenericFraud.index()] > without[Category::GenericFraud.index()]);
    assert!((with.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

fn refusal(text: &str) -> String {
    ModelFile::parse(text, "m.model").unwrap_err().to_string()
}

#[test]
fn loader_refuses_mismatches_precisely() {
    let good = sample_file().write();
    let e = refusal(&good.replace("schema = smishd-features-v3", "schema = smishd-features-v1"));
    assert!(e.contains("feature schema \"smishd-features-v1\""), "{e}");
    assert!(e.contains("smishd-features-v3"), "{e}");
    let e = refusal(&good.replacen("smishd-model 1", "smishd-model 2", 1));
    assert!(e.contains("format version \"2\""), "{e}");
    let e = refusal(&good.replacen("smishd-model 1", "other-thing 1", 1));
    assert!(e.contains("not a smishd model file"), "{e}");
    let e = refusal(&good.replace("hash_bits = 20", "hash_bits = 22"));
    assert!(e.contains("hash_bits"), "{e}");
    let e = refusal(&good.replace(" spam close_contact", " close_contact"));
    assert!(e.contains("class list"), "{e}");
    let e = refusal(&good.replace("weights = 2", "weights = 3"));
    assert!(e.contains("truncated"), "{e}");
    let e = refusal(&good.replace("\n17 0 0.25", "\n17 0 zz"));
    assert!(e.contains("not a finite number"), "{e}");
    assert!(e.starts_with("m.model: line "), "{e}");
}

#[test]
fn compiled_in_model_loads_and_scores() {
    let engine = Engine::new().expect("default engine");
    assert_ne!(engine.model_version(), "rules-only");
    let v = engine.score(&Message::new("今天晚上一起吃饭吗"));
    assert!((0.0..=1.0).contains(&v.score));
    let p = engine.probabilities(&engine.analyze(&Message::new("你好")));
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

/// A small labelled set in three clear styles, 60 texts each, written for this test.
fn write_set(path: &Path) {
    let mut s = String::from("label\ttext\n");
    let places = ["北京", "上海", "广州", "深圳", "杭州", "成都"];
    for i in 0..60 {
        let p = places[i % places.len()];
        s.push_str(&format!(
            "fraud\t【{p}银行】您的账户存在异常登录第{i}次，请立即点击链接验证身份并输入密码，否则账户将被冻结\n"
        ));
        s.push_str(&format!(
            "ham\t妈妈我今天{i}点下班，{p}这边下雨了，晚饭不用等我，明天再回家吃饭\n"
        ));
        s.push_str(&format!(
            "spam\t{p}新店开业全场{i}折优惠，会员积分翻倍，欢迎光临选购，退订回T\n"
        ));
    }
    s.push_str("IL:Gambling\t这一行的标签不认识\n");
    s.push_str("this line has no tab\n");
    let mut bytes = s.into_bytes();
    bytes.extend_from_slice(b"spam\t\xff\xfe broken\n");
    fs::write(path, bytes).unwrap();
}

#[test]
fn train_then_score_then_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("set.tsv");
    let model = dir.path().join("m.model");
    write_set(&data);
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());

    let out = run(&[
        "train",
        "--data",
        d,
        "--out",
        m,
        "--ngrams",
        "300",
        "--iterations",
        "60",
        "--model-version",
        "t-1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("precision"), "{}", stdout(&out));
    let loaded = Model::from_file(&model).expect("trained model loads");
    assert_eq!(loaded.version(), "t-1");
    assert!(fs::read_to_string(&model)
        .unwrap()
        .contains("source = set.tsv |"));

    let score = |text: &str| -> f64 {
        let o = run(&["score", "--json", "--model", m, text]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let model = v["model"].as_str().unwrap();
        assert!(model.starts_with("t-1+"), "{model}");
        v["score"].as_f64().unwrap()
    };
    let fraud = score("【南京银行】您的账户存在异常登录，请立即点击链接验证身份");
    let ham = score("妈妈我今天晚点下班，晚饭不用等我");
    assert!(fraud > 0.5 && ham < 0.5, "fraud {fraud} ham {ham}");

    let svg = dir.path().join("pr.svg");
    let o = run(&[
        "eval",
        "--json",
        "--model",
        m,
        "--data",
        d,
        "--plot",
        svg.to_str().unwrap(),
    ]);
    // The two bad lines make it exit 1, as rejected records do for rescore; figures still come.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("line 183: no tab"), "{err}");
    assert!(err.contains("line 184: invalid UTF-8"), "{err}");
    assert!(err.contains("unknown label \"IL:Gambling\""), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let total = &v["total"];
    assert_eq!(total["rows"], 180);
    assert!(total["detection_rate"].as_f64().unwrap() > 0.9, "{total}");
    assert!(
        total["legit_false_positive_rate"].as_f64().unwrap() < 0.1,
        "{total}"
    );
    assert!(fs::read_to_string(&svg).unwrap().starts_with("<svg"));

    // Holdout keeps only the validation split: fewer rows, about a fifth.
    let o = run(&["eval", "--json", "--holdout", "--model", m, "--data", d]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let held = v["total"]["rows"].as_u64().unwrap();
    assert!(held > 10 && held < 70, "{held}");

    // Text report with --show prints the worst cases' sections.
    let o = run(&["eval", "--show", "2", "--model", m, "--data", d]);
    assert!(stdout(&o).contains("threshold sweep"));
    assert!(stdout(&o).contains("worst false negatives"));
}

#[test]
fn eval_exits_2_on_unreadable_file() {
    let o = run(&["eval", "--data", "/nonexistent/smishd/eval.tsv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/smishd/eval.tsv"));
    let o = run(&[
        "train",
        "--data",
        "/nonexistent/x.tsv",
        "--out",
        "/tmp/never.model",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

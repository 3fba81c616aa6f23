//! The shipped rule set (rules/): its examples pass with the rules-only scorer, it is clean of
//! lint findings, and every scam keeps the example coverage promised in rules/README.md.

use crate::common::{run, stdout};
use smishd::engine::{Engine, Message};
use smishd::rules::{CaseExpect, RuleSet};
use smishd::Category;

fn shipped() -> RuleSet {
    RuleSet::from_dir(&crate::common::rules_dir()).expect("shipped rules compile")
}

#[test]
fn shipped_examples_pass_with_rules_only() {
    let dir = crate::common::rules_dir();
    let o = run(&["rules", "test", dir.to_str().unwrap(), "--model", "none"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(" 0 failed"), "{}", stdout(&o));
}

#[test]
fn shipped_rules_have_no_lint_warnings() {
    let set = shipped();
    let warnings: Vec<String> = set.warnings().iter().map(|w| w.to_string()).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}

#[test]
fn every_scam_has_enough_examples_and_cases() {
    let set = shipped();
    let scams = [
        Category::CloseContactRedCode,
        Category::PositiveParcel,
        Category::PaidFastTest,
        Category::MiracleDrug,
    ];
    for scam in scams {
        let rules = set.rules().iter().filter(|r| r.category == scam);
        let (hit, miss) = rules.fold((0, 0), |(h, m), r| (h + r.hit.len(), m + r.miss.len()));
        assert!(hit >= 15, "{scam}: {hit} hit examples");
        assert!(miss >= 10, "{scam}: {miss} miss examples");
        // Cases live in the scam's own file (the one with most of its rules; english.toml
        // holds a few of every scam's); count those that expect this scam or fraud, and the
        // not-fraud ones of the same file.
        let mut files = std::collections::BTreeMap::<String, usize>::new();
        for r in set.rules().iter().filter(|r| r.category == scam) {
            *files
                .entry(r.location.split(':').next().unwrap().to_string())
                .or_default() += 1;
        }
        let file = files
            .into_iter()
            .max_by_key(|&(_, n)| n)
            .map(|(f, _)| f)
            .unwrap();
        let cases: Vec<_> = set
            .cases()
            .iter()
            .filter(|c| c.location.starts_with(&format!("{file}:")))
            .collect();
        let fraud = cases
            .iter()
            .filter(|c| matches!(c.expect, CaseExpect::Fraud | CaseExpect::Category(_)))
            .count();
        let not_fraud = cases
            .iter()
            .filter(|c| c.expect == CaseExpect::NotFraud)
            .count();
        assert!(
            fraud >= 30 && not_fraud >= 30,
            "{file}: {fraud} fraud / {not_fraud} not-fraud cases"
        );
    }
}

#[test]
fn a_warning_quoting_every_keyword_is_not_fraud_but_the_scam_is() {
    let engine = Engine::builder()
        .rules_dir(crate::common::rules_dir())
        .without_model()
        .build()
        .unwrap();
    let scam =
        "您被判定为密接，健康码将转红码，请加ｖｘ提供身份证号、银行卡号和验证码，并转账到安全账户";
    let v = engine.score(&Message::new(scam));
    assert!(v.is_fraud(), "{v:?}");
    let warning = format!("【公安反诈提醒】警惕！有人称“{scam}”，这些都是诈骗，请拨打96110。");
    let v = engine.score(&Message::new(&warning));
    assert!(!v.is_fraud(), "{v:?}");
    // One signal alone never flags.
    let v = engine.score(&Message::new("请提供您的身份证号"));
    assert!(!v.is_fraud(), "{v:?}");
}

/// Warnings repeat the scam's words; the shipped scope lexicons keep them from counting. The
/// verdict is checked with rule evidence alone (the model's n-grams are retrained separately);
/// with the shipped model the scam rules are still reported as negated.
#[test]
fn shipped_warnings_that_negate_or_quote_the_scam_pass() {
    let texts = [
        "工作人员不会要求您提供银行卡号或验证码",
        "【中通快递】提醒：近期有不法分子冒充快递客服称“包裹检测阳性可理赔”，请勿相信。",
        "疾控中心提醒：不法分子冒充流调人员，谎称“您是密接，健康码将变红，请提供身份证号核验”。",
    ];
    let rules_only = Engine::builder().without_model().build().unwrap();
    let shipped = Engine::new().unwrap();
    for text in texts {
        let v = rules_only.score(&Message::new(text));
        assert!(!v.is_fraud(), "{text:?}: {v:?}");
        for v in [v, shipped.score(&Message::new(text))] {
            assert!(v.hits.iter().any(|h| h.negated), "{text:?}: {:?}", v.hits);
            assert!(
                v.hits
                    .iter()
                    .all(|h| h.negated || !h.category.is_fraud() || h.weight < 1.0),
                "only weak signals may count: {text:?}: {:?}",
                v.hits
            );
        }
    }
}

/// A warning that quotes the scam must look different to the model from the scam itself: a
/// rule fired only through negated keywords becomes a `negated:` signal, never a `rule:` one.
#[test]
fn negated_rules_reach_the_model_as_their_own_signals() {
    let engine = Engine::builder().without_model().build().unwrap();
    let signals = |text: &str| {
        let analysis = engine.analyze(&Message::new(text));
        let mut out = Vec::new();
        smishd::features::visit_signals(engine.rules(), &analysis, &mut |p, n| {
            out.push(format!("{p}{n}"))
        });
        out
    };
    let warning = signals("工作人员不会要求您提供银行卡号或验证码，请勿相信。");
    assert!(
        warning.iter().any(|s| s.starts_with("negated:")),
        "{warning:?}"
    );
    assert!(
        warning.iter().any(|s| s.starts_with("negated_category:")),
        "{warning:?}"
    );
    let scam = signals("请立即提供您的银行卡号和验证码");
    assert!(!scam.iter().any(|s| s.starts_with("negated")), "{scam:?}");
}

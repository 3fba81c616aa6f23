//! Claimed identity against the link (links/identity.rs, rules/domains/identities.txt): a
//! message that claims an organisation and links elsewhere, with the compiled-in data.

use std::sync::OnceLock;

use smishd::links::{LinkAnalyzer, Reputation};
use smishd::{Engine, Message};

fn analyzer() -> &'static LinkAnalyzer {
    static A: OnceLock<LinkAnalyzer> = OnceLock::new();
    A.get_or_init(|| LinkAnalyzer::new().expect("compiled-in link lists load"))
}

/// `i!(name, "text", "identity reason or empty", reputation)`: the first link's identity
/// reason (`IDENTITY_MATCH`, `IDENTITY_MISMATCH`, or none) and its reputation.
macro_rules! i {
    ($name:ident, $text:expr, $reason:expr, $rep:expr) => {
        #[test]
        fn $name() {
            let text: &str = $text;
            let urls = analyzer().find(text);
            assert!(!urls.is_empty(), "no link in {text:?}");
            let reason = urls[0]
                .reasons
                .iter()
                .find(|r| r.starts_with("IDENTITY_"))
                .copied()
                .unwrap_or("");
            assert_eq!(
                (reason, urls[0].reputation),
                ($reason, $rep),
                "{text:?}: {urls:?}"
            );
        }
    };
}

i!(
    etc_tag_with_a_foreign_link,
    "【粤通卡】您的通行卡已暂停服务，点击 ytk-fw.cn 完成实名校验后恢复。",
    "IDENTITY_MISMATCH",
    Reputation::Suspicious
);
i!(
    vehicle_office_with_a_foreign_link,
    "【车管服务】您的电子行驶证已过期失效，请于今日内前往 xsz-yq.cn 重新核验。",
    "IDENTITY_MISMATCH",
    Reputation::Suspicious
);
i!(
    carrier_short_link_on_its_own_domain,
    "【中国联通】流量月包限时五折，立即办理 u.10010.cn/aB3dE 回复TD退订",
    "IDENTITY_MATCH",
    Reputation::Trusted
);
i!(
    shop_on_its_other_domain,
    "【京东】您的订单已发货，物流详情见 https://www.jingdong.com/",
    "IDENTITY_MATCH",
    Reputation::Trusted
);
i!(
    mismatch_on_a_host_under_no_suffix_stays_suspicious,
    "【中国银行】您的账户有一笔入账，详情登录 http://www.zx4q9kw7bxr-portal/login",
    "IDENTITY_MISMATCH",
    Reputation::Suspicious
);
i!(
    mismatch_and_a_suspicious_tld_is_malicious,
    "【疾控中心】您的健康码异常，请登录 jkm-check.top 申诉",
    "IDENTITY_MISMATCH",
    Reputation::Malicious
);
i!(
    mismatch_and_a_hidden_dot_is_malicious,
    "医保账户异常，请访问 nhsa-yb。cn 处理",
    "IDENTITY_MISMATCH",
    Reputation::Malicious
);
i!(
    authority_on_gov_cn_matches,
    "【医保局】电子医保凭证激活指南：https://www.nhsa.gov.cn/guide",
    "IDENTITY_MATCH",
    Reputation::Trusted
);
i!(
    carrier_on_its_own_domain_matches,
    "【中国移动】您本月账单已出，详情 http://dx.10086.cn/a",
    "IDENTITY_MATCH",
    Reputation::Trusted
);
i!(
    courier_on_its_own_domain_matches,
    "【顺丰速运】快件已签收，点击 sf-express.com/t 评价",
    "IDENTITY_MATCH",
    Reputation::Trusted
);
i!(
    no_claim_no_identity_reason,
    "周末聚会地址见 abc-party.cn",
    "",
    Reputation::Unknown
);
i!(
    a_shortener_cannot_be_judged,
    "【中国移动】流量包到账，详情 t.cn/A6x",
    "",
    Reputation::Suspicious
);
i!(
    a_trusted_third_party_is_no_mismatch,
    "【工商银行】活动详情见 https://www.baidu.com/s",
    "",
    Reputation::Trusted
);

#[test]
fn the_identity_reasons_reach_the_verdict_and_the_rules_only_score() {
    let engine = Engine::builder().without_model().build().unwrap();
    let text = "【粤通卡】您的通行卡已暂停服务，点击 ytk-fw.cn 完成实名校验后恢复。";
    let v = engine.score(&Message::new(text));
    assert!(v.urls[0].reasons.contains(&"IDENTITY_MISMATCH"), "{v:?}");
    assert!(
        v.is_fraud(),
        "a claimed identity with a foreign link is flagged: {v:?}"
    );
    let genuine = "【中国移动】您本月账单已出，详情 http://dx.10086.cn/a";
    assert!(!engine.score(&Message::new(genuine)).is_fraud());
}

#[test]
fn identities_from_a_rules_directory_replace_the_compiled_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let domains = dir.path().join("domains");
    std::fs::create_dir(&domains).unwrap();
    std::fs::write(
        domains.join("identities.txt"),
        "# only one organisation\nexample_bank example-bank.cn 示例银行\n",
    )
    .unwrap();
    let a = LinkAnalyzer::from_dir(dir.path()).unwrap();
    let own = a.find("【示例银行】账单 example-bank.cn/a");
    assert!(own[0].reasons.contains(&"IDENTITY_MATCH"), "{own:?}");
    let foreign = a.find("【示例银行】账单 other-site.cn/a");
    assert!(
        foreign[0].reasons.contains(&"IDENTITY_MISMATCH"),
        "{foreign:?}"
    );
    // The compiled-in organisations are gone with the file replaced.
    let etc = a.find("【粤通卡】点击 ytk-fw.cn");
    assert!(
        !etc[0].reasons.iter().any(|r| r.starts_with("IDENTITY_")),
        "{etc:?}"
    );

    std::fs::write(domains.join("identities.txt"), "broken gov.cn\n").unwrap();
    let e = LinkAnalyzer::from_dir(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("identities.txt:1") && e.contains("needs words"),
        "{e}"
    );
}

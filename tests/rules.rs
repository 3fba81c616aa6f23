//! Rule compilation and matching through the library API, on rule sets written here.

use smishd::normalize::normalize;
use smishd::rules::{RuleSet, RuleSource};

fn set(files: &[(&str, &str)]) -> smishd::Result<RuleSet> {
    let sources: Vec<RuleSource> = files
        .iter()
        .map(|(n, c)| RuleSource {
            name: n.to_string(),
            content: c.to_string(),
        })
        .collect();
    RuleSet::from_sources("test-1", &sources)
}

const SET: &str = r#"
[[rule]]
id = "RED_CODE"
category = "close_contact_red_code"
weight = 3.0
description = "close contact plus code colour"
all = [["密接", "时空伴随"], ["红码", "黄码"]]
none = ["谨防"]
hit = ["你是密接，将赋红码"]

[[rule]]
id = "ANY_CODE"
category = "generic_fraud"
weight = 1.0
description = "asks for a verification code"
any = ["验证码", "verification code"]

[[rule]]
id = "WARNING"
category = "none"
weight = -3.0
description = "anti-fraud warning wording"
any = ["谨防", "do not click"]
"#;

/// `t!(name, "message", &[("RULE", "original substring"), ...])`: exactly these rules fire,
/// and each listed substring is one of the rule's hit spans in the original text.
macro_rules! t {
    ($name:ident, $text:expr, $expected:expr) => {
        #[test]
        fn $name() {
            let rules = set(&[("set.toml", SET)]).unwrap();
            let text: &str = $text;
            let n = normalize(text);
            let fired = rules.find(text, &n).fired;
            let mut got: Vec<(String, Vec<String>)> = fired
                .iter()
                .map(|f| {
                    let spans = f
                        .matches
                        .iter()
                        .map(|m| text[n.original_span(m.span.widen()).range()].to_string())
                        .collect();
                    (rules.rule(f.rule).id.clone(), spans)
                })
                .collect();
            got.sort();
            let expected: &[(&str, &str)] = $expected;
            let fired_ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
            let mut want_ids: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
            want_ids.sort();
            want_ids.dedup();
            assert_eq!(fired_ids, want_ids, "fired rules for {text:?}: {got:?}");
            for (id, span) in expected {
                let spans = &got.iter().find(|(g, _)| g == id).unwrap().1;
                assert!(
                    spans.iter().any(|s| s == span),
                    "{id}: {span:?} not in {spans:?}"
                );
            }
        }
    };
}

t!(
    all_groups_fire,
    "你已成为密接人员，将被赋红码",
    &[("RED_CODE", "密接"), ("RED_CODE", "红码")]
);
t!(one_group_missing, "你已成为密接人员", &[]);
t!(
    obfuscated_spans_cover_the_separators,
    "你是密 * 接，健康碼变紅碼",
    &[("RED_CODE", "密 * 接"), ("RED_CODE", "紅碼")]
);
t!(
    none_keyword_vetoes,
    "谨防自称密接赋红码的诈骗",
    &[("WARNING", "谨防")]
);
t!(any_group, "请提供验证码", &[("ANY_CODE", "验证码")]);
t!(
    ascii_keyword_at_word_boundary,
    "Send the Verification Code now",
    &[("ANY_CODE", "Verification Code")]
);
t!(ascii_keyword_not_inside_word, "preverification codes", &[]);
t!(
    full_width_ascii_keyword,
    "ｄｏ ｎｏｔ ｃｌｉｃｋ",
    &[("WARNING", "ｄｏ ｎｏｔ ｃｌｉｃｋ")]
);
t!(nothing_in_plain_text, "今天天气不错", &[]);

#[test]
fn every_error_of_every_file_is_reported_with_file_and_line() {
    let a = "[[rule]]\nid = \"lower_case\"\ncategory = \"generic_fraud\"\nweight = 1.0\ndescription = \"x\"\nany = [\"a\"]\n";
    let b = "\n\n[[rule]]\nid = \"NO_KEYWORDS\"\ncategory = \"nope\"\ndescription = \"\"\n";
    let c = "[[rule]\nbroken";
    let err = set(&[("a.toml", a), ("b.toml", b), ("c.toml", c)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a.toml:1") && err.contains("SCREAMING_SNAKE"),
        "{err}"
    );
    assert!(
        err.contains("b.toml:3") && err.contains("unknown category \"nope\""),
        "{err}"
    );
    assert!(err.contains("no keywords"), "{err}");
    assert!(err.contains("neither a weight nor an action"), "{err}");
    assert!(err.contains("description is empty"), "{err}");
    assert!(err.contains("c.toml:1"), "{err}");
}

#[test]
fn a_rule_with_more_keyword_groups_than_the_matcher_holds_is_an_error() {
    let groups = |n: usize| {
        let all: Vec<String> = (0..n).map(|i| format!("[\"词{i}\"]")).collect();
        format!(
            "[[rule]]\nid = \"MANY\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nall = [{}]\n",
            all.join(", ")
        )
    };
    let err = set(&[("many.toml", &groups(33))]).unwrap_err().to_string();
    assert!(err.contains("more than 32 keyword groups"), "{err}");
    // 32 groups still compile, and the rule fires only when every group is present.
    let rules = set(&[("many.toml", &groups(32))]).unwrap();
    let every: String = (0..32).map(|i| format!("词{i} ")).collect();
    assert!(rules.fires(0, &every));
    assert!(!rules.fires(0, every.replace("词31", "").as_str()));
}

#[test]
fn duplicate_rule_ids_across_files_are_an_error() {
    let r = "[[rule]]\nid = \"SAME\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nany = [\"促销\"]\n";
    let err = set(&[("a.toml", r), ("b.toml", r)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("duplicate rule id") && err.contains("a.toml:1"),
        "{err}"
    );
}

#[test]
fn unknown_fields_are_an_error() {
    let r = "[[rule]]\nid = \"X\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nany = [\"促销\"]\nwieght = 2\n";
    let err = set(&[("a.toml", r)]).unwrap_err().to_string();
    assert!(err.contains("wieght"), "{err}");
}

#[test]
fn lint_finds_duplicate_and_shadowed_keywords() {
    let r = "[[rule]]\nid = \"X\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nany = [\"促销\", \"促銷\", \"促销活动\"]\nhit = [\"促销\"]\n";
    let rules = set(&[("a.toml", r)]).unwrap();
    let w: Vec<String> = rules.warnings().iter().map(|d| d.to_string()).collect();
    assert!(
        w.iter().any(|m| m.contains("duplicate keyword \"促销\"")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|m| m.contains("\"促销活动\" in `any` is shadowed by \"促销\"")),
        "{w:?}"
    );
}

#[test]
fn block_action_needs_a_fraud_category() {
    let r = "[[rule]]\nid = \"X\"\ncategory = \"spam\"\naction = \"block\"\ndescription = \"x\"\nany = [\"促销\"]\n";
    let err = set(&[("a.toml", r)]).unwrap_err().to_string();
    assert!(err.contains("block action needs a fraud category"), "{err}");
}

const LEXICONS: &str = r#"
[lexicon.pay]
description = "payment"
words = ["转账", "付款", "@wallet"]

[lexicon.wallet]
description = "wallets"
words = ["支付宝", "微信支付"]

[lexicon.warn]
description = "warning markers"
words = ["谨防", "是诈骗"]
"#;

const USES: &str = r#"
[[rule]]
id = "PARCEL_PAY"
category = "positive_parcel"
weight = 3.0
description = "parcel compensation and a payment"
all = [["理赔"], ["@pay"]]
none = ["@warn"]
hit = ["理赔请先用支付宝转账"]
"#;

#[test]
fn lexicons_expand_across_files_and_nest() {
    let rules = set(&[("lex.toml", LEXICONS), ("uses.toml", USES)]).unwrap();
    let id = rules.rule_index("PARCEL_PAY").unwrap();
    assert!(rules.fires(id, "包裹理赔，请先转账"));
    assert!(rules.fires(id, "包裹理赔，用微信支付"), "nested lexicon");
    assert!(!rules.fires(id, "包裹理赔"));
    assert!(!rules.fires(id, "谨防包裹理赔转账"), "none lexicon");
    assert_eq!(rules.lexicons(), ["pay", "wallet", "warn"]);
    assert!(rules.warnings().is_empty(), "{:?}", rules.warnings());
}

#[test]
fn unknown_lexicon_is_an_error_at_the_reference_line() {
    let r = "[[rule]]\nid = \"X\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nany = [\n  \"促销\",\n  \"@sale\",\n]\n";
    let err = set(&[("a.toml", r)]).unwrap_err().to_string();
    assert!(
        err.contains("rule X in a.toml:8: unknown lexicon @sale"),
        "{err}"
    );
}

#[test]
fn unused_lexicon_is_a_warning_at_its_definition() {
    let lex = "\n[lexicon.spare]\ndescription = \"never used\"\nwords = [\"x\"]\n";
    let rules = set(&[("lex.toml", lex), ("set.toml", SET)]).unwrap();
    let w: Vec<String> = rules.warnings().iter().map(|d| d.to_string()).collect();
    assert!(
        w.iter()
            .any(|m| m == "lex.toml:2: lexicon @spare is never used"),
        "{w:?}"
    );
}

#[test]
fn lexicon_cycles_duplicates_and_bad_names_are_errors() {
    let a = "[lexicon.a]\ndescription = \"a\"\nwords = [\"@b\"]\n[lexicon.b]\ndescription = \"b\"\nwords = [\"@a\"]\n[lexicon.Bad]\ndescription = \"c\"\nwords = [\"x\"]\n";
    let b = "[lexicon.a]\ndescription = \"again\"\nwords = [\"y\"]\n";
    let r = "[[rule]]\nid = \"X\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nany = [\"@a\"]\n";
    let err = set(&[("a.toml", a), ("b.toml", b), ("r.toml", r)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("refers to itself"), "{err}");
    assert!(
        err.contains("b.toml:1: lexicon @a: defined twice, first at a.toml:1"),
        "{err}"
    );
    assert!(
        err.contains("lexicon @Bad: name is not lower_snake_case"),
        "{err}"
    );
}

#[test]
fn lexicon_words_are_linted_once_at_the_lexicon() {
    let lex = "[lexicon.pay]\ndescription = \"p\"\nwords = [\"转账\", \"转账到\"]\n";
    let r = "[[rule]]\nid = \"X\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"x\"\nany = [\"@pay\"]\nhit = [\"转账\"]\n[[rule]]\nid = \"Y\"\ncategory = \"spam\"\nweight = 1.0\ndescription = \"y\"\nany = [\"@pay\", \"转账\"]\nhit = [\"转账\"]\n";
    let rules = set(&[("lex.toml", lex), ("r.toml", r)]).unwrap();
    let w: Vec<String> = rules.warnings().iter().map(|d| d.to_string()).collect();
    let shadowed = w.iter().filter(|m| m.contains("shadowed")).count();
    assert_eq!(
        shadowed, 2,
        "once at the lexicon, once for Y's own 转账: {w:?}"
    );
    assert!(
        w.iter()
            .any(|m| m.starts_with("lex.toml:1: lexicon @pay: keyword \"转账到\" in `words`")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|m| m.starts_with("rule Y in r.toml:8")),
        "{w:?}"
    );
}

/// A rule set with the scope lexicons and a `<num>` keyword, for negation and number tests.
const SCOPED: &str = r#"
[lexicon.negation]
description = "forward cues"
words = ["不会", "请勿", "不要", "无需缴纳"]

[lexicon.negation_after]
description = "backward cues"
words = ["是诈骗"]

[lexicon.quote_warning]
description = "warning markers"
words = ["冒充", "不法分子"]

[[rule]]
id = "ASK_CODE"
category = "generic_fraud"
weight = 1.2
description = "asks for a code"
all = [["验证码", "卡号"], ["提供", "告诉", "发给"]]

[[rule]]
id = "PARCEL_CLAIM"
category = "positive_parcel"
weight = 3.0
description = "parcel positive, compensation"
all = [["阳性"], ["理赔"]]

[[rule]]
id = "SECRECY"
category = "generic_fraud"
weight = 1.0
description = "demands secrecy"
any = ["不要告诉家人"]

[[rule]]
id = "NEVER_ASK"
category = "none"
weight = -3.0
description = "real notice: we never ask"
any = ["不会要求"]

[[rule]]
id = "FEE"
category = "generic_fraud"
weight = 1.0
description = "asks for a fee"
any = ["缴纳"]

[[rule]]
id = "RELEASED"
category = "none"
weight = -2.0
description = "real notice: the quarantine is over, unless a fee is asked for"
any = ["隔离期满"]
none = ["缴纳"]

[[rule]]
id = "FAST_RESULT"
category = "paid_fast_test"
weight = 2.5
description = "a result in some hours or minutes"
all = [["核酸"], ["<num>小时出", "<num>分钟出"]]
"#;

/// `n!(name, text, &[("RULE", negated?)])`: exactly these rules come out (counted or negated).
macro_rules! n {
    ($name:ident, $text:expr, $expected:expr) => {
        #[test]
        fn $name() {
            let rules = set(&[("scoped.toml", SCOPED)]).unwrap();
            let text: &str = $text;
            let found = rules.find(text, &normalize(text));
            let mut got: Vec<(String, bool)> = found
                .fired
                .iter()
                .map(|f| (rules.rule(f.rule).id.clone(), false))
                .chain(
                    found
                        .negated
                        .iter()
                        .map(|f| (rules.rule(f.rule).id.clone(), true)),
                )
                .collect();
            got.sort();
            let mut want: Vec<(String, bool)> = $expected
                .iter()
                .map(|(r, n): &(&str, bool)| (r.to_string(), *n))
                .collect();
            want.sort();
            assert_eq!(got, want, "{text:?}");
        }
    };
}

n!(request_counts, "请提供验证码", &[("ASK_CODE", false)]);
n!(
    never_ask_negates_the_request,
    "工作人员不会要求您提供银行卡号或验证码",
    &[("ASK_CODE", true), ("NEVER_ASK", false)]
);
n!(
    scope_ends_at_the_comma,
    "请勿外传，请提供验证码",
    &[("ASK_CODE", false)]
);
n!(
    scope_ends_at_the_full_stop,
    "不要慌。请把验证码发给我",
    &[("ASK_CODE", false)]
);
n!(
    enumeration_stays_in_scope,
    "我们不会让您提供卡号、验证码",
    &[("ASK_CODE", true)]
);
n!(
    one_keyword_outside_the_scope_is_not_enough,
    "验证码已发送，请勿提供给他人",
    &[("ASK_CODE", true)]
);
n!(
    both_outside_and_inside_counts,
    "请提供验证码。不要提供卡号",
    &[("ASK_CODE", false)]
);
n!(
    backward_cue,
    "包裹阳性可理赔是诈骗",
    &[("PARCEL_CLAIM", true)]
);
n!(
    quoted_after_a_marker,
    "近期有人冒充快递客服称“包裹检测阳性可理赔”，请核实",
    &[("PARCEL_CLAIM", true)]
);
n!(
    quoted_without_a_marker_counts,
    "快递客服：“包裹检测阳性可理赔”",
    &[("PARCEL_CLAIM", false)]
);
n!(
    keyword_containing_the_cue_counts,
    "此事不要告诉家人",
    &[("SECRECY", false)]
);
n!(
    warning_rules_are_never_negated,
    "请勿相信，我们不会要求转账",
    &[("NEVER_ASK", false)]
);
n!(
    number_class_arabic,
    "核酸2小时出结果",
    &[("FAST_RESULT", false)]
);
n!(
    number_class_chinese,
    "核酸二十五分钟出报告",
    &[("FAST_RESULT", false)]
);
n!(
    number_class_half,
    "核酸一个半小时出结果",
    &[("FAST_RESULT", false)]
);
n!(
    number_class_ascii_unit,
    "核酸30min出报告",
    &[("FAST_RESULT", false)]
);
n!(number_class_needs_a_number, "核酸小时出结果", &[]);

n!(
    a_keyword_inside_a_forward_cue_is_denied_and_holds_nothing_back,
    "隔离期满，无需缴纳任何费用",
    &[("FEE", true), ("RELEASED", false)]
);
n!(
    an_asserted_none_keyword_holds_its_rule_back,
    "隔离期满，请缴纳隔离费",
    &[("FEE", false)]
);

#[test]
fn number_class_hit_span_covers_the_number_as_written() {
    let rules = set(&[("scoped.toml", SCOPED)]).unwrap();
    let text = "核酸检测，两个钟头出结果";
    let n = normalize(text);
    let found = rules.find(text, &n);
    let spans: Vec<&str> = found.fired[0]
        .matches
        .iter()
        .map(|m| &text[n.original_span(m.span.widen()).range()])
        .collect();
    assert_eq!(spans, ["核酸", "两个钟头出"]);
}

#[test]
fn negated_hits_are_marked_in_the_verdict_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("VERSION"), "test-1\n").unwrap();
    std::fs::write(dir.path().join("scoped.toml"), SCOPED).unwrap();
    let engine = smishd::Engine::builder()
        .rules_dir(dir.path())
        .without_model()
        .build()
        .unwrap();
    let text = "工作人员不会要求您提供银行卡号或验证码";
    let v = engine.score(&smishd::Message::new(text));
    let json = serde_json::to_value(&v).unwrap();
    let hits = json["hits"].as_array().unwrap();
    let ask: Vec<_> = hits.iter().filter(|h| h["rule"] == "ASK_CODE").collect();
    assert!(!ask.is_empty(), "{json}");
    assert!(ask.iter().all(|h| h["negated"] == true), "{json}");
    let never = hits.iter().find(|h| h["rule"] == "NEVER_ASK").unwrap();
    assert!(never.get("negated").is_none(), "absent when false: {json}");
    assert!(!v.is_fraud());
}

/// A contact handle glued to its number (`加扣扣 55667788` normalises to `加qq55667788`) hid
/// the `qq` keyword, because a digit after a letter counted as the same ASCII word.
#[test]
fn letter_keywords_match_before_digits_but_not_inside_words() {
    let rules = set(&[(
        "contact.toml",
        r#"
[[rule]]
id = "QQ_CONTACT"
category = "generic_fraud"
weight = 1.0
description = "asks to add a QQ contact"
any = ["加qq"]
"#,
    )])
    .unwrap();
    let fired = |text: &str| !rules.find(text, &normalize(text)).fired.is_empty();
    assert!(fired("请加扣扣 55667788 领取"));
    assert!(fired("请加QQ55667788"));
    assert!(fired("请加qq 55667788"));
    assert!(!fired("加qqmusic会员"));
}

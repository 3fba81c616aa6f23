//! Invariants that must hold for any input, checked with proptest.

use proptest::prelude::*;
use smishd::normalize::normalize;
use smishd::{Engine, Message, Span};
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new().expect("compiled-in engine"))
}

/// Characters scammers and ordinary messages mix: keyword pieces, separators, full-width and
/// traditional forms, emoji, invisible characters, dots and digits.
fn tricky_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        '密', '接', '健', '康', '码', '碼', '红', '黄', '核', '酸', '阳', '性', '快', '递', '理',
        '赔', '验', '证', '微', '信', '薇', '扣', 'v', 'x', 'V', 'ｖ', 'ｘ', 'Ｖ', 'a', 'Z', '1',
        '9', '０', ' ', '\t', '\n', '*', '·', '-', '_', '|', '/', '.', '。', '｡', '．', '🔥', '✅',
        '\u{200B}', '\u{200D}', '\u{202E}', '\u{00AD}', '\u{FE0F}', '\u{3000}', 'é', 'e',
        '\u{0301}', 'ß', 'İ', 'ﬁ', '①', '㈱', '，', '：', 'q', 'w', 'h', 't', 'p', ':',
    ])
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..80).prop_map(|v| v.into_iter().collect())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![tricky_string(), any::<String>()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_normalised_byte_maps_inside_the_original_on_char_boundaries(text in any_text()) {
        let n = normalize(&text);
        for (i, _) in n.as_str().char_indices() {
            let end = i + n.as_str()[i..].chars().next().unwrap().len_utf8();
            let Span { start: s, end: e } = n.original_span(Span::new(i, end));
            prop_assert!(s < e && e <= text.len(), "span {s}..{e} of {}", text.len());
            prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }

    #[test]
    fn hit_and_url_spans_are_original_substrings(text in any_text()) {
        let v = engine().score(&Message::new(&text));
        for h in &v.hits {
            prop_assert!(h.span.start < h.span.end && h.span.end <= text.len());
            prop_assert!(text.is_char_boundary(h.span.start) && text.is_char_boundary(h.span.end));
            prop_assert_eq!(&text[h.span.start..h.span.end], h.text.as_str());
        }
        for u in &v.urls {
            prop_assert!(u.span.start < u.span.end && u.span.end <= text.len());
            prop_assert!(text.is_char_boundary(u.span.start) && text.is_char_boundary(u.span.end));
            prop_assert_eq!(&text[u.span.start..u.span.end], u.raw.as_str());
        }
        prop_assert!((0.0..=1.0).contains(&v.score), "score {}", v.score);
    }

    #[test]
    fn normalisation_is_idempotent(text in tricky_string()) {
        let once = normalize(&text);
        let twice = normalize(once.as_str());
        prop_assert_eq!(twice.as_str(), once.as_str());
    }
}

/// Messages the invisible-character property starts from, written for it: links in every
/// form the extractor knows (schemes, defanged, spaced and lookalike dots, full width, IDN,
/// userinfo, ports, paths), keywords of each scam, and text with no link at all.
const LINK_MESSAGES: &[&str] = &[
    "请登录jkm-help.top申诉",
    "您的健康码已变红码，请点击 http://jkm-help.top/a?b=1 核验",
    "快递检测阳性，理赔请访问 hxxps://kd-lp[.]cc/claim",
    "密接人员请于今日登记：abc . com/reg 或 www。abc。com",
    "ＶＸ：ａｂ１２３，官网ｊｋｍ．ｔｏｐ",
    "请访问 http://www.gov.cn@evil.top/x 领取补贴",
    "检测结果：例子.中国，详询 t.cn/A6xJkM9",
    "http://1.2.3.4:81/login 核酸报告",
    "特效药到货 evil(dot)top 先到先得",
    "您好，明天下午三点开会，请准时参加。",
    "Your parcel is held: alipay-refund.top/verify now",
    "加v信 abc123 领取快速核酸证明 sf-expresss.com",
];

/// Any character a phone shows as nothing: one from any range of the shared table.
fn invisible_char() -> impl Strategy<Value = char> {
    prop::sample::select(smishd::chars::INVISIBLE.to_vec()).prop_flat_map(|(lo, hi)| {
        (lo as u32..=hi as u32).prop_map(|cp| char::from_u32(cp).expect("table holds chars"))
    })
}

/// `text` with `inserts` put at character boundaries (positions taken modulo the count).
fn insert_at(text: &str, inserts: &[(usize, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(pos, c) in inserts {
        chars.insert(pos % (chars.len() + 1), c);
    }
    chars.into_iter().collect()
}

/// What must not change when invisible characters are added: every link's canonical URL,
/// host, registrable domain, reputation and reasons, and the verdict with the rules behind it.
fn observed(
    text: &str,
) -> (
    Vec<String>,
    smishd::Action,
    smishd::Category,
    String,
    Vec<String>,
) {
    let v = engine().score(&Message::new(text));
    let links = v
        .urls
        .iter()
        .map(|u| {
            format!(
                "{} {} {} {:?} {:?}",
                u.url, u.host, u.registrable_domain, u.reputation, u.reasons
            )
        })
        .collect();
    let mut rules: Vec<String> = v.hits.iter().map(|h| h.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    (
        links,
        v.verdict,
        v.category,
        format!("{:.12}", v.score),
        rules,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// An invisible character anywhere in a message changes neither the links found nor the
    /// verdict (a bidi mark inside `jkm-help.top` once hid the link).
    #[test]
    fn invisible_characters_change_neither_links_nor_verdict(
        text in prop_oneof![
            3 => prop::sample::select(LINK_MESSAGES.to_vec()).prop_map(String::from),
            1 => tricky_string(),
        ],
        inserts in prop::collection::vec((any::<usize>(), invisible_char()), 1..5),
    ) {
        // The starting text without invisible characters: the tricky alphabet has some.
        let clean: String = text.chars().filter(|&c| !smishd::chars::is_invisible(c)).collect();
        let with = insert_at(&clean, &inserts);
        prop_assert_eq!(observed(&with), observed(&clean), "{:?}", with);
    }
}

/// Numerals, units and the characters around them: what the number step rewrites.
fn number_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        '一', '二', '两', '三', '五', '九', '十', '百', '千', '万', '零', '半', '个', '小', '时',
        '分', '钟', '头', '块', '钱', '元', '天', '月', '份', '1', '2', '0', '９', '.', 'h', 'm',
        'i', 'n', 'r', 's', 'a', ' ', '，', '兩', '個', '\u{200B}', '*',
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn number_rewriting_keeps_spans_on_char_boundaries_and_is_idempotent(
        v in prop::collection::vec(number_char(), 0..40)
    ) {
        let text: String = v.into_iter().collect();
        let n = normalize(&text);
        for (i, c) in n.as_str().char_indices() {
            let Span { start: s, end: e } = n.original_span(Span::new(i, i + c.len_utf8()));
            prop_assert!(s < e && e <= text.len(), "span {s}..{e} of {}", text.len());
            prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
            // Any range, not only one character, maps to a well-formed original span.
            let Span { start: s2, end: e2 } = n.original_span(Span::new(0, i + c.len_utf8()));
            prop_assert!(s2 <= s && e2 >= e && text.is_char_boundary(s2) && text.is_char_boundary(e2));
        }
        let again = normalize(n.as_str());
        prop_assert_eq!(again.as_str(), n.as_str());
    }
}

/// Messages that force a block (a listed malicious link) with little other evidence: the
/// verdict and the score must still agree.
const FORCED: &[&str] = &[
    "你好 jkm-help.top",
    "看看这个 http://jkm-help.top/a",
    "health-code-check.xyz",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// One score, one verdict: a block carries a score at or above the block threshold, and
    /// detected fraud a score at or above the flag threshold, whatever forced it.
    #[test]
    fn verdict_and_score_agree(
        text in prop_oneof![any_text(), prop::sample::select(FORCED).prop_map(String::from)]
    ) {
        for e in [engine(), rules_only()] {
            let v = e.score(&Message::new(&text));
            let t = e.thresholds();
            if v.verdict == smishd::Action::Block {
                prop_assert!(v.score >= t.block, "block with score {}: {text:?}", v.score);
            }
            if v.is_fraud() {
                prop_assert!(v.score >= t.flag, "fraud with score {}: {text:?}", v.score);
            }
        }
    }
}

fn rules_only() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        Engine::builder()
            .without_model()
            .build()
            .expect("rules-only engine")
    })
}

#[test]
fn a_forced_block_reaches_the_block_threshold() {
    for e in [engine(), rules_only()] {
        for text in FORCED {
            let v = e.score(&Message::new(text));
            assert_eq!(v.verdict, smishd::Action::Block, "{text:?}");
            assert!(v.score >= e.thresholds().block, "{text:?}: {}", v.score);
        }
    }
}

/// Scam and notice wordings of the project's own, in the shapes the evasions below are tried on.
const MESSAGES: &[&str] = &[
    "【疾控中心】您与确诊病例轨迹重合，健康码将转红，请添加工作人员微信 jk0571 核实身份证号",
    "您的快递检测出新冠阳性已被销毁，我们三倍理赔，请下载会议软件开启屏幕共享",
    "免排队核酸阴性报告，当天可出，不用本人到场，每份80元，加微信详谈",
    "特效药到货，预防新冠，吃了不会阳，仅剩十盒，先转定金",
    "【区防控办】您的隔离期已满，核酸均为阴性，健康码将自动转绿，无需缴纳任何费用",
    "国家反诈中心提醒：自称疾控要求您转账到安全账户的都是诈骗",
    "【顺丰速运】您的快件因消杀延迟派送，给您带来不便敬请谅解，详询95338",
];

/// Separators the normaliser drops between two CJK characters.
fn cjk_separator() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        ' ', '*', '·', '-', '_', '|', '~', '+', '#', '\u{3000}', '/',
    ])
}

/// Whether each character of `text` lies outside every link the engine finds in it. Links are
/// read from the text as written (a space inside `例子.中国` ends the link, and full-width
/// letters in a link are a risk reason of their own), so the evasions below are tried on the
/// words around them.
fn outside_links(text: &str) -> Vec<bool> {
    let links: Vec<Span> = engine()
        .score(&Message::new(text))
        .urls
        .iter()
        .map(|u| u.span)
        .collect();
    text.char_indices()
        .map(|(b, c)| {
            !links
                .iter()
                .any(|s| b + c.len_utf8() > s.start && b < s.end)
        })
        .collect()
}

/// `text` with `inserts` put between two CJK characters outside its links (positions taken
/// modulo those places; none when there is no such place).
fn insert_between_cjk(text: &str, inserts: &[(usize, char)]) -> String {
    let free = outside_links(text);
    let mut chars: Vec<(char, bool)> = text.chars().zip(free).collect();
    for &(pos, c) in inserts {
        let places: Vec<usize> = (1..chars.len())
            .filter(|&i| {
                let (a, b) = (chars[i - 1], chars[i]);
                a.1 && b.1 && smishd::chars::is_cjk(a.0) && smishd::chars::is_cjk(b.0)
            })
            .collect();
        if let Some(&at) = places.get(pos % places.len().max(1)) {
            chars.insert(at, (c, true));
        }
    }
    chars.into_iter().map(|(c, _)| c).collect()
}

/// Traditional forms of characters the messages above use.
const TRADITIONAL: &[(char, char)] = &[
    ('码', '碼'),
    ('阳', '陽'),
    ('赔', '賠'),
    ('验', '驗'),
    ('证', '證'),
    ('检', '檢'),
    ('测', '測'),
    ('号', '號'),
    ('转', '轉'),
    ('红', '紅'),
    ('递', '遞'),
    ('药', '藥'),
    ('报', '報'),
    ('销', '銷'),
    ('软', '軟'),
    ('险', '險'),
    ('费', '費'),
    ('诈', '詐'),
    ('骗', '騙'),
    ('账', '賬'),
    ('户', '戶'),
    ('预', '預'),
    ('须', '須'),
    ('详', '詳'),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// A space or symbol between two CJK characters (`健 康 码`, `阳*性`) changes neither the
    /// links found nor the verdict.
    #[test]
    fn separators_between_cjk_change_neither_links_nor_verdict(
        text in prop::sample::select([MESSAGES, LINK_MESSAGES].concat()),
        inserts in prop::collection::vec((any::<usize>(), cjk_separator()), 1..6),
    ) {
        let with = insert_between_cjk(text, &inserts);
        prop_assert_eq!(observed(&with), observed(text), "{:?}", with);
    }

    /// Full-width letters and digits outside links (`加ｖｘ`, `ＱＱ`, `８０元`) change neither the
    /// links found nor the verdict.
    #[test]
    fn full_width_forms_change_neither_links_nor_verdict(
        text in prop::sample::select([MESSAGES, LINK_MESSAGES].concat()),
        picks in prop::collection::vec(any::<usize>(), 1..12),
    ) {
        let free = outside_links(text);
        let mut chars: Vec<char> = text.chars().collect();
        let ascii: Vec<usize> = (0..chars.len())
            .filter(|&i| free[i] && chars[i].is_ascii_alphanumeric())
            .collect();
        for p in picks {
            if let Some(&i) = ascii.get(p % ascii.len().max(1)) {
                if chars[i].is_ascii() {
                    chars[i] = char::from_u32(chars[i] as u32 + 0xFEE0).expect("full-width form");
                }
            }
        }
        let with: String = chars.into_iter().collect();
        prop_assert_eq!(observed(&with), observed(text), "{:?}", with);
    }

    /// Traditional characters for simplified ones (`健康碼`, `陽性`) change neither the links
    /// found nor the verdict.
    #[test]
    fn traditional_characters_change_neither_links_nor_verdict(
        text in prop::sample::select([MESSAGES, LINK_MESSAGES].concat()),
        picks in prop::collection::vec(any::<bool>(), TRADITIONAL.len()),
    ) {
        let with: String = text
            .chars()
            .map(|c| {
                TRADITIONAL
                    .iter()
                    .zip(&picks)
                    .find(|((s, _), &pick)| pick && *s == c)
                    .map_or(c, |((_, t), _)| *t)
            })
            .collect();
        prop_assert_eq!(observed(&with), observed(text), "{:?}", with);
    }
}

/// Runs of three or more characters outside links that one evasion may spread apart: CJK
/// characters (with dots between them) or ASCII letters and digits (with spaces), as
/// `(first, end, spread with)` character indices.
fn spreadable_runs(text: &str) -> Vec<(usize, usize, char)> {
    let free = outside_links(text);
    let chars: Vec<char> = text.chars().collect();
    let kind = |i: usize| match chars[i] {
        _ if !free[i] => None,
        c if smishd::chars::is_cjk(c) => Some('.'),
        c if c.is_ascii_alphanumeric() => Some(' '),
        _ => None,
    };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some(k) = kind(i) else {
            i += 1;
            continue;
        };
        let mut end = i + 1;
        while end < chars.len() && kind(end) == Some(k) {
            end += 1;
        }
        if end - i >= 3 {
            runs.push((i, end, k));
        }
        i = end;
    }
    runs
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// A word spread apart, `健.康.码` or `Q Q 3 3 8`, changes neither the links found nor
    /// the verdict.
    #[test]
    fn characters_spread_apart_change_neither_links_nor_verdict(
        text in prop::sample::select([MESSAGES, LINK_MESSAGES].concat()),
        pick in any::<usize>(),
        from in any::<usize>(),
    ) {
        let runs = spreadable_runs(text);
        prop_assume!(!runs.is_empty());
        let (first, end, with) = runs[pick % runs.len()];
        // CJK: a stretch of at least three characters of the run, with dots; ASCII: the whole
        // word, with spaces (half a word spaced out is another word).
        let start = if with == '.' { first + from % (end - first - 2) } else { first };
        let chars: Vec<char> = text.chars().collect();
        let mut spread = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if i > start && i < end {
                spread.push(with);
            }
            spread.push(c);
        }
        prop_assert_eq!(observed(&spread), observed(text), "{:?}", spread);
    }
}

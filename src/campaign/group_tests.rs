//! Tests of the grouping, among them the pinned grouping of a fixed synthetic log.

use super::*;

#[test]
fn hll_is_close_and_exact_below_the_switch() {
    let mut s = Senders::Exact(Vec::new());
    for i in 0..50u64 {
        s.add(crate::campaign::fingerprint::hash_str(&i.to_string()));
        s.add(crate::campaign::fingerprint::hash_str(&i.to_string()));
    }
    assert_eq!(s.count(), 50);
    for i in 50..5000u64 {
        s.add(crate::campaign::fingerprint::hash_str(&i.to_string()));
    }
    let n = s.count() as f64;
    assert!((n - 5000.0).abs() / 5000.0 < 0.2, "{n}");
}

fn obs(line: u64, masked: &[char]) -> Observation<'_> {
    Observation {
        line,
        fingerprint: Fingerprint { keys: [7; 12] },
        masked,
        sender: None,
        time: None,
        action: Action::Allow,
        category: Category::None,
    }
}

#[test]
fn a_copy_that_shares_little_does_not_erode_the_template() {
    let mut g = Grouper::new(Options::default());
    let texts: Vec<Vec<char>> = [
        "your parcel Nr N is held, pay at L today",
        "your parcel Nr N is held, pay at L now",
        "completely other words here",
        "your parcel Nr N is held, pay at L now",
    ]
    .iter()
    .map(|t| t.chars().collect())
    .collect();
    for (i, t) in texts.iter().enumerate() {
        g.add(&obs(i as u64 + 1, t));
    }
    let c = &g.finish(1)[0];
    assert_eq!(c.size, 4);
    let t = c.template().unwrap();
    assert!(t.starts_with("your parcel Nr N is held, pay at L "), "{t}");
}

#[test]
fn stamps_order_as_numbers_or_text() {
    let s = TimeRef::new;
    let cmp = |a: &str, b: &str| Stamp::new(&TimeRef::new(a)).cmp_new(&TimeRef::new(b));
    assert_eq!(cmp("9", "10"), Ordering::Less);
    assert_eq!(cmp("10", "9"), Ordering::Greater);
    assert_eq!(cmp("9", "10x"), Ordering::Greater);
    assert_eq!(cmp("9", "9"), Ordering::Equal);
    assert_eq!(
        cmp("2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z"),
        Ordering::Less
    );
    // A kept stamp is overwritten in place or replaced, whatever the lengths.
    let mut kept = Stamp::new(&s("9"));
    kept.set(&s("10"));
    assert_eq!((kept.text(), kept.num), ("10", Some(10.0)));
    kept.set(&s("11"));
    assert_eq!(kept.text(), "11");
    kept.set(&s("2026-11-30"));
    assert_eq!((kept.text(), kept.num), ("2026-11-30", None));
}

/// A record of the synthetic log, owning what an [`Observation`] borrows.
struct Owned {
    line: u64,
    fingerprint: Fingerprint,
    masked: Vec<char>,
    sender: Option<u64>,
    time: Option<String>,
    action: Action,
    category: Category,
}

impl Owned {
    fn view(&self) -> Observation<'_> {
        Observation {
            line: self.line,
            fingerprint: self.fingerprint,
            masked: &self.masked,
            sender: self.sender,
            time: self.time.as_deref().map(TimeRef::new),
            action: self.action,
            category: self.category,
        }
    }
}

/// A deterministic log of a few templates with varied fills, near-misses and one-offs,
/// numeric, ISO and missing time stamps, senders repeating and missing.
fn synthetic_log() -> Vec<Owned> {
    use crate::campaign::fingerprint::hash_str;
    use crate::campaign::mask::mask_into;
    const TEMPLATES: [&str; 6] = [
        "【速达物流】{p}先生您好，您的包裹{n}因检测阳性已被销毁，请点击{l}申请理赔{n}元",
        "尊敬的{p}，您的积分{n}分即将清零，请登录{l}兑换礼品，回复td退订",
        "dear {p}, your account {n} is locked. verify at {l} within {n} hours",
        "您好{p}老师，本周六{n}点家长会改到三楼会议室，请准时参加",
        "your parcel {n} is held at customs, pay the fee of {n} at {l} today",
        "【健康码】您的健康码已变红，请于{n}小时内访问{l}进行申诉，逾期{n}天将冻结",
    ];
    const WORDS: [&str; 24] = [
        "周末", "会议", "晚饭", "天气", "电影", "朋友", "孩子", "学校", "超市", "公园", "火车",
        "机票", "咖啡", "图书", "音乐", "医院", "工作", "周一", "下雨", "快递", "hello", "meeting",
        "tomorrow", "dinner",
    ];
    const NAMES: [&str; 8] = [
        "张伟",
        "李芳",
        "王秀英",
        "赵建国",
        "john",
        "mary",
        "陈",
        "刘小红",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let mut out = Vec::new();
    let mut masked = Vec::new();
    for line in 1..=3000u64 {
        let kind = next(10);
        let text = if kind < 7 {
            let t = TEMPLATES[next(TEMPLATES.len() as u64) as usize];
            let mut s = t
                .replace("{p}", NAMES[next(8) as usize])
                .replace("{l}", &format!("pay-{}.top/x{}", next(30), next(999)));
            while let Some(at) = s.find("{n}") {
                s.replace_range(at..at + 3, &next(100_000).to_string());
            }
            if next(4) == 0 {
                s.push_str(WORDS[next(24) as usize]);
            }
            if next(6) == 0 {
                let cut = s
                    .char_indices()
                    .nth(next(20) as usize + 5)
                    .map_or(0, |c| c.0);
                s.replace_range(cut..cut, WORDS[next(24) as usize]);
            }
            s
        } else {
            (0..6 + next(6))
                .map(|_| WORDS[next(24) as usize])
                .collect::<Vec<_>>()
                .join(if next(2) == 0 { "" } else { " " })
        };
        mask_into(&text, &mut masked);
        let Some(fingerprint) = Fingerprint::of_masked(&masked) else {
            continue;
        };
        let time = match next(5) {
            0 => None,
            1 | 2 => Some(format!("{}", 1_764_500_000 + next(90_000))),
            _ => Some(format!(
                "2026-11-{:02}T{:02}:{:02}:00Z",
                1 + next(28),
                next(24),
                next(60)
            )),
        };
        out.push(Owned {
            line,
            fingerprint,
            masked: masked.clone(),
            sender: (next(7) != 0).then(|| hash_str(&format!("1390000{}", next(400)))),
            time,
            action: [Action::Allow, Action::Flag, Action::Block][next(3) as usize],
            category: Category::ALL[next(7) as usize],
        });
    }
    out
}

fn digest(campaigns: &[CampaignStats]) -> String {
    let mut s = String::new();
    for c in campaigns {
        s.push_str(&format!(
            "{} {} {} {}..{} {:?}..{:?} {:?} {:?} {:?}\n",
            crate::campaign::id_hex(c.id),
            c.size,
            c.senders(),
            c.first_line,
            c.last_line,
            c.first_time.as_ref().map(Stamp::text),
            c.last_time.as_ref().map(Stamp::text),
            c.verdicts,
            c.categories,
            c.template(),
        ));
    }
    s
}

/// The grouping of a fixed synthetic log, pinned: ids, sizes, senders, first and last seen,
/// counts, templates and their order. Changes for speed must leave it as it is.
#[test]
fn grouping_of_a_fixed_log_is_pinned() {
    let log = synthetic_log();
    let run = |max_campaigns: usize, timeline: bool| {
        let mut g = Grouper::new(Options {
            max_campaigns,
            timeline,
        });
        for o in &log {
            g.add(&o.view());
        }
        let dropped = g.dropped_records();
        let campaigns = g.finish(1);
        for c in &campaigns {
            // Counted along the log from the second copy on, every copy once.
            let counted = c.timeline.as_ref().map(|t| t.iter().sum::<u32>());
            let want = (timeline && c.size >= 2).then_some(c.size as u32);
            assert_eq!(counted, want, "{}", c.id);
        }
        format!("dropped {dropped}\n{}", digest(&campaigns))
    };
    let got = format!("{}{}", run(200_000, false), run(60, false));
    assert_eq!(format!("{}{}", run(200_000, true), run(60, true)), got);
    if std::env::var_os("SMISHD_WRITE_GOLDEN").is_some() {
        std::fs::write("src/campaign/testdata/grouping.golden", &got).unwrap();
    }
    let want = include_str!("testdata/grouping.golden");
    assert!(got == want, "grouping changed:\n{got}");
}

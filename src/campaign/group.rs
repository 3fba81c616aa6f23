//! Grouping a log into campaigns, record by record in input order, in bounded memory.
//!
//! Every band key of a record's fingerprint points at the campaign it was first seen in. A
//! record whose keys point nowhere starts a campaign (its id is the least of its keys, which is
//! also the id the daemon gives a fresh template); one whose keys point at one or more
//! campaigns joins the largest, and its keys not yet seen point there too. Two campaigns are
//! never merged after the fact: a copy halfway between two templates joins one of them.
//!
//! Memory: a campaign holds its counts, up to 64 exact sender hashes (then a 256-register
//! HyperLogLog), first and last line and time stamp, and its masked template (text of one copy
//! until a second arrives, then their common part; a copy that shares less than half of the
//! template is left out of it). When more than [`Options::max_campaigns`]
//! campaigns are held, the smallest are dropped (lossy counting: first those seen once, then
//! twice, ...), and the records they held are counted in [`Grouper::dropped_records`]. A
//! campaign that keeps repeating survives; one of a few copies spread thinly over a huge log
//! may be undercounted or missed. Below the bound every campaign is exact.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::fingerprint::{Fingerprint, BANDS};
use super::mask::GAP;
use super::template;
use crate::category::Category;
use crate::verdict::Action;

/// Bounds of a grouping run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Campaigns held at once (about 300 bytes each, plus 12 keys).
    pub max_campaigns: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_campaigns: 200_000,
        }
    }
}

/// One scored, fingerprinted record, as the grouping sees it (borrowed from the batch it was
/// read in: the grouping copies only what it keeps).
#[derive(Clone, Copy, Debug)]
pub struct Observation<'a> {
    pub line: u64,
    pub fingerprint: Fingerprint,
    /// The record's masked text (see `mask.rs`).
    pub masked: &'a [char],
    pub sender: Option<u64>,
    /// The record's time stamp, if it has one.
    pub time: Option<TimeRef<'a>>,
    pub action: Action,
    pub category: Category,
}

/// A time stamp as written, and its value when it is a number (parsed once, where the record
/// is read).
#[derive(Clone, Copy, Debug)]
pub struct TimeRef<'a> {
    pub text: &'a str,
    pub num: Option<f64>,
}

impl<'a> TimeRef<'a> {
    pub fn new(text: &'a str) -> TimeRef<'a> {
        TimeRef {
            text,
            num: text.parse::<f64>().ok(),
        }
    }

    /// Ordered as numbers when both are numbers (epoch seconds or milliseconds), else as text
    /// (ISO 8601 sorts as text).
    fn cmp(&self, other: &TimeRef) -> Ordering {
        match (self.num, other.num) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => self.text.cmp(other.text),
        }
    }
}

/// Distinct senders: exact up to [`EXACT_SENDERS`], then a HyperLogLog.
#[derive(Clone, Debug)]
enum Senders {
    Exact(Vec<u64>),
    Sketch(Box<[u8; HLL_REGISTERS]>),
}

const EXACT_SENDERS: usize = 64;
const HLL_BITS: u32 = 8;
const HLL_REGISTERS: usize = 1 << HLL_BITS;

impl Senders {
    fn add(&mut self, h: u64) {
        match self {
            Senders::Exact(v) => {
                if v.contains(&h) {
                    return;
                }
                if v.len() < EXACT_SENDERS {
                    v.push(h);
                    return;
                }
                let mut regs = Box::new([0u8; HLL_REGISTERS]);
                for &x in v.iter() {
                    hll_add(&mut regs, x);
                }
                hll_add(&mut regs, h);
                *self = Senders::Sketch(regs);
            }
            Senders::Sketch(regs) => hll_add(regs, h),
        }
    }

    fn count(&self) -> u64 {
        match self {
            Senders::Exact(v) => v.len() as u64,
            Senders::Sketch(regs) => hll_estimate(regs),
        }
    }
}

fn hll_add(regs: &mut [u8; HLL_REGISTERS], h: u64) {
    let idx = (h >> (64 - HLL_BITS)) as usize;
    let rank = ((h << HLL_BITS) | (1 << (HLL_BITS - 1))).leading_zeros() + 1;
    regs[idx] = regs[idx].max(rank as u8);
}

fn hll_estimate(regs: &[u8; HLL_REGISTERS]) -> u64 {
    let m = HLL_REGISTERS as f64;
    let sum: f64 = regs.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
    let raw = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
    let zeros = regs.iter().filter(|&&r| r == 0).count();
    let est = if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    };
    est.round() as u64
}

/// A campaign's first or last time stamp, kept (see [`TimeRef`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    /// UTF-8 (copied from a `&str`); bytes so that a stamp of the same length, the usual case,
    /// is overwritten in place.
    text: Box<[u8]>,
    num: Option<f64>,
}

impl Stamp {
    fn new(t: &TimeRef) -> Stamp {
        Stamp {
            text: t.text.as_bytes().into(),
            num: t.num,
        }
    }

    fn set(&mut self, t: &TimeRef) {
        if self.text.len() == t.text.len() {
            self.text.copy_from_slice(t.text.as_bytes());
        } else {
            self.text = t.text.as_bytes().into();
        }
        self.num = t.num;
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    fn as_ref(&self) -> TimeRef<'_> {
        TimeRef {
            text: self.text(),
            num: self.num,
        }
    }
}

/// What a report says about one campaign.
#[derive(Clone, Debug)]
pub struct CampaignStats {
    pub id: u64,
    pub size: u64,
    senders: Senders,
    pub first_line: u64,
    pub last_line: u64,
    pub first_time: Option<Stamp>,
    pub last_time: Option<Stamp>,
    /// Copies by verdict, indexed allow, flag, block.
    pub verdicts: [u64; 3],
    /// Copies by category, indexed by [`Category::index`].
    pub categories: [u64; 7],
    /// The masked text of the first copy, then the common part of the first copies.
    template: Box<str>,
    merged: u32,
}

impl CampaignStats {
    pub fn senders(&self) -> u64 {
        self.senders.count()
    }

    /// The template, once at least two copies have been merged into it (a single copy's text
    /// is never shown).
    pub fn template(&self) -> Option<&str> {
        (self.merged >= 2).then_some(&*self.template)
    }

    /// Copies smishd allowed.
    pub fn allowed(&self) -> u64 {
        self.verdicts[0]
    }

    fn add(&mut self, o: &Observation, scratch: &mut Scratch) {
        self.size += 1;
        if let Some(s) = o.sender {
            self.senders.add(s);
        }
        self.last_line = o.line;
        if let Some(t) = &o.time {
            match &mut self.first_time {
                Some(f) if t.cmp(&f.as_ref()) != Ordering::Less => {}
                Some(f) => f.set(t),
                None => self.first_time = Some(Stamp::new(t)),
            }
            match &mut self.last_time {
                Some(l) if t.cmp(&l.as_ref()) != Ordering::Greater => {}
                Some(l) => l.set(t),
                None => self.last_time = Some(Stamp::new(t)),
            }
        }
        self.verdicts[action_index(o.action)] += 1;
        self.categories[o.category.index()] += 1;
        if self.merged < template::MERGES {
            if self.template.chars().eq(o.masked.iter().copied()) {
                self.merged += 1;
            } else {
                let Scratch { a, lcs, common } = scratch;
                a.clear();
                a.extend(self.template.chars());
                template::merge_into(a, o.masked, lcs, common);
                // A copy linked through a chain of near-duplicates may share little with the
                // template: it is left out rather than let it erode the template to gaps (half
                // of the readable template must survive the merge).
                if solid(common) * 2 >= solid(a) {
                    self.template = common.iter().collect::<String>().into();
                    self.merged += 1;
                }
            }
        }
    }
}

/// Characters of `t` in runs of three or more between gaps: what a reader can still read
/// (scattered single letters in common do not count).
fn solid(t: &[char]) -> usize {
    t.split(|&c| c == GAP)
        .map(<[char]>::len)
        .filter(|&n| n >= 3)
        .sum()
}

fn action_index(a: Action) -> usize {
    match a {
        Action::Allow => 0,
        Action::Flag => 1,
        Action::Block => 2,
    }
}

/// Band keys are already uniform 64-bit hashes: the map uses them as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap = HashMap<u64, u32, BuildHasherDefault<KeyHasher>>;

/// Buffers reused by every template merge.
#[derive(Debug, Default)]
struct Scratch {
    a: Vec<char>,
    lcs: Vec<u16>,
    common: Vec<char>,
}

/// The grouping of the module docs.
#[derive(Debug, Default)]
pub struct Grouper {
    opts: Options,
    keys: KeyMap,
    campaigns: Vec<CampaignStats>,
    dropped: u64,
    floor: u64,
    scratch: Scratch,
}

impl Grouper {
    pub fn new(opts: Options) -> Grouper {
        Grouper {
            opts,
            floor: 1,
            ..Grouper::default()
        }
    }

    /// Adds one record (records must come in input order).
    pub fn add(&mut self, o: &Observation) {
        let fp = &o.fingerprint;
        let mut best: Option<u32> = None;
        // Which keys are known (each key looked up once; the unknown ones are added below).
        let mut known = [false; BANDS];
        for (k, known) in fp.keys.iter().zip(&mut known) {
            if let Some(&c) = self.keys.get(k) {
                *known = true;
                let better = match best {
                    None => true,
                    Some(b) => self.campaigns[c as usize].size > self.campaigns[b as usize].size,
                };
                if better {
                    best = Some(c);
                }
            }
        }
        let idx = match best {
            Some(c) => {
                self.campaigns[c as usize].add(o, &mut self.scratch);
                c
            }
            None => {
                let c = self.campaigns.len() as u32;
                self.campaigns.push(CampaignStats {
                    id: fp.keys.iter().copied().min().unwrap_or(0),
                    size: 1,
                    senders: Senders::Exact(o.sender.into_iter().collect()),
                    first_line: o.line,
                    last_line: o.line,
                    first_time: o.time.as_ref().map(Stamp::new),
                    last_time: o.time.as_ref().map(Stamp::new),
                    verdicts: {
                        let mut v = [0; 3];
                        v[action_index(o.action)] = 1;
                        v
                    },
                    categories: {
                        let mut v = [0; 7];
                        v[o.category.index()] = 1;
                        v
                    },
                    template: o
                        .masked
                        .iter()
                        .take(template::MAX_CHARS)
                        .collect::<String>()
                        .into(),
                    merged: 1,
                });
                c
            }
        };
        for (&k, known) in fp.keys.iter().zip(known) {
            if !known {
                // A key may repeat within one fingerprint: the first occurrence wins.
                self.keys.entry(k).or_insert(idx);
            }
        }
        if self.campaigns.len() > self.opts.max_campaigns {
            self.prune();
        }
    }

    /// Drops the smallest campaigns until at most half the bound is held.
    fn prune(&mut self) {
        let target = self.opts.max_campaigns / 2;
        while self.campaigns.len() > target {
            let floor = self.floor;
            let mut remap = vec![u32::MAX; self.campaigns.len()];
            let mut kept = Vec::with_capacity(self.campaigns.len());
            for (i, c) in std::mem::take(&mut self.campaigns).into_iter().enumerate() {
                if c.size <= floor {
                    self.dropped += c.size;
                } else {
                    remap[i] = kept.len() as u32;
                    kept.push(c);
                }
            }
            self.campaigns = kept;
            self.keys.retain(|_, v| {
                *v = remap[*v as usize];
                *v != u32::MAX
            });
            if self.campaigns.len() > target {
                self.floor += 1;
            }
        }
        self.keys.shrink_to_fit();
    }

    /// Records that were in campaigns dropped to keep memory bounded.
    pub fn dropped_records(&self) -> u64 {
        self.dropped
    }

    /// The campaigns of at least `min_size` copies, those with the most allowed copies first,
    /// then the largest.
    pub fn finish(self, min_size: u64) -> Vec<CampaignStats> {
        let mut out: Vec<CampaignStats> = self
            .campaigns
            .into_iter()
            .filter(|c| c.size >= min_size)
            .collect();
        out.sort_by(|a, b| {
            b.allowed()
                .cmp(&a.allowed())
                .then(b.size.cmp(&a.size))
                .then(a.first_line.cmp(&b.first_line))
        });
        out
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(s("9").cmp(&s("10")), Ordering::Less);
        assert_eq!(s("9").cmp(&s("10x")), Ordering::Greater);
        assert_eq!(
            s("2026-11-30T09:00:00Z").cmp(&s("2026-11-30T10:00:00Z")),
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
            "机票", "咖啡", "图书", "音乐", "医院", "工作", "周一", "下雨", "快递", "hello",
            "meeting", "tomorrow", "dinner",
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
        let run = |max_campaigns: usize| {
            let mut g = Grouper::new(Options { max_campaigns });
            for o in &log {
                g.add(&o.view());
            }
            let dropped = g.dropped_records();
            format!("dropped {dropped}\n{}", digest(&g.finish(1)))
        };
        let got = format!("{}{}", run(200_000), run(60));
        if std::env::var_os("SMISHD_WRITE_GOLDEN").is_some() {
            std::fs::write("src/campaign/testdata/grouping.golden", &got).unwrap();
        }
        let want = include_str!("testdata/grouping.golden");
        assert!(got == want, "grouping changed:\n{got}");
    }
}

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
use super::timeline::{Counts, Timeline, BUCKETS};
use crate::category::Category;
use crate::verdict::Action;

/// Bounds of a grouping run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Campaigns held at once (about 300 bytes each, plus 12 keys).
    pub max_campaigns: usize,
    /// Count each campaign's copies along the log (see `timeline.rs`).
    pub timeline: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_campaigns: 200_000,
            timeline: false,
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

    /// This stamp against a record's: as numbers when both are numbers (epoch seconds or
    /// milliseconds), else as text (ISO 8601 sorts as text), compared as bytes, which is how
    /// `str` orders, without validating the kept bytes again each time.
    fn cmp_new(&self, t: &TimeRef) -> Ordering {
        match (self.num, t.num) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => self.text[..].cmp(t.text.as_bytes()),
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
    /// Copies along the log, from the second copy on, when the grouping counts them.
    pub timeline: Option<Counts>,
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
                Some(f) if f.cmp_new(t) != Ordering::Greater => {}
                Some(f) => f.set(t),
                None => self.first_time = Some(Stamp::new(t)),
            }
            match &mut self.last_time {
                Some(l) if l.cmp_new(t) != Ordering::Less => {}
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
    timeline: Option<Timeline>,
}

impl Grouper {
    pub fn new(opts: Options) -> Grouper {
        Grouper {
            opts,
            floor: 1,
            timeline: opts.timeline.then(Timeline::default),
            ..Grouper::default()
        }
    }

    /// Adds one record (records must come in input order).
    pub fn add(&mut self, o: &Observation) {
        let fp = &o.fingerprint;
        // Each key looked up once (the unknown ones are added below), all before any campaign
        // is read: the lookups are cache misses in a large map, and with nothing between them
        // the processor overlaps them.
        let found: [Option<u32>; BANDS] = fp.keys.map(|k| self.keys.get(&k).copied());
        let known = found.map(|c| c.is_some());
        let mut best: Option<u32> = None;
        for &c in found.iter().flatten() {
            let better = match best {
                None => true,
                Some(b) => self.campaigns[c as usize].size > self.campaigns[b as usize].size,
            };
            if better {
                best = Some(c);
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
                    timeline: None,
                });
                c
            }
        };
        if let Some(t) = &mut self.timeline {
            for _ in 0..t.advance(o.line, o.time.map(|t| t.text)) {
                for counts in self
                    .campaigns
                    .iter_mut()
                    .filter_map(|c| c.timeline.as_mut())
                {
                    Timeline::widen(counts);
                }
            }
            let c = &mut self.campaigns[idx as usize];
            if c.size >= 2 {
                let counts = c.timeline.get_or_insert_with(|| {
                    // The second copy: the first is counted too.
                    let mut counts: Counts = Box::new([0; BUCKETS]);
                    counts[t.bucket(c.first_line).min(BUCKETS - 1)] += 1;
                    counts
                });
                counts[t.bucket(o.line).min(BUCKETS - 1)] += 1;
            }
        }
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

    /// The runs of the log campaigns' copies were counted in, when they were.
    pub fn timeline(&self) -> Option<&Timeline> {
        self.timeline.as_ref()
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
#[path = "group_tests.rs"]
mod tests;

//! The daemon's sliding window of templates: how many copies of a template, from how many
//! senders, arrived in the last T. Fixed memory, hashes only, expiring with the window.
//!
//! # Two tables, allocated once
//!
//! - **Bands** ([`WindowConfig::band_slots`] × 16 bytes, 16 MiB by default): for each band key
//!   of a recent message (see `fingerprint.rs`), 32 bits of the key, when it was last seen, and
//!   the campaign it belongs to. A message whose band keys are all new starts a campaign named
//!   by its least key (as the batch report names it); one that shares a key joins the campaign
//!   most of its shared keys point at, and all its keys then point there. Buckets of four
//!   entries; a new key replaces the entry seen longest ago, and an entry older than two
//!   windows counts as empty. The table remembers the keys of the last `band_slots / 12`
//!   messages or so (87,000 by default): copies of a template further apart than that are not
//!   linked, which is far sparser than any campaign worth the name. The table is one block in
//!   huge pages where the system has them (`table.rs`): its reads are random, and small pages
//!   would add a TLB miss to most of them.
//! - **Campaigns** ([`WindowConfig::campaign_slots`] × 64 bytes, 4 MiB by default): only for
//!   templates seen at least twice, copies counted in the current and the previous window and
//!   a 128-bit sender bitmap per window. One-off messages never reach it. A bucket of eight
//!   that is full gives up its smallest campaign. Also one block in huge pages.
//!
//! No text and no sender id is kept: band keys and sender hashes are 64-bit hashes, and only
//! parts of them are stored. Nothing grows with traffic: a million distinct messages in a
//! window leave the tables as big as they were, older keys replaced.
//!
//! # The window
//!
//! Time is cut into windows of length T; a campaign's counters roll over lazily when next
//! touched (current becomes previous, or both clear when older), so nothing sweeps the table.
//! The size over the last T is estimated the usual sliding-window way, `current + previous ×
//! (1 − elapsed fraction of the current window)`. Distinct senders are counted by linear
//! counting over the union of both windows' bitmaps (so over the last one to two windows):
//! within a few percent up to about 200 senders, saturating near 620. The first copy of a
//! template is counted in its size but not its senders (its campaign entry is made by the
//! second copy).
//!
//! # Concurrency
//!
//! Band entries are two relaxed atomics each, read and written without locks: a race between
//! two messages can at worst link one copy to the wrong campaign or miss a link, which an
//! estimate can bear. Campaign counters sit behind [`SHARDS`] mutexes, taken once per message
//! that repeats a template; they are atomics so that the table can be shared without a lock
//! around it (every read and write of a slot's counters is made under its shard's lock).
//!
//! # Probe, then count
//!
//! A message's thirteen lines (twelve band buckets and its own campaign slot) are random
//! places in 20 MiB: waiting for them one after the other was most of the window's cost.
//! [`Window::probe`] computes where they are and asks the processor for them without waiting;
//! [`Window::observe`] counts the message later. The daemon probes as soon as the text is
//! normalised and counts after the rules have run on it, so the lines arrive meanwhile.
//!
//! The window is daemon state owned by the server, outside the immutable engine; a reload of
//! the engine leaves it as it is.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use super::fingerprint::{mix, Fingerprint, BANDS};
use super::table::{Table, Zeroable};

/// Shards of the campaign table, each with its own lock.
pub const SHARDS: usize = 64;
const BAND_BUCKET: usize = 4;
const CAMPAIGN_BUCKET: usize = 8;

/// A campaign as the daemon reports it in a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Campaign {
    /// The campaign's id: 16 hex digits, stable while the template keeps coming.
    #[serde(serialize_with = "hex_id")]
    pub id: u64,
    /// Copies of the template in the last window (estimated).
    pub size: u32,
    /// Distinct senders of those copies (estimated).
    pub senders: u32,
}

fn hex_id<S: serde::Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::id_hex(*id))
}

/// A message's place in the window's tables, found by [`Window::probe`] and counted by
/// [`Window::observe`]: its band keys, their buckets and its own id.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    keys: [u64; BANDS],
    bases: [usize; BANDS],
    own: u64,
}

/// Asks for the cache line holding `value` without waiting for it.
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and faults on no address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// How the window is configured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowConfig {
    /// The window T.
    pub window: Duration,
    /// Copies in the window from which a template is reported as a campaign.
    pub min_size: u32,
    /// Distinct senders from which a template is reported (0: any).
    pub min_senders: u32,
    /// Band entries (16 bytes each): how far back copies are linked.
    pub band_slots: usize,
    /// Campaign entries (64 bytes each): templates seen twice or more, counted at once.
    pub campaign_slots: usize,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window: Duration::from_secs(600),
            min_size: 20,
            min_senders: 5,
            band_slots: 1 << 20,
            campaign_slots: 1 << 16,
        }
    }
}

/// One band entry: `[tag:32 | seen:32]` and the campaign id.
#[derive(Default)]
struct BandEntry {
    tag_seen: AtomicU64,
    campaign: AtomicU64,
}

// SAFETY: two atomics; zero is an empty entry.
unsafe impl Zeroable for BandEntry {}

/// A campaign's counters as a value, read from and written back to its [`Slot`].
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    /// The campaign id, 0 for an empty entry.
    id: u64,
    /// The window the `current` counters belong to.
    epoch: u32,
    current: u32,
    previous: u32,
    current_senders: [u64; 2],
    previous_senders: [u64; 2],
}

impl Counter {
    /// Rolls the counters over to window `epoch`.
    fn roll(&mut self, epoch: u32) {
        if self.epoch == epoch {
            return;
        }
        if self.epoch.wrapping_add(1) == epoch {
            self.previous = self.current;
            self.previous_senders = self.current_senders;
        } else {
            self.previous = 0;
            self.previous_senders = [0; 2];
        }
        self.current = 0;
        self.current_senders = [0; 2];
        self.epoch = epoch;
    }

    /// Copies in the last window, `elapsed` being the fraction of the current window gone.
    fn size(&self, elapsed: f64) -> u32 {
        self.current + (f64::from(self.previous) * (1.0 - elapsed)).round() as u32
    }

    fn senders(&self) -> u32 {
        linear_count([
            self.current_senders[0] | self.previous_senders[0],
            self.current_senders[1] | self.previous_senders[1],
        ])
    }
}

/// A campaign's counters as stored: one cache line of atomics, read and written only under
/// the lock of its shard.
#[derive(Default)]
#[repr(align(64))]
struct Slot {
    id: AtomicU64,
    /// `epoch | current << 32`.
    epoch_current: AtomicU64,
    previous: AtomicU64,
    current_senders: [AtomicU64; 2],
    previous_senders: [AtomicU64; 2],
}

// SAFETY: atomics only; zero is an empty slot.
unsafe impl Zeroable for Slot {}

impl Slot {
    fn id(&self) -> u64 {
        self.id.load(Relaxed)
    }

    fn get(&self) -> Counter {
        let ec = self.epoch_current.load(Relaxed);
        Counter {
            id: self.id(),
            epoch: ec as u32,
            current: (ec >> 32) as u32,
            previous: self.previous.load(Relaxed) as u32,
            current_senders: self.current_senders.each_ref().map(|a| a.load(Relaxed)),
            previous_senders: self.previous_senders.each_ref().map(|a| a.load(Relaxed)),
        }
    }

    fn set(&self, c: &Counter) {
        self.id.store(c.id, Relaxed);
        self.epoch_current
            .store(u64::from(c.epoch) | u64::from(c.current) << 32, Relaxed);
        self.previous.store(u64::from(c.previous), Relaxed);
        for (a, &v) in self.current_senders.iter().zip(&c.current_senders) {
            a.store(v, Relaxed);
        }
        for (a, &v) in self.previous_senders.iter().zip(&c.previous_senders) {
            a.store(v, Relaxed);
        }
    }
}

/// A shard's lock, alone on its cache line so that two cores taking two shards do not contend.
#[derive(Default)]
#[repr(align(64))]
struct ShardLock(Mutex<()>);

/// Linear counting over 128 bits: n ≈ −m ln(zero bits / m).
fn linear_count(bits: [u64; 2]) -> u32 {
    let ones = bits[0].count_ones() + bits[1].count_ones();
    if ones == 0 {
        return 0;
    }
    let m = 128f64;
    // All bits set: the saturation value, m ln m.
    let zeros = f64::from((128 - ones).max(1));
    (-m * (zeros / m).ln()).round().max(1.0) as u32
}

/// A monotonic clock read for every message. On Linux the coarse clock: it ticks every few
/// milliseconds, far finer than the window needs, and costs a few nanoseconds where the precise
/// clock behind `Instant` cost 50 to 150 ns a read on a virtual machine.
#[cfg(target_os = "linux")]
fn coarse_clock() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write. The clock exists since Linux 2.6.32; were the
    // call to fail, `ts` would stay zero and the window would stand still, not break.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Elsewhere `Instant`, as a duration since the first call in this process.
#[cfg(not(target_os = "linux"))]
fn coarse_clock() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The sliding window of the module docs.
pub struct Window {
    config: WindowConfig,
    bands: Table<BandEntry>,
    band_buckets: usize,
    /// Campaign slots, shard after shard, each shard `campaign_buckets` buckets of
    /// [`CAMPAIGN_BUCKET`] slots.
    campaigns: Table<Slot>,
    locks: Box<[ShardLock]>,
    campaign_buckets: usize,
    /// When the window was made, on [`coarse_clock`].
    origin: Duration,
}

impl Window {
    pub fn new(config: WindowConfig) -> Window {
        let band_buckets = config
            .band_slots
            .div_ceil(BAND_BUCKET)
            .clamp(1, u32::MAX as usize);
        let bands = Table::zeroed(band_buckets * BAND_BUCKET);
        let campaign_buckets = config
            .campaign_slots
            .div_ceil(SHARDS * CAMPAIGN_BUCKET)
            .max(1);
        let campaigns = Table::zeroed(SHARDS * campaign_buckets * CAMPAIGN_BUCKET);
        let locks = (0..SHARDS).map(|_| ShardLock::default()).collect();
        Window {
            config,
            bands,
            band_buckets,
            campaigns,
            locks,
            campaign_buckets,
            origin: coarse_clock(),
        }
    }

    pub fn config(&self) -> &WindowConfig {
        &self.config
    }

    /// Bytes the tables hold (fixed at construction).
    pub fn memory_bytes(&self) -> usize {
        self.bands.len() * std::mem::size_of::<BandEntry>()
            + self.campaigns.len() * std::mem::size_of::<Slot>()
    }

    /// Counts one message, probed with [`Window::probe`], now, and returns its campaign if it
    /// is reported (see [`Window::observe_at`]).
    pub fn observe(&self, probe: &Probe, sender: Option<u64>) -> Option<Campaign> {
        self.observe_at(probe, sender, self.elapsed())
    }

    /// Counts one message, probed with [`Window::probe`], from the sender whose hash is
    /// `sender`, at `now` (time since the window was made), and returns its campaign when the
    /// template has reached the configured size and sender count within the window.
    pub fn observe_at(
        &self,
        probe: &Probe,
        sender: Option<u64>,
        now: Duration,
    ) -> Option<Campaign> {
        let c = self.count_probe(probe, sender, now);
        (c.size >= self.config.min_size && c.senders >= self.config.min_senders).then_some(c)
    }

    /// Where a message's entries are in the tables, with their cache lines requested from
    /// memory: the twelve band buckets are random lines of a large table, and so is the
    /// campaign slot of the template's own id (a copy whose masked text repeats an earlier one,
    /// as most copies of a campaign do, belongs to the campaign that earlier copy named by this
    /// id). Nothing waits for the lines here: work done between the probe and the count
    /// (the daemon runs the rules) hides the wait.
    pub fn probe(&self, fp: &Fingerprint) -> Probe {
        let own = fp.keys.iter().copied().min().unwrap_or(1).max(1);
        let bases = fp.keys.map(|key| self.band_base(key));
        prefetch(&self.campaigns[self.campaign_slot(own).0]);
        for &base in &bases {
            prefetch(&self.bands[base]);
        }
        Probe {
            keys: fp.keys,
            bases,
            own,
        }
    }

    /// Counts one message and returns its campaign, whatever its size.
    pub fn count(&self, fp: &Fingerprint, sender: Option<u64>, now: Duration) -> Campaign {
        self.count_probe(&self.probe(fp), sender, now)
    }

    fn count_probe(&self, probe: &Probe, sender: Option<u64>, now: Duration) -> Campaign {
        let seen = self.seconds(now);
        let horizon = self.horizon();
        // Where each band key is (or goes), and the campaign it points at.
        let mut found = [(0usize, 0u64, 0u64); BANDS];
        for (b, &key) in probe.keys.iter().enumerate() {
            found[b] = self.find_band(key, probe.bases[b], seen, horizon);
        }
        // The campaign most shared keys point at; ties to the least id.
        let mut best: Option<(usize, u64)> = None;
        for &(_, id, _) in &found {
            if id == 0 {
                continue;
            }
            let votes = found.iter().filter(|f| f.1 == id).count();
            if best.is_none_or(|(v, b)| votes > v || (votes == v && id < b)) {
                best = Some((votes, id));
            }
        }
        let campaign = match best {
            // A template seen for the first time.
            None => Campaign {
                id: probe.own,
                size: 1,
                senders: u32::from(sender.is_some()),
            },
            Some((_, id)) => self.count_campaign(id, sender, now),
        };
        let tag_seen = |key: u64| ((key >> 32) | 1) << 32 | u64::from(seen);
        for (b, &key) in probe.keys.iter().enumerate() {
            // Written only when it changes: a template repeating within the second leaves its
            // entries' cache lines shared between cores instead of taking them over each time.
            let (i, id, old) = found[b];
            let e = &self.bands[i];
            let new = tag_seen(key);
            if old != new {
                e.tag_seen.store(new, Relaxed);
            }
            if id != campaign.id {
                e.campaign.store(campaign.id, Relaxed);
            }
        }
        campaign
    }

    /// The first entry of `key`'s bucket.
    fn band_base(&self, key: u64) -> usize {
        // A multiply-shift range reduction (no division; `band_buckets` < 2^32).
        (((mix(key) >> 32) * self.band_buckets as u64) >> 32) as usize * BAND_BUCKET
    }

    /// The entry of `key` (or the one it should take; `base` is its bucket's first), the campaign it points at (0: none) and
    /// the entry's `tag_seen` when it is `key`'s (0: none).
    fn find_band(&self, key: u64, base: usize, seen: u32, horizon: u32) -> (usize, u64, u64) {
        let tag = (key >> 32) | 1;
        let mut oldest = (base, u32::MAX);
        for i in base..base + BAND_BUCKET {
            let e = &self.bands[i];
            let ts = e.tag_seen.load(Relaxed);
            let age = seen.wrapping_sub(ts as u32);
            let live = ts != 0 && age <= horizon;
            if live && ts >> 32 == tag {
                return (i, e.campaign.load(Relaxed), ts);
            }
            // Empty or expired entries first, then the one seen longest ago.
            let rank = if live { horizon - age } else { 0 };
            if rank < oldest.1 {
                oldest = (i, rank);
            }
        }
        (oldest.0, 0, 0)
    }

    /// The slot where campaign `id` is first looked for and its shard. The slots of a bucket
    /// are probed from there, around the bucket, so that a campaign is mostly in its first
    /// slot: the one line [`Window::probe`] fetches early.
    fn campaign_slot(&self, id: u64) -> (usize, usize) {
        let h = mix(id);
        let shard = h as usize % SHARDS;
        let bucket = shard * self.campaign_buckets + (h >> 32) as usize % self.campaign_buckets;
        let first = (h >> 8) as usize % CAMPAIGN_BUCKET;
        (bucket * CAMPAIGN_BUCKET + first, shard)
    }

    /// Counts a copy of campaign `id`, making its counter if it has none (then this is at
    /// least its second copy).
    fn count_campaign(&self, id: u64, sender: Option<u64>, now: Duration) -> Campaign {
        let (epoch, elapsed) = self.clock(now);
        let (first, shard) = self.campaign_slot(id);
        let base = first - first % CAMPAIGN_BUCKET;
        let probe = (0..CAMPAIGN_BUCKET).map(|k| base + (first + k) % CAMPAIGN_BUCKET);
        let _lock = self.locks[shard]
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let slot = match probe.clone().find(|&i| self.campaigns[i].id() == id) {
            Some(i) => i,
            None => {
                let victim = probe
                    .min_by_key(|&i| {
                        let mut c = self.campaigns[i].get();
                        if c.id == 0 {
                            return 0;
                        }
                        c.roll(epoch);
                        c.size(elapsed).saturating_add(1)
                    })
                    .unwrap_or(base);
                // The first copy, counted when the template was new.
                self.campaigns[victim].set(&Counter {
                    id,
                    epoch,
                    current: 1,
                    ..Counter::default()
                });
                victim
            }
        };
        let mut c = self.campaigns[slot].get();
        c.roll(epoch);
        c.current = c.current.saturating_add(1);
        if let Some(s) = sender {
            c.current_senders[((s >> 63) & 1) as usize] |= 1 << (s & 63);
        }
        self.campaigns[slot].set(&c);
        Campaign {
            id,
            size: c.size(elapsed),
            senders: c.senders(),
        }
    }

    /// The `n` largest campaigns of at least the configured size in the window now, largest
    /// first.
    pub fn top(&self, n: usize) -> Vec<Campaign> {
        self.top_at(n, self.elapsed())
    }

    pub fn top_at(&self, n: usize, now: Duration) -> Vec<Campaign> {
        let (epoch, elapsed) = self.clock(now);
        let mut all = Vec::new();
        let per_shard = self.campaign_buckets * CAMPAIGN_BUCKET;
        for (lock, shard) in self.locks.iter().zip(self.campaigns.chunks(per_shard)) {
            let _lock = lock.0.lock().unwrap_or_else(|e| e.into_inner());
            for mut c in shard.iter().map(Slot::get).filter(|c| c.id != 0) {
                c.roll(epoch);
                let size = c.size(elapsed);
                if size >= self.config.min_size.max(1) {
                    all.push(Campaign {
                        id: c.id,
                        size,
                        senders: c.senders(),
                    });
                }
            }
        }
        all.sort_unstable_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        all.truncate(n);
        all
    }

    /// Every byte the tables hold, for the privacy test.
    #[cfg(test)]
    fn state_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in self.bands.iter() {
            out.extend_from_slice(&e.tag_seen.load(Relaxed).to_le_bytes());
            out.extend_from_slice(&e.campaign.load(Relaxed).to_le_bytes());
        }
        for c in self.campaigns.iter().map(Slot::get) {
            out.extend_from_slice(&c.id.to_le_bytes());
            for v in [c.epoch, c.current, c.previous] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in c.current_senders.iter().chain(&c.previous_senders) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Time since the window was made.
    fn elapsed(&self) -> Duration {
        coarse_clock().saturating_sub(self.origin)
    }

    /// The window number of `now` and the fraction of it gone.
    fn clock(&self, now: Duration) -> (u32, f64) {
        let w = self.config.window.as_nanos().max(1);
        let t = now.as_nanos();
        ((t / w) as u32, (t % w) as f64 / w as f64)
    }

    /// `now` in whole seconds, as band entries record it (never 0, which marks an empty one).
    fn seconds(&self, now: Duration) -> u32 {
        (now.as_secs() as u32).wrapping_add(1).max(1)
    }

    /// How long a band entry links copies: two windows, in seconds.
    fn horizon(&self) -> u32 {
        (self.config.window.as_secs().saturating_mul(2)).clamp(1, u64::from(u32::MAX / 2)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::fingerprint::hash_str;
    use crate::normalize::normalize;

    fn fp(s: &str) -> Fingerprint {
        Fingerprint::of(normalize(s).as_str()).unwrap()
    }

    fn config(min_size: u32) -> WindowConfig {
        WindowConfig {
            window: Duration::from_secs(60),
            min_size,
            min_senders: 3,
            band_slots: 1 << 12,
            campaign_slots: 1 << 10,
        }
    }

    fn copy(i: u32) -> String {
        format!(
            "【速达】客户{i}号您好，您的包裹因检测阳性已销毁，请点击 claim{i}.top 领取赔偿{}元",
            i * 7
        )
    }

    #[test]
    fn a_template_becomes_a_campaign_at_the_threshold_and_expires_with_the_window() {
        let w = Window::new(config(10));
        let t = Duration::from_secs(5);
        for i in 0..9 {
            let sender = Some(hash_str(&i.to_string()));
            assert_eq!(
                w.observe_at(&w.probe(&fp(&copy(i))), sender, t),
                None,
                "copy {i}"
            );
        }
        let c = w
            .observe_at(&w.probe(&fp(&copy(9))), Some(hash_str("9")), t)
            .expect("the tenth copy");
        assert_eq!(c.size, 10);
        // The first copy's sender is not counted.
        assert!((8..=10).contains(&c.senders), "{c:?}");
        assert_eq!(w.top_at(5, t), vec![c]);
        // Past the window and its horizon nothing is left.
        let later = Duration::from_secs(200);
        assert_eq!(w.count(&fp(&copy(10)), None, later).size, 1);
        assert!(w.top_at(5, later).is_empty());
    }

    #[test]
    fn the_clock_moves_forward() {
        let w = Window::new(config(2));
        let a = w.elapsed();
        std::thread::sleep(Duration::from_millis(60));
        let b = w.elapsed();
        assert!(b >= a + Duration::from_millis(30), "{a:?} then {b:?}");
    }

    #[test]
    fn the_state_holds_no_text_and_no_sender() {
        let w = Window::new(config(2));
        for i in 0..10 {
            let sender = format!("1390000{i:04}");
            w.count(&fp(&copy(i)), Some(hash_str(&sender)), Duration::ZERO);
        }
        let state = w.state_bytes();
        assert!(state.iter().any(|&b| b != 0), "something was counted");
        for needle in ["检测阳性", "claim", "1390000", "速达"] {
            let n = needle.as_bytes();
            assert!(
                !state.windows(n.len()).any(|x| x == n),
                "{needle} in the state"
            );
        }
    }

    #[test]
    fn one_sender_is_not_a_campaign() {
        let w = Window::new(config(5));
        for i in 0..20 {
            let c = w.observe_at(
                &w.probe(&fp(&copy(i))),
                Some(hash_str("same")),
                Duration::ZERO,
            );
            assert_eq!(c, None);
        }
        assert_eq!(w.top_at(1, Duration::ZERO)[0].size, 20);
    }

    #[test]
    fn memory_is_fixed_and_a_repeating_template_survives_a_flood_of_one_offs() {
        let w = Window::new(config(5));
        let before = w.memory_bytes();
        let t = fp(&copy(1));
        let mut last = None;
        for i in 0..30u64 {
            last = w.observe_at(&w.probe(&t), Some(i), Duration::ZERO);
            // Fifty distinct messages between copies: a fifth of what the band table holds.
            for n in 0..50u64 {
                let keys = std::array::from_fn(|b| hash_str(&format!("{i}/{n}/{b}")));
                w.count(&Fingerprint { keys }, Some(n), Duration::ZERO);
            }
        }
        assert_eq!(w.memory_bytes(), before);
        assert!(last.is_some_and(|c| c.size == 30), "{last:?}");
        assert_eq!(w.top_at(10, Duration::ZERO).len(), 1);
    }
}

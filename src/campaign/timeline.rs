//! Copies of each campaign along the log, for the picture of campaign sizes over time
//! (`smishd campaigns --svg`).
//!
//! The log is cut into [`BUCKETS`] runs of equally many lines; when it outgrows them, the runs
//! double in length and every campaign's neighbouring counts are added up, so memory stays
//! fixed whatever the log's length: one array of counts per campaign of two or more copies
//! (128 bytes), made at its second copy. Each run keeps the time stamp of its first record, if
//! the log has them, to label the time axis: a log written in time order reads as copies per
//! stretch of time.

/// Runs of the log a campaign's copies are counted in.
pub const BUCKETS: usize = 32;

/// One campaign's copies per run.
pub type Counts = Box<[u32; BUCKETS]>;

/// The runs of the log: their length in lines and the first time stamp of each.
#[derive(Clone, Debug)]
pub struct Timeline {
    width: u64,
    first_time: Vec<Option<Box<str>>>,
    /// The last run with a record in it.
    last: usize,
    /// The last line placed.
    last_line: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width: 1,
            first_time: vec![None; BUCKETS],
            last: 0,
            last_line: 0,
        }
    }
}

impl Timeline {
    /// Places the record on `line` (lines come in increasing order), widening the runs until
    /// it fits; returns how many times they doubled (every campaign's counts must be
    /// [`Timeline::widen`]ed as often).
    pub fn advance(&mut self, line: u64, time: Option<&str>) -> u32 {
        let mut doubled = 0;
        while self.bucket(line) >= BUCKETS {
            self.width *= 2;
            for i in 0..BUCKETS / 2 {
                self.first_time[i] = self.first_time[2 * i]
                    .take()
                    .or_else(|| self.first_time[2 * i + 1].take());
            }
            for t in &mut self.first_time[BUCKETS / 2..] {
                *t = None;
            }
            self.last /= 2;
            doubled += 1;
        }
        let b = self.bucket(line);
        self.last = self.last.max(b);
        self.last_line = self.last_line.max(line);
        if let (None, Some(t)) = (&self.first_time[b], time) {
            self.first_time[b] = Some(t.into());
        }
        doubled
    }

    /// The run of `line` (may be past the last run before [`Timeline::advance`]).
    pub fn bucket(&self, line: u64) -> usize {
        usize::try_from(line.saturating_sub(1) / self.width).unwrap_or(usize::MAX)
    }

    /// Adds up neighbouring counts, as the runs double.
    pub fn widen(counts: &mut [u32; BUCKETS]) {
        for i in 0..BUCKETS / 2 {
            counts[i] = counts[2 * i] + counts[2 * i + 1];
        }
        counts[BUCKETS / 2..].fill(0);
    }

    /// Lines per run.
    pub fn width(&self) -> u64 {
        self.width
    }

    /// Runs in use (the last with a record, plus one).
    pub fn used(&self) -> usize {
        self.last + 1
    }

    /// How far the last run in use is filled: lines placed in it over [`Timeline::width`]
    /// (1 when it is full; lines skipped by the caller, such as rejected records, count).
    pub fn last_filled(&self) -> f64 {
        let start = self.last as u64 * self.width;
        self.last_line.saturating_sub(start).min(self.width) as f64 / self.width as f64
    }

    /// How run `b` is labelled: its first time stamp, cut to the minute for ISO 8601, or its
    /// first line.
    pub fn label(&self, b: usize) -> String {
        match self.first_time.get(b).and_then(Option::as_deref) {
            Some(t) => t.chars().take(16).collect(),
            None => format!("line {}", b as u64 * self.width + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_double_and_counts_add_up() {
        let mut t = Timeline::default();
        let mut counts: Counts = Box::new([0; BUCKETS]);
        for line in 1..=100u64 {
            for _ in 0..t.advance(line, Some(&format!("t{line:03}"))) {
                Timeline::widen(&mut counts);
            }
            if line % 2 == 0 {
                counts[t.bucket(line)] += 1;
            }
        }
        // 100 lines in at most 32 runs: 4 lines a run, 25 runs.
        assert_eq!((t.width(), t.used()), (4, 25));
        assert_eq!(counts.iter().sum::<u32>(), 50);
        assert!(counts[..25].iter().all(|&n| n == 2), "{counts:?}");
        assert_eq!(t.last_filled(), 1.0);
        t.advance(101, None);
        assert_eq!((t.used(), t.last_filled()), (26, 0.25));
        assert_eq!(t.label(0), "t001");
        assert_eq!(t.label(1), "t005");
        assert_eq!(Timeline::default().label(3), "line 4");
    }
}

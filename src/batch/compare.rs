//! `--compare-rules DIR` / `--compare-model FILE`: every record is scored by the running engine
//! and by a candidate, and the records whose verdict or category changed are reported, one
//! JSONL line each, with counts by change. A rule author sees what a change does to real
//! traffic before shipping it.
//!
//! A change line names the record (input line, echoed `id`) and, for each side, the verdict,
//! category, score and the ids of the rules that fired; never the message text.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use super::record::IdRef;
use crate::category::Category;
use crate::verdict::{Action, Verdict};

/// `(verdict, category)` before and after.
pub type ChangeKey = ((Action, Category), (Action, Category));

/// Counts of records by change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    counts: HashMap<ChangeKey, u64>,
}

impl Changes {
    /// Counts the pair if it changed; returns whether it did.
    pub fn add(&mut self, before: &Verdict, after: &Verdict) -> bool {
        let key = (
            (before.verdict, before.category),
            (after.verdict, after.category),
        );
        if key.0 == key.1 {
            return false;
        }
        *self.counts.entry(key).or_insert(0) += 1;
        true
    }

    pub fn merge(&mut self, other: &Changes) {
        for (k, n) in &other.counts {
            *self.counts.entry(*k).or_insert(0) += n;
        }
    }

    /// Records that changed.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Every change with its count, most frequent first (ties in a fixed order).
    pub fn sorted(&self) -> Vec<(ChangeKey, u64)> {
        let mut v: Vec<_> = self.counts.iter().map(|(k, n)| (*k, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// The summary table: `  count  allow/none -> flag/spam`.
    pub fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        for (key, n) in self.sorted() {
            writeln!(out, "  {n:>9}  {}", label(key))?;
        }
        Ok(())
    }
}

/// `allow/none -> flag/spam`.
pub fn label(((a, c), (b, d)): ChangeKey) -> String {
    format!(
        "{}/{} -> {}/{}",
        a.as_str(),
        c.as_str(),
        b.as_str(),
        d.as_str()
    )
}

#[derive(Serialize)]
struct Side<'a> {
    verdict: Action,
    category: Category,
    score: f64,
    rules: Vec<&'a str>,
}

impl<'a> Side<'a> {
    fn of(v: &'a Verdict) -> Side<'a> {
        let mut rules: Vec<&str> = v.hits.iter().map(|h| h.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        Side {
            verdict: v.verdict,
            category: v.category,
            score: (v.score * 10_000.0).round() / 10_000.0,
            rules,
        }
    }
}

#[derive(Serialize)]
struct ChangeLine<'a> {
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<IdRef<'a>>,
    change: String,
    before: Side<'a>,
    after: Side<'a>,
}

/// Appends the change line of one record to `out`.
pub fn write_change(
    out: &mut Vec<u8>,
    line: u64,
    id: Option<IdRef<'_>>,
    before: &Verdict,
    after: &Verdict,
) {
    let change = ChangeLine {
        line,
        id,
        change: label((
            (before.verdict, before.category),
            (after.verdict, after.category),
        )),
        before: Side::of(before),
        after: Side::of(after),
    };
    serde_json::to_writer(&mut *out, &change).expect("serialising to memory cannot fail");
    out.push(b'\n');
}

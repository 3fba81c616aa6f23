//! The campaigns report: one JSON object a line (`--json`), or a table for reading.
//!
//! Each campaign: `id` (16 hex digits), `size` (copies), `senders` (distinct senders, exact up
//! to 64, estimated above), `first_seen` / `last_seen` (the earliest and latest time stamp of
//! its copies when the log has one, else the first and last line number, an integer; `seen_by`
//! says which), `first_line` / `last_line`, `verdicts` (copies by verdict), `categories`
//! (copies by category, the non-zero ones), and `template`: the masked text the copies share
//! (numbers, links and names masked, `…` where copies differ; `null` for a campaign of one).

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::group::CampaignStats;
use super::id_hex;
use super::mask::display;
use crate::category::Category;

/// The template as a reader sees it, or `None` when it may not be shown.
pub fn template_of(c: &CampaignStats) -> Option<String> {
    c.template()
        .map(|t| display(&t.chars().collect::<Vec<char>>()))
}

/// One campaign as its JSON object.
pub fn to_json(c: &CampaignStats) -> Value {
    let (first, last, by) = match (&c.first_time, &c.last_time) {
        (Some(f), Some(l)) => (json!(f.text()), json!(l.text()), "time"),
        _ => (json!(c.first_line), json!(c.last_line), "line"),
    };
    let mut cats = Map::new();
    for cat in Category::ALL {
        let n = c.categories[cat.index()];
        if n > 0 {
            cats.insert(cat.as_str().to_string(), json!(n));
        }
    }
    json!({
        "id": id_hex(c.id),
        "size": c.size,
        "senders": c.senders(),
        "first_seen": first,
        "last_seen": last,
        "seen_by": by,
        "first_line": c.first_line,
        "last_line": c.last_line,
        "verdicts": {"allow": c.verdicts[0], "flag": c.verdicts[1], "block": c.verdicts[2]},
        "categories": cats,
        "template": template_of(c),
    })
}

/// One JSON object a line.
pub fn write_jsonl(out: &mut impl Write, campaigns: &[CampaignStats]) -> io::Result<()> {
    for c in campaigns {
        serde_json::to_writer(&mut *out, &to_json(c))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Characters of a template shown in the table.
const TABLE_TEMPLATE: usize = 60;

/// A table: one line a campaign, the template cut to fit.
pub fn write_table(out: &mut impl Write, campaigns: &[CampaignStats]) -> io::Result<()> {
    writeln!(
        out,
        "{:>8} {:>7} {:>7} {:>6} {:>6}  {:<25} {:<16}  template",
        "size", "senders", "allow", "flag", "block", "seen (first .. last)", "id"
    )?;
    for c in campaigns {
        let seen = match (&c.first_time, &c.last_time) {
            (Some(f), Some(l)) => format!("{} .. {}", f.text(), l.text()),
            _ => format!("line {} .. {}", c.first_line, c.last_line),
        };
        let mut t = template_of(c).unwrap_or_else(|| "-".into());
        if t.chars().count() > TABLE_TEMPLATE {
            t = t
                .chars()
                .take(TABLE_TEMPLATE)
                .chain(std::iter::once('…'))
                .collect();
        }
        writeln!(
            out,
            "{:>8} {:>7} {:>7} {:>6} {:>6}  {:<25} {:<16}  {}",
            c.size,
            c.senders(),
            c.verdicts[0],
            c.verdicts[1],
            c.verdicts[2],
            seen,
            id_hex(c.id),
            t
        )?;
    }
    Ok(())
}

//! The campaigns report: one JSON object a line (`--json`), or a table for reading.
//!
//! Each campaign: `id` (16 hex digits), `size` (copies), `senders` (distinct senders, exact up
//! to 64, estimated above), `first_seen` / `last_seen` (the earliest and latest time stamp of
//! its copies when the log has one, else the first and last line number, an integer; `seen_by`
//! says which), `first_line` / `last_line`, `verdicts` (copies by verdict), `categories`
//! (copies by category, the non-zero ones), and `template`: the masked text the copies share
//! (numbers, links and names masked, `…` where copies differ; `null` for a campaign of one).
//!
//! The picture (`--svg`): copies per run of the log of the largest campaigns reported, one
//! line each, named by id and size; the time axis labelled with each run's first time stamp
//! (or line). It holds ids, counts and time stamps, no text.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::group::CampaignStats;
use super::id_hex;
use super::mask::display;
use super::timeline::Timeline;
use crate::category::Category;
use crate::plot::{Chart, Line, PALETTE};

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

/// Campaigns drawn in the picture.
pub const SVG_CAMPAIGNS: usize = 10;

/// The picture of campaign sizes along the log: the [`SVG_CAMPAIGNS`] largest of `campaigns`
/// that were counted along `timeline`.
pub fn svg(campaigns: &[CampaignStats], timeline: &Timeline) -> String {
    let mut top: Vec<&CampaignStats> = campaigns.iter().filter(|c| c.timeline.is_some()).collect();
    top.sort_by(|a, b| b.size.cmp(&a.size).then(a.first_line.cmp(&b.first_line)));
    top.truncate(SVG_CAMPAIGNS);
    let used = timeline.used();
    let lines: Vec<Line> = top
        .iter()
        .zip(PALETTE)
        .map(|(c, color)| Line {
            name: Some(format!("{} ({})", id_hex(c.id), c.size)),
            color,
            points: c.timeline.as_ref().map_or_else(Vec::new, |t| {
                t.iter()
                    .take(used)
                    .enumerate()
                    .map(|(b, &n)| (b as f64, f64::from(n)))
                    .collect()
            }),
        })
        .collect();
    let peak = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let step = (peak / 5.0).ceil().max(1.0);
    let y_ticks = (0..=5)
        .map(|i| f64::from(i) * step)
        .map(|v| (v, format!("{v:.0}")))
        .collect();
    let last = used.saturating_sub(1).max(1);
    let x_ticks = (0..=4)
        .map(|i| i * last / 4)
        .map(|b| (b as f64, timeline.label(b)))
        .collect();
    Chart {
        title: format!(
            "the {} largest campaigns: copies per {} records",
            lines.len(),
            timeline.width()
        ),
        x_label: "log position (first time stamp or line of each run)".into(),
        y_label: "copies".into(),
        x_range: (0.0, last as f64),
        y_range: (0.0, step * 5.0),
        x_ticks,
        y_ticks,
        lines,
        marks: Vec::new(),
    }
    .svg()
}

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
//! (or line), the count axis in round steps. The last run of a log is mostly shorter than the
//! others: drawn as counted, every line would fall at the end as if every campaign had
//! stopped; so its counts are scaled up to a whole run when it holds at least half of one,
//! and it is left out otherwise. It holds ids, counts and time stamps, no text.

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
    let (used, last_scale) = drawn_runs(timeline);
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
                    .map(|(b, &n)| {
                        let scale = if b + 1 == used { last_scale } else { 1.0 };
                        (b as f64, f64::from(n) * scale)
                    })
                    .collect()
            }),
        })
        .collect();
    let peak = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let (step, steps) = count_axis(peak);
    let y_ticks = (0..=steps)
        .map(|i| i as f64 * step)
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
        y_range: (0.0, step * steps as f64),
        x_ticks,
        y_ticks,
        lines,
        marks: Vec::new(),
    }
    .svg()
}

/// The runs drawn and the factor of the last one's counts: a last run shorter than the others
/// is scaled up to a whole one when it holds at least half of one, else left out.
fn drawn_runs(timeline: &Timeline) -> (usize, f64) {
    let filled = timeline.last_filled();
    match timeline.used() {
        n if n > 1 && filled < 0.5 => (n - 1, 1.0),
        n if n > 1 => (n, 1.0 / filled),
        n => (n, 1.0),
    }
}

/// A round step for a count axis up to `peak` (1, 2 or 5 times a power of ten, or 25 times
/// one from 25 on) giving at most five steps, and how many steps reach `peak`.
fn count_axis(peak: f64) -> (f64, usize) {
    let raw = (peak / 5.0).max(1.0);
    let mut magnitude = 1.0;
    while magnitude * 10.0 <= raw {
        magnitude *= 10.0;
    }
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw && s.fract() == 0.0)
        .unwrap_or(magnitude * 10.0);
    (step, ((peak / step).ceil() as usize).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_last_run_is_scaled_or_left_out() {
        // Every line of the picture used to fall at its end, the last run holding a few lines.
        let runs = |lines: u64| {
            let mut t = Timeline::default();
            for line in 1..=lines {
                t.advance(line, None);
            }
            drawn_runs(&t)
        };
        // 4 lines a run from 65 lines on.
        assert_eq!(runs(100), (25, 1.0));
        assert_eq!(runs(101), (25, 1.0));
        assert_eq!(runs(102), (26, 2.0));
        assert_eq!(runs(103), (26, 4.0 / 3.0));
        assert_eq!(runs(1), (1, 1.0));
        assert_eq!(runs(3), (3, 1.0));
    }

    #[test]
    fn the_count_axis_has_round_steps() {
        // (peak, step, steps): the picture's axis used to step by peak / 5, such as 31 or 49.
        let cases = [
            (1.0, 1.0, 1),
            (3.0, 1.0, 3),
            (5.0, 1.0, 5),
            (7.0, 2.0, 4),
            (12.0, 5.0, 3),
            (155.0, 50.0, 4),
            (245.0, 50.0, 5),
            (251.0, 100.0, 3),
            (120.0, 25.0, 5),
            (2_726.0, 1_000.0, 3),
        ];
        for (peak, step, steps) in cases {
            assert_eq!(count_axis(peak), (step, steps), "peak {peak}");
        }
    }
}

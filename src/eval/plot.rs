//! The precision-recall curve of fraud detection as an SVG document.

use super::figures::Report;
use crate::plot::{Chart, Line, Mark, PALETTE};

/// The precision-recall curve as a self-contained SVG document.
pub fn pr_svg(report: &Report, title: &str) -> String {
    let ticks: Vec<(f64, String)> = (0..=10)
        .map(|i| {
            let v = f64::from(i) / 10.0;
            (v, format!("{v:.1}"))
        })
        .collect();
    let mut marks = Vec::new();
    // The operating point of the default thresholds.
    if let (Some(r), Some(fraud)) = (report.detection_rate, report.per_category.get(2)) {
        marks.push(Mark {
            at: (r, fraud.precision),
            dot: true,
            text: "default thresholds".into(),
            offset: (-130.0, 18.0),
        });
    }
    if let Some(ap) = report.average_precision {
        marks.push(Mark {
            at: (0.05, 0.05),
            dot: false,
            text: format!("average precision {ap:.4}"),
            offset: (0.0, 0.0),
        });
    }
    Chart {
        title: title.into(),
        x_label: "recall (fraud detected)".into(),
        y_label: "precision".into(),
        x_range: (0.0, 1.0),
        y_range: (0.0, 1.0),
        x_ticks: ticks.clone(),
        y_ticks: ticks,
        lines: vec![Line {
            name: None,
            color: PALETTE[0],
            points: report.pr_curve.clone(),
        }],
        marks,
    }
    .svg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::eval::data::Gold;
    use crate::eval::figures::{report, Scored};
    use crate::verdict::Action;

    #[test]
    fn the_plot_is_an_svg_with_the_title_escaped() {
        let row = |gold, detected: bool, score| Scored {
            file: 0,
            line: 1,
            gold,
            predicted: if detected {
                Category::GenericFraud
            } else {
                Category::None
            },
            action: if detected {
                Action::Flag
            } else {
                Action::Allow
            },
            detected,
            score,
            forced: false,
        };
        let r = report(&[
            row(Gold::Fraud(None), true, 0.9),
            row(Gold::None, false, 0.1),
        ]);
        let svg = pr_svg(&r, "t<1>");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("t&lt;1&gt;"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}

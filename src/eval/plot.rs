//! The precision-recall curve of fraud detection as an SVG document.

use super::figures::Report;

/// The precision-recall curve as a self-contained SVG document (drawn by hand: no plotting
/// dependency).
pub fn pr_svg(report: &Report, title: &str) -> String {
    let (w, h, m) = (640.0, 480.0, 60.0);
    let x = |r: f64| m + r * (w - 2.0 * m);
    let y = |p: f64| h - m - p * (h - 2.0 * m);
    let mut s = String::new();
    s.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        w / 2.0,
        xml_escape(title)
    ));
    for i in 0..=10 {
        let v = i as f64 / 10.0;
        s.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e0e0e0\"/>\n\
             <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e0e0e0\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v:.1}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>\n",
            x(v),
            y(0.0),
            x(v),
            y(1.0),
            x(0.0),
            y(v),
            x(1.0),
            y(v),
            x(v),
            y(0.0) + 18.0,
            x(0.0) - 6.0,
            y(v) + 4.0,
        ));
    }
    s.push_str(&format!(
        "<rect x=\"{m}\" y=\"{m}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n",
        w - 2.0 * m,
        h - 2.0 * m
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">recall (fraud detected)</text>\n",
        w / 2.0,
        h - 16.0
    ));
    s.push_str(&format!(
        "<text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">\
         precision</text>\n",
        h / 2.0,
        h / 2.0
    ));
    if !report.pr_curve.is_empty() {
        let pts: Vec<String> = report
            .pr_curve
            .iter()
            .map(|&(r, p)| format!("{:.1},{:.1}", x(r), y(p)))
            .collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/>\n",
            pts.join(" ")
        ));
    }
    // The operating point of the default thresholds.
    if let (Some(r), Some(fraud)) = (report.detection_rate, report.per_category.get(2)) {
        s.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#2c3e50\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\">default thresholds</text>\n",
            x(r),
            y(fraud.precision),
            x(r) - 130.0,
            y(fraud.precision) + 18.0
        ));
    }
    if let Some(ap) = report.average_precision {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\">average precision {ap:.4}</text>\n",
            x(0.05),
            y(0.05)
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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

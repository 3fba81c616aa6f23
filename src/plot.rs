//! Line charts as self-contained SVG documents, drawn by hand (no plotting dependency): the
//! precision-recall curve of `smishd eval`, campaign sizes over time of `smishd campaigns`.

/// A line chart: axes with grid and tick labels, lines, and marked points.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// The axes' ranges in data units, (min, max).
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// Grid lines and their labels along each axis, in data units.
    pub x_ticks: Vec<(f64, String)>,
    pub y_ticks: Vec<(f64, String)>,
    pub lines: Vec<Line>,
    pub marks: Vec<Mark>,
}

/// A polyline; a named one gets a legend entry.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: Option<String>,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
}

/// A text at a point of the chart, with a dot at the point when `dot`; the text is moved by
/// `offset` pixels.
#[derive(Clone, Debug)]
pub struct Mark {
    pub at: (f64, f64),
    pub dot: bool,
    pub text: String,
    pub offset: (f64, f64),
}

/// Colours for up to ten lines, distinct in print and for the common colour blindnesses.
pub const PALETTE: [&str; 10] = [
    "#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#2c3e50", "#f1c40f",
    "#7f8c8d", "#e84393",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 480.0;
const MARGIN: f64 = 60.0;
/// Room on the right for a legend, when a line is named.
const LEGEND: f64 = 170.0;

impl Chart {
    /// The chart as an SVG document.
    pub fn svg(&self) -> String {
        let legend = self.lines.iter().any(|l| l.name.is_some());
        let w = WIDTH + if legend { LEGEND } else { 0.0 };
        let (h, m) = (HEIGHT, MARGIN);
        let plot_right = WIDTH - m;
        let span = |(lo, hi): (f64, f64)| if hi > lo { hi - lo } else { 1.0 };
        let x = |v: f64| m + (v - self.x_range.0) / span(self.x_range) * (plot_right - m);
        let y = |v: f64| h - m - (v - self.y_range.0) / span(self.y_range) * (h - 2.0 * m);
        let mut s = String::new();
        s.push_str(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        ));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
            WIDTH / 2.0,
            xml_escape(&self.title)
        ));
        for (v, label) in &self.x_ticks {
            s.push_str(&format!(
                "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#e0e0e0\"/>\n\
                 <text x=\"{0:.1}\" y=\"{3:.1}\" text-anchor=\"middle\">{4}</text>\n",
                x(*v),
                h - m,
                m,
                h - m + 18.0,
                xml_escape(label)
            ));
        }
        for (v, label) in &self.y_ticks {
            s.push_str(&format!(
                "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{2:.1}\" y2=\"{1:.1}\" stroke=\"#e0e0e0\"/>\n\
                 <text x=\"{3:.1}\" y=\"{4:.1}\" text-anchor=\"end\">{5}</text>\n",
                m,
                y(*v),
                plot_right,
                m - 6.0,
                y(*v) + 4.0,
                xml_escape(label)
            ));
        }
        s.push_str(&format!(
            "<rect x=\"{m}\" y=\"{m}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n",
            plot_right - m,
            h - 2.0 * m
        ));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            WIDTH / 2.0,
            h - 16.0,
            xml_escape(&self.x_label)
        ));
        s.push_str(&format!(
            "<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0})\">\
             {1}</text>\n",
            h / 2.0,
            xml_escape(&self.y_label)
        ));
        let mut named = 0;
        for line in &self.lines {
            if !line.points.is_empty() {
                let pts: Vec<String> = line
                    .points
                    .iter()
                    .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
                    .collect();
                s.push_str(&format!(
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n",
                    line.color,
                    pts.join(" ")
                ));
            }
            if let Some(name) = &line.name {
                let ly = m + 10.0 + 18.0 * f64::from(named);
                s.push_str(&format!(
                    "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{2:.1}\" y2=\"{1:.1}\" stroke=\"{3}\" \
                     stroke-width=\"3\"/>\n<text x=\"{4:.1}\" y=\"{5:.1}\">{6}</text>\n",
                    WIDTH - m + 14.0,
                    ly,
                    WIDTH - m + 34.0,
                    line.color,
                    WIDTH - m + 40.0,
                    ly + 4.0,
                    xml_escape(name)
                ));
                named += 1;
            }
        }
        for mark in &self.marks {
            let (px, py) = (x(mark.at.0), y(mark.at.1));
            if mark.dot {
                s.push_str(&format!(
                    "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"5\" fill=\"#2c3e50\"/>\n"
                ));
            }
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
                px + mark.offset.0,
                py + mark.offset.1,
                xml_escape(&mark.text)
            ));
        }
        s.push_str("</svg>\n");
        s
    }
}

/// `s` as XML character data or attribute value.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_one_svg_with_its_lines_legend_and_escaped_text() {
        let chart = Chart {
            title: "a<b".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_range: (0.0, 10.0),
            y_range: (0.0, 5.0),
            x_ticks: vec![(0.0, "0".into()), (10.0, "10".into())],
            y_ticks: vec![(5.0, "5".into())],
            lines: vec![
                Line {
                    name: Some("first & only".into()),
                    color: PALETTE[0],
                    points: vec![(0.0, 0.0), (10.0, 5.0)],
                },
                Line {
                    name: None,
                    color: PALETTE[1],
                    points: vec![],
                },
            ],
            marks: vec![Mark {
                at: (5.0, 2.5),
                dot: true,
                text: "mid".into(),
                offset: (4.0, 0.0),
            }],
        };
        let svg = chart.svg();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{svg}"
        );
        assert!(svg.contains("a&lt;b") && svg.contains("first &amp; only"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        // The line runs corner to corner of the plot area.
        assert!(svg.contains("points=\"60.0,420.0 580.0,60.0\""), "{svg}");
        assert!(svg.contains("<circle"));
    }
}

//! Labelled data and evaluation: reading `label<TAB>text` files (the contract's `eval` data),
//! the deterministic train/validation split shared with training, and the figures `smishd eval`
//! reports (per-category precision/recall/F1, detection and false-positive rates, confusion
//! matrix, threshold sweep, precision-recall curve).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::category::Category;
use crate::defaults::MAX_TEXT_BYTES;
use crate::engine::TextProblem;
use crate::verdict::{is_detected_fraud, Action};

/// Share of (deduplicated, normalised) texts held out for validation, in percent.
pub const VALIDATION_PERCENT: u64 = 20;

/// 64-bit FNV-1a of the normalised text: the split key, stable across builds and platforms.
pub fn split_hash(normalized: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in normalized.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Is this normalised text in the validation split? Training never sees these texts; `smishd
/// eval --holdout` looks at nothing else.
pub fn is_validation(normalized: &str) -> bool {
    is_validation_key(split_hash(normalized))
}

/// [`is_validation`] of a text whose [`split_hash`] is `key`: the one place the split is made.
pub fn is_validation_key(key: u64) -> bool {
    key % 100 < VALIDATION_PERCENT
}

/// What a data label says a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Gold {
    /// `ham`, `legit`, `normal`.
    None,
    /// `spam`, `AD:*`.
    Spam,
    /// `fraud`, `fraud_*`, `FR:*` (no scam named) or a fraud category name (named).
    Fraud(Option<Category>),
}

impl Gold {
    pub fn is_fraud(self) -> bool {
        matches!(self, Gold::Fraud(_))
    }

    pub fn name(self) -> &'static str {
        match self {
            Gold::None => "none",
            Gold::Spam => "spam",
            Gold::Fraud(None) => "fraud",
            Gold::Fraud(Some(c)) => c.as_str(),
        }
    }
}

/// Maps a data label to its meaning (the contract's `eval` data section); `None` for labels
/// that are not understood (reported and skipped, never guessed).
pub fn parse_label(label: &str) -> Option<Gold> {
    match label {
        "ham" | "legit" | "normal" => Some(Gold::None),
        "spam" => Some(Gold::Spam),
        "fraud" => Some(Gold::Fraud(None)),
        _ if label.starts_with("AD:") => Some(Gold::Spam),
        _ if label.starts_with("FR:") || label.starts_with("fraud_") => Some(Gold::Fraud(None)),
        _ => match label.parse::<Category>() {
            Ok(c) if c.is_fraud() => Some(Gold::Fraud(Some(c))),
            _ => None,
        },
    }
}

/// One usable labelled line.
#[derive(Clone, Debug)]
pub struct LabelledRow {
    pub line: usize,
    pub gold: Gold,
    pub text: String,
}

/// A labelled file as read: usable rows, bad lines and skipped labels.
#[derive(Clone, Debug, Default)]
pub struct LabelledFile {
    pub path: PathBuf,
    pub rows: Vec<LabelledRow>,
    /// (line number, reason): no tab, invalid UTF-8, empty or oversized text.
    pub bad: Vec<(usize, &'static str)>,
    /// Labels not understood, with their counts.
    pub unknown: BTreeMap<String, usize>,
}

impl LabelledFile {
    pub fn skipped(&self) -> usize {
        self.unknown.values().sum()
    }
}

/// Reads a `label<TAB>text` file. Only an unreadable file is an error; bad lines are collected.
pub fn read_labelled(path: &Path) -> std::io::Result<LabelledFile> {
    let bytes = std::fs::read(path)?;
    let mut file = LabelledFile {
        path: path.to_path_buf(),
        ..Default::default()
    };
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let Ok(s) = std::str::from_utf8(raw) else {
            file.bad.push((line, "invalid UTF-8"));
            continue;
        };
        let Some((label, text)) = s.split_once('\t') else {
            file.bad.push((line, "no tab between label and text"));
            continue;
        };
        let label = label.trim();
        if line == 1 && label.eq_ignore_ascii_case("label") {
            continue;
        }
        match crate::engine::check_text(text, MAX_TEXT_BYTES) {
            Ok(()) => {}
            Err(TextProblem::Blank) => {
                file.bad.push((line, "empty text"));
                continue;
            }
            Err(TextProblem::TooLong { .. }) => {
                file.bad.push((line, "text over the size limit"));
                continue;
            }
        }
        match parse_label(label) {
            Some(gold) => file.rows.push(LabelledRow {
                line,
                gold,
                text: text.to_string(),
            }),
            None => *file.unknown.entry(label.to_string()).or_default() += 1,
        }
    }
    Ok(file)
}

/// The licence line of the SOURCES.md next to a data file, if there is one (for the model
/// card and the model header).
pub fn source_licence(path: &Path) -> String {
    let Some(dir) = path.parent() else {
        return "unknown".into();
    };
    let Ok(text) = std::fs::read_to_string(dir.join("SOURCES.md")) else {
        return "unknown (no SOURCES.md next to the file)".into();
    };
    for line in text.lines() {
        let l = line.trim_start_matches(['-', ' ', '*']);
        if l.to_ascii_lowercase().starts_with("licence")
            || l.to_ascii_lowercase().starts_with("license")
        {
            let v = l.split_once(':').map(|(_, v)| v.trim()).unwrap_or(l);
            let mut v: String = v.chars().take(200).collect();
            if v.len() < l.len().saturating_sub(12) {
                v.push_str("...");
            }
            return v;
        }
    }
    "unknown (SOURCES.md names none)".into()
}

/// One scored evaluation row.
#[derive(Clone, Debug)]
pub struct Scored {
    pub file: usize,
    pub line: usize,
    pub gold: Gold,
    /// The verdict's category when detected as fraud; `spam` when the most probable class is
    /// spam; `none` otherwise.
    pub predicted: Category,
    pub action: Action,
    pub detected: bool,
    pub score: f64,
    /// A block-action fraud rule or a malicious link forces detection at any threshold.
    pub forced: bool,
}

/// Predicted category as the figures count it.
pub fn predicted_category(action: Action, category: Category) -> Category {
    if is_detected_fraud(action, category) {
        category
    } else if category == Category::Spam {
        Category::Spam
    } else {
        Category::None
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ClassFigures {
    pub category: String,
    pub support: usize,
    pub predicted: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SweepPoint {
    pub threshold: f64,
    pub fraud_detected: f64,
    pub legit_called_fraud: f64,
    pub spam_called_fraud: f64,
    pub precision: f64,
}

/// The figures of an evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub rows: usize,
    pub fraud_rows: usize,
    pub legit_rows: usize,
    pub spam_rows: usize,
    pub fraud_detected: usize,
    pub legit_called_fraud: usize,
    pub spam_called_fraud: usize,
    pub spam_recognised: usize,
    pub detection_rate: Option<f64>,
    pub legit_false_positive_rate: Option<f64>,
    pub spam_called_fraud_rate: Option<f64>,
    pub spam_recognised_rate: Option<f64>,
    pub per_category: Vec<ClassFigures>,
    /// gold class -> predicted category -> count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub sweep: Vec<SweepPoint>,
    /// (recall, precision) of "fraud" as the threshold goes from high to low.
    pub pr_curve: Vec<(f64, f64)>,
    pub average_precision: Option<f64>,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Precision, recall and F1 from true positives, predictions and support (0 where undefined).
pub fn prf(tp: usize, predicted: usize, support: usize) -> (f64, f64, f64) {
    let p = if predicted > 0 {
        tp as f64 / predicted as f64
    } else {
        0.0
    };
    let r = if support > 0 {
        tp as f64 / support as f64
    } else {
        0.0
    };
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

/// Computes the figures of scored rows.
pub fn report(rows: &[Scored]) -> Report {
    let count = |f: &dyn Fn(&Scored) -> bool| rows.iter().filter(|r| f(r)).count();
    let fraud_rows = count(&|r| r.gold.is_fraud());
    let legit_rows = count(&|r| r.gold == Gold::None);
    let spam_rows = count(&|r| r.gold == Gold::Spam);
    let fraud_detected = count(&|r| r.gold.is_fraud() && r.detected);
    let legit_called_fraud = count(&|r| r.gold == Gold::None && r.detected);
    let spam_called_fraud = count(&|r| r.gold == Gold::Spam && r.detected);
    let spam_recognised = count(&|r| r.gold == Gold::Spam && r.predicted == Category::Spam);

    // Per category: none, spam, fraud (any scam), then each scam named by some gold label.
    let mut per_category = Vec::new();
    let mut push = |name: &str, gold: &dyn Fn(Gold) -> bool, pred: &dyn Fn(&Scored) -> bool| {
        let support = rows.iter().filter(|r| gold(r.gold)).count();
        let predicted = rows.iter().filter(|r| pred(r)).count();
        let tp = rows.iter().filter(|r| gold(r.gold) && pred(r)).count();
        let (precision, recall, f1) = prf(tp, predicted, support);
        per_category.push(ClassFigures {
            category: name.to_string(),
            support,
            predicted,
            precision,
            recall,
            f1,
        });
    };
    push("none", &|g| g == Gold::None, &|r| {
        r.predicted == Category::None
    });
    push("spam", &|g| g == Gold::Spam, &|r| {
        r.predicted == Category::Spam
    });
    push("fraud (any scam)", &|g| g.is_fraud(), &|r| r.detected);
    for c in Category::FRAUD {
        if rows.iter().any(|r| r.gold == Gold::Fraud(Some(c))) {
            push(c.as_str(), &move |g| g == Gold::Fraud(Some(c)), &move |r| {
                r.detected && r.predicted == c
            });
        }
    }

    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in rows {
        *confusion
            .entry(r.gold.name().to_string())
            .or_default()
            .entry(r.predicted.as_str().to_string())
            .or_default() += 1;
    }

    let detected_at = |r: &Scored, t: f64| r.forced || r.score >= t;
    let sweep = [
        0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99,
    ]
    .iter()
    .map(|&t| {
        let det = rows.iter().filter(|r| detected_at(r, t)).count();
        let tp = rows
            .iter()
            .filter(|r| r.gold.is_fraud() && detected_at(r, t))
            .count();
        let legit = rows
            .iter()
            .filter(|r| r.gold == Gold::None && detected_at(r, t))
            .count();
        let spam = rows
            .iter()
            .filter(|r| r.gold == Gold::Spam && detected_at(r, t))
            .count();
        SweepPoint {
            threshold: t,
            fraud_detected: ratio(tp, fraud_rows).unwrap_or(0.0),
            legit_called_fraud: ratio(legit, legit_rows).unwrap_or(0.0),
            spam_called_fraud: ratio(spam, spam_rows).unwrap_or(0.0),
            precision: ratio(tp, det).unwrap_or(0.0),
        }
    })
    .collect();

    // Precision-recall of "fraud" against everything else, by score (forced rows first).
    let mut order: Vec<(f64, bool)> = rows
        .iter()
        .map(|r| (if r.forced { 2.0 } else { r.score }, r.gold.is_fraud()))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut pr_curve = Vec::new();
    let mut average_precision = None;
    if fraud_rows > 0 {
        let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
        let mut i = 0;
        while i < order.len() {
            // Ties move together: one point per distinct score.
            let s = order[i].0;
            while i < order.len() && order[i].0 == s {
                seen += 1;
                tp += order[i].1 as usize;
                i += 1;
            }
            let recall = tp as f64 / fraud_rows as f64;
            let precision = tp as f64 / seen as f64;
            ap += (recall - last_recall) * precision;
            last_recall = recall;
            pr_curve.push((recall, precision));
        }
        average_precision = Some(ap);
        // Keep the curve small: at most ~500 points, always the last.
        if pr_curve.len() > 500 {
            let step = pr_curve.len() / 500 + 1;
            let last = *pr_curve.last().unwrap();
            pr_curve = pr_curve.into_iter().step_by(step).collect();
            pr_curve.push(last);
        }
    }

    Report {
        rows: rows.len(),
        fraud_rows,
        legit_rows,
        spam_rows,
        fraud_detected,
        legit_called_fraud,
        spam_called_fraud,
        spam_recognised,
        detection_rate: ratio(fraud_detected, fraud_rows),
        legit_false_positive_rate: ratio(legit_called_fraud, legit_rows),
        spam_called_fraud_rate: ratio(spam_called_fraud, spam_rows),
        spam_recognised_rate: ratio(spam_recognised, spam_rows),
        per_category,
        confusion,
        sweep,
        pr_curve,
        average_precision,
    }
}

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

    #[test]
    fn labels_follow_the_contract() {
        assert_eq!(parse_label("ham"), Some(Gold::None));
        assert_eq!(parse_label("normal"), Some(Gold::None));
        assert_eq!(parse_label("AD:Retail"), Some(Gold::Spam));
        assert_eq!(parse_label("FR:Phishing(Bank)"), Some(Gold::Fraud(None)));
        assert_eq!(parse_label("fraud_loan"), Some(Gold::Fraud(None)));
        assert_eq!(
            parse_label("positive_parcel"),
            Some(Gold::Fraud(Some(Category::PositiveParcel)))
        );
        assert_eq!(parse_label("IL:Gambling"), None);
        assert_eq!(parse_label("Other"), None);
        assert_eq!(parse_label("none"), None);
    }

    #[test]
    fn split_is_stable_and_near_twenty_percent() {
        // Pinned: changing the split function silently leaks training data into evaluation.
        assert_eq!(split_hash(""), 0xcbf29ce484222325);
        assert_eq!(split_hash("a"), 0xaf63dc4c8601ec8c);
        let n = 10_000;
        let held = (0..n)
            .filter(|i| is_validation(&format!("message {i}")))
            .count();
        assert!((1700..2300).contains(&held), "{held}");
    }

    #[test]
    fn figures_of_a_small_set() {
        let row = |gold, predicted, detected, score| Scored {
            file: 0,
            line: 1,
            gold,
            predicted,
            action: if detected {
                Action::Flag
            } else {
                Action::Allow
            },
            detected,
            score,
            forced: false,
        };
        let rows = vec![
            row(Gold::Fraud(None), Category::GenericFraud, true, 0.9),
            row(Gold::Fraud(None), Category::None, false, 0.2),
            row(Gold::None, Category::None, false, 0.1),
            row(Gold::None, Category::GenericFraud, true, 0.7),
            row(Gold::Spam, Category::Spam, false, 0.3),
        ];
        let r = report(&rows);
        assert_eq!(r.detection_rate, Some(0.5));
        assert_eq!(r.legit_false_positive_rate, Some(0.5));
        assert_eq!(r.spam_recognised_rate, Some(1.0));
        let fraud = &r.per_category[2];
        assert_eq!((fraud.support, fraud.predicted), (2, 2));
        assert!((fraud.f1 - 0.5).abs() < 1e-12);
        let at_05 = r.sweep.iter().find(|p| p.threshold == 0.5).unwrap();
        assert_eq!(at_05.fraud_detected, 0.5);
        assert!(r.average_precision.unwrap() > 0.0);
        assert!(pr_svg(&r, "t<1>").contains("t&lt;1&gt;"));
        assert_eq!(r.confusion["none"]["generic_fraud"], 1);
    }
}

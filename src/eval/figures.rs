//! The figures `smishd eval` reports: per-category precision/recall/F1, detection and
//! false-positive rates, confusion matrix, threshold sweep, average precision.

use std::collections::BTreeMap;

use serde::Serialize;

use super::data::Gold;
use crate::category::Category;
use crate::verdict::{is_detected_fraud, Action};

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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.confusion["none"]["generic_fraud"], 1);
    }
}

//! The verdict: turning class probabilities and forcing signals into `score`, `category` and
//! `allow | flag | block`. Every threshold lives in [`Thresholds`].
//!
//! - `score` is P(fraud): the sum of the probabilities of the fraud categories.
//! - `category` is the most probable class; when `score` reaches the flag threshold it is the
//!   most probable fraud class (so a flagged message always names its scam).
//! - `block` when `score >= block`; `flag` when `score >= flag`; a spam message (P(spam) at
//!   least `spam_flag` and the most probable class) is flagged as `spam`; otherwise `allow`.
//! - A rule with a block action, or a link whose reputation is malicious, forces `block` whatever
//!   the score; the category is then the forcing rule's, or the most probable fraud class.

use serde::{Serialize, Serializer};

use crate::category::Category;
use crate::links::UrlFinding;

/// The three answers a gateway acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Flag,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Block => "block",
        }
    }
}

/// Where the verdict's cut-offs are. Defaults are the shipped operating point.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// P(fraud) at which a message is flagged.
    pub flag: f64,
    /// P(fraud) at which a message is blocked.
    pub block: f64,
    /// P(spam) at which a message that is not fraud is flagged as spam.
    pub spam_flag: f64,
}

/// The shipped model's operating point, chosen on the validation split with `smishd eval
/// --holdout`: at flag 0.8 the shipped model calls 0.08% of the 800k corpus's ham fraud (0.32%
/// at 0.5) and still detects 96.5% of the telecom-fraud corpus's fraud (97.4% at 0.5).
/// Operators who prefer recall set their own in the server configuration.
impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            flag: 0.8,
            block: 0.95,
            spam_flag: 0.5,
        }
    }
}

impl Thresholds {
    /// The cut-offs for rules-only scoring (no model), whose P(fraud) = sigmoid(evidence - 3):
    /// a scam rule with a supporting signal flags, rule evidence of 5.2 or more blocks.
    pub fn rules_only() -> Self {
        Thresholds {
            flag: 0.5,
            block: 0.9,
            spam_flag: 0.5,
        }
    }
}

/// One keyword occurrence of a fired rule, located in the original text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hit {
    pub rule: String,
    pub category: Category,
    /// The rule's weight (the same on every hit of one rule).
    pub weight: f64,
    /// Half-open UTF-8 byte span in the ORIGINAL text.
    pub start: usize,
    pub end: usize,
    /// The original substring.
    pub text: String,
    /// The rule fired only through keywords in the scope of a negation or in a quotation
    /// after a warning marker: shown so an author sees why a warning passed, never counted.
    /// In JSON only when true (`"negated": true`).
    #[serde(skip_serializing_if = "is_false")]
    pub negated: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// The answer for one message, as the JSON contract and the gRPC response carry it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    pub verdict: Action,
    pub category: Category,
    #[serde(serialize_with = "four_places")]
    pub score: f64,
    pub hits: Vec<Hit>,
    pub urls: Vec<UrlFinding>,
    pub ruleset: String,
    pub model: String,
}

impl Verdict {
    /// Detected fraud in the sense of the contract.
    pub fn is_fraud(&self) -> bool {
        is_detected_fraud(self.verdict, self.category)
    }
}

/// Detected fraud in the sense of the contract: `flag` or `block` with a fraud category.
pub fn is_detected_fraud(action: Action, category: Category) -> bool {
    action != Action::Allow && category.is_fraud()
}

fn four_places<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((v * 10_000.0).round() / 10_000.0)
}

/// What forces a block regardless of the score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forcing {
    None,
    /// A block-action rule of this category fired.
    Rule(Category),
    /// A link has a malicious reputation.
    MaliciousLink,
}

/// Decides `(verdict, category, score)` from class probabilities (indexed by
/// [`Category::index`]).
pub fn decide(probs: &[f64; 7], forcing: Forcing, t: &Thresholds) -> (Action, Category, f64) {
    let score: f64 = Category::FRAUD
        .iter()
        .map(|c| probs[c.index()])
        .sum::<f64>()
        .clamp(0.0, 1.0);
    let top = argmax(probs, &Category::ALL);
    let top_fraud = argmax(probs, &Category::FRAUD);
    match forcing {
        Forcing::Rule(c) => return (Action::Block, c, score),
        Forcing::MaliciousLink => return (Action::Block, top_fraud, score),
        Forcing::None => {}
    }
    if score >= t.block {
        (Action::Block, top_fraud, score)
    } else if score >= t.flag {
        (Action::Flag, top_fraud, score)
    } else if top == Category::Spam && probs[Category::Spam.index()] >= t.spam_flag {
        (Action::Flag, Category::Spam, score)
    } else {
        (Action::Allow, top, score)
    }
}

fn argmax(probs: &[f64; 7], among: &[Category]) -> Category {
    let mut best = among[0];
    for &c in &among[1..] {
        if probs[c.index()] > probs[best.index()] {
            best = c;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(pairs: &[(Category, f64)]) -> [f64; 7] {
        let mut p = [0.0; 7];
        for &(c, v) in pairs {
            p[c.index()] = v;
        }
        p
    }

    #[test]
    fn thresholds_and_categories() {
        // The logic of decide(), at round cut-offs (the shipped operating point is data).
        let t = Thresholds {
            flag: 0.5,
            block: 0.9,
            spam_flag: 0.5,
        };
        let cases = [
            (
                probs(&[(Category::None, 1.0)]),
                Forcing::None,
                Action::Allow,
                Category::None,
            ),
            (
                probs(&[
                    (Category::None, 0.4),
                    (Category::PositiveParcel, 0.35),
                    (Category::GenericFraud, 0.25),
                ]),
                Forcing::None,
                Action::Flag,
                Category::PositiveParcel,
            ),
            (
                probs(&[
                    (Category::CloseContactRedCode, 0.95),
                    (Category::None, 0.05),
                ]),
                Forcing::None,
                Action::Block,
                Category::CloseContactRedCode,
            ),
            (
                probs(&[(Category::Spam, 0.8), (Category::None, 0.2)]),
                Forcing::None,
                Action::Flag,
                Category::Spam,
            ),
            (
                probs(&[(Category::Spam, 0.45), (Category::None, 0.55)]),
                Forcing::None,
                Action::Allow,
                Category::None,
            ),
            (
                probs(&[(Category::None, 1.0)]),
                Forcing::Rule(Category::MiracleDrug),
                Action::Block,
                Category::MiracleDrug,
            ),
            (
                probs(&[(Category::None, 0.9), (Category::GenericFraud, 0.1)]),
                Forcing::MaliciousLink,
                Action::Block,
                Category::GenericFraud,
            ),
        ];
        for (p, forcing, action, category) in cases {
            let (a, c, s) = decide(&p, forcing, &t);
            assert_eq!((a, c), (action, category), "{p:?} {forcing:?}");
            assert!((0.0..=1.0).contains(&s));
        }
    }
}

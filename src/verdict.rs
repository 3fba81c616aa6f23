//! The verdict: turning class probabilities and forcing signals into `score`, `category` and
//! `allow | flag | block`. Every threshold lives in [`Thresholds`].
//!
//! - `score` is P(fraud): the sum of the probabilities of the fraud categories, except after a
//!   forced block (below).
//! - `category` is the most probable class; when `score` reaches the flag threshold it is the
//!   most probable fraud class (so a flagged message always names its scam), unless the rules
//!   name a scam: a specific scam whose rules fired wins over `generic_fraud` and over a scam
//!   with less rule weight ([`named_scam`]).
//! - `block` when `score >= block`; `flag` when `score >= flag`; a spam message (P(spam) at
//!   least `spam_flag` and the most probable class) is flagged as `spam`; otherwise `allow`.
//! - A rule with a block action, or a link whose reputation is malicious, forces `block` whatever
//!   the score; the category is then the forcing rule's, or the most probable fraud class, and
//!   the score is raised to at least the block threshold. One score, one verdict: a consumer
//!   that reads only `score` against the thresholds reaches the same answer, and no message is
//!   blocked with a score under the flag threshold.

use serde::{Serialize, Serializer};

use crate::category::{Category, CLASSES};
use crate::links::UrlFinding;
use crate::span::Span;

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
    /// Half-open UTF-8 byte span in the ORIGINAL text (`start`, `end` in JSON).
    #[serde(flatten)]
    pub span: Span,
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
    /// The campaign this message belongs to, when the daemon's campaign window counts it as
    /// one (see `campaign/window.rs`); absent everywhere else, and absent from the JSON then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<crate::campaign::Campaign>,
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

/// A score as the contract carries it, in JSON and gRPC alike: rounded to four places.
pub fn round_score(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

fn four_places<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round_score(*v))
}

/// A verdict and the evidence behind it: the one answer of the engine
/// ([`crate::Engine::judge`]). Faces take the contract's fields from `verdict` and anything
/// more (grouped hits, rule counts, probabilities, forcing) from `evidence`, and never
/// recompute either.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub evidence: Evidence,
}

/// Why a verdict is what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// Every fired rule once, with its hits: first those counted as evidence, in rule-set
    /// order, then those that fired only through negated or quoted keywords.
    pub rules: Vec<RuleHits>,
    /// Class probabilities, indexed by [`Category::index`].
    pub probabilities: [f64; CLASSES],
    /// The fired rules' positive weights summed by category, indexed likewise.
    pub rule_weights: [f64; CLASSES],
    /// What forced a block, if anything.
    pub forcing: Forcing,
}

impl Evidence {
    /// A block forced by fraud evidence (a fraud rule's block action or a malicious link),
    /// whatever the score.
    pub fn forced_fraud(&self) -> bool {
        match self.forcing {
            Forcing::None => false,
            Forcing::Rule(c) => c.is_fraud(),
            Forcing::MaliciousLink => true,
        }
    }
}

/// One fired rule and its hits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleHits {
    /// The rule's index in the engine's rule set.
    pub rule: u32,
    /// It fired only through negated or quoted keywords: shown, not counted as evidence.
    pub negated: bool,
    /// Positions in [`Verdict::hits`] of this rule's hits, in order.
    pub hits: Vec<usize>,
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

/// Decides `(verdict, category, score)` from class probabilities and the fired rules' summed
/// weights by category (both indexed by [`Category::index`]).
pub fn decide(
    probs: &[f64; CLASSES],
    rule_weights: &[f64; CLASSES],
    forcing: Forcing,
    t: &Thresholds,
) -> (Action, Category, f64) {
    let score: f64 = Category::FRAUD
        .iter()
        .map(|c| probs[c.index()])
        .sum::<f64>()
        .clamp(0.0, 1.0);
    let top = argmax(probs, &Category::ALL);
    let top_fraud = named_scam(argmax(probs, &Category::FRAUD), rule_weights);
    // A forced block says "fraud" as strongly as a score at the block threshold does.
    match forcing {
        Forcing::Rule(c) => return (Action::Block, c, score.max(t.block)),
        Forcing::MaliciousLink => return (Action::Block, top_fraud, score.max(t.block)),
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

/// The scam a detected message is named after, from the model's most probable fraud class:
/// payment, link and impersonation signals are generic, so a specific scam whose rules fired
/// wins over `generic_fraud`, and over a scam with less rule weight. Ties keep the model's.
pub fn named_scam(model: Category, rule_weights: &[f64; CLASSES]) -> Category {
    let scam = argmax(rule_weights, &Category::SCAMS);
    let weight = |c: Category| rule_weights[c.index()];
    let fired = weight(scam) > 0.0;
    if fired && (model == Category::GenericFraud || weight(scam) > weight(model)) {
        scam
    } else {
        model
    }
}

fn argmax(probs: &[f64; CLASSES], among: &[Category]) -> Category {
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

    fn probs(pairs: &[(Category, f64)]) -> [f64; CLASSES] {
        let mut p = [0.0; CLASSES];
        for &(c, v) in pairs {
            p[c.index()] = v;
        }
        p
    }

    /// `(probabilities, forcing, expected action, category, score)` at round cut-offs (flag
    /// 0.5, block 0.9, spam 0.5; the shipped operating point is data).
    #[test]
    fn thresholds_and_categories() {
        use Category::*;
        let t = Thresholds {
            flag: 0.5,
            block: 0.9,
            spam_flag: 0.5,
        };
        let none = Forcing::None;
        let cases = [
            (probs(&[(None, 1.0)]), none, Action::Allow, None, 0.0),
            // The score sums every fraud class; the category is the most probable fraud class.
            (
                probs(&[(None, 0.4), (PositiveParcel, 0.35), (GenericFraud, 0.25)]),
                none,
                Action::Flag,
                PositiveParcel,
                0.6,
            ),
            // Cut-offs are inclusive.
            (
                probs(&[(None, 0.5), (MiracleDrug, 0.5)]),
                none,
                Action::Flag,
                MiracleDrug,
                0.5,
            ),
            (
                probs(&[(None, 0.1), (PaidFastTest, 0.9)]),
                none,
                Action::Block,
                PaidFastTest,
                0.9,
            ),
            (
                probs(&[(CloseContactRedCode, 0.95), (None, 0.05)]),
                none,
                Action::Block,
                CloseContactRedCode,
                0.95,
            ),
            // Below the flag line the category is the most probable class, fraud or not.
            (
                probs(&[(None, 0.3), (GenericFraud, 0.45), (Spam, 0.25)]),
                none,
                Action::Allow,
                GenericFraud,
                0.45,
            ),
            (
                probs(&[(Spam, 0.8), (None, 0.2)]),
                none,
                Action::Flag,
                Spam,
                0.0,
            ),
            (
                probs(&[(Spam, 0.5), (None, 0.3), (GenericFraud, 0.2)]),
                none,
                Action::Flag,
                Spam,
                0.2,
            ),
            // Spam is flagged only when it is the most probable class and reaches spam_flag.
            (
                probs(&[(Spam, 0.4), (None, 0.35), (GenericFraud, 0.25)]),
                none,
                Action::Allow,
                Spam,
                0.25,
            ),
            (
                probs(&[(Spam, 0.45), (None, 0.55)]),
                none,
                Action::Allow,
                None,
                0.0,
            ),
            // Forcing blocks whatever the score, and the score rises to the block threshold.
            (
                probs(&[(None, 1.0)]),
                Forcing::Rule(MiracleDrug),
                Action::Block,
                MiracleDrug,
                0.9,
            ),
            (
                probs(&[(None, 0.9), (GenericFraud, 0.1)]),
                Forcing::MaliciousLink,
                Action::Block,
                GenericFraud,
                0.9,
            ),
            // A forced block keeps a score already above the threshold.
            (
                probs(&[(None, 0.03), (GenericFraud, 0.97)]),
                Forcing::MaliciousLink,
                Action::Block,
                GenericFraud,
                0.97,
            ),
        ];
        for (p, forcing, action, category, score) in cases {
            let (a, c, s) = decide(&p, &[0.0; CLASSES], forcing, &t);
            assert_eq!((a, c), (action, category), "{p:?} {forcing:?}");
            assert!((s - score).abs() < 1e-12, "{p:?}: score {s}, want {score}");
        }
    }

    #[test]
    fn the_rules_name_the_scam_over_generic_fraud_and_over_less_rule_weight() {
        use Category::*;
        let w = |pairs: &[(Category, f64)]| {
            let mut w = [0.0; CLASSES];
            for &(c, x) in pairs {
                w[c.index()] = x;
            }
            w
        };
        // No scam rule fired: the model's pick stands.
        assert_eq!(named_scam(GenericFraud, &w(&[])), GenericFraud);
        assert_eq!(named_scam(MiracleDrug, &w(&[(Spam, 2.0)])), MiracleDrug);
        // A scam rule beats generic_fraud, whatever its weight.
        assert_eq!(
            named_scam(GenericFraud, &w(&[(PaidFastTest, 1.0)])),
            PaidFastTest
        );
        // Against a specific scam, only more rule weight wins; a tie keeps the model's.
        let two = w(&[(PaidFastTest, 3.0), (CloseContactRedCode, 2.0)]);
        assert_eq!(named_scam(CloseContactRedCode, &two), PaidFastTest);
        let tie = w(&[(PaidFastTest, 3.0), (CloseContactRedCode, 3.0)]);
        assert_eq!(named_scam(PaidFastTest, &tie), PaidFastTest);
        // decide names a flagged message so; an allowed one keeps its class.
        let t = Thresholds::default();
        let p = probs(&[(None, 0.1), (GenericFraud, 0.9)]);
        let weights = w(&[(PositiveParcel, 3.0)]);
        assert_eq!(decide(&p, &weights, Forcing::None, &t).1, PositiveParcel);
        let quiet = probs(&[(None, 0.9), (GenericFraud, 0.1)]);
        assert_eq!(decide(&quiet, &weights, Forcing::None, &t).1, None);
    }

    #[test]
    fn scores_round_to_four_places() {
        assert_eq!(round_score(0.123_46), 0.1235);
        assert_eq!(round_score(0.123_44), 0.1234);
        assert_eq!(round_score(0.999_96), 1.0);
        assert_eq!(round_score(0.0), 0.0);
    }
}

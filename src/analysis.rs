//! The types that travel between the stages, below every stage that reads them (as in
//! Stalwart's spam filter, whose shared input and output types sit apart from the analysers):
//!
//! - [`Message`]: what comes in;
//! - [`Analysis`]: what the analysis stages (normalize.rs, rules/, links/, sender.rs) find in
//!   one message, and what features, the rules-only scorer and the verdict are made from;
//! - [`RuleEvidence`]: the rule authors' weights summed, read by the features, the rules-only
//!   scorer and training's weak labels;
//! - [`rules_only_probabilities`]: the scorer used when no model is loaded.
//!
//! This module imports the analysis stages' own types and nothing above them: features,
//! model, verdict and engine import it, never the other way round.

use crate::category::{Category, CLASSES};
use crate::links::{Reputation, UrlFinding};
use crate::normalize::Normalized;
use crate::rules::{FiredRule, RuleSet};
use crate::sender::SenderKind;

/// One message to score. Borrowed: nothing keeps message text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Message<'a> {
    pub text: &'a str,
    pub sender: Option<&'a str>,
    /// The campaign the message belongs to, when the daemon's campaign window knows one;
    /// rules with `campaign_min_size` count only then.
    pub campaign: Option<crate::campaign::Campaign>,
}

impl<'a> Message<'a> {
    pub fn new(text: &'a str) -> Self {
        Message {
            text,
            sender: None,
            campaign: None,
        }
    }

    pub fn with_sender(mut self, sender: Option<&'a str>) -> Self {
        self.sender = sender.filter(|s| !s.is_empty());
        self
    }

    pub fn with_campaign(mut self, campaign: Option<crate::campaign::Campaign>) -> Self {
        self.campaign = campaign;
        self
    }
}

/// Everything the analysis stage finds in a message: what features and the verdict are made
/// from. Training and scoring both fill it through the engine, so they never disagree.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub normalized: Normalized,
    /// Rules that fired and count as evidence.
    pub fired: Vec<FiredRule>,
    /// Scam rules that fired only through negated or quoted keywords: shown, never counted.
    pub negated: Vec<FiredRule>,
    pub urls: Vec<UrlFinding>,
    pub sender: Option<SenderKind>,
}

/// The rule authors' weights summed: the evidence both the rules-only scorer and the model's
/// evidence-level features are made from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RuleEvidence {
    /// Positive weights of fired rules, by category index.
    pub by_category: [f64; CLASSES],
    /// Negative weights (evidence against fraud), summed; zero or less.
    pub against: f64,
    /// Fraud evidence: positive weights in fraud categories plus `against`.
    pub fraud: f64,
    /// Spam evidence: positive weights in the spam category.
    pub spam: f64,
}

impl RuleEvidence {
    pub fn of(rules: &RuleSet, analysis: &Analysis) -> RuleEvidence {
        let mut e = RuleEvidence::default();
        for f in &analysis.fired {
            let rule = rules.rule(f.rule);
            if rule.weight < 0.0 {
                e.against += rule.weight;
            } else {
                e.by_category[rule.category.index()] += rule.weight;
            }
        }
        e.fraud = Category::FRAUD
            .iter()
            .map(|c| e.by_category[c.index()])
            .sum::<f64>()
            + e.against;
        e.spam = e.by_category[Category::Spam.index()];
        e
    }

    /// The scam the rules point at: the specific fraud category with the most positive
    /// weight (the first in class order on a tie), else `generic_fraud`.
    pub fn scam(&self) -> Category {
        let mut scam = Category::GenericFraud;
        let mut best = 0.0;
        for c in Category::SCAMS {
            if self.by_category[c.index()] > best {
                best = self.by_category[c.index()];
                scam = c;
            }
        }
        scam
    }
}

/// Link evidence of the rules-only scorer, by the worst reputation among the links.
const MALICIOUS_LINK_EVIDENCE: f64 = 4.0;
const SUSPICIOUS_LINK_EVIDENCE: f64 = 1.5;
/// A link that is not the claimed organisation's own (links/identity.rs) adds this to the
/// suspicious link's evidence: a claimed identity with a foreign link reaches the flag line
/// alone. A link to the claimed organisation's own domain (and none foreign) takes away
/// [`IDENTITY_MATCH_EVIDENCE`].
const IDENTITY_MISMATCH_EVIDENCE: f64 = 1.5;
const IDENTITY_MATCH_EVIDENCE: f64 = 1.0;
/// Rule evidence at which P(fraud) and P(spam) are one half.
const FRAUD_MIDPOINT: f64 = 3.0;
const SPAM_MIDPOINT: f64 = 2.0;

/// Scoring from rule evidence alone, used when no model is loaded.
///
/// Fraud evidence is the sum of the weights of fired rules in fraud categories, plus negative
/// weights (evidence against fraud, such as anti-fraud warning wording), plus link evidence
/// (malicious +4, suspicious +1.5, the worst link only; +1.5 more when a link is not the
/// claimed organisation's, -1 when the links are its own). P(fraud) = sigmoid(evidence - 3): one
/// strong scam rule (weight 3) alone is a coin toss; a scam rule with a supporting signal is
/// flagged. The fraud probability goes to the scam category with the most evidence (a
/// specific scam before `generic_fraud`). Spam evidence works the same way on what fraud
/// leaves: P(spam) = (1 - P(fraud)) * sigmoid(spam evidence - 2).
pub fn rules_only_probabilities(rules: &RuleSet, analysis: &Analysis) -> [f64; CLASSES] {
    let evidence = RuleEvidence::of(rules, analysis);
    let link_evidence: f64 = analysis
        .urls
        .iter()
        .map(|u| match u.reputation {
            Reputation::Malicious => MALICIOUS_LINK_EVIDENCE,
            Reputation::Suspicious => SUSPICIOUS_LINK_EVIDENCE,
            _ => 0.0,
        })
        .fold(0.0, f64::max)
        + identity_evidence(analysis);
    let p_fraud = sigmoid(evidence.fraud + link_evidence - FRAUD_MIDPOINT);
    let p_spam = (1.0 - p_fraud) * sigmoid(evidence.spam - SPAM_MIDPOINT);
    let mut probs = [0.0f64; CLASSES];
    probs[evidence.scam().index()] = p_fraud;
    probs[Category::Spam.index()] = p_spam;
    probs[Category::None.index()] = (1.0 - p_fraud - p_spam).max(0.0);
    probs
}

/// Evidence from the claimed identity against the links (constants above).
fn identity_evidence(analysis: &Analysis) -> f64 {
    let has = |reason: &str| analysis.urls.iter().any(|u| u.reasons.contains(&reason));
    if has(crate::links::identity::IDENTITY_MISMATCH) {
        IDENTITY_MISMATCH_EVIDENCE
    } else if has(crate::links::identity::IDENTITY_MATCH) {
        -IDENTITY_MATCH_EVIDENCE
    } else {
        0.0
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;
    use crate::rules::RuleSource;
    use crate::span::Span;

    const RULES: &str = r#"
[[rule]]
id = "PARCEL"
category = "positive_parcel"
weight = 3.0
description = "parcel tested positive"
any = ["快递阳性"]

[[rule]]
id = "DRUG"
category = "miracle_drug"
weight = 3.0
description = "miracle cure"
any = ["特效药"]

[[rule]]
id = "CODE"
category = "generic_fraud"
weight = 2.0
description = "asks for a code"
any = ["验证码"]

[[rule]]
id = "ADVERT"
category = "spam"
weight = 2.0
description = "sale"
any = ["促销"]

[[rule]]
id = "WARNING"
category = "none"
weight = -3.0
description = "anti-fraud warning"
any = ["谨防"]
"#;

    fn rules() -> RuleSet {
        let source = RuleSource {
            name: "test.toml".into(),
            content: RULES.into(),
        };
        RuleSet::from_sources("test-1", &[source]).expect("test rules compile")
    }

    fn analysis(rules: &RuleSet, text: &str, links: &[Reputation]) -> Analysis {
        let normalized = normalize(text);
        let found = rules.find(text, &normalized);
        let urls = links
            .iter()
            .map(|&reputation| UrlFinding {
                raw: "x.top".into(),
                span: Span::new(0, 5),
                url: "http://x.top/".into(),
                host: "x.top".into(),
                registrable_domain: "x.top".into(),
                reputation,
                reasons: Vec::new(),
            })
            .collect();
        Analysis {
            normalized,
            fired: found.fired,
            negated: found.negated,
            urls,
            sender: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn rule_evidence_sums_weights_by_category() {
        let rules = rules();
        let e = RuleEvidence::of(
            &rules,
            &analysis(&rules, "快递阳性，验证码，促销，谨防", &[]),
        );
        assert_eq!(e.by_category[Category::PositiveParcel.index()], 3.0);
        assert_eq!(e.by_category[Category::GenericFraud.index()], 2.0);
        assert_eq!(e.spam, 2.0);
        assert_eq!(e.against, -3.0);
        // Fraud is the fraud categories' positive weight plus the weight against: 3 + 2 - 3.
        assert_eq!(e.fraud, 2.0);
        assert_eq!(
            RuleEvidence::of(&rules, &analysis(&rules, "你好", &[])),
            RuleEvidence::default()
        );
    }

    #[test]
    fn the_scam_is_the_specific_category_with_most_weight() {
        let mut e = RuleEvidence::default();
        assert_eq!(e.scam(), Category::GenericFraud);
        // Generic evidence alone never names a specific scam.
        e.by_category[Category::GenericFraud.index()] = 9.0;
        assert_eq!(e.scam(), Category::GenericFraud);
        e.by_category[Category::MiracleDrug.index()] = 1.0;
        assert_eq!(e.scam(), Category::MiracleDrug);
        e.by_category[Category::PositiveParcel.index()] = 2.0;
        assert_eq!(e.scam(), Category::PositiveParcel);
        // A tie goes to the first in class order.
        e.by_category[Category::MiracleDrug.index()] = 2.0;
        assert_eq!(e.scam(), Category::PositiveParcel);
        // Spam and `none` weight are not scams.
        let mut e = RuleEvidence::default();
        e.by_category[Category::Spam.index()] = 5.0;
        e.by_category[Category::None.index()] = 5.0;
        assert_eq!(e.scam(), Category::GenericFraud);
    }

    #[test]
    fn rules_only_probabilities_follow_the_documented_formula() {
        let rules = rules();
        let probs = |text: &str, links: &[Reputation]| {
            let p = rules_only_probabilities(&rules, &analysis(&rules, text, links));
            assert!(close(p.iter().sum::<f64>(), 1.0), "{text}: {p:?}");
            p
        };
        let fraud_of = |p: [f64; CLASSES]| Category::FRAUD.iter().map(|c| p[c.index()]).sum();
        // No evidence: P(fraud) = sigmoid(-3), P(spam) = (1 - that) * sigmoid(-2).
        let p = probs("你好", &[]);
        let f = sigmoid(-3.0);
        assert!(close(p[Category::GenericFraud.index()], f));
        assert!(close(p[Category::Spam.index()], (1.0 - f) * sigmoid(-2.0)));
        // One weight-3 scam rule alone is a coin toss, in its own category.
        let p = probs("快递阳性", &[]);
        assert!(close(p[Category::PositiveParcel.index()], 0.5));
        assert!(close(fraud_of(p), 0.5));
        // A malicious link adds 4, a suspicious one 1.5; only the worst link counts.
        assert!(close(
            fraud_of(probs("快递阳性", &[Reputation::Malicious])),
            sigmoid(4.0)
        ));
        assert!(close(
            fraud_of(probs(
                "快递阳性",
                &[
                    Reputation::Suspicious,
                    Reputation::Malicious,
                    Reputation::Malicious
                ]
            )),
            sigmoid(4.0)
        ));
        assert!(close(
            fraud_of(probs("你好", &[Reputation::Suspicious])),
            sigmoid(-1.5)
        ));
        assert!(close(
            fraud_of(probs("你好", &[Reputation::Trusted])),
            sigmoid(-3.0)
        ));
        // Weight against fraud cancels a scam rule.
        assert!(close(fraud_of(probs("快递阳性，谨防", &[])), sigmoid(-3.0)));
        // Spam evidence of 2 is a coin toss on what fraud leaves.
        let p = probs("促销", &[]);
        assert!(close(
            p[Category::Spam.index()],
            (1.0 - sigmoid(-3.0)) * 0.5
        ));
    }
}

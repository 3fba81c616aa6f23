//! The engine: everything compiled (rules, link lists, suffix list, model) in one immutable,
//! synchronous, `Send + Sync` value, and the way of one message through it.
//!
//! Lifecycle: an [`Engine`] is built once by [`EngineBuilder`] (from a directory or the
//! compiled-in defaults) and shared through `Arc`. Nothing inside it changes after `build()`;
//! a reload builds a new Engine and swaps the `Arc` (see the server), so a request that holds
//! the old one finishes on it.

use std::path::{Path, PathBuf};

use crate::category::Category;
use crate::defaults;
use crate::error::{Error, ErrorKind, Result};
use crate::links::{LinkAnalyzer, Reputation, UrlFinding};
use crate::model::Model;
use crate::normalize::{normalize_into, Normalized};
use crate::rules::{FiredRule, RuleAction, RuleSet};
use crate::sender::SenderKind;
use crate::verdict::{decide, Forcing, Hit, Thresholds, Verdict};

/// One message to score. Borrowed: the engine never keeps message text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Message<'a> {
    pub text: &'a str,
    pub sender: Option<&'a str>,
}

impl<'a> Message<'a> {
    pub fn new(text: &'a str) -> Self {
        Message { text, sender: None }
    }

    pub fn with_sender(mut self, sender: Option<&'a str>) -> Self {
        self.sender = sender.filter(|s| !s.is_empty());
        self
    }
}

/// Why a message text cannot be scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// Empty, or only white space and invisible characters.
    Blank,
    /// Longer than the face's limit, in bytes.
    TooLong { bytes: usize, limit: usize },
}

/// The check every face (score, rescore, eval, gRPC) applies before scoring, so the same text
/// is refused, or scored, everywhere. `limit` is [`defaults::MAX_TEXT_BYTES`] unless the
/// server was configured otherwise.
pub fn check_text(text: &str, limit: usize) -> Result<(), TextProblem> {
    if text.len() > limit {
        Err(TextProblem::TooLong {
            bytes: text.len(),
            limit,
        })
    } else if text
        .chars()
        .all(|c| c.is_whitespace() || crate::chars::is_invisible(c))
    {
        // White space and invisible characters alone (a zero-width space) are no message.
        Err(TextProblem::Blank)
    } else {
        Ok(())
    }
}

/// Everything the analysis stage finds in a message: what features and the verdict are made
/// from. Training and scoring both go through [`Engine::analyze`], so they never disagree.
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

/// How the engine turns evidence into class probabilities.
#[derive(Clone, Debug)]
enum Scorer {
    /// Rule weights and link reputation alone (no model loaded).
    Rules,
    /// The linear model over the feature vector.
    Linear(Model),
}

/// The compiled classifier. See the module docs for its lifecycle.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    links: LinkAnalyzer,
    scorer: Scorer,
    thresholds: Thresholds,
    /// `VERSION+digest` of the rules and `model_version+digest` of the model file
    /// ([`crate::rules::digest`]): versions that change whenever the content does.
    ruleset_version: String,
    model_version: String,
}

/// Where an engine's parts come from.
#[derive(Clone, Debug, Default)]
pub struct EngineBuilder {
    rules_dir: Option<PathBuf>,
    model: ModelChoice,
    thresholds: Option<Thresholds>,
}

#[derive(Clone, Debug, Default)]
enum ModelChoice {
    /// The compiled-in model, or rule scoring when the build has none.
    #[default]
    Default,
    File(PathBuf),
    /// Rule evidence only.
    Off,
}

impl EngineBuilder {
    /// Rules, domain lists (DIR/domains) and suffix list (DIR/public_suffix_list.dat) from DIR.
    pub fn rules_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.rules_dir = Some(dir.into());
        self
    }

    /// A model file instead of the compiled-in model.
    pub fn model_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.model = ModelChoice::File(path.into());
        self
    }

    /// Score from rule evidence alone, without a model.
    pub fn without_model(mut self) -> Self {
        self.model = ModelChoice::Off;
        self
    }

    pub fn thresholds(mut self, t: Thresholds) -> Self {
        self.thresholds = Some(t);
        self
    }

    pub fn build(self) -> Result<Engine> {
        let (rules, rules_digest) = match &self.rules_dir {
            // Read again after compiling: a file changed in between is caught by the reloader,
            // which sees the change and builds once more.
            Some(dir) => (
                RuleSet::from_dir(dir)?,
                crate::rules::digest::of_dir(dir).map_err(|e| Error::io(dir, e))?,
            ),
            None => (
                RuleSet::from_sources(defaults::rules_version(), &defaults::rule_sources())?,
                defaults::RULES_DIGEST.to_string(),
            ),
        };
        let ruleset_version = format!("{}+{rules_digest}", rules.version());
        let links = match &self.rules_dir {
            Some(dir) => LinkAnalyzer::from_dir(dir)?,
            None => LinkAnalyzer::new()?,
        };
        let linear = |text: &str, origin: &str| -> Result<(Scorer, String)> {
            let model = Model::parse(text, origin)?;
            let version = format!(
                "{}+{}",
                model.version(),
                crate::rules::digest::of_text(text)
            );
            Ok((Scorer::Linear(model), version))
        };
        let (scorer, model_version) = match &self.model {
            ModelChoice::Off => (Scorer::Rules, "rules-only".to_string()),
            ModelChoice::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                linear(&text, &path.display().to_string())?
            }
            ModelChoice::Default => match defaults::MODEL {
                Some(text) => linear(text, "compiled-in model")?,
                None => (Scorer::Rules, "rules-only".to_string()),
            },
        };
        let thresholds = self.thresholds.unwrap_or_else(|| match scorer {
            Scorer::Rules => Thresholds::rules_only(),
            Scorer::Linear(_) => Thresholds::default(),
        });
        if !(0.0..=1.0).contains(&thresholds.flag)
            || !(thresholds.flag..=1.0).contains(&thresholds.block)
        {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "thresholds must satisfy 0 <= flag <= block <= 1 (flag {}, block {})",
                    thresholds.flag, thresholds.block
                ),
            ));
        }
        Ok(Engine {
            rules,
            links,
            scorer,
            thresholds,
            ruleset_version,
            model_version,
        })
    }
}

impl Engine {
    /// The compiled-in defaults.
    pub fn new() -> Result<Engine> {
        Engine::builder().build()
    }

    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Loads from a rule directory and optional model file, the CLI's `--rules` / `--model`.
    pub fn from_paths(rules: Option<&Path>, model: Option<&Path>) -> Result<Engine> {
        let mut b = Engine::builder();
        if let Some(dir) = rules {
            b = b.rules_dir(dir);
        }
        if let Some(file) = model {
            b = if file.as_os_str() == "none" {
                b.without_model()
            } else {
                b.model_file(file)
            };
        }
        b.build()
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn links(&self) -> &LinkAnalyzer {
        &self.links
    }

    pub fn model(&self) -> Option<&Model> {
        match &self.scorer {
            Scorer::Linear(m) => Some(m),
            Scorer::Rules => None,
        }
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// The rule set's VERSION, `+`, and the digest of its content: `2026.11.30-1+3fa9c2d1`.
    pub fn ruleset_version(&self) -> &str {
        &self.ruleset_version
    }

    /// The model's version, `+`, and the digest of its file; `rules-only` when scoring from
    /// rule evidence.
    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    /// The analysis stage: normalise, run the rules, find and judge links.
    pub fn analyze(&self, msg: &Message<'_>) -> Analysis {
        let mut a = Analysis::default();
        self.analyze_into(msg, &mut a);
        a
    }

    /// Like [`Engine::analyze`], reusing `out`'s buffers.
    pub fn analyze_into(&self, msg: &Message<'_>, out: &mut Analysis) {
        normalize_into(msg.text, &mut out.normalized);
        let found = self.rules.find(msg.text, &out.normalized);
        out.fired = found.fired;
        out.negated = found.negated;
        out.urls = self.links.analyze(msg.text, &out.normalized);
        out.sender = msg.sender.map(|s| SenderKind::of(Some(s)));
    }

    /// Class probabilities, indexed by [`Category::index`].
    pub fn probabilities(&self, analysis: &Analysis) -> [f64; 7] {
        match &self.scorer {
            Scorer::Linear(model) => model.predict_analysis(&self.rules, analysis),
            Scorer::Rules => rule_probabilities(&self.rules, analysis),
        }
    }

    /// Scores one message.
    pub fn score(&self, msg: &Message<'_>) -> Verdict {
        // Each thread keeps one Analysis whose buffers (the normalised text and its offset
        // maps) are reused from message to message: the hot path of rescoring and serving.
        // Nothing reads it between calls; the next message overwrites it.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Analysis> = std::cell::RefCell::default();
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut analysis) => {
                self.analyze_into(msg, &mut analysis);
                self.verdict_of(msg, &mut analysis)
            }
            // Re-entered on this thread (not done today): fall back to a fresh analysis.
            Err(_) => self.verdict(msg, self.analyze(msg)),
        })
    }

    /// The verdict stage, from an analysis of `msg`.
    pub fn verdict(&self, msg: &Message<'_>, mut analysis: Analysis) -> Verdict {
        self.verdict_of(msg, &mut analysis)
    }

    /// The verdict stage; takes the links out of `analysis`.
    fn verdict_of(&self, msg: &Message<'_>, analysis: &mut Analysis) -> Verdict {
        let probs = self.probabilities(analysis);
        let forcing = self.forcing(analysis);
        let (action, category, score) = decide(&probs, forcing, &self.thresholds);
        let hits = self.hits(msg.text, analysis);
        Verdict {
            id: None,
            verdict: action,
            category,
            score,
            hits,
            urls: std::mem::take(&mut analysis.urls),
            ruleset: self.ruleset_version().to_string(),
            model: self.model_version().to_string(),
        }
    }

    /// What forces a block in this analysis (block-action rule, malicious link), if anything.
    pub fn forcing(&self, analysis: &Analysis) -> Forcing {
        for f in &analysis.fired {
            let rule = self.rules.rule(f.rule);
            if rule.action == RuleAction::Block {
                return Forcing::Rule(rule.category);
            }
        }
        if analysis
            .urls
            .iter()
            .any(|u| u.reputation == Reputation::Malicious)
        {
            return Forcing::MaliciousLink;
        }
        Forcing::None
    }

    /// Every keyword occurrence of every fired rule, located in the original text.
    fn hits(&self, original: &str, analysis: &Analysis) -> Vec<Hit> {
        let mut hits = Vec::new();
        let fired = analysis.fired.iter().map(|f| (f, false));
        for (f, negated) in fired.chain(analysis.negated.iter().map(|f| (f, true))) {
            let rule = self.rules.rule(f.rule);
            for m in &f.matches {
                let (start, end) = analysis
                    .normalized
                    .original_span(m.start as usize, m.end as usize);
                hits.push(Hit {
                    rule: rule.id.clone(),
                    category: rule.category,
                    weight: rule.weight,
                    start,
                    end,
                    text: original[start..end].to_string(),
                    negated,
                });
            }
        }
        hits.sort_by_key(|h| (h.start, h.end));
        hits
    }
}

/// Scoring from rule evidence alone, used when no model is loaded.
///
/// Fraud evidence is the sum of the weights of fired rules in fraud categories, plus negative
/// weights (evidence against fraud, such as anti-fraud warning wording), plus link evidence
/// (malicious +4, suspicious +1.5). P(fraud) = sigmoid(evidence - 3): one strong scam rule
/// (weight 3) alone is a coin toss; a scam rule with a supporting signal is flagged. The fraud
/// probability goes to the scam category with the most evidence (a specific scam before
/// `generic_fraud`). Spam evidence works the same way on what fraud leaves.
pub fn rule_probabilities(rules: &RuleSet, analysis: &Analysis) -> [f64; 7] {
    let evidence = RuleEvidence::of(rules, analysis);
    let link_evidence: f64 = analysis
        .urls
        .iter()
        .map(|u| match u.reputation {
            Reputation::Malicious => 4.0,
            Reputation::Suspicious => 1.5,
            _ => 0.0,
        })
        .fold(0.0, f64::max);
    let p_fraud = sigmoid(evidence.fraud + link_evidence - 3.0);
    let p_spam = (1.0 - p_fraud) * sigmoid(evidence.spam - 2.0);
    let scam = evidence.scam();
    let mut probs = [0.0f64; 7];
    probs[scam.index()] = p_fraud;
    probs[Category::Spam.index()] = p_spam;
    probs[Category::None.index()] = (1.0 - p_fraud - p_spam).max(0.0);
    probs
}

/// The rule authors' weights summed: the evidence both the rules-only scorer and the model's
/// evidence-level features are made from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RuleEvidence {
    /// Positive weights of fired rules, by category index.
    pub by_category: [f64; 7],
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
    /// weight, else `generic_fraud`.
    pub fn scam(&self) -> Category {
        let mut scam = Category::GenericFraud;
        let mut best = 0.0;
        for c in [
            Category::CloseContactRedCode,
            Category::PositiveParcel,
            Category::PaidFastTest,
            Category::MiracleDrug,
        ] {
            if self.by_category[c.index()] > best {
                best = self.by_category[c.index()];
                scam = c;
            }
        }
        scam
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
        assert_send_sync::<RuleSet>();
        assert_send_sync::<LinkAnalyzer>();
        assert_send_sync::<Model>();
        assert_send_sync::<std::sync::Arc<Engine>>();
    }
}

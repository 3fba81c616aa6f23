//! The engine: everything compiled (rules, link lists, suffix list, model) in one immutable,
//! synchronous, `Send + Sync` value, and the way of one message through it.
//!
//! Lifecycle: an [`Engine`] is built once by [`EngineBuilder`] (from a directory or the
//! compiled-in defaults) and shared through `Arc`. Nothing inside it changes after `build()`;
//! a reload builds a new Engine and swaps the `Arc` (see the server), so a request that holds
//! the old one finishes on it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::analysis::{rules_only_probabilities, RuleEvidence};
pub use crate::analysis::{Analysis, Message};
use crate::category::CLASSES;
use crate::defaults;
use crate::error::{Error, ErrorKind, Result};
use crate::features;
use crate::links::{LinkAnalyzer, Reputation};
use crate::model::Model;
use crate::normalize::{normalize_into, Normalized};
use crate::rules::{FiredRule, RuleAction, RuleSet};
use crate::sender::SenderKind;
use crate::verdict::{decide, Evidence, Forcing, Hit, Judgement, RuleHits, Thresholds, Verdict};

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

    /// The analysis stage alone: normalise, run the rules, find and judge links.
    pub fn analyze(&self, msg: &Message<'_>) -> Analysis {
        let mut a = Analysis::default();
        self.analyze_into(msg, &mut a);
        a
    }

    /// Like [`Engine::analyze`], reusing `out`'s buffers.
    pub fn analyze_into(&self, msg: &Message<'_>, out: &mut Analysis) {
        self.analyze_into_with(msg, out, |_| ());
    }

    /// Like [`Engine::analyze_into`], handing the normalised text to `between` before the
    /// rules and links run on it, and returning what `between` returns. The daemon takes a
    /// message's campaign fingerprint there and has the window's entries for it fetched from
    /// memory while the rules run, instead of waiting for them afterwards.
    pub fn analyze_into_with<R>(
        &self,
        msg: &Message<'_>,
        out: &mut Analysis,
        between: impl FnOnce(&Normalized) -> R,
    ) -> R {
        normalize_into(msg.text, &mut out.normalized);
        let between = between(&out.normalized);
        let found = self.rules.find(msg.text, &out.normalized);
        out.fired = found.fired;
        out.negated = found.negated;
        out.urls = self.links.analyze(msg.text, &out.normalized);
        out.sender = msg.sender.map(|s| SenderKind::of(Some(s)));
        between
    }

    /// The feature stage: the feature set of an analysis (sorted, without repeats), as the
    /// model sees it. Training reads features here, so it never disagrees with scoring.
    pub fn features_into(&self, analysis: &Analysis, out: &mut Vec<u32>) {
        features::extract(&self.rules, analysis, out);
    }

    /// Class probabilities, indexed by [`Category::index`](crate::Category::index): the
    /// engine computes the features and hands them to the model, or, with no model, scores
    /// the rule evidence.
    pub fn probabilities(&self, analysis: &Analysis) -> [f64; CLASSES] {
        match &self.scorer {
            Scorer::Linear(model) => {
                let mut sum = model.sum();
                features::visit(&self.rules, analysis, &mut |id| sum.add(id));
                sum.probabilities()
            }
            Scorer::Rules => rules_only_probabilities(&self.rules, analysis),
        }
    }

    /// Scores one message: the verdict alone. See [`Engine::judge`].
    pub fn score(&self, msg: &Message<'_>) -> Verdict {
        self.judge(msg).verdict
    }

    /// Scores one message: the verdict and its evidence. Every face (score, rescore, eval,
    /// the daemon) gets its answer here or from [`Engine::judge_analysis`].
    pub fn judge(&self, msg: &Message<'_>) -> Judgement {
        // Each thread keeps one Analysis whose buffers (the normalised text and its offset
        // maps) are reused from message to message: the hot path of rescoring and serving.
        // Nothing reads it between calls; the next message overwrites it.
        thread_local! {
            static SCRATCH: RefCell<Analysis> = RefCell::default();
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut analysis) => self.judge_with(msg, &mut analysis),
            // Re-entered on this thread (not done today): a fresh analysis.
            Err(_) => self.judge_with(msg, &mut Analysis::default()),
        })
    }

    /// [`Engine::judge`] with the caller's scratch analysis (a face that scores on its own
    /// threads keeps one per thread). Afterwards `scratch` holds this message's analysis,
    /// without its links, which moved into the verdict.
    pub fn judge_with(&self, msg: &Message<'_>, scratch: &mut Analysis) -> Judgement {
        self.analyze_into(msg, scratch);
        self.judge_analysis(msg, scratch)
    }

    /// The verdict stage, the one place a verdict is made: from an analysis of `msg` filled by
    /// [`Engine::analyze_into`], the class probabilities, what forces a block, the decision
    /// and the hits. Takes the links out of `analysis`.
    pub fn judge_analysis(&self, msg: &Message<'_>, analysis: &mut Analysis) -> Judgement {
        // A rule that asks for a campaign counts only in one at least that large.
        let size = msg.campaign.map_or(0, |c| c.size);
        analysis.fired.retain(|f| {
            self.rules
                .rule(f.rule)
                .campaign_min_size
                .is_none_or(|n| size >= n)
        });
        let probabilities = self.probabilities(analysis);
        let forcing = self.forcing(analysis);
        let rule_weights = RuleEvidence::of(&self.rules, analysis).by_category;
        let (action, category, score) =
            decide(&probabilities, &rule_weights, forcing, &self.thresholds);
        let (hits, rules) = self.hits(msg.text, analysis);
        Judgement {
            verdict: Verdict {
                id: None,
                verdict: action,
                category,
                score,
                hits,
                urls: std::mem::take(&mut analysis.urls),
                ruleset: self.ruleset_version().to_string(),
                model: self.model_version().to_string(),
                campaign: None,
            },
            evidence: Evidence {
                rules,
                probabilities,
                rule_weights,
                forcing,
            },
        }
    }

    /// What forces a block in this analysis (block-action rule, malicious link), if anything.
    fn forcing(&self, analysis: &Analysis) -> Forcing {
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

    /// Every keyword occurrence of every fired rule (counted, then negated), located in the
    /// original text and in order of position; and each of those rules with the positions
    /// of its hits in that list.
    fn hits(&self, original: &str, analysis: &Analysis) -> (Vec<Hit>, Vec<RuleHits>) {
        if analysis.fired.is_empty() && analysis.negated.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let counted = analysis.fired.iter().map(|f| (f, false));
        let groups: Vec<(&FiredRule, bool)> = counted
            .chain(analysis.negated.iter().map(|f| (f, true)))
            .collect();
        let mut owned: Vec<(Hit, usize)> = Vec::new();
        for (group, &(f, negated)) in groups.iter().enumerate() {
            let rule = self.rules.rule(f.rule);
            for m in &f.matches {
                let span = analysis.normalized.original_span(m.span.widen());
                let hit = Hit {
                    rule: rule.id.clone(),
                    category: rule.category,
                    weight: rule.weight,
                    span,
                    text: original[span.range()].to_string(),
                    negated,
                };
                owned.push((hit, group));
            }
        }
        // Stable: hits at the same span keep the rule set's order.
        owned.sort_by_key(|(h, _)| h.span);
        let mut rules: Vec<RuleHits> = groups
            .iter()
            .map(|&(f, negated)| RuleHits {
                rule: f.rule,
                negated,
                hits: Vec::with_capacity(f.matches.len()),
            })
            .collect();
        let hits = owned
            .into_iter()
            .enumerate()
            .map(|(i, (hit, group))| {
                rules[group].hits.push(i);
                hit
            })
            .collect();
        (hits, rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::verdict::Action;

    #[test]
    fn engine_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
        assert_send_sync::<RuleSet>();
        assert_send_sync::<LinkAnalyzer>();
        assert_send_sync::<Model>();
        assert_send_sync::<std::sync::Arc<Engine>>();
        assert_send_sync::<Judgement>();
    }

    /// A specific scam rule names the scam over generic signals, whatever the model's pick.
    #[test]
    fn a_specific_scam_rule_names_the_scam_over_generic_signals() {
        let engine = Engine::new().unwrap();
        // A paid home-sampling offer: a paid-test rule fires beside a generic payment signal.
        let text = "我这边可以安排护士上门给你单独采，先交三百定金，下午保证出结果，转账到我卡上";
        let j = engine.judge(&Message::new(text));
        let fired: Vec<_> = j
            .evidence
            .rules
            .iter()
            .filter(|r| !r.negated)
            .map(|r| engine.rules().rule(r.rule).category)
            .collect();
        assert!(fired.contains(&Category::PaidFastTest), "{fired:?}");
        assert!(j.verdict.verdict != Action::Allow, "{:?}", j.verdict);
        assert_eq!(j.verdict.category, Category::PaidFastTest);
    }

    /// The evidence is the verdict's own: every hit in exactly one rule group, each group's
    /// hits of its rule, and the probabilities and forcing the verdict was decided from.
    #[test]
    fn judgement_groups_the_verdicts_hits_by_rule() {
        let engine = Engine::new().unwrap();
        let text = "您已被判定为密接人员，健康码将转为红码，请点击 jkm-help.top 核验，密接人员须提供验证码";
        let j = engine.judge(&Message::new(text));
        let v = &j.verdict;
        assert!(j.evidence.rules.len() >= 2, "{:?}", j.evidence.rules);
        let mut seen = vec![0; v.hits.len()];
        for fired in &j.evidence.rules {
            assert!(!fired.hits.is_empty());
            let rule = engine.rules().rule(fired.rule);
            for &i in &fired.hits {
                assert_eq!(v.hits[i].rule, rule.id);
                seen[i] += 1;
            }
            assert!(fired.hits.windows(2).all(|w| w[0] < w[1]));
        }
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
        assert_eq!(j.evidence.forcing, Forcing::MaliciousLink);
        assert!(j.evidence.forced_fraud());
        let (action, category, score) = decide(
            &j.evidence.probabilities,
            &j.evidence.rule_weights,
            j.evidence.forcing,
            engine.thresholds(),
        );
        assert_eq!((action, category, score), (v.verdict, v.category, v.score));
        assert_eq!(engine.score(&Message::new(text)), j.verdict);
        let quiet = engine.judge(&Message::new("明天下午三点开会"));
        assert!(quiet.evidence.rules.is_empty() && quiet.verdict.hits.is_empty());
        assert_eq!(quiet.evidence.forcing, Forcing::None);
    }
}

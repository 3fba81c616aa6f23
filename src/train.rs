//! Training the linear model: multinomial logistic regression (linfa-logistic, L-BFGS) over a
//! small dense slice of the hashed feature space.
//!
//! 1. Read labelled files; every text goes through [`Engine::analyze`] exactly as in scoring.
//! 2. Label: `none`, `spam`, or a fraud class. The corpora only say "fraud"; a fraud message on
//!    which a rule of one of the four scam categories fires is labelled with that scam (weak
//!    supervision by the rule set), otherwise `generic_fraud`. Likewise a not-fraud message
//!    with strong spam-rule evidence and no fraud evidence is trained as spam, since the
//!    corpora label adverts as normal.
//! 3. Deduplicate by normalised text and split train/validation by its hash
//!    ([`eval::is_validation`], shared with `smishd eval --holdout`).
//! 4. Cap the rows of any one (source, class) (the 126k ham of one corpus would otherwise
//!    dominate time and memory), and add the project's own examples: every rule's `hit`
//!    examples and every `[[case]]`, repeated so that classes the corpora lack get weight.
//! 5. Select the K n-gram buckets most associated with some class (chi-square, taken in turn
//!    from each class's ranking so rare classes get their share), plus every named signal seen.
//! 6. Fit on that dense f64 matrix, prune and round the weights, write them sparsely.
//! 7. Score the validation split with the sparse model as shipped and report per-class figures.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use linfa::traits::Fit;
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};
use rayon::prelude::*;

use crate::analysis::{Analysis, Message, RuleEvidence};
use crate::category::{Category, CLASSES};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::{self, Gold};
use crate::features;
use crate::model::{Header, Model, ModelFile, Source, Weight};
use crate::rules::{CaseExpect, RuleSet};
use crate::verdict::Thresholds;

/// The solver's float type. f32 halves the dense matrix; see the model card for why it is what
/// it is.
type F = f64;

/// Training settings; the defaults are the shipped model's.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub data: Vec<PathBuf>,
    /// Number of n-gram buckets kept as columns.
    pub ngrams: usize,
    /// Minimum document frequency of a kept n-gram bucket in the training split.
    pub min_df: u32,
    /// L2 regularisation (linfa's `alpha`, on the summed loss).
    pub alpha: f32,
    pub max_iterations: u64,
    /// At most this many training rows per (source, class).
    pub cap: usize,
    /// How many times each of the project's own examples is repeated.
    pub example_repeat: usize,
    /// Features whose class weights are all below this are dropped from the file.
    pub prune: f32,
    /// Model version; by default the date and a hash of the weights.
    pub version: Option<String>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            data: Vec::new(),
            ngrams: 2000,
            min_df: 5,
            alpha: 2.0,
            max_iterations: 40,
            cap: 10_000,
            example_repeat: 10,
            prune: 0.002,
            version: None,
        }
    }
}

/// What a training run produced.
#[derive(Debug)]
pub struct Trained {
    pub file: ModelFile,
    /// Human-readable summary lines (no message text).
    pub summary: Vec<String>,
}

struct Example {
    class: u8,
    validation: bool,
    source: usize,
    ids: Vec<u32>,
}

/// The scam a fraud message is about, as far as the rules can tell: the specific fraud
/// category with the most positive rule weight, else `generic_fraud`.
pub fn weak_fraud_category(rules: &RuleSet, analysis: &Analysis) -> Category {
    RuleEvidence::of(rules, analysis).scam()
}

/// Spam-rule evidence at which a message labelled not-fraud is trained as spam.
pub const SPAM_RELABEL_EVIDENCE: f64 = 3.0;

fn class_of(gold: Gold, rules: &RuleSet, analysis: &Analysis) -> Category {
    match gold {
        // The corpora label adverts as normal (most of the telecom-fraud corpus's `normal`
        // class is marketing): a not-fraud message the spam rules call an advert, with no
        // fraud evidence, is trained as spam so the model learns what the rules already know.
        Gold::None => {
            let e = RuleEvidence::of(rules, analysis);
            if e.spam >= SPAM_RELABEL_EVIDENCE && e.fraud <= 0.0 {
                Category::Spam
            } else {
                Category::None
            }
        }
        Gold::Spam => Category::Spam,
        Gold::Fraud(Some(c)) => c,
        Gold::Fraud(None) => weak_fraud_category(rules, analysis),
    }
}

/// Trains a model with `engine`'s rules (its model, if any, is not used).
pub fn train(engine: &Engine, opts: &TrainOptions, log: &mut dyn FnMut(String)) -> Result<Trained> {
    let started = Instant::now();
    let mut corpus = read_corpus(engine, opts, log)?;
    let own = add_own_examples(engine, opts, &mut corpus);
    log(format!(
        "{} examples ({} duplicates dropped, {} own examples x{}), analysed in {:.1}s",
        corpus.examples.len(),
        corpus.duplicates,
        own,
        opts.example_repeat,
        started.elapsed().as_secs_f64()
    ));
    let columns = select_columns(&corpus.examples, opts, log);
    let fit_started = Instant::now();
    let fitted = fit(&corpus.examples, &columns, opts)?;
    let fit_secs = fit_started.elapsed().as_secs_f64();
    log(format!("fitted in {fit_secs:.1}s"));
    let (file, mut summary) = write_model(&fitted, &columns, corpus, opts);
    summary.push(format!(
        "training time {:.1}s (fit {fit_secs:.1}s); {} weights kept",
        started.elapsed().as_secs_f64(),
        file.weights.len()
    ));
    Ok(Trained { file, summary })
}

/// The examples of every labelled file and the project's own, with what describes them.
struct Corpus {
    examples: Vec<Example>,
    sources: Vec<Source>,
    /// Names of the named signals seen, for the model file.
    names: HashMap<u32, String>,
    duplicates: usize,
}

/// Load: every labelled file through the engine's analysis and feature stages, labelled,
/// deduplicated, split, and capped per (source, class).
fn read_corpus(
    engine: &Engine,
    opts: &TrainOptions,
    log: &mut dyn FnMut(String),
) -> Result<Corpus> {
    let rules = engine.rules();
    let mut sources: Vec<Source> = Vec::new();
    let mut examples: Vec<Example> = Vec::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut duplicates = 0usize;

    for (si, path) in opts.data.iter().enumerate() {
        let file = eval::read_labelled(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        log(format!(
            "{}: {} rows, {} bad lines, {} skipped (labels: {})",
            path.display(),
            file.rows.len(),
            file.bad.len(),
            file.skipped(),
            file.unknown
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let analysed: Vec<_> = file
            .rows
            .par_iter()
            .map_init(Analysis::default, |a, row| {
                engine.analyze_into(&Message::new(&row.text), a);
                let key = eval::split_hash(a.normalized.as_str());
                let class = class_of(row.gold, rules, a);
                let mut ids = Vec::new();
                engine.features_into(a, &mut ids);
                let mut sig = Vec::new();
                features::visit_signals(rules, a, &mut |p, n| {
                    sig.push((features::signal_id(p, n), format!("{p}{n}")))
                });
                (key, class, ids, sig)
            })
            .collect();
        let mut per_class = [0usize; CLASSES];
        let mut used = 0usize;
        for (key, class, ids, sig) in analysed {
            if !seen.insert(key) {
                duplicates += 1;
                continue;
            }
            let validation = eval::is_validation_key(key);
            if !validation {
                if per_class[class.index()] >= opts.cap {
                    continue;
                }
                per_class[class.index()] += 1;
            }
            for (id, n) in sig {
                names.entry(id).or_insert(n);
            }
            used += 1;
            examples.push(Example {
                class: class.index() as u8,
                validation,
                source: si,
                ids,
            });
        }
        sources.push(Source {
            name,
            rows: used,
            licence: eval::source_licence(path),
        });
    }
    Ok(Corpus {
        examples,
        sources,
        names,
        duplicates,
    })
}

/// The project's own examples (rules' `hit` examples, `[[case]]`s): training only, repeated.
/// Returns how many there were.
fn add_own_examples(engine: &Engine, opts: &TrainOptions, corpus: &mut Corpus) -> usize {
    let rules = engine.rules();
    let Corpus {
        examples,
        sources,
        names,
        ..
    } = corpus;
    let mut own = 0usize;
    let mut push_own = |text: &str, sender: Option<&str>, class: Option<Category>| {
        let a = engine.analyze(&Message::new(text).with_sender(sender));
        let class = class.unwrap_or_else(|| weak_fraud_category(rules, &a));
        let mut ids = Vec::new();
        engine.features_into(&a, &mut ids);
        features::visit_signals(rules, &a, &mut |p, n| {
            names
                .entry(features::signal_id(p, n))
                .or_insert_with(|| format!("{p}{n}"));
        });
        for _ in 0..opts.example_repeat {
            examples.push(Example {
                class: class.index() as u8,
                validation: false,
                source: usize::MAX,
                ids: ids.clone(),
            });
        }
        own += 1;
    };
    for rule in rules.rules() {
        let class = if rule.weight < 0.0 {
            Category::None
        } else {
            rule.category
        };
        for h in &rule.hit {
            push_own(h, None, Some(class));
        }
        // `miss` examples are not used: a message a rule must not fire on may still be fraud
        // of another kind, so it carries no label.
    }
    for case in rules.cases() {
        let class = match case.expect {
            CaseExpect::Category(c) => Some(c),
            CaseExpect::Fraud => None,
            CaseExpect::NotFraud => Some(Category::None),
        };
        push_own(&case.text, case.sender.as_deref(), class);
    }
    sources.push(Source {
        name: format!("project examples (rule set {})", rules.version()),
        rows: own,
        licence: "written by the smishd project (Apache-2.0)".into(),
    });
    own
}

/// The model's columns: the selected n-gram buckets, then every named signal seen in the
/// training split.
struct Columns {
    /// Indexes of the training (not validation) examples.
    train_ix: Vec<usize>,
    /// Selected n-gram buckets.
    selected: Vec<u32>,
    /// Feature id of each column.
    ids: Vec<u32>,
}

/// Select: chi-square selection of n-gram buckets on the training split, plus the signals.
fn select_columns(
    examples: &[Example],
    opts: &TrainOptions,
    log: &mut dyn FnMut(String),
) -> Columns {
    // Feature selection on the training split.
    let train_ix: Vec<usize> = (0..examples.len())
        .filter(|&i| !examples[i].validation)
        .collect();
    let mut df = vec![[0u32; CLASSES]; features::NGRAM_SPACE as usize];
    let mut n_class = [0u64; CLASSES];
    let mut signal_cols: Vec<u32> = Vec::new();
    {
        let mut sig_seen = HashSet::new();
        for &i in &train_ix {
            let e = &examples[i];
            n_class[e.class as usize] += 1;
            for &id in &e.ids {
                if features::is_ngram(id) {
                    df[id as usize][e.class as usize] += 1;
                } else if sig_seen.insert(id) {
                    signal_cols.push(id);
                }
            }
        }
    }
    signal_cols.sort_unstable();
    let selected = select_ngrams(&df, &n_class, opts.ngrams, opts.min_df);
    drop(df);
    let mut columns: Vec<u32> = selected.clone();
    columns.extend(&signal_cols);
    log(format!(
        "selected {} n-gram buckets + {} signals; {} training rows, class counts {}",
        selected.len(),
        signal_cols.len(),
        train_ix.len(),
        Category::ALL
            .iter()
            .map(|c| format!("{} {}", c.as_str(), n_class[c.index()]))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    Columns {
        train_ix,
        selected,
        ids: columns,
    }
}

/// Fit: multinomial logistic regression on the dense matrix of the selected columns.
fn fit(
    examples: &[Example],
    columns: &Columns,
    opts: &TrainOptions,
) -> Result<MultiFittedLogisticRegression<F, usize>> {
    let train_ix = &columns.train_ix;
    let col_of: HashMap<u32, usize> = columns
        .ids
        .iter()
        .enumerate()
        .map(|(j, &id)| (id, j))
        .collect();
    // Dense matrix over the selected columns only.
    let mut x = Array2::<F>::zeros((train_ix.len(), columns.ids.len()));
    let mut y = Array1::<usize>::zeros(train_ix.len());
    for (r, &i) in train_ix.iter().enumerate() {
        let e = &examples[i];
        y[r] = e.class as usize;
        for id in &e.ids {
            if let Some(&j) = col_of.get(id) {
                x[[r, j]] = 1.0;
            }
        }
    }
    let dataset = linfa::Dataset::new(x, y);
    MultiLogisticRegression::<F>::default()
        .alpha(opts.alpha as F)
        .max_iterations(opts.max_iterations)
        .fit(&dataset)
        .map_err(|e| Error::with_source(ErrorKind::Model, "training failed", e))
}

/// Write: the fitted weights back in the contract's class order, pruned and rounded as the
/// file holds them, then validated with the sparse model as shipped.
fn write_model(
    fitted: &MultiFittedLogisticRegression<F, usize>,
    columns: &Columns,
    corpus: Corpus,
    opts: &TrainOptions,
) -> (ModelFile, Vec<String>) {
    let Corpus {
        examples,
        sources,
        names,
        ..
    } = corpus;
    let (train_ix, selected) = (&columns.train_ix, &columns.selected);
    let columns = &columns.ids;
    let mut summary = Vec::new();
    // Back to the class order of the contract; a class with no training row gets a bias far
    // below the others so that it is never predicted.
    let params = fitted.params();
    let intercept = fitted.intercept();
    let present: Vec<usize> = fitted.classes().to_vec();
    let min_bias = intercept.iter().fold(F::INFINITY, |a, &b| a.min(b)) as f32;
    let mut bias = [min_bias - 20.0; CLASSES];
    for (k, &c) in present.iter().enumerate() {
        bias[c] = intercept[k] as f32;
    }
    let mut weights = Vec::new();
    for (j, &id) in columns.iter().enumerate() {
        let mut w = [0f32; CLASSES];
        for (k, &c) in present.iter().enumerate() {
            w[c] = params[[j, k]] as f32;
        }
        if w.iter().all(|v| v.abs() < opts.prune) {
            continue;
        }
        // Round as the file will, so the validation figures are those of the file.
        for v in w.iter_mut() {
            *v = (*v * 10_000.0).round() / 10_000.0;
        }
        let name = (!features::is_ngram(id))
            .then(|| names.get(&id).cloned())
            .flatten();
        weights.push(Weight { id, w, name });
    }
    for v in bias.iter_mut() {
        *v = (*v * 10_000.0).round() / 10_000.0;
    }
    let mut file = ModelFile {
        header: Header {
            model_version: String::new(),
            selected_ngrams: selected.len(),
            sources,
            training: vec![format!(
                "linfa-logistic MultiLogisticRegression (L-BFGS), f64, alpha {}, max {} \
                 iterations, {} training rows (cap {} per source and class, own examples x{}), \
                 {} columns, prune below {}",
                opts.alpha,
                opts.max_iterations,
                train_ix.len(),
                opts.cap,
                opts.example_repeat,
                columns.len(),
                opts.prune
            )],
            validation: Vec::new(),
        },
        bias,
        weights,
    };

    // Validation with the sparse model as it will be shipped.
    let model = Model::from_model_file(&file);
    let validation = validate(&model, &examples, &file.header.sources);
    file.header.validation = validation.clone();
    summary.extend(validation);
    file.header.model_version = opts.version.clone().unwrap_or_else(|| {
        let h = crate::fnv::feed32(crate::fnv::OFFSET32, file.write().as_bytes());
        format!("{}-{h:08x}", today())
    });
    (file, summary)
}

/// Chi-square selection of n-gram buckets, in turn from each class's ranking.
fn select_ngrams(
    df: &[[u32; CLASSES]],
    n_class: &[u64; CLASSES],
    k: usize,
    min_df: u32,
) -> Vec<u32> {
    let n: f64 = n_class.iter().sum::<u64>() as f64;
    let mut rankings: Vec<Vec<u32>> = Vec::new();
    for c in 0..CLASSES {
        let nc = n_class[c] as f64;
        if nc == 0.0 {
            continue;
        }
        let mut scored: Vec<(f32, u32)> = df
            .iter()
            .enumerate()
            .filter_map(|(id, counts)| {
                let total: u32 = counts.iter().sum();
                if total < min_df {
                    return None;
                }
                let a = counts[c] as f64;
                let b = total as f64 - a;
                // Positive association only: the bucket is more frequent in class c.
                if a / nc <= b / (n - nc).max(1.0) {
                    return None;
                }
                let cc = nc - a;
                let d = n - nc - b;
                let den = (a + cc) * (b + d) * (a + b) * (cc + d);
                if den <= 0.0 {
                    return None;
                }
                let chi = n * (a * d - b * cc).powi(2) / den;
                Some((chi as f32, id as u32))
            })
            .collect();
        scored.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        scored.truncate(k);
        rankings.push(scored.into_iter().map(|(_, id)| id).collect());
    }
    let mut chosen = HashSet::new();
    let mut out = Vec::new();
    let mut rank = 0;
    while out.len() < k && rankings.iter().any(|r| rank < r.len()) {
        for r in &rankings {
            if out.len() >= k {
                break;
            }
            if let Some(&id) = r.get(rank) {
                if chosen.insert(id) {
                    out.push(id);
                }
            }
        }
        rank += 1;
    }
    out.sort_unstable();
    out
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "n/a".into()
    } else {
        format!("{:.2}% ({a}/{b})", 100.0 * a as f64 / b as f64)
    }
}

/// Per-class precision/recall/F1 (most probable class) and fraud detection at the default
/// flag threshold (model alone, no forcing) on the validation split, overall and per source.
fn validate(model: &Model, examples: &[Example], sources: &[Source]) -> Vec<String> {
    let flag = Thresholds::default().flag;
    let mut tp = [0usize; CLASSES];
    let mut predicted = [0usize; CLASSES];
    let mut support = [0usize; CLASSES];
    // Per source: fraud rows, detected; legit rows, called fraud; spam rows, called fraud.
    let mut per_source = vec![[0usize; 6]; sources.len()];
    for e in examples.iter().filter(|e| e.validation) {
        let p = model.predict_features(&e.ids);
        let mut top = 0;
        for k in 1..CLASSES {
            if p[k] > p[top] {
                top = k;
            }
        }
        let gold = e.class as usize;
        support[gold] += 1;
        predicted[top] += 1;
        if top == gold {
            tp[top] += 1;
        }
        let fraud: f64 = Category::FRAUD.iter().map(|c| p[c.index()]).sum();
        let detected = fraud >= flag;
        let s = &mut per_source[e.source];
        let slot = match Category::from_index(gold).unwrap() {
            c if c.is_fraud() => 0,
            Category::None => 2,
            _ => 4,
        };
        s[slot] += 1;
        s[slot + 1] += detected as usize;
    }
    let mut lines = vec![format!(
        "split: {}% of deduplicated normalised texts by FNV-1a 64 hash; per class (most probable class):",
        eval::VALIDATION_PERCENT
    )];
    for c in Category::ALL {
        let k = c.index();
        if support[k] == 0 && predicted[k] == 0 {
            continue;
        }
        let (p, r, f) = eval::prf(tp[k], predicted[k], support[k]);
        lines.push(format!(
            "{:<24} precision {p:.4} recall {r:.4} f1 {f:.4} support {}",
            c.as_str(),
            support[k]
        ));
    }
    for (s, src) in per_source.iter().zip(sources) {
        if s.iter().all(|&v| v == 0) {
            continue;
        }
        lines.push(format!(
            "{}: fraud detected {}; legit called fraud {}; spam called fraud {} (P(fraud) >= {flag})",
            src.name,
            pct(s[1], s[0]),
            pct(s[3], s[2]),
            pct(s[5], s[4])
        ));
    }
    lines
}

/// Today's UTC date as `YYYY.MM.DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}.{m:02}.{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_420), (2025, 11, 28));
    }

    #[test]
    fn selection_prefers_class_associated_buckets_from_every_class() {
        let mut df = vec![[0u32; CLASSES]; 64];
        let n_class = [100, 100, 0, 0, 0, 0, 10];
        df[1] = [90, 1, 0, 0, 0, 0, 0]; // none
        df[2] = [1, 80, 0, 0, 0, 0, 0]; // spam
        df[3] = [0, 0, 0, 0, 0, 0, 9]; // generic_fraud, rare class
        df[4] = [50, 50, 0, 0, 0, 0, 5]; // everywhere: no association
        df[5] = [1, 1, 0, 0, 0, 0, 0]; // below min_df
        let sel = select_ngrams(&df, &n_class, 3, 5);
        assert_eq!(sel, vec![1, 2, 3]);
    }
}

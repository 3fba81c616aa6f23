//! Leave-one-corpus-out: how the model does on a source it has never seen.
//!
//! The hash split of `smishd eval --holdout` keeps texts apart but not sources: every source is
//! in training. Here each labelled file in turn is left out entirely; a model is trained on the
//! others (and the project's own examples) with the same settings, then every row of the file
//! left out is scored with that model and the same rule set, at the shipped operating point. The
//! figures say how the model copes with data unlike its training data.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::engine::{Engine, Message};
use crate::eval::{read_labelled, Gold};
use crate::train::{train, TrainOptions};
use crate::verdict::is_detected_fraud;

/// The figures for one source left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocoFigures {
    /// The file left out (its file name).
    pub source: String,
    pub fraud_rows: usize,
    pub fraud_detected: usize,
    pub legit_rows: usize,
    pub legit_called_fraud: usize,
    pub spam_rows: usize,
    pub spam_called_fraud: usize,
}

impl LocoFigures {
    /// One line for a terminal, `-` where the source has no rows of a kind.
    pub fn line(&self) -> String {
        fn rate(n: usize, d: usize) -> String {
            if d == 0 {
                "-".into()
            } else {
                format!("{:.2}% ({n}/{d})", 100.0 * n as f64 / d as f64)
            }
        }
        format!(
            "left out {}: fraud detected {}; legit called fraud {}; spam called fraud {}",
            self.source,
            rate(self.fraud_detected, self.fraud_rows),
            rate(self.legit_called_fraud, self.legit_rows),
            rate(self.spam_called_fraud, self.spam_rows),
        )
    }

    fn count(&mut self, gold: Gold, detected: bool) {
        let (rows, hit) = match gold {
            Gold::Fraud(_) => (&mut self.fraud_rows, &mut self.fraud_detected),
            Gold::None => (&mut self.legit_rows, &mut self.legit_called_fraud),
            Gold::Spam => (&mut self.spam_rows, &mut self.spam_called_fraud),
        };
        *rows += 1;
        *hit += usize::from(detected);
    }
}

/// Scores every row of `path` with `engine` and counts what was called fraud.
pub fn score_source(engine: &Engine, path: &Path) -> anyhow::Result<LocoFigures> {
    let file = read_labelled(path).with_context(|| format!("reading {}", path.display()))?;
    let mut fig = LocoFigures {
        source: file_name(path),
        ..LocoFigures::default()
    };
    for row in &file.rows {
        let v = engine.score(&Message::new(&row.text));
        fig.count(row.gold, is_detected_fraud(v.verdict, v.category));
    }
    Ok(fig)
}

/// Trains one model per source left out and scores that source with it. `rules` is the rule
/// directory (None: the compiled-in set); `engine` is the rules-only engine training uses.
/// Needs at least two sources.
pub fn leave_one_out(
    engine: &Engine,
    rules: Option<&Path>,
    opts: &TrainOptions,
    log: &mut dyn FnMut(String),
) -> anyhow::Result<Vec<LocoFigures>> {
    anyhow::ensure!(
        opts.data.len() >= 2,
        "leave-one-out needs at least two --data files"
    );
    let mut out = Vec::with_capacity(opts.data.len());
    for (i, left_out) in opts.data.iter().enumerate() {
        let mut o = opts.clone();
        o.data = opts
            .data
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, p)| p.clone())
            .collect();
        log(format!(
            "leaving out {}: training on {} other source(s)",
            file_name(left_out),
            o.data.len()
        ));
        let trained = train(engine, &o, log)?;
        let tmp = TempModel::write(&trained.file.write(), i)?;
        let mut builder = Engine::builder().model_file(&tmp.path);
        if let Some(dir) = rules {
            builder = builder.rules_dir(dir);
        }
        let scorer = builder.build()?;
        let fig = score_source(&scorer, left_out)?;
        log(fig.line());
        out.push(fig);
    }
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// A model file in the temporary directory, removed when dropped.
struct TempModel {
    path: PathBuf,
}

impl TempModel {
    fn write(text: &str, i: usize) -> anyhow::Result<TempModel> {
        let path =
            std::env::temp_dir().join(format!("smishd-loco-{}-{i}.model", std::process::id()));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(TempModel { path })
    }
}

impl Drop for TempModel {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_gold_kind() {
        let mut f = LocoFigures::default();
        f.count(Gold::Fraud(None), true);
        f.count(Gold::Fraud(None), false);
        f.count(Gold::None, true);
        f.count(Gold::Spam, false);
        assert_eq!((f.fraud_rows, f.fraud_detected), (2, 1));
        assert_eq!((f.legit_rows, f.legit_called_fraud), (1, 1));
        assert_eq!((f.spam_rows, f.spam_called_fraud), (1, 0));
        assert!(f.line().contains("fraud detected 50.00% (1/2)"));
    }

    #[test]
    fn empty_kinds_show_a_dash() {
        let f = LocoFigures {
            source: "x.tsv".into(),
            fraud_rows: 4,
            fraud_detected: 4,
            ..LocoFigures::default()
        };
        assert_eq!(
            f.line(),
            "left out x.tsv: fraud detected 100.00% (4/4); legit called fraud -; spam called fraud -"
        );
    }

    #[test]
    fn one_source_is_refused() {
        let engine = Engine::builder().without_model().build().unwrap();
        let opts = TrainOptions {
            data: vec![PathBuf::from("a.tsv")],
            ..TrainOptions::default()
        };
        let err = leave_one_out(&engine, None, &opts, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("at least two"));
    }
}

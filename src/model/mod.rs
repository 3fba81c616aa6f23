//! The linear model: its file format ([`file`]) and inference ([`infer`]). Training lives in
//! `train.rs`, so a scoring build carries no solver code on its hot path.

pub mod file;
pub mod infer;

use std::path::Path;

use crate::engine::Analysis;
use crate::error::{Error, Result};
use crate::rules::RuleSet;

pub use file::{Header, ModelFile, Source, Weight};
pub use infer::Weights;

/// A trained linear model: its header and its weights.
#[derive(Clone, Debug)]
pub struct Model {
    header: Header,
    weights: Weights,
}

impl Model {
    pub fn version(&self) -> &str {
        &self.header.model_version
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn from_file(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Model::parse(&text, &path.display().to_string())
    }

    /// Parses a model file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Model> {
        Ok(Model::from_model_file(&ModelFile::parse(text, origin)?))
    }

    pub fn from_model_file(file: &ModelFile) -> Model {
        Model {
            header: file.header.clone(),
            weights: Weights::new(file),
        }
    }

    /// Class probabilities, indexed by [`Category::index`](crate::Category::index).
    pub fn predict_analysis(&self, rules: &RuleSet, analysis: &Analysis) -> [f64; 7] {
        self.weights.predict_analysis(rules, analysis)
    }

    /// Class probabilities of a feature set (see [`crate::features::extract`]).
    pub fn predict_features(&self, ids: &[u32]) -> [f64; 7] {
        self.weights.predict_features(ids)
    }
}

//! The linear model: its file format ([`file`]) and inference ([`infer`]). Training lives in
//! `train.rs`, so a scoring build carries no solver code on its hot path.
//!
//! The model knows feature ids and weights, nothing else: the engine computes a message's
//! features (features.rs) and hands them over one by one ([`Model::sum`]) or as a set
//! ([`Model::predict_features`]). It never sees a message, an analysis or a rule set.

pub mod file;
pub mod infer;

use std::path::Path;

use crate::category::CLASSES;
use crate::error::{Error, Result};

pub use file::{Header, ModelFile, Source, Weight};
pub use infer::{WeightSum, Weights};

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

    /// A sum of weights to feed feature ids into, as they are produced (the hot path: no
    /// feature vector is built).
    #[inline]
    pub fn sum(&self) -> WeightSum<'_> {
        self.weights.sum()
    }

    /// Class probabilities of a feature set (ids, repeats allowed), indexed by
    /// [`Category::index`](crate::Category::index).
    pub fn predict_features(&self, ids: &[u32]) -> [f64; CLASSES] {
        self.weights.predict_features(ids)
    }
}

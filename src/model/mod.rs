//! The linear model: file format and inference. (Placeholder until training lands: an engine
//! without a model scores from rule evidence alone, see engine.rs.)

use std::path::Path;

use crate::engine::Analysis;
use crate::error::{Error, ErrorKind, Result};
use crate::rules::RuleSet;

/// A trained linear model.
#[derive(Clone, Debug)]
pub struct Model {
    version: String,
}

impl Model {
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn from_file(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Model::parse(&text, &path.display().to_string())
    }

    pub fn parse(_text: &str, origin: &str) -> Result<Model> {
        Err(Error::new(
            ErrorKind::Model,
            format!("{origin}: model files are not supported yet"),
        ))
    }

    pub fn predict_analysis(&self, _rules: &RuleSet, _analysis: &Analysis) -> [f64; 7] {
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    }
}

//! The model file format `smishd-model`, version [`FORMAT_VERSION`]: plain UTF-8 text, so it
//! diffs, reviews and bundles with `include_str!`.
//!
//! ```text
//! smishd-model 1
//! # comments anywhere
//! model_version = 2026.11.28-1a2b3c4d
//! schema = smishd-features-v3
//! hash = fnv1a32-xorfold
//! hash_bits = 20
//! ngram_orders = 1,2,3
//! selected_ngrams = 3000
//! classes = none spam close_contact_red_code positive_parcel paid_fast_test miracle_drug generic_fraud
//! source = telecom_fraud5.tsv | 9411 | licence text          (one line per source)
//! training = free text: solver, alpha, iterations, rows
//! validation = free text, one line per figure
//! weights = 2931
//! bias <7 weights>
//! <feature id> <7 weights> [<name of a named signal>]
//! ...
//! ```
//!
//! Weights are stored sparsely: only features the training selected, rounded, and dropped when
//! every class weight is negligible. The loader refuses another format, format version,
//! feature schema, hash or class list with a message naming both values.

use crate::category::{Category, CLASSES};
use crate::error::{Error, ErrorKind, Result};
use crate::features;

/// First token of every model file.
pub const FORMAT: &str = "smishd-model";
/// Version of this layout.
pub const FORMAT_VERSION: u32 = 1;

/// A training source as the header records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub name: String,
    pub rows: usize,
    pub licence: String,
}

/// Everything before the weights.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Header {
    pub model_version: String,
    pub selected_ngrams: usize,
    pub sources: Vec<Source>,
    pub training: Vec<String>,
    pub validation: Vec<String>,
}

/// One feature's weights, one per class in [`Category::ALL`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    pub id: u32,
    pub w: [f32; CLASSES],
    /// Key of a named signal (`rule:RED_CODE_THREAT`), for readers of the file.
    pub name: Option<String>,
}

/// A whole model file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ModelFile {
    pub header: Header,
    pub bias: [f32; CLASSES],
    pub weights: Vec<Weight>,
}

fn class_list() -> String {
    Category::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shortest decimal that reads back as `v` to about 4 significant places.
fn fmt_weight(v: f32) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

impl ModelFile {
    /// The file's text.
    pub fn write(&self) -> String {
        let h = &self.header;
        let mut out = String::new();
        out.push_str(&format!("{FORMAT} {FORMAT_VERSION}\n"));
        out.push_str("# smishd linear model: see models/README.md (the model card)\n");
        out.push_str(&format!("model_version = {}\n", h.model_version));
        out.push_str(&format!("schema = {}\n", features::SCHEMA));
        out.push_str(&format!("hash = {}\n", features::HASH));
        out.push_str(&format!("hash_bits = {}\n", features::HASH_BITS));
        out.push_str(&format!("ngram_orders = {}\n", features::NGRAM_ORDERS));
        out.push_str(&format!("selected_ngrams = {}\n", h.selected_ngrams));
        out.push_str(&format!("classes = {}\n", class_list()));
        for s in &h.sources {
            out.push_str(&format!(
                "source = {} | {} | {}\n",
                one_line(&s.name),
                s.rows,
                one_line(&s.licence)
            ));
        }
        for t in &h.training {
            out.push_str(&format!("training = {}\n", one_line(t)));
        }
        for v in &h.validation {
            out.push_str(&format!("validation = {}\n", one_line(v)));
        }
        out.push_str(&format!("weights = {}\n", self.weights.len()));
        out.push_str("bias");
        for v in self.bias {
            out.push(' ');
            out.push_str(&fmt_weight(v));
        }
        out.push('\n');
        for w in &self.weights {
            out.push_str(&w.id.to_string());
            for v in w.w {
                out.push(' ');
                out.push_str(&fmt_weight(v));
            }
            if let Some(name) = &w.name {
                out.push(' ');
                out.push_str(name);
            }
            out.push('\n');
        }
        out
    }

    /// Parses a model file; `origin` names it in errors (a path, or `compiled-in model`).
    pub fn parse(text: &str, origin: &str) -> Result<ModelFile> {
        let err = |line: usize, msg: String| {
            Error::new(ErrorKind::Model, format!("{origin}: line {line}: {msg}"))
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        let (n, first) = lines
            .find(|(_, l)| !l.is_empty())
            .ok_or_else(|| Error::new(ErrorKind::Model, format!("{origin}: empty model file")))?;
        let mut magic = first.split_whitespace();
        let format = magic.next().unwrap_or("");
        if format != FORMAT {
            return Err(err(
                n,
                format!("not a smishd model file (format {format:?}, expected {FORMAT:?})"),
            ));
        }
        let version = magic.next().unwrap_or("");
        if version != FORMAT_VERSION.to_string() {
            return Err(err(
                n,
                format!(
                    "model format version {version:?} is not supported by this build \
                     (expected {FORMAT_VERSION})"
                ),
            ));
        }

        let mut file = ModelFile::default();
        let mut seen_schema = false;
        let mut seen_classes = false;
        let mut expected_weights: Option<(usize, usize)> = None;
        let mut in_weights = false;
        let mut seen_bias = false;
        for (n, line) in lines.by_ref() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if in_weights {
                let mut parts = line.split_whitespace();
                let head = parts.next().unwrap_or("");
                let mut w = [0f32; CLASSES];
                for slot in w.iter_mut() {
                    let tok = parts
                        .next()
                        .ok_or_else(|| err(n, "weight line has fewer than 7 weights".into()))?;
                    *slot = tok
                        .parse::<f32>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| err(n, format!("weight {tok:?} is not a finite number")))?;
                }
                let name = parts.next().map(str::to_string);
                if parts.next().is_some() {
                    return Err(err(n, "weight line has trailing fields".into()));
                }
                if head == "bias" {
                    if seen_bias {
                        return Err(err(n, "bias given twice".into()));
                    }
                    seen_bias = true;
                    file.bias = w;
                } else {
                    let id = head
                        .parse::<u32>()
                        .ok()
                        .filter(|&id| id < 2 * features::NGRAM_SPACE)
                        .ok_or_else(|| err(n, format!("feature id {head:?} is out of range")))?;
                    file.weights.push(Weight { id, w, name });
                }
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| err(n, "expected `key = value`".into()))?;
            let expect = |what: &str, want: &str| -> Result<()> {
                if value == want {
                    Ok(())
                } else {
                    Err(err(
                        n,
                        format!(
                            "{what} {value:?} does not match this build's {want:?} \
                             (retrain the model with this build)"
                        ),
                    ))
                }
            };
            match key {
                "model_version" => file.header.model_version = value.to_string(),
                "schema" => {
                    expect("feature schema", features::SCHEMA)?;
                    seen_schema = true;
                }
                "hash" => expect("feature hash", features::HASH)?,
                "hash_bits" => expect("hash_bits", &features::HASH_BITS.to_string())?,
                "ngram_orders" => expect("ngram_orders", features::NGRAM_ORDERS)?,
                "classes" => {
                    let got = value.split_whitespace().collect::<Vec<_>>().join(" ");
                    if got != class_list() {
                        return Err(err(
                            n,
                            format!(
                                "class list {got:?} does not match this build's {:?}",
                                class_list()
                            ),
                        ));
                    }
                    seen_classes = true;
                }
                "selected_ngrams" => {
                    file.header.selected_ngrams = value
                        .parse()
                        .map_err(|_| err(n, format!("selected_ngrams {value:?} is not a count")))?
                }
                "source" => {
                    let mut parts = value.splitn(3, '|').map(str::trim);
                    let name = parts.next().unwrap_or("").to_string();
                    let rows = parts
                        .next()
                        .and_then(|r| r.parse().ok())
                        .ok_or_else(|| err(n, "source needs `name | rows | licence`".into()))?;
                    let licence = parts.next().unwrap_or("").to_string();
                    file.header.sources.push(Source {
                        name,
                        rows,
                        licence,
                    });
                }
                "training" => file.header.training.push(value.to_string()),
                "validation" => file.header.validation.push(value.to_string()),
                "weights" => {
                    let count = value
                        .parse()
                        .map_err(|_| err(n, format!("weights {value:?} is not a count")))?;
                    expected_weights = Some((count, n));
                    in_weights = true;
                }
                // Unknown keys are an error: a newer writer would have bumped the version.
                other => return Err(err(n, format!("unknown header key {other:?}"))),
            }
        }
        let missing = |what: &str| {
            Error::new(
                ErrorKind::Model,
                format!("{origin}: the header has no {what}"),
            )
        };
        if file.header.model_version.is_empty() {
            return Err(missing("model_version"));
        }
        if !seen_schema {
            return Err(missing("schema"));
        }
        if !seen_classes {
            return Err(missing("classes"));
        }
        let Some((count, line)) = expected_weights else {
            return Err(missing("weights section"));
        };
        if !seen_bias {
            return Err(missing("bias line"));
        }
        if file.weights.len() != count {
            return Err(err(
                line,
                format!(
                    "weights = {count} but the file has {} weight lines (truncated file?)",
                    file.weights.len()
                ),
            ));
        }
        Ok(file)
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_formatting() {
        assert_eq!(fmt_weight(0.0), "0");
        assert_eq!(fmt_weight(1.5), "1.5");
        assert_eq!(fmt_weight(-0.00001), "0");
        assert_eq!(fmt_weight(-0.12345), "-0.1235");
    }
}

//! The model card: a JSON file beside the ONNX file saying, for people,
//! what the file's metadata says for machines, plus a summary of the model.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tenure_core::spec::{Model, ModelInfo, Node, SavedSpec};

use crate::export::{BATCH, INPUT, OnnxModel, OutputDocs, link_name};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// [`ModelCard::FORMAT`].
    pub format: String,
    pub model: ModelInfo,
    pub file: FileCard,
    pub input: InputCard,
    pub outputs: Vec<OutputCard>,
    pub summary: Summary,
    /// The calibrator inside the graph, between the link and `prediction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<tenure_core::Calibrator>,
    /// The times, baseline and calibrators of the `survival` output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survival: Option<tenure_core::spec::SurvivalCurves>,
    /// Models fed raw categorical levels: the `categories` input
    /// (`string [N, columns]`, an empty string for a missing level) and the
    /// lookup that gives each derived feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<tenure_core::spec_categories::CategoricalInputs>,
}

impl ModelCard {
    pub const FORMAT: &'static str = "tenure.model_card/1";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileCard {
    /// The ONNX file's name, next to the card.
    pub name: String,
    pub bytes: usize,
    /// `sha256:` and the hex digest of the file.
    pub sha256: String,
    pub ir_version: i64,
    /// Operator set per domain (`ai.onnx`, `ai.onnx.ml`).
    pub opsets: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputCard {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<String>,
    pub missing: String,
    pub columns: Vec<ColumnCard>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnCard {
    pub index: usize,
    pub name: String,
    /// Read as an integer category code (tree ensembles' category splits,
    /// networks' embeddings).
    pub categorical: bool,
    /// Imputation and standardisation done inside the graph.
    pub preprocessing: Option<Preprocessing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Networks: the value goes through `asinh` first; `clamp`, `impute`,
    /// `mean` and `scale` are then in `asinh` units.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub asinh: bool,
    /// Networks: the training range `[min, max]` the value is clamped into
    /// before a missing value is imputed and the result standardised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamp: Option<[f64; 2]>,
    pub impute: f64,
    pub mean: f64,
    pub scale: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputCard {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<String>,
    pub meaning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Summary {
    TreeEnsemble {
        trees: usize,
        leaves: usize,
        max_depth: usize,
        base_score: f64,
        link: String,
    },
    Linear {
        intercept: f64,
        /// `(feature, coefficient)` on the standardised inputs when the
        /// model standardises them, else on the raw ones.
        coefficients: Vec<(String, f64)>,
        link: String,
    },
    Network {
        /// Units of each hidden layer, then of the output layer.
        layers: Vec<usize>,
        /// Embedding width of each categorical column.
        embeddings: Vec<(String, usize)>,
        head: String,
        link: String,
    },
}

/// The card of `onnx` (exported from `spec`), for a file named `file_name`.
pub fn model_card(spec: &SavedSpec, onnx: &OnnxModel, file_name: &str) -> ModelCard {
    let names = spec.model.feature_names();
    let link = spec.model.link();
    let docs = OutputDocs::for_spec(spec);
    let proto = onnx.proto();
    // The `features` input's columns: every feature, or the numeric ones
    // when categorical features are computed from raw levels.
    let fed: Vec<usize> = match &spec.categories {
        Some(c) => c.numeric_features(names.len()),
        None => (0..names.len()).collect(),
    };
    let columns = fed
        .iter()
        .enumerate()
        .map(|(index, &j)| ColumnCard {
            index,
            name: names[j].clone(),
            categorical: match &spec.model {
                Model::TreeEnsemble(m) => m.categorical.contains(&(j as u32)),
                Model::Linear(_) => false,
                Model::Network(m) => m.embeddings.iter().any(|e| e.feature == j as u32),
            },
            preprocessing: match &spec.model {
                Model::Linear(m) => m.preprocess.as_ref().map(|p| Preprocessing {
                    asinh: false,
                    clamp: None,
                    impute: p.impute[j],
                    mean: p.mean[j],
                    scale: p.scale[j],
                }),
                Model::TreeEnsemble(_) => None,
                Model::Network(m) => {
                    m.numeric
                        .iter()
                        .position(|&c| c == j as u32)
                        .map(|k| Preprocessing {
                            asinh: m.asinh,
                            clamp: m.clamp.get(k).copied(),
                            impute: m.standardize.impute[k],
                            mean: m.standardize.mean[k],
                            scale: m.standardize.scale[k],
                        })
                }
            },
        })
        .collect();
    let outputs = docs
        .outputs(link)
        .into_iter()
        .map(|(name, meaning)| {
            let width = match name {
                crate::head::PROBABILITIES => 2,
                crate::head::SURVIVAL => spec.survival.as_ref().map_or(0, |c| c.days.len()),
                _ => 1,
            };
            output_card(name, meaning, width)
        })
        .collect();
    ModelCard {
        format: ModelCard::FORMAT.to_string(),
        model: spec.info.clone(),
        file: FileCard {
            name: file_name.to_string(),
            bytes: onnx.bytes().len(),
            sha256: sha256(onnx.bytes()),
            ir_version: proto.ir_version(),
            opsets: proto
                .opset_import
                .iter()
                .map(|o| {
                    let d = if o.domain().is_empty() {
                        "ai.onnx"
                    } else {
                        o.domain()
                    };
                    (d.to_string(), o.version())
                })
                .collect(),
        },
        input: InputCard {
            name: INPUT.to_string(),
            dtype: "float32".into(),
            shape: vec![BATCH.to_string(), fed.len().to_string()],
            missing: "NaN".into(),
            columns,
        },
        outputs,
        summary: summary(&spec.model),
        calibration: spec.calibrator.clone(),
        survival: spec.survival.clone(),
        categories: spec.categories.clone(),
    }
}

fn output_card(name: &str, meaning: &str, width: usize) -> OutputCard {
    OutputCard {
        name: name.to_string(),
        dtype: "float32".into(),
        shape: vec![BATCH.to_string(), width.to_string()],
        meaning: meaning.to_string(),
    }
}

fn summary(model: &Model) -> Summary {
    match model {
        Model::TreeEnsemble(m) => Summary::TreeEnsemble {
            trees: m.trees.len(),
            leaves: m
                .trees
                .iter()
                .flat_map(|t| &t.nodes)
                .filter(|n| matches!(n, Node::Leaf { .. }))
                .count(),
            max_depth: m.trees.iter().map(|t| depth(&t.nodes)).max().unwrap_or(0),
            base_score: m.base_score,
            link: link_name(m.link).to_string(),
        },
        Model::Linear(m) => Summary::Linear {
            intercept: m.intercept,
            coefficients: m
                .feature_names
                .iter()
                .cloned()
                .zip(m.coef.iter().copied())
                .collect(),
            link: link_name(m.link).to_string(),
        },
        Model::Network(m) => Summary::Network {
            layers: m
                .hidden
                .iter()
                .map(|l| l.dense.n_out)
                .chain([m.output.n_out])
                .collect(),
            embeddings: m
                .embeddings
                .iter()
                .map(|e| (m.feature_names[e.feature as usize].clone(), e.dim))
                .collect(),
            head: match m.head {
                tenure_core::NetworkHead::Logistic => "logistic",
                tenure_core::NetworkHead::CoxLogHazard { .. } => "cox_log_hazard",
                tenure_core::NetworkHead::ZeroInflatedLognormal => "zero_inflated_lognormal",
            }
            .to_string(),
            link: link_name(model.link()).to_string(),
        },
    }
}

/// Splits on the longest path from the root (a lone leaf: 0). The tree is
/// known to be one (the export checked it).
fn depth(nodes: &[Node]) -> usize {
    let mut max = 0;
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, d)) = stack.pop() {
        match &nodes[i] {
            Node::Leaf { .. } => max = max.max(d),
            Node::Split { left, right, .. } => {
                stack.push((*left as usize, d + 1));
                stack.push((*right as usize, d + 1));
            }
        }
    }
    max
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

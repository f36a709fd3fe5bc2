//! From a [`SavedSpec`] to a validated ONNX model.

use prost::Message;
use tenure_core::spec::{Model, ModelInfo, SavedSpec};
use tenure_core::{Link, Task};

use crate::error::{OnnxError, Result, ensure_spec};
use crate::graph::{Elem, GraphBuilder, ML_DOMAIN};
use crate::proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};

/// ONNX IR version written (that of ONNX 1.12, read by onnxruntime 1.12 on).
pub const IR_VERSION: i64 = 8;
/// Opset of the default domain (`ai.onnx`).
pub const OPSET: i64 = 17;
/// Opset of `ai.onnx.ml` (tree ensembles): the one of `TreeEnsemble`, which
/// returns double sums in double (onnxruntime 1.20 on).
pub const ML_OPSET: i64 = 5;
/// The numeric input (the only one, for a model without categorical
/// inputs).
pub const INPUT: &str = "features";
/// The batch dimension's name.
pub const BATCH: &str = "N";

/// Metadata keys (`metadata_props`) every exported model carries.
pub mod keys {
    /// JSON array of the `features` input's column names, in order.
    pub const FEATURE_NAMES: &str = "tenure.feature_names";
    /// Models fed raw categorical levels only: the `categories` input's
    /// columns and the features computed from them, as JSON
    /// (`tenure_core::spec_categories::CategoricalInputs`: `columns`, and
    /// per derived feature its index among the model's features, its
    /// column, `levels`, `values` and the `unseen` value).
    pub const CATEGORICAL_INPUTS: &str = "tenure.categorical_inputs";
    /// Models fed raw categorical levels only: JSON array of the model's
    /// own feature names (numeric and derived), in its order.
    pub const MODEL_FEATURES: &str = "tenure.model_features";
    /// JSON array of the names of the columns read as category codes.
    pub const CATEGORICAL_FEATURES: &str = "tenure.categorical_features";
    pub const TASK: &str = "tenure.task";
    pub const MODEL_NAME: &str = "tenure.model_name";
    pub const MODEL_KIND: &str = "tenure.model_kind";
    /// The model's version (`tenure run`: a digest of its specification).
    /// The run id is not in the file, so that the same model trained twice
    /// gives the same bytes; the model card carries it.
    pub const MODEL_VERSION: &str = "tenure.model_version";
    pub const HORIZON_DAYS: &str = "tenure.horizon_days";
    pub const TRAINING_ROWS: &str = "tenure.training_rows";
    pub const TRAINING_FINGERPRINT: &str = "tenure.training_fingerprint";
    pub const TENURE_VERSION: &str = "tenure.version";
    pub const LINK: &str = "tenure.link";
    /// JSON array of the output names.
    pub const OUTPUTS: &str = "tenure.outputs";
    /// JSON array of the days of the `survival` output's columns.
    pub const SURVIVAL_DAYS: &str = "tenure.survival_days";
    /// The calibrator appended to the graph, as JSON
    /// (`{"method": "platt", "a": …, "b": …}`); absent when uncalibrated.
    pub const CALIBRATION: &str = "tenure.calibration";
}

/// A validated ONNX model and its encoding.
#[derive(Debug, Clone)]
pub struct OnnxModel {
    proto: ModelProto,
    bytes: Vec<u8>,
}

impl OnnxModel {
    pub fn proto(&self) -> &ModelProto {
        &self.proto
    }

    /// The protobuf encoding: the content of a `.onnx` file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Decodes and validates an ONNX file's content (one tenure wrote).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let proto = ModelProto::decode(bytes).map_err(|e| OnnxError::Invalid {
            at: "the file".into(),
            reason: format!("not an ONNX protobuf: {e}"),
        })?;
        crate::validate::validate(&proto)?;
        Ok(Self {
            proto,
            bytes: bytes.to_vec(),
        })
    }

    /// The value of a `metadata_props` key.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.proto
            .metadata_props
            .iter()
            .find(|p| p.key() == key)
            .map(|p| p.value())
    }

    /// Writes the file atomically (a temporary file renamed into place).
    pub fn write(&self, path: &std::path::Path) -> Result<()> {
        crate::fs::write_atomic(path, &self.bytes)
    }
}

/// What each output means, in words, for this model.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputDocs {
    pub prediction: String,
    pub raw_score: String,
    pub probabilities: String,
    /// Calibrated models only: the model's prediction before calibration.
    pub uncalibrated: Option<String>,
    /// Survival models with curves: `S(t | x)` at the times.
    pub survival: Option<String>,
    /// ZILN networks: the probability of any spend.
    pub spend_probability: Option<String>,
}

impl OutputDocs {
    pub fn new(info: &ModelInfo, link: Link) -> Self {
        let within = info
            .horizon_days
            .map_or(String::new(), |h| format!(" within {h} days"));
        let (prediction, raw_score) = match (info.task, link) {
            (Task::Churn, Link::Sigmoid) => (
                format!("probability of churn{within}"),
                "log-odds of churn".to_string(),
            ),
            (Task::Survival, Link::Exp) => (
                "partial hazard exp(raw_score): the hazard relative to the training mean \
                 profile; higher means the event comes sooner"
                    .to_string(),
                "log partial hazard".to_string(),
            ),
            (Task::Survival, _) => (
                "risk score: higher means the event comes sooner".to_string(),
                "risk score before the link".to_string(),
            ),
            (Task::Clv, Link::Exp) => (
                format!("expected spend{within}"),
                "log of the expected spend".to_string(),
            ),
            (task, link) => (
                format!("{task} prediction{within}"),
                format!("score before the {} link", link_name(link)),
            ),
        };
        Self {
            probabilities: format!("[1 - p, p] with p = {prediction}"),
            prediction,
            raw_score,
            uncalibrated: None,
            survival: None,
            spend_probability: None,
        }
    }

    /// The outputs of `spec`'s export: [`OutputDocs::new`], with the
    /// prediction calibrated when the spec has a calibrator.
    pub fn for_spec(spec: &SavedSpec) -> Self {
        let mut docs = Self::new(&spec.info, spec.model.link());
        if let Model::Network(m) = &spec.model
            && m.head == tenure_core::NetworkHead::ZeroInflatedLognormal
        {
            let within = spec
                .info
                .horizon_days
                .map_or(String::new(), |h| format!(" within {h} days"));
            docs.spend_probability = Some(format!(
                "probability of any spend{within} (the zero-inflated lognormal's p)"
            ));
        }
        docs.survival = spec.survival.as_ref().map(|c| {
            let calibrated = if c.calibrators.iter().any(Option::is_some) {
                ", calibrated where a calibrator was fitted for the time"
            } else {
                ""
            };
            format!(
                "S(t | x): probability of no event by each of {:?} days after the cutoff \
                 (tenure.survival_days){calibrated}",
                c.days
            )
        });
        match &spec.calibrator {
            None => docs,
            Some(c) => {
                let prediction = format!("{}, calibrated ({})", docs.prediction, c.method());
                Self {
                    probabilities: format!("[1 - p, p] with p = {prediction}"),
                    uncalibrated: Some(format!("{} before calibration", docs.prediction)),
                    prediction,
                    raw_score: docs.raw_score,
                    survival: docs.survival,
                    spend_probability: docs.spend_probability,
                }
            }
        }
    }

    /// `(name, meaning)` of each output of a model with this link, in order.
    pub fn outputs(&self, link: Link) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            (crate::head::PREDICTION, self.prediction.as_str()),
            (crate::head::RAW_SCORE, self.raw_score.as_str()),
        ];
        if link == Link::Sigmoid {
            out.push((crate::head::PROBABILITIES, self.probabilities.as_str()));
        }
        if let Some(u) = &self.uncalibrated {
            out.push((crate::head::UNCALIBRATED, u.as_str()));
        }
        if let Some(p) = &self.spend_probability {
            out.push((crate::network::SPEND_PROBABILITY, p.as_str()));
        }
        if let Some(s) = &self.survival {
            out.push((crate::head::SURVIVAL, s.as_str()));
        }
        out
    }
}

pub fn link_name(link: Link) -> &'static str {
    match link {
        Link::Identity => "identity",
        Link::Sigmoid => "sigmoid",
        Link::Exp => "exp",
    }
}

/// Exports a model specification: builds the graph, validates it, encodes it.
///
/// The graph takes one input, `features`: `float32 [N, F]` with a dynamic
/// batch dimension `N`, columns in the order of the spec's feature names
/// (also in the `tenure.feature_names` metadata) and `NaN` for a missing
/// value. Its outputs are those of [`crate::head`].
pub fn export(spec: &SavedSpec) -> Result<OnnxModel> {
    ensure_spec!(
        spec.format == SavedSpec::FORMAT,
        "the model specification",
        "format `{}` is not `{}`",
        spec.format,
        SavedSpec::FORMAT
    );
    let info = &spec.info;
    let names = spec.model.feature_names();
    ensure_spec!(
        !names.is_empty(),
        format!("model `{}`", info.name),
        "it has no feature"
    );
    let mut seen = std::collections::BTreeSet::new();
    for n in names {
        ensure_spec!(
            !n.is_empty() && seen.insert(n.as_str()),
            format!("model `{}`", info.name),
            "feature name `{n}` is empty or repeated"
        );
    }
    let link = spec.model.link();
    let docs = OutputDocs::for_spec(spec);

    let mut g = GraphBuilder::new(&info.name);
    let features = crate::categories::inputs(&mut g, &info.name, names, spec.categories.as_ref())?;
    let mut spend_probability = None;
    let raw = match &spec.model {
        Model::TreeEnsemble(m) => crate::trees::build(&mut g, &features, m)?,
        Model::Linear(m) => crate::linear::build(&mut g, &features, m)?,
        Model::Network(m) => {
            let (raw, p) = crate::network::build(&mut g, &features, m)?;
            spend_probability = p;
            raw
        }
    };
    crate::head::outputs(&mut g, &raw, link, spec.calibrator.as_ref(), &docs)?;
    if let Some(p) = &spend_probability {
        let out = g.rename_as(p, Elem::F32, crate::network::SPEND_PROBABILITY)?;
        g.output(&out, docs.spend_probability.as_deref().unwrap_or_default());
    }
    if let Some(curves) = &spec.survival {
        ensure_spec!(
            info.task == Task::Survival,
            format!("model `{}`", info.name),
            "survival curves need a survival task, not {}",
            info.task
        );
        let doc = docs.survival.as_deref().unwrap_or_default();
        crate::head::survival(&mut g, &raw, link, curves, doc)?;
    }
    let description = format!(
        "{} `{}` version {} ({} task), exported by tenure {}",
        info.kind, info.name, info.version, info.task, info.tenure_version
    );
    let graph = g.finish(&description);

    let uses_ml = graph.node.iter().any(|n| n.domain() == ML_DOMAIN);
    let mut opset_import = vec![opset("", OPSET)];
    if uses_ml {
        opset_import.push(opset(ML_DOMAIN, ML_OPSET));
    }
    let proto = ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import,
        producer_name: Some("tenure".into()),
        producer_version: Some(info.tenure_version.clone()),
        domain: Some("ai.tenure".into()),
        model_version: info.version.parse::<i64>().ok(),
        doc_string: Some(description),
        graph: Some(graph),
        metadata_props: metadata(spec, link, &docs),
        ..ModelProto::default()
    };
    crate::validate::validate(&proto)?;
    let bytes = proto.encode_to_vec();
    Ok(OnnxModel { proto, bytes })
}

fn opset(domain: &str, version: i64) -> OperatorSetIdProto {
    OperatorSetIdProto {
        domain: Some(domain.to_string()),
        version: Some(version),
    }
}

fn metadata(spec: &SavedSpec, link: Link, docs: &OutputDocs) -> Vec<StringStringEntryProto> {
    let info = &spec.info;
    let json = |v: serde_json::Value| v.to_string();
    let names = spec.model.feature_names();
    let categorical: Vec<&str> = match &spec.model {
        Model::TreeEnsemble(m) => m
            .categorical
            .iter()
            .map(|&j| names[j as usize].as_str())
            .collect(),
        Model::Linear(_) => Vec::new(),
        Model::Network(m) => m
            .embeddings
            .iter()
            .map(|e| names[e.feature as usize].as_str())
            .collect(),
    };
    let outputs: Vec<&str> = docs.outputs(link).iter().map(|(n, _)| *n).collect();
    let inputs: Vec<&str> = match &spec.categories {
        Some(c) => c
            .numeric_features(names.len())
            .into_iter()
            .map(|j| names[j].as_str())
            .collect(),
        None => names.iter().map(String::as_str).collect(),
    };
    let mut props = vec![
        (keys::FEATURE_NAMES, json(serde_json::json!(inputs))),
        (
            keys::CATEGORICAL_FEATURES,
            json(serde_json::json!(categorical)),
        ),
        (keys::TASK, info.task.to_string()),
        (keys::MODEL_NAME, info.name.clone()),
        (keys::MODEL_KIND, info.kind.clone()),
        (keys::MODEL_VERSION, info.version.clone()),
        (keys::TRAINING_ROWS, info.training_rows.to_string()),
        (
            keys::TRAINING_FINGERPRINT,
            info.training_fingerprint.clone(),
        ),
        (keys::TENURE_VERSION, info.tenure_version.clone()),
        (keys::LINK, link_name(link).to_string()),
        (keys::OUTPUTS, json(serde_json::json!(outputs))),
    ];
    if let Some(h) = info.horizon_days {
        props.push((keys::HORIZON_DAYS, h.to_string()));
    }
    if let Some(c) = &spec.calibrator {
        props.push((keys::CALIBRATION, json(serde_json::json!(c))));
    }
    if let Some(c) = &spec.categories {
        props.push((keys::CATEGORICAL_INPUTS, json(serde_json::json!(c))));
        props.push((keys::MODEL_FEATURES, json(serde_json::json!(names))));
    }
    if let Some(c) = &spec.survival {
        props.push((keys::SURVIVAL_DAYS, json(serde_json::json!(c.days))));
    }
    props
        .into_iter()
        .map(|(k, v)| StringStringEntryProto {
            key: Some(k.to_string()),
            value: Some(v),
        })
        .collect()
}

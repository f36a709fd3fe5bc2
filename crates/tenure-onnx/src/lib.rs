//! ONNX export of tenure's models, so deployment pipelines score them with
//! onnxruntime exactly as tenure does.
//!
//! The exporter reads only the plain specifications of `tenure_core::spec`
//! ([`SavedSpec`]: a [`Model`](tenure_core::spec::Model) and its
//! [`ModelInfo`](tenure_core::spec::ModelInfo)); it depends on no training
//! crate. It writes ONNX protobuf with prost, from the official schema
//! (`proto/onnx-ml.proto`, code generated once and checked in).
//!
//! - Tree ensembles: `ai.onnx.ml.TreeEnsemble` (opset 5) comparing, summing
//!   and returning in double precision, missing values routed by
//!   `nodes_missing_value_tracks_true`, categorical splits as `BRANCH_MEMBER`
//!   sets, then the base score and the link with standard operators.
//! - Linear models (logistic regression, Cox PH): imputation and
//!   standardisation, `MatMul`, intercept and link, all standard operators
//!   in double precision.
//! - Networks (MLP, DeepSurv, ZILN; `tenure_core::NetworkSpec`): numeric
//!   columns through `asinh` (as `±ln(|x| + √(x² + 1))`: onnxruntime has no
//!   double `Asinh`), clamped into their training range (`Max`/`Min`),
//!   imputed and standardised; categorical codes looked up in embedding
//!   tables (row 0 for missing or unseen codes); `MatMul`/`Add` layers with
//!   batch norm folded into the weights, layer norm, activations; all in
//!   double. DeepSurv's raw score is the log hazard ratio (`survival` from
//!   the spec's baseline), ZILN's the log of the expected spend with the
//!   probability of spend as the extra output `spend_probability`.
//!
//! **Input** `features`: `float32 [N, F]`, `N` dynamic, columns in the order
//! of the `tenure.feature_names` metadata, `NaN` for a missing value. A spec
//! with [`categories`](tenure_core::spec::SavedSpec::categories) adds
//! `categories`: `string [N, C]`, raw levels (`""` missing) from which the
//! graph computes the derived features (one `ai.onnx.ml.LabelEncoder` each);
//! `features` then holds the other columns.
//! - Calibration: a spec's [`Calibrator`](tenure_core::Calibrator) (Platt,
//!   isotonic, temperature) follows the link inside the graph, in double,
//!   with standard operators only (see the `head` module).
//!
//! **Outputs**: `prediction` (`link(raw_score)`, calibrated when the spec
//! has a calibrator: what tenure predicts), `raw_score` (before the link),
//! for a sigmoid link `probabilities` (`[1 - p, p]` of `prediction`), and for
//! a calibrated model `uncalibrated` (`link(raw_score)` before the
//! calibrator), each `float32 [N, ·]`. `metadata_props` carry the feature
//! names, task, model name, kind and version, training-data fingerprint,
//! tenure version and calibrator ([`export::keys`]); [`write_bundle`] adds a
//! model card JSON and the `spec.json` the export can be redone from.
//!
//! Every model is validated before it is written ([`validate::validate`]:
//! topological order, every input defined, types and shapes inferred per
//! node and matched against the declared outputs) and files are written
//! atomically.
//!
//! ```
//! use tenure_core::spec::{LinearModel, Model, ModelInfo, SavedSpec, Standardize};
//! use tenure_core::{Link, Matrix, Task};
//!
//! let model = Model::Linear(LinearModel {
//!     feature_names: vec!["recency_days".into(), "orders_90d".into()],
//!     preprocess: Some(Standardize {
//!         impute: vec![30.0, 2.0],
//!         mean: vec![30.0, 2.0],
//!         scale: vec![20.0, 1.5],
//!     }),
//!     coef: vec![0.8, -0.5],
//!     intercept: -1.2,
//!     link: Link::Sigmoid,
//! });
//! let info = ModelInfo {
//!     name: "churn_logistic".into(),
//!     kind: "logistic".into(),
//!     version: "1".into(),
//!     task: Task::Churn,
//!     horizon_days: Some(90.0),
//!     training_rows: 1_000,
//!     training_fingerprint: "sha256:…".into(),
//!     tenure_version: "0.1.0".into(),
//!     run_id: None,
//! };
//! let spec = SavedSpec::new(info, model);
//! let onnx = tenure_onnx::export(&spec)?;
//! assert_eq!(onnx.metadata("tenure.feature_names"), Some(r#"["recency_days","orders_90d"]"#));
//!
//! let dir = tempfile::tempdir()?;
//! let paths = tenure_onnx::write_bundle(dir.path(), &spec)?;
//! assert!(paths.onnx.ends_with("model.onnx") && paths.card.is_file());
//! assert_eq!(tenure_onnx::read_spec(&paths.spec)?, spec);
//! // What onnxruntime computes, tenure computes too:
//! let p = spec.model.predict(&Matrix::from_rows(&[vec![60.0, f64::NAN]])?)?;
//! assert!((p[0] - 1.0 / (1.0 + (-(-1.2 + 0.8 * 1.5_f64)).exp())).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod card;
mod categories;
mod error;
pub mod export;
mod fs;
#[doc(hidden)]
pub mod fuzz;
mod graph;
mod head;
mod infer;
mod linear;
mod network;
pub mod proto;
mod trees;
pub mod validate;

use std::path::{Path, PathBuf};

pub use card::{
    ColumnCard, FileCard, InputCard, ModelCard, OutputCard, Preprocessing, Summary, model_card,
    sha256,
};
pub use error::{OnnxError, Result};
pub use export::{OnnxModel, export};
pub use head::{PREDICTION, PROBABILITIES, RAW_SCORE, SURVIVAL, UNCALIBRATED};
pub use network::SPEND_PROBABILITY;
use tenure_core::spec::SavedSpec;

/// File names of an exported model's bundle, in one directory per model.
pub const MODEL_FILE: &str = "model.onnx";
pub const CARD_FILE: &str = "model_card.json";
pub const SPEC_FILE: &str = "spec.json";

/// Where [`write_bundle`] put each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePaths {
    pub onnx: PathBuf,
    pub card: PathBuf,
    pub spec: PathBuf,
}

/// The three files of an exported model, in memory, for a caller that
/// stores them itself (the tracking store).
#[derive(Debug, Clone)]
pub struct Bundle {
    /// `model.onnx`
    pub onnx: Vec<u8>,
    /// `model_card.json`
    pub card: Vec<u8>,
    /// `spec.json`
    pub spec: Vec<u8>,
}

impl Bundle {
    /// `(file name, content)` in the order to write them: the card last,
    /// since it names the ONNX file's digest.
    pub fn files(&self) -> [(&'static str, &[u8]); 3] {
        [
            (SPEC_FILE, &self.spec),
            (MODEL_FILE, &self.onnx),
            (CARD_FILE, &self.card),
        ]
    }
}

/// Exports `spec` and describes it: the files of [`write_bundle`].
pub fn bundle(spec: &SavedSpec) -> Result<Bundle> {
    let onnx = export(spec)?;
    let card = model_card(spec, &onnx, MODEL_FILE);
    Ok(Bundle {
        card: to_json(&card),
        spec: to_json(spec),
        onnx: onnx.bytes().to_vec(),
    })
}

/// Exports `spec` into `dir`: `model.onnx`, `model_card.json` and
/// `spec.json`, each written atomically.
pub fn write_bundle(dir: &Path, spec: &SavedSpec) -> Result<BundlePaths> {
    let b = bundle(spec)?;
    for (name, bytes) in b.files() {
        fs::write_atomic(&dir.join(name), bytes)?;
    }
    Ok(BundlePaths {
        onnx: dir.join(MODEL_FILE),
        card: dir.join(CARD_FILE),
        spec: dir.join(SPEC_FILE),
    })
}

/// Exports `spec` to `path` and its card beside it ([`card_path`]); returns
/// the card's path.
pub fn write_with_card(path: &Path, spec: &SavedSpec) -> Result<PathBuf> {
    let onnx = export(spec)?;
    onnx.write(path)?;
    let card = card_path(path);
    let file_name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    fs::write_atomic(&card, &to_json(&model_card(spec, &onnx, &file_name)))?;
    Ok(card)
}

/// The card of an ONNX file: `model.onnx` → `model_card.json`,
/// `churn.onnx` → `churn_card.json`, in the same directory.
pub fn card_path(onnx_path: &Path) -> PathBuf {
    let stem = onnx_path
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    onnx_path.with_file_name(format!("{stem}_card.json"))
}

/// Reads a `spec.json` written by [`write_bundle`].
pub fn read_spec(path: &Path) -> Result<SavedSpec> {
    let text = std::fs::read_to_string(path).map_err(|source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |reason: String| OnnxError::BadFile {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
    if format != SavedSpec::FORMAT {
        return Err(bad(format!(
            "format `{format}` is not `{}`: not a tenure model specification, or one from \
             another tenure release",
            SavedSpec::FORMAT
        )));
    }
    serde_json::from_value(value).map_err(|e| bad(format!("invalid specification: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("specifications serialise to JSON");
    out.push(b'\n');
    out
}

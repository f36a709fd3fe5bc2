//! ONNX export of fitted models: the bundle every exportable model of a run
//! leaves in its artifacts, `tenure fit --save-onnx`, and `tenure export`,
//! which redoes an export from a run's `spec.json`.
//!
//! A run writes, per exportable model, `models/<name>/model.onnx`,
//! `models/<name>/model_card.json` and `models/<name>/spec.json`, from the
//! model trained for the test fold (on every snapshot before the test
//! cutoff). Its version is the run id; a registry assigns its own when it
//! re-exports from `spec.json`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tenure_core::spec::{ModelInfo, SavedSpec};
use tenure_core::{Dataset, Target, Task};
use tenure_store::{LocalStore, TrackingStore};

use crate::{Result, RunnerError};

/// Model kinds whose fitted models export to ONNX.
pub const EXPORTABLE_KINDS: &[&str] = &["logistic", "cox", "gbdt", "mlp", "deepsurv", "ziln"];

/// The run-artifact directory of a model's bundle.
pub fn artifact_dir(model_name: &str) -> String {
    format!("models/{model_name}")
}

/// A SHA-256 digest of everything a model learns from: feature names,
/// values (bit patterns, one canonical NaN), target and weights; equal
/// digests mean the same training data, in the same row order.
pub fn training_fingerprint(data: &Dataset) -> String {
    let mut h = Sha256::new();
    h.update(b"tenure.dataset/1");
    let len = |h: &mut Sha256, n: usize| h.update((n as u64).to_le_bytes());
    len(&mut h, data.n_rows());
    len(&mut h, data.n_features());
    for name in data.feature_names() {
        len(&mut h, name.len());
        h.update(name.as_bytes());
    }
    let values = |h: &mut Sha256, v: &[f64]| {
        let mut buf = Vec::with_capacity(8 * 1024);
        for chunk in v.chunks(1024) {
            buf.clear();
            for &x in chunk {
                let x = if x.is_nan() { f64::NAN } else { x };
                buf.extend_from_slice(&x.to_bits().to_le_bytes());
            }
            h.update(&buf);
        }
    };
    values(&mut h, data.x().as_slice());
    h.update(data.target().kind().as_bytes());
    match data.target() {
        Target::Binary(y) | Target::Continuous(y) => values(&mut h, y),
        Target::Survival { time, event } => {
            values(&mut h, time);
            h.update(event.iter().map(|&e| u8::from(e)).collect::<Vec<u8>>());
        }
    }
    match data.weights() {
        Some(w) => {
            h.update([1]);
            values(&mut h, w);
        }
        None => h.update([0]),
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A model's version: a digest of its specification, so that retraining on
/// the same data with the same seed gives the same version, the same ONNX
/// bytes and one stored blob in the registry, whichever run or store made it.
/// The run that produced it is lineage (model card, registry), not identity.
pub fn model_version(model: &tenure_core::spec::Model) -> String {
    short_digest(model)
}

/// `sha256:` and the first 8 bytes, in hex, of `value`'s JSON.
fn short_digest(value: &impl serde::Serialize) -> String {
    let json = serde_json::to_vec(value).expect("a model specification serialises");
    let hex: String = Sha256::digest(&json)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The version of everything an export computes: [`model_version`] of the
/// model alone, or, with a calibrator or survival curves after it, a digest
/// of the model and those, so that a different calibration is a different
/// version.
pub fn spec_version(spec: &SavedSpec) -> String {
    if spec.calibrator.is_none() && spec.survival.is_none() {
        return model_version(&spec.model);
    }
    short_digest(&(&spec.model, &spec.calibrator, &spec.survival))
}

/// The description of a model trained on `train`.
pub fn model_info(
    name: &str,
    kind: &str,
    version: &str,
    task: Task,
    horizon_days: Option<f64>,
    train: &Dataset,
    run_id: Option<&str>,
) -> ModelInfo {
    ModelInfo {
        name: name.to_string(),
        kind: kind.to_string(),
        version: version.to_string(),
        task,
        horizon_days,
        training_rows: train.n_rows(),
        training_fingerprint: training_fingerprint(train),
        tenure_version: env!("CARGO_PKG_VERSION").to_string(),
        run_id: run_id.map(str::to_string),
    }
}

fn export_error(model: &str, e: tenure_onnx::OnnxError) -> RunnerError {
    RunnerError::Model {
        model: model.to_string(),
        message: format!("ONNX export: {e}"),
    }
}

/// Stores the bundle of `spec` in the run's artifacts; returns the path of
/// its `model.onnx`.
pub fn log_bundle(store: &dyn TrackingStore, run_id: &str, spec: &SavedSpec) -> Result<PathBuf> {
    let name = &spec.info.name;
    let bundle = tenure_onnx::bundle(spec).map_err(|e| export_error(name, e))?;
    let dir = artifact_dir(name);
    let mut onnx = PathBuf::new();
    for (file, bytes) in bundle.files() {
        let path = store.log_artifact_bytes(run_id, &format!("{dir}/{file}"), bytes)?;
        if file == tenure_onnx::MODEL_FILE {
            onnx = path.into();
        }
    }
    Ok(onnx)
}

/// Exports `spec` to `out` with its model card beside it; returns the
/// card's path.
pub fn save_onnx(out: &Path, spec: &SavedSpec) -> Result<PathBuf> {
    tenure_onnx::write_with_card(out, spec).map_err(|e| export_error(&spec.info.name, e))
}

/// What `tenure export` wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    pub onnx: PathBuf,
    pub card: PathBuf,
    pub spec: SavedSpec,
}

/// Re-exports model `model` of run `run_id` (in the store at `store_dir`)
/// from its `spec.json` to `out`, with the model card beside it.
pub fn export_from_run(
    store_dir: &Path,
    run_id: &str,
    model: &str,
    out: &Path,
) -> Result<Exported> {
    let store = LocalStore::open(store_dir)?;
    let spec_path = store.artifact_path(
        run_id,
        &format!("{}/{}", artifact_dir(model), tenure_onnx::SPEC_FILE),
    )?;
    if !spec_path.is_file() {
        let models_dir = store.artifact_dir(run_id)?.join("models");
        let mut exported: Vec<String> = std::fs::read_dir(&models_dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().join(tenure_onnx::SPEC_FILE).is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        exported.sort();
        return Err(RunnerError::Model {
            model: model.to_string(),
            message: format!(
                "run {run_id} has no exported model of that name (no {}); exported models: {}",
                spec_path.display(),
                if exported.is_empty() {
                    "none".to_string()
                } else {
                    exported.join(", ")
                }
            ),
        });
    }
    let spec = tenure_onnx::read_spec(&spec_path).map_err(|e| export_error(model, e))?;
    let card = save_onnx(out, &spec)?;
    Ok(Exported {
        onnx: out.to_path_buf(),
        card,
        spec,
    })
}

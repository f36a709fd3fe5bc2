//! Runs exported models in onnxruntime, through the test venv's Python
//! (`TENURE_TEST_PYTHON`, set by `source scripts/testenv/setup.sh`) and
//! `scripts/testenv/onnx_score.py`, which also runs the ONNX checker with
//! `full_check=True` on every file.
//!
//! Python rather than the `ort` crate: the checker is Python-only anyway,
//! so one pinned venv serves both, and no native library is loaded into
//! the test process.
//!
//! The runner's tests include this file too (`#[path]`), each binary
//! using part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use tenure_core::Matrix;

/// What onnxruntime returned for one model.
#[derive(Debug)]
pub struct Scored {
    /// Output name → (shape, row-major values).
    pub outputs: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    /// `metadata_props` as onnxruntime reads them.
    pub metadata: BTreeMap<String, String>,
    /// The input as onnxruntime declares it.
    pub inputs: serde_json::Value,
}

impl Scored {
    /// A `[N, 1]` output as a column.
    pub fn column(&self, name: &str) -> &[f32] {
        let (shape, values) = self
            .outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output `{name}` in {:?}", self.outputs.keys()));
        assert_eq!(shape.len(), 2, "{name} has shape {shape:?}");
        assert_eq!(shape[1], 1, "{name} has shape {shape:?}");
        values
    }
}

pub fn python() -> String {
    std::env::var("TENURE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "TENURE_TEST_PYTHON is not set: the ONNX parity tests run onnxruntime from the \
             test venv. Run `source scripts/testenv/setup.sh` from the repository root first."
        )
    })
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/testenv/onnx_score.py")
}

/// Raw categorical levels, one row per sample and one level per raw column.
pub type Levels = Vec<Vec<String>>;

/// One [`score_raw`] job: ONNX file content, numeric features, raw levels.
pub type RawJob<'a> = (&'a [u8], &'a Matrix, Option<&'a [Vec<String>]>);

/// Checks and scores each `(ONNX file content, rows)` job in one Python run.
///
/// `rows` are the model's features. A model that reads raw categorical
/// levels gets, for each derived feature, a level that gives the row's
/// value ([`split_inputs`]), so every run-exported model is scored through
/// its string lookups.
pub fn score(jobs: &[(&[u8], &Matrix)]) -> Vec<Scored> {
    let raw: Vec<(&[u8], Matrix, Option<Levels>)> = jobs
        .iter()
        .map(|&(model, x)| {
            let onnx = tenure_onnx::OnnxModel::from_bytes(model).unwrap();
            match onnx.metadata(tenure_onnx::export::keys::CATEGORICAL_INPUTS) {
                None => (model, x.clone(), None),
                Some(json) => {
                    let cats = serde_json::from_str(json).unwrap();
                    let (numeric, levels) = split_inputs(&cats, x);
                    (model, numeric, Some(levels))
                }
            }
        })
        .collect();
    let refs: Vec<RawJob> = raw.iter().map(|(m, x, c)| (*m, x, c.as_deref())).collect();
    score_raw(&refs)
}

/// The inputs that give the feature matrix `x`: its numeric columns, and
/// per row and raw column a level (or `""`, missing) whose lookups give the
/// row's derived values.
pub fn split_inputs(
    cats: &tenure_core::spec_categories::CategoricalInputs,
    x: &Matrix,
) -> (Matrix, Vec<Vec<String>>) {
    let numeric_cols = cats.numeric_features(x.n_cols());
    let rows: Vec<Vec<f64>> = x
        .rows()
        .map(|r| numeric_cols.iter().map(|&j| r[j]).collect())
        .collect();
    let numeric = Matrix::new(rows.concat(), x.n_rows(), numeric_cols.len()).unwrap();
    let candidates: Vec<Vec<String>> = (0..cats.columns.len())
        .map(|c| {
            let mut levels: Vec<String> = cats
                .derived
                .iter()
                .filter(|d| d.column as usize == c)
                .flat_map(|d| d.levels.iter().cloned())
                .collect();
            levels.sort();
            levels.dedup();
            levels.push(String::new());
            levels
        })
        .collect();
    let f32_of = |v: f64| v as f32;
    let levels = x
        .rows()
        .enumerate()
        .map(|(i, r)| {
            candidates
                .iter()
                .enumerate()
                .map(|(c, cands)| {
                    cands
                        .iter()
                        .find(|level| {
                            cats.derived
                                .iter()
                                .filter(|d| d.column as usize == c)
                                .all(|d| {
                                    let v = d
                                        .levels
                                        .iter()
                                        .position(|l| l == *level)
                                        .map_or(d.unseen, |k| d.values[k]);
                                    f32_of(v) == f32_of(r[d.feature as usize])
                                })
                        })
                        .unwrap_or_else(|| {
                            panic!(
                                "row {i}: no level of `{}` gives its features",
                                cats.columns[c]
                            )
                        })
                        .clone()
                })
                .collect()
        })
        .collect();
    (numeric, levels)
}

/// Scores `(ONNX file content, numeric features, raw levels)` jobs: the
/// `features` input and, where given, the `categories` input.
pub fn score_raw(jobs: &[RawJob]) -> Vec<Scored> {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = Vec::new();
    for (k, (model, x, categories)) in jobs.iter().enumerate() {
        let model_path = dir.path().join(format!("model_{k}.onnx"));
        std::fs::write(&model_path, model).unwrap();
        let input_path = dir.path().join(format!("input_{k}.f32"));
        let bytes: Vec<u8> = x
            .as_slice()
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        std::fs::write(&input_path, bytes).unwrap();
        let out_dir = dir.path().join(format!("out_{k}"));
        std::fs::create_dir(&out_dir).unwrap();
        let mut job = serde_json::json!({
            "model": model_path, "input": input_path,
            "rows": x.n_rows(), "cols": x.n_cols(), "out_dir": out_dir,
        });
        if let Some(levels) = categories {
            let path = dir.path().join(format!("categories_{k}.json"));
            std::fs::write(&path, serde_json::to_vec(levels).unwrap()).unwrap();
            job["categories"] = serde_json::json!(path);
        }
        manifest.push(job);
    }
    let manifest_path = dir.path().join("manifest.json");
    std::fs::write(
        &manifest_path,
        serde_json::json!({ "jobs": manifest }).to_string(),
    )
    .unwrap();
    let out = Command::new(python())
        .arg(script())
        .arg(&manifest_path)
        .output()
        .expect("running the test venv's python");
    assert!(
        out.status.success(),
        "onnx_score.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(k, job)| {
            let outputs = job["outputs"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, shape)| {
                    let shape: Vec<usize> = serde_json::from_value(shape.clone()).unwrap();
                    let raw =
                        std::fs::read(dir.path().join(format!("out_{k}/{name}.f32"))).unwrap();
                    let values = raw
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                    (name.clone(), (shape, values))
                })
                .collect();
            Scored {
                outputs,
                metadata: serde_json::from_value(job["metadata"].clone()).unwrap(),
                inputs: job["inputs"].clone(),
            }
        })
        .collect()
}

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

/// Checks and scores each `(ONNX file content, rows)` job in one Python run.
pub fn score(jobs: &[(&[u8], &Matrix)]) -> Vec<Scored> {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = Vec::new();
    for (k, (model, x)) in jobs.iter().enumerate() {
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
        manifest.push(serde_json::json!({
            "model": model_path, "input": input_path,
            "rows": x.n_rows(), "cols": x.n_cols(), "out_dir": out_dir,
        }));
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

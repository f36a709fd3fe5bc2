//! Rust-only parity: tract (pure Rust, no Python) runs the exported
//! linear models (logistic regression, Cox PH with and without
//! standardisation) and the calibration heads, and scores them as the
//! specifications do, on 10,000 rows with missing values.
//!
//! Tree ensembles are checked with onnxruntime only: tract 0.23 implements
//! `ai.onnx.ml.TreeEnsembleClassifier` alone, not the regressor our tree
//! exports use.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tenure_calibration::Method;
use tenure_core::spec::{Model, SavedSpec};
use tenure_core::{Calibrator, Link, Matrix};
use tract_onnx::prelude::*;

use crate::calibration::{assert_calibrated, fitted};
use crate::common::{LEVELS, assert_parity, random_linear, rows, saved, small_linear};
use crate::onnxruntime::Scored;

const ROWS: usize = 10_000;

/// Runs `onnx` in tract on `x` (as `float32`), every output by name.
pub fn tract_score(onnx: &tenure_onnx::OnnxModel, x: &Matrix) -> Scored {
    let model = tract_onnx::onnx()
        .model_for_read(&mut onnx.bytes())
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot load the export: {e:?}"));
    let data: Vec<f32> = x.as_slice().iter().map(|&v| v as f32).collect();
    let input = Tensor::from_shape(&[x.n_rows(), x.n_cols()], &data).unwrap();
    let results = model
        .run(tvec!(input.into_tvalue()))
        .unwrap_or_else(|e| panic!("tract cannot run the export: {e:?}"));
    let graph = onnx.proto().graph.as_ref().unwrap();
    assert_eq!(results.len(), graph.output.len());
    let outputs = graph
        .output
        .iter()
        .zip(results)
        .map(|(declared, value)| {
            let view = value
                .to_plain_array_view::<f32>()
                .unwrap_or_else(|e| panic!("output {} is not float32: {e:?}", declared.name()));
            (
                declared.name().to_string(),
                (view.shape().to_vec(), view.iter().copied().collect()),
            )
        })
        .collect();
    Scored {
        outputs,
        metadata: Default::default(),
        inputs: serde_json::Value::Null,
    }
}

#[test]
fn tract_scores_linear_and_cox_models_like_the_spec() {
    let mut models = Vec::new();
    for link in [Link::Sigmoid, Link::Identity, Link::Exp] {
        for standardize in [true, false] {
            models.push((
                format!("linear {link:?}, standardised: {standardize}"),
                Model::Linear(small_linear(link, standardize)),
            ));
        }
    }
    let mut rng = StdRng::seed_from_u64(17);
    for case in 0..6 {
        let link = [Link::Sigmoid, Link::Identity, Link::Exp][case % 3];
        models.push((
            format!("random linear {case} ({link:?})"),
            Model::Linear(random_linear(&mut rng, link)),
        ));
    }
    for (k, (what, model)) in models.iter().enumerate() {
        let onnx = tenure_onnx::export(&saved(model.clone())).unwrap();
        let x = rows(model, LEVELS, ROWS, 0.1, 300 + k as u64);
        assert_parity(what, model, &x, &tract_score(&onnx, &x));
    }
}

#[test]
fn tract_scores_every_calibration_head_like_the_spec() {
    let mut rng = StdRng::seed_from_u64(23);
    let mut linear = random_linear(&mut rng, Link::Sigmoid);
    while linear.preprocess.is_none() {
        linear = random_linear(&mut rng, Link::Sigmoid);
    }
    let model = Model::Linear(linear);
    let mut calibrators: Vec<Calibrator> = [Method::Platt, Method::Isotonic, Method::Temperature]
        .into_iter()
        .map(|m| fitted(&model, m, 7))
        .collect();
    calibrators.push(Calibrator::Isotonic {
        x: vec![0.3],
        y: vec![0.25],
    });
    for (k, c) in calibrators.into_iter().enumerate() {
        let what = format!("tract, {} calibrator {k}", c.method());
        let spec: SavedSpec = saved(model.clone()).with_calibrator(Some(c));
        let onnx = tenure_onnx::export(&spec).unwrap();
        let x = rows(&model, LEVELS, ROWS, 0.1, 400 + k as u64);
        assert_calibrated(&what, &spec, &x, &tract_score(&onnx, &x));
    }
}

//! onnxruntime scores exported models as the specifications do, on 10,000
//! rows with missing values, thresholds hit exactly and unseen categories.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::Link;
use tenure_core::spec::Model;

use crate::common::{
    LEVELS, assert_parity, random_ensemble, random_ensemble_sized, random_linear, rows, saved,
    small_linear, two_trees,
};
use crate::onnxruntime::score;

const ROWS: usize = 10_000;
const LINKS: [Link; 3] = [Link::Identity, Link::Sigmoid, Link::Exp];

/// Exports each model, scores all of them in one onnxruntime run and checks
/// every output against the spec.
fn check(models: Vec<(String, Model, u64)>, missing: f64) {
    let exported: Vec<_> = models
        .iter()
        .map(|(what, m, _)| {
            tenure_onnx::export(&saved(m.clone()))
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .bytes()
                .to_vec()
        })
        .collect();
    let data: Vec<_> = models
        .iter()
        .map(|(_, m, seed)| rows(m, LEVELS, ROWS, missing, *seed))
        .collect();
    let jobs: Vec<_> = exported
        .iter()
        .zip(&data)
        .map(|(b, x)| (b.as_slice(), x))
        .collect();
    let scored = score(&jobs);
    for (((what, m, _), x), s) in models.iter().zip(&data).zip(&scored) {
        assert_parity(what, m, x, s);
    }
}

#[test]
fn hand_built_two_tree_ensemble_every_link() {
    let models = LINKS
        .iter()
        .enumerate()
        .map(|(k, &link)| {
            (
                format!("two trees, {link:?}"),
                Model::TreeEnsemble(two_trees(link)),
                k as u64,
            )
        })
        .collect();
    check(models, 0.1);
}

/// The property test of the exporter: random ensembles (empty ones,
/// lone leaves, deep trees, empty and full category sets, both missing
/// directions) score in onnxruntime as `TreeEnsemble::predict` does. Seeds
/// are fixed so a failure names a reproducible case.
#[test]
fn random_tree_ensembles_match_the_spec() {
    let mut rng = StdRng::seed_from_u64(20_260_901);
    let models = (0..36)
        .map(|case| {
            let link = LINKS[case % 3];
            let m = random_ensemble(&mut rng, link);
            (
                format!("random ensemble {case} ({link:?}, {} trees)", m.trees.len()),
                Model::TreeEnsemble(m),
                1000 + case as u64,
            )
        })
        .collect();
    check(models, 0.15);
}

#[test]
fn linear_models_with_and_without_preprocessing() {
    let mut models = Vec::new();
    for (k, &link) in LINKS.iter().enumerate() {
        for standardize in [true, false] {
            models.push((
                format!("linear {link:?}, standardised: {standardize}"),
                Model::Linear(small_linear(link, standardize)),
                k as u64,
            ));
        }
    }
    check(models, 0.1);
}

#[test]
fn random_linear_models_match_the_spec() {
    let mut rng = StdRng::seed_from_u64(7);
    let models = (0..24)
        .map(|case| {
            let link = LINKS[case % 3];
            let m = random_linear(&mut rng, link);
            (
                format!("random linear {case} ({link:?})"),
                Model::Linear(m),
                500 + case as u64,
            )
        })
        .collect();
    check(models, rng.random_range(0.0..0.3));
}

/// A 500-tree ensemble: onnxruntime sums leaves in `f32` when fed floats,
/// which drifts past 1e-5; the export must keep the sum in double.
#[test]
fn large_ensemble_keeps_its_sum_precise() {
    let mut rng = StdRng::seed_from_u64(99);
    let m = random_ensemble_sized(&mut rng, Link::Identity, 8, vec![2], 500, 8);
    check(vec![("500 trees".into(), Model::TreeEnsemble(m), 3)], 0.05);
}

#[test]
fn onnxruntime_reads_the_declared_input_and_metadata() {
    let spec = saved(Model::TreeEnsemble(two_trees(Link::Sigmoid)));
    let onnx = tenure_onnx::export(&spec).unwrap();
    let x = rows(&spec.model, LEVELS, 3, 0.0, 1);
    let s = &score(&[(onnx.bytes(), &x)])[0];
    assert_eq!(
        s.inputs,
        serde_json::json!([{"name": "features", "type": "tensor(float)", "shape": ["N", 3]}])
    );
    assert_eq!(
        s.metadata["tenure.feature_names"],
        r#"["recency","plan","spend"]"#
    );
    assert_eq!(s.metadata["tenure.categorical_features"], r#"["plan"]"#);
    assert_eq!(s.metadata["tenure.task"], "churn");
    assert_eq!(s.metadata["tenure.model_version"], "1");
    assert_eq!(s.metadata["tenure.training_fingerprint"], "sha256:00ff");
    assert_eq!(s.metadata["tenure.version"], "0.0.0-test");
    assert_eq!(
        s.metadata["tenure.outputs"],
        r#"["prediction","raw_score","probabilities"]"#
    );
    assert_eq!(s.outputs["prediction"].0, vec![3, 1]);
}

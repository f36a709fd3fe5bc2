//! Calibrated exports: the calibrator the runner fits (Platt, isotonic,
//! temperature) inside the graph, scored by onnxruntime as
//! `SavedSpec::predict` scores it, on 10,000 rows with missing values, for
//! a boosted ensemble and a logistic regression.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_calibration::{Method, fit};
use tenure_core::spec::{Model, SavedSpec};
use tenure_core::{Calibrator, Link, Matrix};

use crate::common::{LEVELS, random_ensemble_sized, random_linear, rows, saved};
use crate::onnxruntime::{Scored, score};

const ROWS: usize = 10_000;

/// The models of the tests: a 120-tree ensemble with a categorical feature
/// and a standardised logistic regression.
fn models() -> Vec<(&'static str, Model)> {
    let mut rng = StdRng::seed_from_u64(41);
    let trees = random_ensemble_sized(&mut rng, Link::Sigmoid, 6, vec![1], 120, 6);
    let mut linear = random_linear(&mut rng, Link::Sigmoid);
    while linear.preprocess.is_none() {
        linear = random_linear(&mut rng, Link::Sigmoid);
    }
    vec![
        ("gbdt", Model::TreeEnsemble(trees)),
        ("logistic", Model::Linear(linear)),
    ]
}

/// Each method fitted as the runner fits it: on predictions for other rows
/// than those scored, against outcomes of a miscalibrated truth (the model
/// is over-confident and biased), so every calibrator is far from identity.
pub fn fitted(model: &Model, method: Method, seed: u64) -> Calibrator {
    let x = rows(model, LEVELS, 4_000, 0.1, seed);
    let p = model.predict(&x).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<f64> = p
        .iter()
        .map(|&p| {
            let truth =
                tenure_core::calibrator::sigmoid(0.5 * tenure_core::calibrator::logit(p) + 0.4);
            f64::from(u8::from(rng.random_bool(truth)))
        })
        .collect();
    fit(method, &p, &y, None).unwrap().expect("a calibrator")
}

const METHODS: [Method; 3] = [Method::Platt, Method::Isotonic, Method::Temperature];

/// Asserts onnxruntime's outputs equal the calibrated spec's predictions:
/// `prediction` and `probabilities` calibrated, `uncalibrated` and
/// `raw_score` the model's own, all within 1e-5 (1e-5 relative for the raw
/// score).
pub fn assert_calibrated(what: &str, spec: &SavedSpec, x: &Matrix, s: &Scored) {
    let want = spec.predict(x).unwrap();
    let uncalibrated = spec.model.predict(x).unwrap();
    let raw = spec.model.predict_raw(x).unwrap();
    let check = |output: &str, want: &[f64], got: &[f32], rel: bool| {
        assert_eq!(want.len(), got.len(), "{what}: {output} length");
        for (r, (&w, &g)) in want.iter().zip(got).enumerate() {
            let g = f64::from(g);
            let tol = if rel { 1e-5 * w.abs().max(1e-6) } else { 1e-5 };
            assert!(
                (w - g).abs() <= tol,
                "{what}: {output} row {r}: tenure {w}, onnxruntime {g} (diff {:e})",
                (w - g).abs()
            );
        }
    };
    check(
        "prediction",
        &want,
        s.column(tenure_onnx::PREDICTION),
        false,
    );
    check(
        "uncalibrated",
        &uncalibrated,
        s.column(tenure_onnx::UNCALIBRATED),
        false,
    );
    check("raw_score", &raw, s.column(tenure_onnx::RAW_SCORE), true);
    let (shape, both) = &s.outputs[tenure_onnx::PROBABILITIES];
    assert_eq!(shape, &vec![x.n_rows(), 2], "{what}: probabilities shape");
    let p1: Vec<f32> = both.iter().skip(1).step_by(2).copied().collect();
    let p0: Vec<f32> = both.iter().step_by(2).copied().collect();
    check("probabilities[:, 1]", &want, &p1, false);
    let q: Vec<f64> = want.iter().map(|p| 1.0 - p).collect();
    check("probabilities[:, 0]", &q, &p0, false);
}

/// The calibration changes the predictions markedly, so that a graph
/// ignoring it could not pass.
fn assert_calibration_matters(what: &str, spec: &SavedSpec, x: &Matrix) {
    let before = spec.model.predict(x).unwrap();
    let after = spec.predict(x).unwrap();
    let moved = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| (*b - *a).abs() > 1e-3)
        .count();
    assert!(
        moved > x.n_rows() / 2,
        "{what}: the calibrator moves only {moved} of {} predictions",
        x.n_rows()
    );
}

#[test]
fn every_calibrator_scores_like_tenure_for_trees_and_logistic() {
    let mut specs = Vec::new();
    for (k, (name, model)) in models().into_iter().enumerate() {
        for (j, method) in METHODS.into_iter().enumerate() {
            let c = fitted(&model, method, 100 + k as u64);
            let spec = saved(model.clone()).with_calibrator(Some(c));
            let x = rows(&model, LEVELS, ROWS, 0.1, 10 * k as u64 + j as u64);
            let what = format!("{name} + {method}");
            assert_calibration_matters(&what, &spec, &x);
            specs.push((what, spec, x));
        }
    }
    let exported: Vec<Vec<u8>> = specs
        .iter()
        .map(|(what, spec, _)| {
            tenure_onnx::export(spec)
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .bytes()
                .to_vec()
        })
        .collect();
    let jobs: Vec<_> = exported
        .iter()
        .zip(&specs)
        .map(|(b, (_, _, x))| (b.as_slice(), x))
        .collect();
    let scored = score(&jobs);
    for ((what, spec, x), s) in specs.iter().zip(&scored) {
        assert_calibrated(what, spec, x, s);
        let stored: Calibrator = serde_json::from_str(&s.metadata["tenure.calibration"]).unwrap();
        assert_eq!(Some(&stored), spec.calibrator.as_ref(), "{what}");
        assert_eq!(
            s.metadata["tenure.outputs"],
            r#"["prediction","raw_score","probabilities","uncalibrated"]"#,
            "{what}"
        );
    }
}

/// Isotonic maps at their edges: one point (a constant), two points, the
/// extremes 0 and 1, flat runs and steep steps, thresholds at probabilities
/// the rows hit often; and a model whose probabilities reach 0 and 1.
#[test]
fn isotonic_edge_cases_score_like_tenure() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut model = random_linear(&mut rng, Link::Sigmoid);
    // Large coefficients: probabilities at 0 and 1 to double precision,
    // beyond the thresholds at both ends.
    for c in &mut model.coef {
        *c *= 40.0;
    }
    let model = Model::Linear(model);
    let calibrators = [
        Calibrator::Isotonic {
            x: vec![0.3],
            y: vec![0.25],
        },
        Calibrator::Isotonic {
            x: vec![0.2, 0.6],
            y: vec![0.1, 0.5],
        },
        Calibrator::Isotonic {
            x: vec![0.0, 0.5, 1.0],
            y: vec![0.0, 0.5, 1.0],
        },
        Calibrator::Isotonic {
            x: vec![0.1, 0.1000001, 0.4, 0.5, 0.5000000001, 0.9],
            y: vec![0.0, 0.3, 0.3, 0.3, 0.95, 1.0],
        },
        Calibrator::Isotonic {
            x: (0..1000).map(|k| f64::from(k) / 1000.0 + 1e-4).collect(),
            y: (0..1000).map(|k| (f64::from(k) / 1000.0).powi(2)).collect(),
        },
    ];
    let specs: Vec<SavedSpec> = calibrators
        .into_iter()
        .map(|c| saved(model.clone()).with_calibrator(Some(c)))
        .collect();
    let x = rows(&model, LEVELS, ROWS, 0.2, 9);
    let p = model.predict(&x).unwrap();
    assert!(
        p.iter().any(|&v| v < 1e-12) && p.contains(&1.0),
        "extremes reached"
    );
    let exported: Vec<Vec<u8>> = specs
        .iter()
        .map(|s| tenure_onnx::export(s).unwrap().bytes().to_vec())
        .collect();
    let jobs: Vec<_> = exported.iter().map(|b| (b.as_slice(), &x)).collect();
    for (k, (spec, s)) in specs.iter().zip(score(&jobs)).enumerate() {
        assert_calibrated(&format!("isotonic case {k}"), spec, &x, &s);
    }
}

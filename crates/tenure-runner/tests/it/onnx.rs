//! `tenure run` exports every exportable model of the run, and onnxruntime
//! scores the exported file as tenure scored the test fold.

use tenure_core::Matrix;
use tenure_core::spec::SavedSpec;
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::{Experiment, Progress, RunOptions};

use crate::onnxruntime::score;

/// Runs a small experiment; returns its outcome, the test fold's
/// validation features and the directory holding everything.
fn run(labels: &str, models: &str) -> (tenure_runner::RunOutcome, Matrix, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    synth::write(
        &SynthConfig {
            customers: 2_000,
            seed: 5,
            ..SynthConfig::default()
        },
        &dir.path().join("data"),
    )
    .unwrap();
    let text = format!(
        r#"
name = "export"
[data.transactions]
path = "data/transactions.parquet"
category = "category"
[data.customers]
path = "data/customers.parquet"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "region"]
{labels}
[cv]
first = "2022-01-01"
every_days = 91
folds = 2
{models}
"#
    );
    std::fs::write(dir.path().join("e.toml"), text).unwrap();
    let exp = Experiment::load(&dir.path().join("e.toml")).unwrap();
    let out = tenure_runner::run(
        &exp,
        &RunOptions {
            tracking_dir: Some(dir.path().join("runs")),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let prepared = tenure_runner::prepare(&exp, &Progress::new(false)).unwrap();
    let test = prepared.plan.all_folds().last().unwrap();
    let data = tenure_runner::pipeline::fold_data(&exp, &prepared, test).unwrap();
    (out, data.valid.x().clone(), dir)
}

/// The values onnxruntime sees: the input is `float32`.
fn as_f32(x: &Matrix) -> Matrix {
    let v = x.as_slice().iter().map(|&v| f64::from(v as f32)).collect();
    Matrix::new(v, x.n_rows(), x.n_cols()).unwrap()
}

fn bundle(out: &tenure_runner::RunOutcome, model: usize) -> (SavedSpec, Vec<u8>) {
    let onnx = out.models[model].onnx.as_ref().expect("exported");
    let dir = onnx.parent().unwrap();
    assert!(dir.ends_with(format!("artifacts/models/{}", out.models[model].name)));
    assert!(dir.join("model_card.json").is_file());
    let spec = tenure_onnx::read_spec(&dir.join("spec.json")).unwrap();
    assert_eq!(spec.info.run_id.as_deref(), Some(out.run_id.as_str()));
    assert_eq!(spec.info.version, out.run_id);
    assert!(spec.info.training_fingerprint.starts_with("sha256:"));
    (spec, std::fs::read(onnx).unwrap())
}

fn test_fold_prediction(out: &tenure_runner::RunOutcome, model: usize) -> &[f64] {
    let p = out.models[model].predictions.last().unwrap();
    assert_eq!(p.fold, "test");
    &p.prediction
}

#[test]
fn logistic_run_exports_a_model_scoring_like_tenure() {
    let (out, x, _dir) = run(
        "[labels]\ntask = \"churn\"\nhorizon_days = 90",
        "[[models]]\nname = \"lr\"\nkind = \"logistic\"",
    );
    let (spec, bytes) = bundle(&out, 0);
    assert_eq!(spec.info.name, "lr");
    assert_eq!(spec.info.horizon_days, Some(90.0));

    // The specification is the model: exactly tenure's test predictions.
    let tenure = test_fold_prediction(&out, 0);
    let from_spec = spec.model.predict(&x).unwrap();
    for (a, b) in from_spec.iter().zip(tenure) {
        assert!((a - b).abs() <= 1e-12, "spec {a} vs tenure {b}");
    }
    // onnxruntime on the same rows: within 1e-5 of tenure's probabilities.
    let s = &score(&[(bytes.as_slice(), &x)])[0];
    let ort = s.column(tenure_onnx::PREDICTION);
    assert_eq!(ort.len(), tenure.len());
    for (r, (&o, &t)) in ort.iter().zip(tenure).enumerate() {
        assert!(
            (f64::from(o) - t).abs() <= 1e-5,
            "row {r}: onnxruntime {o}, tenure {t}"
        );
    }
    assert_eq!(
        s.metadata["tenure.feature_names"],
        serde_json::to_string(&spec.model.feature_names()).unwrap()
    );
}

#[test]
fn cox_run_exports_the_log_partial_hazard() {
    let (out, x, _dir) = run(
        "[labels]\ntask = \"survival\"\nhorizon_days = 180",
        "[[models]]\nkind = \"kaplan_meier\"\n[[models]]\nkind = \"cox\"",
    );
    assert!(out.models[0].onnx.is_none(), "Kaplan-Meier has no export");
    let (spec, bytes) = bundle(&out, 1);
    assert_eq!(spec.info.kind, "cox");

    // The runner's scaling and the Cox model merge into one linear model on
    // the raw features: its raw score is tenure's log partial hazard.
    let tenure = test_fold_prediction(&out, 1);
    let raw = spec.model.predict_raw(&x).unwrap();
    for (a, b) in raw.iter().zip(tenure) {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "spec {a} vs tenure {b}"
        );
    }
    // onnxruntime agrees with the specification on what it is fed (float32).
    let x32 = as_f32(&x);
    let s = &score(&[(bytes.as_slice(), &x32)])[0];
    let want_raw = spec.model.predict_raw(&x32).unwrap();
    let want = spec.model.predict(&x32).unwrap();
    let got_raw = s.column(tenure_onnx::RAW_SCORE);
    let got = s.column(tenure_onnx::PREDICTION);
    for r in 0..want.len() {
        let (wr, gr) = (want_raw[r], f64::from(got_raw[r]));
        assert!(
            (wr - gr).abs() <= 1e-5 * wr.abs().max(1e-6),
            "row {r}: raw {wr} vs {gr}"
        );
        let (w, g) = (want[r], f64::from(got[r]));
        assert!(
            (w - g).abs() <= 1e-5 * w.abs(),
            "row {r}: hazard ratio {w} vs {g}"
        );
    }
}

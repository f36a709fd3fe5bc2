//! `tenure run` exports every exportable model of the run, and onnxruntime
//! scores the exported file as tenure scored the test fold.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tenure_core::spec::{Condition, Model, Node, SavedSpec};
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target, Task};
use tenure_gbdt::{GbdtParams, Objective};
use tenure_runner::data::synth::{self, SynthConfig};
use tenure_runner::{Experiment, Progress, RunOptions};

use crate::onnxruntime::score;

/// Runs a small experiment; returns its outcome, the test fold's
/// validation features and the directory holding everything.
pub(crate) fn run(
    labels: &str,
    models: &str,
) -> (tenure_runner::RunOutcome, Matrix, tempfile::TempDir) {
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
pub(crate) fn as_f32(x: &Matrix) -> Matrix {
    let v = x.as_slice().iter().map(|&v| f64::from(v as f32)).collect();
    Matrix::new(v, x.n_rows(), x.n_cols()).unwrap()
}

pub(crate) fn bundle(out: &tenure_runner::RunOutcome, model: usize) -> (SavedSpec, Vec<u8>) {
    let onnx = out.models[model].onnx.as_ref().expect("exported");
    let dir = onnx.parent().unwrap();
    assert!(dir.ends_with(format!("artifacts/models/{}", out.models[model].name)));
    assert!(dir.join("model_card.json").is_file());
    let spec = tenure_onnx::read_spec(&dir.join("spec.json")).unwrap();
    assert_eq!(spec.info.run_id.as_deref(), Some(out.run_id.as_str()));
    assert_eq!(
        spec.info.version,
        tenure_runner::export::spec_version(&spec),
        "the version names the model's content, not the run"
    );
    assert!(spec.info.training_fingerprint.starts_with("sha256:"));
    (spec, std::fs::read(onnx).unwrap())
}

pub(crate) fn test_fold_prediction(out: &tenure_runner::RunOutcome, model: usize) -> &[f64] {
    let p = out.models[model].predictions.last().unwrap();
    assert_eq!(p.fold, "test");
    &p.prediction
}

#[test]
fn churn_run_exports_models_scoring_like_tenure() {
    let (out, x, _dir) = run(
        "[labels]\ntask = \"churn\"\nhorizon_days = 90",
        "[[models]]\nname = \"lr\"\nkind = \"logistic\"\n\
         [[models]]\nkind = \"gbdt\"\nparams = { num_iterations = 60, num_leaves = 15 }",
    );
    for m in 0..2 {
        let (spec, bytes) = bundle(&out, m);
        assert_eq!(spec.info.name, ["lr", "gbdt"][m]);
        assert_eq!(spec.info.horizon_days, Some(90.0));

        // The specification is the model: exactly tenure's test predictions.
        let tenure = test_fold_prediction(&out, m);
        let from_spec = spec.model.predict(&x).unwrap();
        for (a, b) in from_spec.iter().zip(tenure) {
            assert!(
                (a - b).abs() <= 1e-12,
                "{}: spec {a} vs tenure {b}",
                spec.info.name
            );
        }
        // onnxruntime on the same rows: within 1e-5 of tenure's probabilities
        // (before the calibrator of the default `[calibration]`, Platt's).
        assert_eq!(spec.calibrator.as_ref().map(|c| c.method()), Some("platt"));
        let s = &score(&[(bytes.as_slice(), &x)])[0];
        let ort = s.column(tenure_onnx::UNCALIBRATED);
        assert_eq!(ort.len(), tenure.len());
        for (r, (&o, &t)) in ort.iter().zip(tenure).enumerate() {
            assert!(
                (f64::from(o) - t).abs() <= 1e-5,
                "{} row {r}: onnxruntime {o}, tenure {t}",
                spec.info.name
            );
        }
        // `features` holds the model's features less those computed from
        // the raw `plan` and `region` levels.
        let names = spec.model.feature_names();
        let cats = spec.categories.as_ref().expect("plan and region");
        let numeric: Vec<&String> = cats
            .numeric_features(names.len())
            .into_iter()
            .map(|j| &names[j])
            .collect();
        assert_eq!(
            s.metadata["tenure.feature_names"],
            serde_json::to_string(&numeric).unwrap()
        );
        assert_eq!(
            s.metadata["tenure.model_features"],
            serde_json::to_string(names).unwrap()
        );
    }
}

/// With `[calibration]`, the exported file's `prediction` is the
/// calibrated probability: the run's calibrator applied to its test-fold
/// predictions, for each method and for a logistic regression and a
/// boosted model.
#[test]
fn calibrated_run_exports_calibrated_probabilities() {
    for method in ["platt", "isotonic", "temperature"] {
        let (out, x, _dir) = run(
            &format!(
                "[labels]\ntask = \"churn\"\nhorizon_days = 90\n\
                 [calibration]\nmethod = \"{method}\""
            ),
            "[[models]]\nname = \"lr\"\nkind = \"logistic\"\n\
             [[models]]\nkind = \"gbdt\"\nparams = { num_iterations = 60, num_leaves = 15 }",
        );
        let x32 = as_f32(&x);
        let mut jobs = Vec::new();
        for m in 0..2 {
            let (spec, bytes) = bundle(&out, m);
            let fitted = out.models[m]
                .calibration
                .as_ref()
                .and_then(|c| c.binary.as_ref())
                .and_then(|b| b.calibrator.clone())
                .expect("the run calibrated the model");
            assert_eq!(fitted.method(), method);
            // The bundle carries the run's calibrator, in the spec, the
            // card and the file's metadata.
            assert_eq!(spec.calibrator.as_ref(), Some(&fitted));
            let dir = out.models[m].onnx.as_ref().unwrap().parent().unwrap();
            let card: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("model_card.json")).unwrap())
                    .unwrap();
            assert_eq!(card["calibration"]["method"], method);
            // The run's calibrated test predictions, and what the spec
            // predicts on the same rows.
            let calibrated = fitted.apply_all(test_fold_prediction(&out, m));
            let from_spec = spec.predict(&x).unwrap();
            for (a, b) in from_spec.iter().zip(&calibrated) {
                assert!((a - b).abs() <= 1e-12, "{method} {m}: spec {a} vs run {b}");
            }
            jobs.push((spec, bytes, calibrated));
        }
        let inputs: Vec<_> = jobs.iter().map(|(_, b, _)| (b.as_slice(), &x)).collect();
        for ((spec, _, calibrated), s) in jobs.iter().zip(score(&inputs)) {
            let name = &spec.info.name;
            let ort = s.column(tenure_onnx::PREDICTION);
            // Trees compare features as float32, as onnxruntime is fed
            // them: its output is the run's own calibrated prediction. A
            // linear model sees the float32-rounded features, so it is held
            // to the spec's prediction of those, a step from the run's that
            // an isotonic step can magnify.
            let want = if matches!(spec.model, Model::TreeEnsemble(_)) {
                calibrated.clone()
            } else {
                spec.predict(&x32).unwrap()
            };
            for (r, (&o, &t)) in ort.iter().zip(&want).enumerate() {
                assert!(
                    (f64::from(o) - t).abs() <= 1e-5,
                    "{method} {name} row {r}: onnxruntime {o}, tenure {t}"
                );
            }
            if method != "isotonic" {
                for (r, (&o, &t)) in ort.iter().zip(calibrated).enumerate() {
                    assert!(
                        (f64::from(o) - t).abs() <= 1e-5,
                        "{method} {name} row {r}: onnxruntime {o}, run {t}"
                    );
                }
            }
            assert_eq!(
                s.metadata["tenure.outputs"],
                r#"["prediction","raw_score","probabilities","uncalibrated"]"#
            );
        }
    }
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

    // The survival curves at the evaluation times (a quarter, half, three
    // quarters of the horizon and the horizon), each through the run's
    // calibrator of that time (Platt by default): the run's calibrated
    // S(t | x) on the test fold.
    let curves = spec.survival.as_ref().expect("Cox exports its curves");
    assert_eq!(curves.days, vec![45.0, 90.0, 135.0, 180.0]);
    let fitted: Vec<_> = out.models[1]
        .calibration
        .as_ref()
        .unwrap()
        .survival
        .iter()
        .map(|h| h.calibrator.clone())
        .collect();
    assert!(fitted.iter().all(|c| c.is_some()), "every time calibrated");
    assert_eq!(curves.calibrators, fitted);
    let run_s = out.models[1]
        .predictions
        .last()
        .unwrap()
        .survival
        .clone()
        .unwrap();
    // Uncalibrated, the spec's curves are the run's own.
    let uncalibrated = tenure_core::spec::SurvivalCurves {
        calibrators: Vec::new(),
        ..curves.clone()
    }
    .predict(&spec.model.predict_raw(&x).unwrap());
    let (shape, got) = &s.outputs[tenure_onnx::SURVIVAL];
    assert_eq!(shape, &vec![x.n_rows(), 4]);
    for (k, column) in run_s.iter().enumerate() {
        let c = fitted[k].as_ref().unwrap();
        for (r, &s_run) in column.iter().enumerate() {
            assert!(
                (uncalibrated[k][r] - s_run).abs() <= 1e-9,
                "S(t{k}) row {r}: spec {}, run {s_run}",
                uncalibrated[k][r]
            );
            let calibrated = 1.0 - c.apply(1.0 - s_run);
            let g = f64::from(got[r * 4 + k]);
            assert!(
                (g - calibrated).abs() <= 1e-5,
                "S(t{k}) row {r}: onnxruntime {g}, run calibrated {calibrated}"
            );
        }
    }
}

/// Customers with a plan code (0..8 seen in training), spend and recency,
/// both partly missing; the label follows `objective`.
fn gbdt_data(rows: usize, seed: u64, plans: u32, objective: Objective) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Matrix::zeros(rows, 3);
    let (mut y, mut time, mut event) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rows {
        let plan = f64::from(rng.random_range(0..plans));
        let spend = if rng.random_bool(0.1) {
            f64::NAN
        } else {
            f64::from((rng.random::<f64>() * 200.0) as f32)
        };
        let recency = if rng.random_bool(0.1) {
            f64::NAN
        } else {
            f64::from(rng.random_range(0..365u32))
        };
        x.set(r, 0, plan);
        x.set(r, 1, spend);
        x.set(r, 2, recency);
        let eta = [0.8, -0.5, 0.1, 1.2, -1.0, 0.0, 0.4, -0.2, 0.6][plan as usize % 9]
            + if spend.is_nan() { 0.3 } else { -spend / 150.0 }
            + if recency.is_nan() {
                -0.2
            } else {
                recency / 200.0
            };
        let u: f64 = rng.random::<f64>().max(1e-12);
        match objective {
            Objective::Binary => y.push(f64::from(u8::from(u < 1.0 / (1.0 + (-eta).exp())))),
            Objective::Cox => {
                let t = -u.ln() / eta.exp() * 100.0;
                let c = rng.random::<f64>() * 150.0;
                time.push(t.min(c));
                event.push(t <= c);
            }
            _ => y.push(if u < 0.4 { 0.0 } else { (eta + 3.0).exp() * u }),
        }
    }
    let target = match objective {
        Objective::Binary => Target::Binary(y),
        Objective::Cox => Target::Survival { time, event },
        _ => Target::Continuous(y),
    };
    let names = vec!["plan".into(), "spend".into(), "recency_days".into()];
    Dataset::new(x, names, target).unwrap()
}

/// Real boosters (categorical splits, learned missing directions, 200
/// trees) score in onnxruntime as in tenure, on 10,000 fresh rows that
/// include missing values and plan codes never seen in training.
#[test]
fn gbdt_scores_like_tenure_with_unseen_categories_and_missing_values() {
    let mut jobs = Vec::new();
    for (k, objective) in [Objective::Binary, Objective::Tweedie, Objective::Cox]
        .into_iter()
        .enumerate()
    {
        let train = gbdt_data(5_000, 10 + k as u64, 9, objective);
        let booster = GbdtParams::new()
            .with(|c| {
                c.objective = objective;
                c.num_iterations = 200;
                c.num_leaves = 31;
                c.min_data_in_leaf = 10;
                c.categorical_feature = vec!["plan".into()];
            })
            .check()
            .unwrap()
            .fit(&train)
            .unwrap();
        let spec = booster.to_spec();
        assert!(
            spec.trees.iter().flat_map(|t| &t.nodes).any(|n| matches!(
                n,
                Node::Split {
                    condition: Condition::In { .. },
                    ..
                }
            )),
            "{objective:?}: the booster made no categorical split"
        );
        // Codes 9..11 were never seen in training.
        let test = gbdt_data(10_000, 100 + k as u64, 12, objective);
        let want = booster.predict(test.x()).unwrap();
        let saved = SavedSpec::new(
            tenure_runner::export::model_info("gbdt", "gbdt", "1", Task::Churn, None, &train, None),
            Model::TreeEnsemble(spec),
        );
        let onnx = tenure_onnx::export(&saved).unwrap().bytes().to_vec();
        jobs.push((objective, onnx, test, want));
    }
    let inputs: Vec<_> = jobs
        .iter()
        .map(|(_, b, t, _)| (b.as_slice(), t.x()))
        .collect();
    let scored = score(&inputs);
    for ((objective, _, _, want), s) in jobs.iter().zip(&scored) {
        let got = s.column(tenure_onnx::PREDICTION);
        for (r, (&w, &g)) in want.iter().zip(got).enumerate() {
            let g = f64::from(g);
            let ok = match objective {
                Objective::Binary => (w - g).abs() <= 1e-5,
                _ => (w - g).abs() <= 1e-5 * w.abs().max(1e-6),
            };
            assert!(ok, "{objective:?} row {r}: tenure {w}, onnxruntime {g}");
        }
    }
}

/// A deployment pipeline feeds the customers table's own levels: the
/// exported graph takes `plan` (one-hot in tenure) and `region` (target
/// encoded, 40 levels) as strings and scores as tenure scored the test
/// fold; an unseen or missing level scores as tenure would encode it.
#[test]
fn exports_take_the_customers_raw_categorical_levels() {
    let (out, x, dir) = run(
        "[labels]\ntask = \"churn\"\nhorizon_days = 90",
        "[[models]]\nname = \"lr\"\nkind = \"logistic\"\n\
         [[models]]\nkind = \"gbdt\"\nparams = { num_iterations = 40, num_leaves = 7 }",
    );
    let exp = Experiment::load(&dir.path().join("e.toml")).unwrap();
    let prepared = tenure_runner::prepare(&exp, &Progress::new(false)).unwrap();
    let test = prepared.plan.all_folds().last().unwrap();
    let data = tenure_runner::pipeline::fold_data(&exp, &prepared, test).unwrap();
    let log = &prepared.log;
    let table = log.customers().unwrap();
    let row_of: std::collections::HashMap<&str, usize> = log
        .customer_ids()
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let raw = |id: &str, attr: &str| -> String {
        let a = table.categorical.iter().find(|a| a.name == attr).unwrap();
        a.codes[row_of[id]].map_or(String::new(), |c| a.levels[c as usize].clone())
    };
    let mut levels: Vec<Vec<String>> = data
        .valid_ids
        .iter()
        .map(|id| vec![raw(id, "plan"), raw(id, "region")])
        .collect();
    // Three more rows: an unseen plan, a missing region, both unseen.
    let extra = [["gold", "r00"], ["basic", ""], ["zz", "r999"]];
    levels.extend(extra.iter().map(|r| r.map(String::from).to_vec()));

    for m in 0..2 {
        let (spec, bytes) = bundle(&out, m);
        let cats = spec
            .categories
            .clone()
            .expect("plan and region are categorical");
        assert_eq!(cats.columns, ["plan", "region"]);
        let names = spec.model.feature_names();
        let numeric_cols = cats.numeric_features(names.len());
        assert!(
            numeric_cols
                .iter()
                .all(|&j| !names[j].starts_with("attr_plan") && names[j] != "attr_region_te")
        );
        let mut rows: Vec<f64> = x
            .rows()
            .flat_map(|r| numeric_cols.iter().map(|&j| r[j]).collect::<Vec<_>>())
            .collect();
        for k in 0..extra.len() {
            rows.extend(numeric_cols.iter().map(|&j| x.get(k, j)));
        }
        let numeric = Matrix::new(rows, levels.len(), numeric_cols.len()).unwrap();
        // What tenure builds from the raw levels is the test fold's matrix.
        let full = cats.encode(&numeric, &levels).unwrap();
        for i in 0..x.n_rows() {
            for j in 0..x.n_cols() {
                // Numeric columns as given, derived ones in f32.
                let (a, b) = (full.get(i, j), x.get(i, j));
                assert!(
                    a == b || a == f64::from(b as f32) || (a.is_nan() && b.is_nan()),
                    "row {i} col {j}: {a} vs {b}"
                );
            }
        }
        let s = &crate::onnxruntime::score_raw(&[(&bytes, &numeric, Some(&levels))])[0];
        let want = spec.model.predict(&full).unwrap();
        let tenure = test_fold_prediction(&out, m);
        let got = s.column(tenure_onnx::UNCALIBRATED);
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (f64::from(g) - w).abs() <= 1e-5,
                "{} row {i}: {g} vs {w}",
                spec.info.name
            );
            if i < tenure.len() {
                assert!(
                    (f64::from(g) - tenure[i]).abs() <= 1e-5,
                    "{} row {i}",
                    spec.info.name
                );
            }
        }
        // The unseen and missing rows: no plan indicator, the prior as the
        // region's encoding.
        let n = x.n_rows();
        let te = cats.derived.iter().find(|d| d.column == 1).unwrap();
        let plan: Vec<usize> = cats
            .derived
            .iter()
            .filter(|d| d.column == 0)
            .map(|d| d.feature as usize)
            .collect();
        assert!(
            plan.iter()
                .all(|&j| full.get(n, j) == 0.0 && full.get(n + 2, j) == 0.0)
        );
        assert_eq!(
            full.get(n + 1, te.feature as usize),
            f64::from(te.unseen as f32)
        );
        assert_eq!(
            full.get(n + 2, te.feature as usize),
            f64::from(te.unseen as f32)
        );
    }
}

//! Against LightGBM and XGBoost on the same data with the same parameters
//! (`scripts/reference/gbdt_peers.py` wrote the data and the golden values).

use std::path::PathBuf;

use serde_json::Value;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target};
use tenure_gbdt::metric::{EvalLabels, EvalMetric};
use tenure_gbdt::{GbdtParams, Objective};

fn reference() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/reference")
}

struct Fixture {
    train: Vec<usize>,
    test: Vec<usize>,
    x: Matrix,
    cols: std::collections::HashMap<String, Vec<f64>>,
}

fn fixture() -> Fixture {
    let text = std::fs::read_to_string(reference().join("gbdt_data.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut cols: std::collections::HashMap<String, Vec<f64>> = Default::default();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, line) in lines.enumerate() {
        for (name, v) in header.iter().zip(line.split(',')) {
            if *name == "split" {
                if v == "train" {
                    train.push(i)
                } else {
                    test.push(i)
                }
            } else {
                cols.entry(name.to_string())
                    .or_default()
                    .push(if v.is_empty() {
                        f64::NAN
                    } else {
                        v.parse().unwrap()
                    });
            }
        }
    }
    let feats: Vec<&Vec<f64>> = (0..5).map(|j| &cols[&format!("x{j}")]).collect();
    let n = feats[0].len();
    let data: Vec<f64> = (0..n)
        .flat_map(|i| feats.iter().map(move |c| c[i]))
        .collect();
    Fixture {
        train,
        test,
        x: Matrix::new(data, n, 5).unwrap(),
        cols,
    }
}

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(reference().join("gbdt_peers.json")).unwrap())
        .unwrap()
}

fn pick(v: &[f64], idx: &[usize]) -> Vec<f64> {
    idx.iter().map(|&i| v[i]).collect()
}

fn fit_and_score(objective: Objective, target: impl Fn(&[usize]) -> Target) -> (Vec<f64>, Fixture) {
    let fx = fixture();
    let names: Vec<String> = (0..5).map(|j| format!("x{j}")).collect();
    let train = Dataset::new(fx.x.select_rows(&fx.train), names, target(&fx.train)).unwrap();
    let g = golden();
    let p = &g["params"];
    let model = GbdtParams::new()
        .with(|c| {
            c.objective = objective;
            c.num_iterations = p["num_iterations"].as_u64().unwrap() as usize;
            c.num_leaves = p["num_leaves"].as_u64().unwrap() as usize;
            c.learning_rate = p["learning_rate"].as_f64().unwrap();
            c.min_data_in_leaf = p["min_data_in_leaf"].as_u64().unwrap() as usize;
            c.num_threads = 1;
        })
        .check()
        .unwrap()
        .fit(&train)
        .unwrap();
    (model.predict(&fx.x.select_rows(&fx.test)).unwrap(), fx)
}

#[test]
fn binary_matches_lightgbm() {
    let (pred, fx) = fit_and_score(Objective::Binary, |idx| {
        Target::Binary(pick(&fixture().cols["binary"], idx))
    });
    let y = pick(&fx.cols["binary"], &fx.test);
    let g = golden();
    let auc = EvalMetric::Auc
        .compute(EvalLabels::Values(&y), &pred, 1.5)
        .unwrap();
    let ll = EvalMetric::BinaryLogloss
        .compute(EvalLabels::Values(&y), &pred, 1.5)
        .unwrap();
    let (lgb_auc, lgb_ll) = (
        g["binary"]["auc"].as_f64().unwrap(),
        g["binary"]["binary_logloss"].as_f64().unwrap(),
    );
    assert!(
        (auc - lgb_auc).abs() < 0.005,
        "AUC {auc} vs LightGBM {lgb_auc}"
    );
    assert!(
        (ll - lgb_ll).abs() < 0.01,
        "log loss {ll} vs LightGBM {lgb_ll}"
    );
}

#[test]
fn regression_matches_lightgbm() {
    let (pred, fx) = fit_and_score(Objective::Regression, |idx| {
        Target::Continuous(pick(&fixture().cols["regression"], idx))
    });
    let y = pick(&fx.cols["regression"], &fx.test);
    let rmse = EvalMetric::Rmse
        .compute(EvalLabels::Values(&y), &pred, 1.5)
        .unwrap();
    let lgb = golden()["regression"]["rmse"].as_f64().unwrap();
    assert!(
        (rmse / lgb - 1.0).abs() < 0.02,
        "RMSE {rmse} vs LightGBM {lgb}"
    );
}

#[test]
fn tweedie_matches_lightgbm() {
    let (pred, fx) = fit_and_score(Objective::Tweedie, |idx| {
        Target::Continuous(pick(&fixture().cols["spend"], idx))
    });
    let y = pick(&fx.cols["spend"], &fx.test);
    let dev = EvalMetric::TweedieDeviance
        .compute(EvalLabels::Values(&y), &pred, 1.5)
        .unwrap();
    let lgb = golden()["tweedie"]["tweedie_deviance"].as_f64().unwrap();
    assert!(
        (dev / lgb - 1.0).abs() < 0.03,
        "deviance {dev} vs LightGBM {lgb}"
    );
}

#[test]
fn cox_matches_xgboost() {
    let (pred, fx) = fit_and_score(Objective::Cox, |idx| {
        let fx = fixture();
        Target::Survival {
            time: pick(&fx.cols["time"], idx),
            event: pick(&fx.cols["event"], idx)
                .iter()
                .map(|&e| e == 1.0)
                .collect(),
        }
    });
    let time = pick(&fx.cols["time"], &fx.test);
    let event: Vec<bool> = pick(&fx.cols["event"], &fx.test)
        .iter()
        .map(|&e| e == 1.0)
        .collect();
    let c = EvalMetric::Cindex
        .compute(
            EvalLabels::Survival {
                time: &time,
                event: &event,
            },
            &pred,
            1.5,
        )
        .unwrap();
    let xgb = golden()["cox"]["cindex"].as_f64().unwrap();
    eprintln!("cox: C-index {c:.5} vs XGBoost {xgb:.5}");
    assert!((c - xgb).abs() < 0.01, "C-index {c} vs XGBoost {xgb}");
}

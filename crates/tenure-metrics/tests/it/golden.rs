//! Agreement with scikit-learn and lifelines on fixed inputs, recorded by
//! `scripts/reference/sklearn_metrics.py` (see scripts/reference/README.md).

use serde::Deserialize;
use tenure_metrics::{
    average_precision, brier_score, concordance_index, log_loss, mae, rmse, roc_auc, roc_curve,
};

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/sklearn_metrics.json"
));
const TOL: f64 = 1e-12;

#[derive(Deserialize)]
struct Golden {
    binary: Vec<BinaryCase>,
    regression: Vec<RegressionCase>,
    survival: Vec<SurvivalCase>,
}

#[derive(Deserialize)]
struct BinaryCase {
    name: String,
    y_true: Vec<f64>,
    score: Vec<f64>,
    roc_auc: f64,
    average_precision: f64,
    log_loss: f64,
    brier: f64,
    roc_curve: Curve,
}

#[derive(Deserialize)]
struct Curve {
    fpr: Vec<f64>,
    tpr: Vec<f64>,
    /// sklearn's first threshold is +inf, written as null.
    thresholds: Vec<Option<f64>>,
}

#[derive(Deserialize)]
struct RegressionCase {
    name: String,
    y: Vec<f64>,
    pred: Vec<f64>,
    rmse: f64,
    mae: f64,
}

#[derive(Deserialize)]
struct SurvivalCase {
    name: String,
    time: Vec<f64>,
    event: Vec<bool>,
    risk: Vec<f64>,
    c_index: f64,
}

fn golden() -> Golden {
    serde_json::from_str(GOLDEN).expect("sklearn_metrics.json parses")
}

#[track_caller]
fn assert_close(case: &str, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL * want.abs().max(1.0),
        "{case}: {what} = {got}, sklearn/lifelines say {want}"
    );
}

#[test]
fn golden_file_covers_every_metric_kind() {
    let g = golden();
    assert!(g.binary.len() >= 4);
    assert!(g.regression.len() >= 2);
    assert!(g.survival.len() >= 3);
}

#[test]
fn binary_metrics_match_sklearn() {
    for c in golden().binary {
        let (y, s) = (&c.y_true, &c.score);
        assert_close(&c.name, "roc_auc", roc_auc(y, s).unwrap(), c.roc_auc);
        assert_close(
            &c.name,
            "average_precision",
            average_precision(y, s).unwrap(),
            c.average_precision,
        );
        assert_close(&c.name, "log_loss", log_loss(y, s).unwrap(), c.log_loss);
        assert_close(&c.name, "brier", brier_score(y, s).unwrap(), c.brier);
    }
}

#[test]
fn roc_curve_matches_sklearn_point_by_point() {
    for c in golden().binary {
        let curve = roc_curve(&c.y_true, &c.score).unwrap();
        let want = &c.roc_curve;
        assert_eq!(
            curve.fpr.len(),
            want.fpr.len(),
            "{}: number of points",
            c.name
        );
        for k in 0..curve.fpr.len() {
            assert_close(&c.name, "fpr", curve.fpr[k], want.fpr[k]);
            assert_close(&c.name, "tpr", curve.tpr[k], want.tpr[k]);
            let threshold = want.thresholds[k].unwrap_or(f64::INFINITY);
            assert_eq!(curve.thresholds[k], threshold, "{}: threshold {k}", c.name);
        }
    }
}

#[test]
fn regression_metrics_match_sklearn() {
    for c in golden().regression {
        assert_close(&c.name, "rmse", rmse(&c.y, &c.pred).unwrap(), c.rmse);
        assert_close(&c.name, "mae", mae(&c.y, &c.pred).unwrap(), c.mae);
    }
}

#[test]
fn concordance_index_matches_lifelines() {
    for c in golden().survival {
        let got = concordance_index(&c.time, &c.event, &c.risk).unwrap();
        assert_close(&c.name, "c_index", got, c.c_index);
    }
}

//! Ridge regression against scikit-learn's `Ridge(alpha = l2)` on
//! standardised inputs (`scripts/reference/sklearn_ridge.py`), and its errors.

use serde::Deserialize;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_stats::RidgeRegressionParams;

use crate::common::{assert_close, dataset};

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/sklearn_ridge.json"
));

#[derive(Deserialize)]
struct Golden {
    feature_names: Vec<String>,
    /// `null` marks a missing value.
    x: Vec<Vec<Option<f64>>>,
    y: Vec<f64>,
    x_test: Vec<Vec<Option<f64>>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    l2: f64,
    fit_intercept: bool,
    weights: Option<Vec<f64>>,
    coefficients: Vec<f64>,
    intercept: f64,
    standardised_coefficients: Vec<f64>,
    train_predictions: Vec<f64>,
    test_predictions: Vec<f64>,
}

fn matrix(rows: &[Vec<Option<f64>>]) -> Matrix {
    let rows: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .collect();
    Matrix::from_rows(&rows).unwrap()
}

#[test]
fn ridge_matches_scikit_learn() {
    let g: Golden = serde_json::from_str(GOLDEN).unwrap();
    let (x, x_test) = (matrix(&g.x), matrix(&g.x_test));
    for c in &g.cases {
        let mut data = Dataset::new(
            x.clone(),
            g.feature_names.clone(),
            Target::Continuous(g.y.clone()),
        )
        .unwrap();
        if let Some(w) = &c.weights {
            data = data.with_weights(w.clone()).unwrap();
        }
        let model = RidgeRegressionParams::new()
            .l2(c.l2)
            .fit_intercept(c.fit_intercept)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let what = |s: &str| format!("{} {s}", c.name);
        for (got, want) in model.coefficients().iter().zip(&c.coefficients) {
            assert_close(&what("coefficient"), *got, *want, 1e-9);
        }
        for (got, want) in model
            .standardised_coefficients()
            .iter()
            .zip(&c.standardised_coefficients)
        {
            assert_close(&what("standardised coefficient"), *got, *want, 1e-9);
        }
        assert_close(&what("intercept"), model.intercept(), c.intercept, 1e-9);
        for (got, want) in model.predict(&x).unwrap().iter().zip(&c.train_predictions) {
            assert_close(&what("train prediction"), *got, *want, 1e-9);
        }
        for (got, want) in model
            .predict(&x_test)
            .unwrap()
            .iter()
            .zip(&c.test_predictions)
        {
            assert_close(&what("test prediction"), *got, *want, 1e-9);
        }
    }
}

#[test]
fn ridge_without_penalty_is_least_squares() {
    // y = 1 + 2 x exactly: ordinary least squares recovers it.
    let rows: Vec<Vec<f64>> = (0..6).map(|i| vec![f64::from(i)]).collect();
    let y: Vec<f64> = (0..6).map(|i| 1.0 + 2.0 * f64::from(i)).collect();
    let model = RidgeRegressionParams::new()
        .l2(0.0)
        .check()
        .unwrap()
        .fit(&dataset(&rows, Target::Continuous(y)))
        .unwrap();
    assert_close("slope", model.coefficients()[0], 2.0, 1e-12);
    assert_close("intercept", model.intercept(), 1.0, 1e-12);
}

#[test]
fn ridge_rejects_bad_input() {
    assert!(RidgeRegressionParams::new().l2(-1.0).check().is_err());
    let rows = vec![vec![1.0], vec![2.0]];
    let p = RidgeRegressionParams::new().check().unwrap();
    let err = p
        .fit(&dataset(&rows, Target::Binary(vec![0.0, 1.0])))
        .unwrap_err();
    assert!(err.to_string().contains("continuous"), "{err}");
    let err = p
        .fit(&dataset(&rows, Target::Continuous(vec![0.0, f64::NAN])))
        .unwrap_err();
    assert!(err.to_string().contains("row 1"), "{err}");
}

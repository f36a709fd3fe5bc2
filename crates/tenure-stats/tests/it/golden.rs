//! Agreement with scikit-learn's LogisticRegression and lifelines'
//! KaplanMeierFitter on fixed data recorded by scripts/reference/ (see its
//! README for how to regenerate).

use serde::Deserialize;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_stats::{KaplanMeierParams, LogisticRegressionParams, log_rank_test};

use crate::common::assert_close;

const LOGISTIC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/sklearn_logistic.json"
));
const KAPLAN_MEIER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/lifelines_kaplan_meier.json"
));

#[derive(Deserialize)]
struct LogisticGolden {
    feature_names: Vec<String>,
    /// `null` marks a missing value.
    x: Vec<Vec<Option<f64>>>,
    y: Vec<f64>,
    x_test: Vec<Vec<Option<f64>>>,
    cases: Vec<LogisticCase>,
}

#[derive(Deserialize)]
struct LogisticCase {
    name: String,
    l2: f64,
    fit_intercept: bool,
    weights: Option<Vec<f64>>,
    coefficients: Vec<f64>,
    intercept: f64,
    standardised_coefficients: Vec<f64>,
    train_probabilities: Vec<f64>,
    test_probabilities: Vec<f64>,
}

#[derive(Deserialize)]
struct KaplanMeierGolden {
    cases: Vec<KaplanMeierCase>,
    log_rank: Vec<LogRankCase>,
}

#[derive(Deserialize)]
struct LogRankCase {
    name: String,
    time: Vec<f64>,
    event: Vec<bool>,
    groups: Vec<usize>,
    statistic: f64,
    df: usize,
    p_value: f64,
    two_sample_statistic: Option<f64>,
}

#[derive(Deserialize)]
struct KaplanMeierCase {
    name: String,
    time: Vec<f64>,
    event: Vec<bool>,
    weights: Option<Vec<f64>>,
    event_times: Vec<f64>,
    at_risk: Vec<f64>,
    events: Vec<f64>,
    timeline: Vec<f64>,
    survival: Vec<f64>,
    /// `null` when lifelines says infinity (the curve never reaches 0.5).
    median: Option<f64>,
    /// 95% exponential Greenwood bounds at `event_times` (unweighted cases).
    ci_lower_95: Option<Vec<f64>>,
    ci_upper_95: Option<Vec<f64>>,
}

fn matrix(rows: &[Vec<Option<f64>>]) -> Matrix {
    let rows: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .collect();
    Matrix::from_rows(&rows).unwrap()
}

#[test]
fn logistic_regression_matches_sklearn() {
    let g: LogisticGolden = serde_json::from_str(LOGISTIC).unwrap();
    assert!(g.cases.len() >= 4);
    let x_test = matrix(&g.x_test);
    for c in &g.cases {
        let mut data = Dataset::new(
            matrix(&g.x),
            g.feature_names.clone(),
            Target::Binary(g.y.clone()),
        )
        .unwrap();
        if let Some(w) = &c.weights {
            data = data.with_weights(w.clone()).unwrap();
        }
        let model = LogisticRegressionParams::new()
            .l2(c.l2)
            .fit_intercept(c.fit_intercept)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        assert!(model.converged(), "{}: not converged", c.name);
        assert_eq!(model.feature_names(), g.feature_names.as_slice());
        let tol = 1e-8;
        assert_close(
            &format!("{} intercept", c.name),
            model.intercept(),
            c.intercept,
            tol,
        );
        for (j, (&got, &want)) in model.coefficients().iter().zip(&c.coefficients).enumerate() {
            assert_close(&format!("{} coefficient {j}", c.name), got, want, tol);
        }
        for (j, (&got, &want)) in model
            .standardised_coefficients()
            .iter()
            .zip(&c.standardised_coefficients)
            .enumerate()
        {
            assert_close(
                &format!("{} standardised coefficient {j}", c.name),
                got,
                want,
                tol,
            );
        }
        let train = model.predict(data.x()).unwrap();
        for (i, (&got, &want)) in train.iter().zip(&c.train_probabilities).enumerate() {
            assert_close(
                &format!("{} train probability {i}", c.name),
                got,
                want,
                1e-8,
            );
        }
        let test = model.predict(&x_test).unwrap();
        for (i, (&got, &want)) in test.iter().zip(&c.test_probabilities).enumerate() {
            assert_close(&format!("{} test probability {i}", c.name), got, want, 1e-8);
        }
    }
}

#[test]
fn kaplan_meier_matches_lifelines() {
    let g: KaplanMeierGolden = serde_json::from_str(KAPLAN_MEIER).unwrap();
    assert!(g.cases.len() >= 3);
    for c in &g.cases {
        let n = c.time.len();
        let target = Target::Survival {
            time: c.time.clone(),
            event: c.event.clone(),
        };
        let mut data = Dataset::new(Matrix::zeros(n, 0), vec![], target).unwrap();
        if let Some(w) = &c.weights {
            data = data.with_weights(w.clone()).unwrap();
        }
        let km = KaplanMeierParams::new(30.0)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        assert_eq!(
            km.times(),
            c.event_times.as_slice(),
            "{}: event times",
            c.name
        );
        for k in 0..c.event_times.len() {
            assert_close(
                &format!("{} at risk {k}", c.name),
                km.at_risk()[k],
                c.at_risk[k],
                1e-12,
            );
            assert_close(
                &format!("{} events {k}", c.name),
                km.events()[k],
                c.events[k],
                1e-12,
            );
        }
        for (&t, &s) in c.timeline.iter().zip(&c.survival) {
            assert_close(&format!("{} S({t})", c.name), km.survival_at(t), s, 1e-10);
        }
        assert_eq!(km.median(), c.median, "{}: median", c.name);
        if let (Some(lo), Some(hi)) = (&c.ci_lower_95, &c.ci_upper_95) {
            let ci = km.confidence_interval(0.05).unwrap();
            assert_eq!(ci.len(), lo.len());
            for (k, ((got_lo, got_hi), (want_lo, want_hi))) in
                ci.iter().zip(lo.iter().zip(hi)).enumerate()
            {
                assert_close(&format!("{} lower {k}", c.name), *got_lo, *want_lo, 1e-10);
                assert_close(&format!("{} upper {k}", c.name), *got_hi, *want_hi, 1e-10);
            }
        }
    }
    assert!(g.cases.iter().filter(|c| c.ci_lower_95.is_some()).count() >= 2);
}

#[test]
fn log_rank_test_matches_lifelines() {
    let g: KaplanMeierGolden = serde_json::from_str(KAPLAN_MEIER).unwrap();
    assert!(g.log_rank.len() >= 2);
    for c in &g.log_rank {
        let r = log_rank_test(&c.time, &c.event, &c.groups).unwrap();
        assert_close(
            &format!("{} statistic", c.name),
            r.statistic,
            c.statistic,
            1e-9,
        );
        assert_eq!(r.df, c.df, "{}: df", c.name);
        assert_close(&format!("{} p", c.name), r.p_value, c.p_value, 1e-9);
        if let Some(two) = c.two_sample_statistic {
            assert_close(&format!("{} two-sample", c.name), r.statistic, two, 1e-9);
        }
    }
}

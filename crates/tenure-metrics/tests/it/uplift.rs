//! Uplift metrics against scikit-uplift (`scripts/reference/sklift_uplift.py`),
//! policy values against a naive twin, and the error cases.

use proptest::prelude::*;
use serde::Deserialize;
use tenure_metrics::{
    MetricsError, UpliftCurve, auuc, perfect_qini_curve, perfect_uplift_curve, policy_values,
    qini_coefficient, qini_curve, uplift_by_decile, uplift_curve,
};

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/sklift_uplift.json"
));

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    y_true: Vec<f64>,
    uplift: Vec<f64>,
    treatment: Vec<u8>,
    qini_curve: Curve,
    uplift_curve: Curve,
    perfect_qini_curve: Curve,
    perfect_uplift_curve: Curve,
    qini_auc_score: f64,
    uplift_auc_score: f64,
    uplift_by_percentile: Percentiles,
}

#[derive(Deserialize)]
struct Curve {
    n: Vec<f64>,
    value: Vec<f64>,
}

#[derive(Deserialize)]
struct Percentiles {
    n_treatment: Vec<usize>,
    n_control: Vec<usize>,
    response_rate_treatment: Vec<f64>,
    response_rate_control: Vec<f64>,
    uplift: Vec<f64>,
    std_treatment: Vec<f64>,
    std_control: Vec<f64>,
    std_uplift: Vec<f64>,
}

fn cases() -> Vec<Case> {
    serde_json::from_str::<Golden>(GOLDEN)
        .expect("sklift_uplift.json parses")
        .cases
}

#[track_caller]
fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-10 * want.abs().max(1.0),
        "{what}: got {got}, sklift {want}"
    );
}

#[track_caller]
fn same_curve(what: &str, got: &UpliftCurve, want: &Curve) {
    assert_eq!(got.n, want.n, "{what}: x");
    assert_eq!(got.value.len(), want.value.len(), "{what}: points");
    for (g, w) in got.value.iter().zip(&want.value) {
        close(what, *g, *w);
    }
}

fn arms(t: &[u8]) -> Vec<bool> {
    t.iter().map(|&t| t == 1).collect()
}

#[test]
fn curves_and_scores_match_scikit_uplift() {
    for c in cases() {
        let (y, u, t, name) = (&c.y_true, &c.uplift, arms(&c.treatment), &c.name);
        same_curve(name, &qini_curve(y, u, &t).unwrap(), &c.qini_curve);
        same_curve(name, &uplift_curve(y, u, &t).unwrap(), &c.uplift_curve);
        same_curve(
            name,
            &perfect_qini_curve(y, &t).unwrap(),
            &c.perfect_qini_curve,
        );
        same_curve(
            name,
            &perfect_uplift_curve(y, &t).unwrap(),
            &c.perfect_uplift_curve,
        );
        close(name, qini_coefficient(y, u, &t).unwrap(), c.qini_auc_score);
        close(name, auuc(y, u, &t).unwrap(), c.uplift_auc_score);
    }
}

#[test]
fn uplift_by_decile_matches_scikit_uplift() {
    for c in cases() {
        let t = arms(&c.treatment);
        let rows = uplift_by_decile(&c.y_true, &c.uplift, &t, 10).unwrap();
        let want = &c.uplift_by_percentile;
        assert_eq!(rows.len(), 10);
        for (k, row) in rows.iter().enumerate() {
            let what = format!("{} decile {}", c.name, k + 1);
            assert_eq!(row.decile, k + 1);
            assert_eq!(row.n_treatment, want.n_treatment[k], "{what}");
            assert_eq!(row.n_control, want.n_control[k], "{what}");
            close(
                &what,
                row.response_rate_treatment,
                want.response_rate_treatment[k],
            );
            close(
                &what,
                row.response_rate_control,
                want.response_rate_control[k],
            );
            close(&what, row.uplift, want.uplift[k]);
            close(&what, row.std_treatment, want.std_treatment[k]);
            close(&what, row.std_control, want.std_control[k]);
            close(&what, row.std_uplift, want.std_uplift[k]);
        }
    }
}

#[test]
fn perfect_and_reversed_rankings_bound_the_scores() {
    for c in cases() {
        let t = arms(&c.treatment);
        // The perfect Qini ranking scores 1 by definition.
        let oracle: Vec<f64> = c
            .y_true
            .iter()
            .zip(&t)
            .map(|(&y, &t)| if t { y } else { -y })
            .collect();
        close(
            &c.name,
            qini_coefficient(&c.y_true, &oracle, &t).unwrap(),
            1.0,
        );
        // A constant score is the random line: area over it is zero.
        let flat = vec![0.5; c.y_true.len()];
        close(
            &c.name,
            qini_coefficient(&c.y_true, &flat, &t).unwrap(),
            0.0,
        );
        close(&c.name, auuc(&c.y_true, &flat, &t).unwrap(), 0.0);
    }
}

/// The policy value by brute force: the IPW sum over every row with the
/// arms' shares as propensities.
fn naive_policy_value(y: &[f64], score: &[f64], t: &[bool], fraction: f64) -> f64 {
    let n = y.len();
    let k = (fraction * n as f64).round() as usize;
    // Stable increasing sort reversed: ties in decreasing index order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| score[a].partial_cmp(&score[b]).unwrap());
    order.reverse();
    let mut targeted = vec![false; n];
    for &i in &order[..k] {
        targeted[i] = true;
    }
    let share = t.iter().filter(|&&x| x).count() as f64 / n as f64;
    (0..n)
        .filter(|&i| targeted[i] == t[i])
        .map(|i| y[i] / if t[i] { share } else { 1.0 - share })
        .sum::<f64>()
        / n as f64
}

proptest! {
    #[test]
    fn policy_values_match_the_naive_ipw_sum(
        rows in prop::collection::vec((0.0..10.0f64, 0u8..4, any::<bool>()), 2..60),
        fraction in 0.0..=1.0f64,
    ) {
        let y: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let score: Vec<f64> = rows.iter().map(|r| f64::from(r.1)).collect();
        let mut t: Vec<bool> = rows.iter().map(|r| r.2).collect();
        t[0] = true;
        t[1] = false;
        let v = policy_values(&y, &score, &t, &[0.0, fraction, 1.0]).unwrap();
        let want = naive_policy_value(&y, &score, &t, fraction);
        prop_assert!((v[1].value - want).abs() < 1e-9 * want.abs().max(1.0));
        // Nobody treated: the control mean; everybody: the treated mean.
        let mean = |arm: bool| {
            let vals: Vec<f64> = y.iter().zip(&t).filter(|p| *p.1 == arm).map(|p| *p.0).collect();
            vals.iter().sum::<f64>() / vals.len() as f64
        };
        prop_assert!((v[0].value - mean(false)).abs() < 1e-9);
        prop_assert!((v[2].value - mean(true)).abs() < 1e-9);
        prop_assert!((v[1].gain_over_none - (v[1].value - v[0].value)).abs() < 1e-12);
        prop_assert!((v[1].gain_over_all - (v[1].value - v[2].value)).abs() < 1e-12);
    }
}

#[test]
fn uplift_errors_name_the_input() {
    let y = [1.0, 0.0, 1.0, 0.0];
    let u = [0.1, 0.2, 0.3, 0.4];
    assert!(matches!(
        qini_curve(&y, &u, &[true; 4]),
        Err(MetricsError::TooFew {
            what: "control rows",
            ..
        })
    ));
    assert!(matches!(
        qini_curve(&y, &u[..3], &[true, false, true, false]),
        Err(MetricsError::LengthMismatch {
            right_name: "uplift",
            ..
        })
    ));
    assert!(matches!(
        auuc(&[1.0, 2.0, 0.0, 0.0], &u, &[true, false, true, false]),
        Err(MetricsError::NotBinary { index: 1, .. })
    ));
    assert!(matches!(
        policy_values(&y, &u, &[true, false, true, false], &[1.5]),
        Err(MetricsError::OutOfRange {
            name: "fraction",
            ..
        })
    ));
    assert!(matches!(
        uplift_by_decile(&y, &u, &[true, false, true, false], 10),
        Err(MetricsError::TooFew { .. })
    ));
}

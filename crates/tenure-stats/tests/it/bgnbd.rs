//! BG/NBD: the published CDNOW fit, agreement with lifetimes' BetaGeoFitter
//! (scripts/reference/lifetimes_bgnbd.py), eq. 10 against a naive evaluation,
//! and input validation.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde::Deserialize;
use tenure_core::{CoreError, ParamGuard};
use tenure_stats::{BgNbd, BgNbdParams, StatsError};

use crate::common::assert_close;

const LIFETIMES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/lifetimes_bgnbd.json"
));

#[derive(Deserialize)]
pub struct Golden {
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
pub struct Case {
    pub name: String,
    pub penalizer: f64,
    pub bgnbd: FitGolden,
    pub gamma_gamma: FitGolden,
    pub customers: Customers,
    pub new_customer: NewCustomer,
    /// The summary fitted; absent for CDNOW, read from the shared data.
    pub inputs: Option<Summary>,
}

#[derive(Deserialize)]
pub struct FitGolden {
    /// Where lifetimes' optimiser stopped, and its standard errors there.
    pub params: Vec<f64>,
    pub standard_errors: Vec<f64>,
    pub log_likelihood: f64,
    /// The minimum of lifetimes' objective (Nelder-Mead polished): with a
    /// penalty lifetimes' BFGS stops far from it.
    pub optimum: Optimum,
}

#[derive(Deserialize)]
pub struct Optimum {
    pub params: Vec<f64>,
    pub standard_errors: Vec<f64>,
}

#[derive(Deserialize)]
pub struct Customers {
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    #[serde(rename = "T")]
    pub t: Vec<f64>,
    pub monetary_value: Vec<f64>,
    pub horizons: Vec<f64>,
    /// Per horizon, per customer; `null` where lifetimes' value is not
    /// finite (a + b + x <= 1, where eq. 10 is undefined).
    pub expected_purchases: Vec<Vec<Option<f64>>>,
    pub probability_alive: Vec<f64>,
    /// `null` where lifetimes' value is not finite (q <= 1).
    pub expected_average_spend: Vec<Option<f64>>,
    pub clv_12_months_1pct: Vec<Option<f64>>,
}

#[derive(Deserialize)]
pub struct NewCustomer {
    pub t: Vec<f64>,
    pub expected_purchases: Vec<Option<f64>>,
}

#[derive(Deserialize, Clone)]
pub struct Summary {
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    #[serde(rename = "T")]
    pub t: Vec<f64>,
    pub monetary_value: Vec<f64>,
}

pub fn golden() -> Golden {
    serde_json::from_str(LIFETIMES).unwrap()
}

/// The CDNOW calibration summary shipped in the shared datasets, read with
/// plain std; `None` (and a note) when it is absent.
pub fn cdnow_summary() -> Option<Summary> {
    // CI clones the project with shared/ beside it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cdnow/cdnow_summary.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipping: {} not found", path.display());
        return None;
    };
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().trim(),
        "customer_id,frequency,recency,T,monetary_value"
    );
    let mut s = Summary {
        frequency: Vec::new(),
        recency: Vec::new(),
        t: Vec::new(),
        monetary_value: Vec::new(),
    };
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let v: Vec<f64> = line.split(',').map(|f| f.trim().parse().unwrap()).collect();
        s.frequency.push(v[1]);
        s.recency.push(v[2]);
        s.t.push(v[3]);
        s.monetary_value.push(v[4]);
    }
    assert_eq!(s.frequency.len(), 2357);
    Some(s)
}

/// The case's summary: stored inputs, or CDNOW (None when absent).
pub fn case_inputs(case: &Case) -> Option<Summary> {
    case.inputs.clone().or_else(cdnow_summary)
}

fn fit(s: &Summary, l2: f64) -> BgNbd {
    BgNbdParams::new()
        .l2(l2)
        .check()
        .unwrap()
        .fit(&s.frequency, &s.recency, &s.t)
        .unwrap()
}

#[test]
fn cdnow_reproduces_the_published_fit() {
    let Some(s) = cdnow_summary() else { return };
    let m = fit(&s, 0.0);
    // Fader, Hardie & Lee (2005), Table/section 5: r = 0.243, α = 4.414,
    // a = 0.793, b = 2.426, LL = −9582.4.
    assert!((m.r - 0.243).abs() < 5e-4, "{m:?}");
    assert!((m.alpha - 4.414).abs() < 5e-4, "{m:?}");
    assert!((m.a - 0.793).abs() < 5e-4, "{m:?}");
    assert!((m.b - 2.426).abs() < 5e-4, "{m:?}");
    assert!((m.log_likelihood() + 9582.4).abs() < 0.05, "{m:?}");
    assert_eq!(m.n_customers(), 2357);
    // Paper eq. 9: a new customer makes about 1.4 repeat purchases in 78 weeks
    // (the calibration plus holdout span of the paper's tracking plot).
    let e78 = m.expected_purchases_new_customer(78.0).unwrap();
    assert!(e78 > 1.0 && e78 < 2.0, "{e78}");
}

#[test]
fn fits_agree_with_lifetimes() {
    for case in golden().cases {
        let Some(s) = case_inputs(&case) else {
            continue;
        };
        let m = fit(&s, case.penalizer);
        let ours = [m.r, m.alpha, m.a, m.b];
        for (j, (got, want)) in ours.iter().zip(&case.bgnbd.optimum.params).enumerate() {
            assert_close(&format!("{} param {j}", case.name), *got, *want, 1e-6);
        }
        let se = m.standard_errors().unwrap();
        for (j, (got, want)) in se
            .iter()
            .zip(&case.bgnbd.optimum.standard_errors)
            .enumerate()
        {
            assert_close(&format!("{} se {j}", case.name), *got, *want, 1e-5);
        }
        if case.penalizer == 0.0 {
            // lifetimes stops BFGS at tol 1e-7 on the mean log-likelihood: its
            // parameters are a few 1e-6 (relative) from the optimum.
            for (j, (got, want)) in ours.iter().zip(&case.bgnbd.params).enumerate() {
                assert_close(
                    &format!("{} lifetimes param {j}", case.name),
                    *got,
                    *want,
                    1e-4,
                );
            }
            for (j, (got, want)) in se.iter().zip(&case.bgnbd.standard_errors).enumerate() {
                assert_close(
                    &format!("{} lifetimes se {j}", case.name),
                    *got,
                    *want,
                    1e-3,
                );
            }
            assert_close(
                &format!("{} log-likelihood", case.name),
                m.log_likelihood(),
                case.bgnbd.log_likelihood,
                1e-9,
            );
            // Our optimum is at least as good as lifetimes'.
            assert!(m.log_likelihood() >= case.bgnbd.log_likelihood - 1e-9);
        }
    }
}

/// Predictions at lifetimes' own parameters, so that only the formulas are
/// compared.
#[test]
fn predictions_agree_with_lifetimes() {
    for case in golden().cases {
        let Some(s) = case_inputs(&case) else {
            continue;
        };
        let mut m = fit(&s, case.penalizer);
        let p = &case.bgnbd.params;
        (m.r, m.alpha, m.a, m.b) = (p[0], p[1], p[2], p[3]);
        let c = &case.customers;
        for i in 0..c.frequency.len() {
            let (x, tx, t) = (c.frequency[i], c.recency[i], c.t[i]);
            let what = format!("{} customer ({x}, {tx}, {t})", case.name);
            assert_close(
                &format!("{what} P(alive)"),
                m.probability_alive(x, tx, t).unwrap(),
                c.probability_alive[i],
                1e-12,
            );
            for (h, horizon) in c.horizons.iter().enumerate() {
                let got = m.expected_purchases(*horizon, x, tx, t);
                match c.expected_purchases[h][i] {
                    Some(want) => {
                        assert_close(&format!("{what} E[X({horizon})]"), got.unwrap(), want, 1e-9)
                    }
                    // scipy's hyp2f1 overflows for c = a + b + x - 1 < 0 and z
                    // near 1; the printed formula with a plain series does not.
                    None => assert_close(
                        &format!("{what} E[X({horizon})] (naive)"),
                        got.unwrap(),
                        naive_expected(&m, *horizon, x, tx, t),
                        1e-8,
                    ),
                }
            }
        }
        for (t, want) in case
            .new_customer
            .t
            .iter()
            .zip(&case.new_customer.expected_purchases)
        {
            let got = m.expected_purchases_new_customer(*t);
            match want {
                Some(want) => assert_close(
                    &format!("{} E[X({t})] new", case.name),
                    got.unwrap(),
                    *want,
                    1e-9,
                ),
                None => assert_close(
                    &format!("{} E[X({t})] new (naive)", case.name),
                    got.unwrap(),
                    naive_expected(&m, *t, 0.0, 0.0, 0.0),
                    1e-8,
                ),
            }
        }
    }
}

#[test]
fn fit_is_reproducible_and_finite() {
    let case = &golden().cases[0];
    let s = case.inputs.clone().unwrap();
    let a = fit(&s, 0.0);
    let b = fit(&s, 0.0);
    assert_eq!(a, b);
    assert!(a.n_iter() > 0);
    let cov = a.covariance().unwrap();
    for (j, row) in cov.iter().enumerate() {
        for (k, v) in row.iter().enumerate() {
            assert!((v - cov[k][j]).abs() <= 1e-12 * cov[j][j].abs().max(1.0));
        }
    }
    // A penalty shrinks the parameters towards 0 in total.
    let p = fit(&s, 0.05);
    let norm = |m: &BgNbd| m.r.powi(2) + m.alpha.powi(2) + m.a.powi(2) + m.b.powi(2);
    assert!(norm(&p) < norm(&a));
    assert!(p.log_likelihood() < a.log_likelihood());
}

fn fit_err(x: &[f64], tx: &[f64], t: &[f64]) -> String {
    let err = BgNbdParams::new()
        .check()
        .unwrap()
        .fit(x, tx, t)
        .unwrap_err();
    err.to_string()
}

#[test]
fn bad_inputs_are_named_by_row_and_field() {
    // Rows count from 1: index i is row i + 1.
    let n = 20;
    let x = vec![1.0; n];
    let tx = vec![5.0; n];
    let t = vec![10.0; n];
    let with = |v: &[f64], i: usize, value: f64| {
        let mut v = v.to_vec();
        v[i] = value;
        v
    };
    let e = fit_err(&x, &with(&tx, 17, 11.0), &t);
    assert!(e.contains("recency 11 > T 10 at row 18"), "{e}");
    let e = fit_err(&with(&x, 3, 1.5), &tx, &t);
    assert!(e.contains("frequency 1.5") && e.contains("at row 4"), "{e}");
    let e = fit_err(&with(&x, 4, -1.0), &tx, &t);
    assert!(e.contains("frequency -1") && e.contains("at row 5"), "{e}");
    let e = fit_err(&x, &tx, &with(&t, 5, 0.0));
    assert!(e.contains("T 0") && e.contains("at row 6"), "{e}");
    let e = fit_err(&x, &tx, &with(&t, 6, f64::NAN));
    assert!(e.contains("T NaN") && e.contains("at row 7"), "{e}");
    let e = fit_err(&x, &with(&tx, 7, f64::INFINITY), &t);
    assert!(e.contains("recency inf") && e.contains("at row 8"), "{e}");
    let e = fit_err(&with(&x, 8, 0.0), &tx, &t);
    assert!(
        e.contains("recency 5 is not 0") && e.contains("at row 9"),
        "{e}"
    );
    let e = fit_err(&x, &tx[..n - 1], &t);
    assert!(e.contains("shape"), "{e}");
    let e = fit_err(&[], &[], &[]);
    assert!(e.contains("no customers"), "{e}");
}

#[test]
fn data_without_an_interior_optimum_give_an_error_not_nan() {
    // Nobody ever repeats: the likelihood grows as the purchase rate → 0.
    let err = BgNbdParams::new()
        .check()
        .unwrap()
        .fit(&[0.0; 50], &[0.0; 50], &[10.0; 50])
        .unwrap_err();
    assert!(
        matches!(err, StatsError::Core(CoreError::CannotFit { .. })),
        "{err}"
    );
}

#[test]
fn parameters_are_checked() {
    let name = |p: BgNbdParams| match p.check().unwrap_err() {
        StatsError::Core(CoreError::InvalidParam { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(name(BgNbdParams::new().l2(-0.1)), "l2");
    assert_eq!(name(BgNbdParams::new().l2(f64::NAN)), "l2");
    assert_eq!(name(BgNbdParams::new().max_iter(0)), "max_iter");
    assert_eq!(name(BgNbdParams::new().tol(0.0)), "tol");
}

#[test]
fn predictions_reject_bad_histories() {
    let case = &golden().cases[0];
    let m = fit(case.inputs.as_ref().unwrap(), 0.0);
    assert!(m.expected_purchases(10.0, 2.0, 12.0, 10.0).is_err());
    assert!(m.expected_purchases(-1.0, 2.0, 5.0, 10.0).is_err());
    assert!(m.expected_purchases(f64::NAN, 2.0, 5.0, 10.0).is_err());
    assert!(m.probability_alive(0.0, 3.0, 10.0).is_err());
    assert!(m.expected_purchases_new_customer(-2.0).is_err());
    assert_eq!(m.expected_purchases(0.0, 2.0, 5.0, 10.0).unwrap(), 0.0);
    assert_eq!(m.probability_alive(0.0, 0.0, 10.0).unwrap(), 1.0);
}

/// The synthetic golden case's fit, made once: tests overwrite its parameters.
pub fn synthetic_model() -> BgNbd {
    static MODEL: OnceLock<BgNbd> = OnceLock::new();
    MODEL
        .get_or_init(|| fit(golden().cases[0].inputs.as_ref().unwrap(), 0.0))
        .clone()
}

/// `₂F₁(a, b; c; z)` by its plain series, summed until the terms vanish.
fn naive_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 0..100_000 {
        let k = k as f64;
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-18 * sum.abs() && k > 10.0 {
            break;
        }
    }
    sum
}

/// Paper eq. 10 exactly as printed.
fn naive_expected(m: &BgNbd, t: f64, x: f64, tx: f64, big_t: f64) -> f64 {
    let (r, alpha, a, b) = (m.r, m.alpha, m.a, m.b);
    let z = t / (alpha + big_t + t);
    let hyp = naive_hyp2f1(r + x, b + x, a + b + x - 1.0, z);
    let num = (a + b + x - 1.0) / (a - 1.0)
        * (1.0 - ((alpha + big_t) / (alpha + big_t + t)).powf(r + x) * hyp);
    let den = if x > 0.0 {
        1.0 + a / (b + x - 1.0) * ((alpha + big_t) / (alpha + tx)).powf(r + x)
    } else {
        1.0
    };
    num / den
}

#[test]
fn eq_10_is_accurate_for_a_nearly_degenerate_beta() {
    // A fit on 12 customers stopped here: a and b growing together.
    let mut m = synthetic_model();
    (m.r, m.alpha, m.a, m.b) = (1.415, 18.65, 1.39e6, 1.25e7);
    for (t, x, tx, big_t) in [
        (52.0, 2.0, 38.0, 39.0),
        (10.0, 0.0, 0.0, 20.0),
        (300.0, 6.0, 30.0, 31.0),
    ] {
        let got = m.expected_purchases(t, x, tx, big_t).unwrap();
        let want = naive_expected(&m, t, x, tx, big_t);
        assert_close("E[X(t)]", got, want, 1e-8);
    }
}

proptest! {
    #[test]
    fn eq_10_matches_the_printed_formula(
        r in 0.1f64..3.0, alpha in 0.5f64..20.0, a in 0.2f64..3.0, b in 0.5f64..5.0,
        x in 0u32..8, frac in 0.0f64..1.0, big_t in 1.0f64..60.0, t in 0.5f64..60.0,
    ) {
        prop_assume!((a - 1.0).abs() > 0.05);
        let mut m = synthetic_model();
        (m.r, m.alpha, m.a, m.b) = (r, alpha, a, b);
        let x = f64::from(x);
        let tx = if x == 0.0 { 0.0 } else { frac * big_t };
        let got = m.expected_purchases(t, x, tx, big_t).unwrap();
        let want = naive_expected(&m, t, x, tx, big_t);
        prop_assert!((got - want).abs() <= 1e-8 * want.abs().max(1e-3), "{} vs {}", got, want);
        // Eq. 9 is eq. 10 for a customer who has just arrived.
        let new = m.expected_purchases_new_customer(t).unwrap();
        let limit = m.expected_purchases(t, 0.0, 0.0, 1e-9).unwrap();
        prop_assert!((new - limit).abs() <= 1e-6 * new.max(1e-3));
        // More time, more purchases; a lapsed customer buys less than a recent one.
        prop_assert!(m.expected_purchases(t + 1.0, x, tx, big_t).unwrap() > got);
        let alive = m.probability_alive(x, tx, big_t).unwrap();
        prop_assert!((0.0..=1.0).contains(&alive));
        if x > 0.0 {
            let recent = m.probability_alive(x, big_t, big_t).unwrap();
            prop_assert!(recent >= alive);
        }
    }
}

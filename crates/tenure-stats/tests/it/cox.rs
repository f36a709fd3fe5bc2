//! Cox proportional hazards: agreement with lifelines (and scikit-survival
//! for Breslow ties) on the Rossi data, properties against naive definitions,
//! error cases.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Deserialize;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, PredictSurvival, Target};
use tenure_stats::{CoxModel, CoxParams, StatsError, Ties};

use crate::common::{assert_close, names};

const COX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/lifelines_cox.json"
));

#[derive(Deserialize)]
struct CoxGolden {
    feature_names: Vec<String>,
    x: Vec<Vec<f64>>,
    time: Vec<f64>,
    event: Vec<bool>,
    cases: Vec<CoxCase>,
}

#[derive(Deserialize)]
struct CoxCase {
    name: String,
    ties: Ties,
    l2: f64,
    strata: Vec<String>,
    feature_names: Vec<String>,
    coefficients: Vec<f64>,
    standard_errors: Option<Vec<f64>>,
    hazard_ratio_lower_95: Option<Vec<f64>>,
    hazard_ratio_upper_95: Option<Vec<f64>>,
    z: Option<Vec<f64>>,
    p_values: Option<Vec<f64>>,
    log_likelihood: Option<f64>,
    null_log_likelihood: Option<f64>,
    lr_statistic: Option<f64>,
    lr_df: Option<usize>,
    lr_p_value: Option<f64>,
    concordance: Option<f64>,
    means: Option<Vec<f64>>,
    baseline_times: Option<Vec<f64>>,
    baseline: Option<Vec<Baseline>>,
    survival_rows: Option<Vec<usize>>,
    survival: Option<Vec<Vec<f64>>>,
    log_partial_hazard: Option<Vec<f64>>,
    ph_statistics: Option<Vec<f64>>,
    ph_p_values: Option<Vec<f64>>,
}

#[derive(Deserialize)]
struct Baseline {
    key: Vec<f64>,
    cumulative_hazard: Vec<f64>,
}

fn rossi() -> (CoxGolden, Dataset) {
    let g: CoxGolden = serde_json::from_str(COX).unwrap();
    let target = Target::Survival {
        time: g.time.clone(),
        event: g.event.clone(),
    };
    let data = Dataset::new(
        Matrix::from_rows(&g.x).unwrap(),
        g.feature_names.clone(),
        target,
    )
    .unwrap();
    (g, data)
}

fn close_all(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (j, (&a, &b)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what} {j}"), a, b, tol);
    }
}

#[test]
fn cox_matches_lifelines_and_scikit_survival_on_rossi() {
    let (g, data) = rossi();
    let names: Vec<&str> = g.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "efron",
            "penalised",
            "stratified_wexp",
            "stratified_wexp_paro",
            "efron_pooled_rank_check",
            "breslow"
        ]
    );
    // The PH test with strata is checked against lifelines too.
    let stratified_ph = g
        .cases
        .iter()
        .filter(|c| !c.strata.is_empty() && c.ph_statistics.is_some())
        .count();
    assert_eq!(stratified_ph, 2);
    for c in &g.cases {
        let model = CoxParams::new()
            .ties(c.ties)
            .l2(c.l2)
            .strata(c.strata.clone())
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let name = &c.name;
        assert!(model.converged(), "{name}: not converged");
        assert_eq!(model.feature_names(), c.feature_names.as_slice());
        close_all(
            &format!("{name} coefficient"),
            model.coefficients(),
            &c.coefficients,
            1e-5,
        );
        let Some(se) = &c.standard_errors else {
            continue;
        };
        close_all(&format!("{name} se"), &model.standard_errors(), se, 1e-5);
        let ci = model.confidence_intervals(0.05).unwrap();
        let (lo, hi): (Vec<f64>, Vec<f64>) = ci.into_iter().unzip();
        close_all(
            &format!("{name} HR lower"),
            &lo,
            c.hazard_ratio_lower_95.as_ref().unwrap(),
            1e-5,
        );
        close_all(
            &format!("{name} HR upper"),
            &hi,
            c.hazard_ratio_upper_95.as_ref().unwrap(),
            1e-5,
        );
        close_all(
            &format!("{name} z"),
            &model.z(),
            c.z.as_ref().unwrap(),
            1e-5,
        );
        close_all(
            &format!("{name} p"),
            &model.p_values(),
            c.p_values.as_ref().unwrap(),
            1e-5,
        );
        assert_close(
            &format!("{name} log-likelihood"),
            model.log_likelihood(),
            c.log_likelihood.unwrap(),
            1e-9,
        );
        assert_close(
            &format!("{name} null log-likelihood"),
            model.null_log_likelihood(),
            c.null_log_likelihood.unwrap(),
            1e-9,
        );
        let (stat, df, p) = model.likelihood_ratio_test();
        assert_close(&format!("{name} LR"), stat, c.lr_statistic.unwrap(), 1e-6);
        assert_eq!(df, c.lr_df.unwrap());
        assert_close(&format!("{name} LR p"), p, c.lr_p_value.unwrap(), 1e-6);
        assert_close(
            &format!("{name} concordance"),
            model.concordance(),
            c.concordance.unwrap(),
            1e-6,
        );
        close_all(
            &format!("{name} means"),
            model.means(),
            c.means.as_ref().unwrap(),
            1e-12,
        );
        check_baseline(c, &model);
        check_survival(c, &g, &model, &data);
        if let Some(ph) = &c.ph_statistics {
            let tests = model.proportional_hazards_test();
            let stats: Vec<f64> = tests.iter().map(|t| t.statistic).collect();
            let ps: Vec<f64> = tests.iter().map(|t| t.p_value).collect();
            close_all(&format!("{name} PH statistic"), &stats, ph, 1e-5);
            close_all(
                &format!("{name} PH p"),
                &ps,
                c.ph_p_values.as_ref().unwrap(),
                1e-5,
            );
            assert_eq!(tests[1].feature, "age");
        }
    }
}

fn check_baseline(c: &CoxCase, model: &CoxModel) {
    let times = c.baseline_times.as_ref().unwrap();
    let bases = c.baseline.as_ref().unwrap();
    assert_eq!(model.n_strata(), bases.len(), "{}: strata", c.name);
    for (s, b) in bases.iter().enumerate() {
        assert_eq!(model.stratum_key(s), b.key.as_slice());
        let (t, h) = model.stratum_baseline_cumulative_hazard(s);
        for (&at, &want) in times.iter().zip(&b.cumulative_hazard) {
            let k = t.partition_point(|&v| v <= at);
            let got = if k == 0 { 0.0 } else { h[k - 1] };
            assert_close(&format!("{} H0[{s}]({at})", c.name), got, want, 1e-5);
        }
    }
}

fn check_survival(c: &CoxCase, g: &CoxGolden, model: &CoxModel, data: &Dataset) {
    let times = c.baseline_times.as_ref().unwrap();
    let rows = c.survival_rows.as_ref().unwrap();
    let lph = model
        .predict(&data.x().select_rows(rows))
        .expect("log partial hazards");
    close_all(
        &format!("{} log partial hazard", c.name),
        &lph,
        c.log_partial_hazard.as_ref().unwrap(),
        1e-5,
    );
    for (&r, want) in rows.iter().zip(c.survival.as_ref().unwrap()) {
        let got = model.survival_function(&g.x[r], times).unwrap();
        for (k, (&a, &b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6,
                "{}: S(t{k} | row {r}): got {a}, want {b}",
                c.name
            );
        }
        assert_eq!(model.survival_at(&g.x[r], times[2]).unwrap(), got[2]);
    }
    // The runner's interface: one vector per time, rows in order.
    let matrix = model
        .predict_survival(&data.x().select_rows(rows), times)
        .unwrap();
    assert_eq!(matrix.len(), times.len());
    for (i, want) in c.survival.as_ref().unwrap().iter().enumerate() {
        for (k, &b) in want.iter().enumerate() {
            assert!(
                (matrix[k][i] - b).abs() <= 1e-6,
                "{}: predict_survival[{k}][{i}] = {}, want {b}",
                c.name,
                matrix[k][i]
            );
        }
    }
}

#[test]
fn predict_with_a_horizon_is_the_event_probability() {
    let (g, data) = rossi();
    let model = CoxParams::new()
        .horizon_days(Some(20.0))
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let p = model
        .predict(&Matrix::from_rows(&g.x[..5]).unwrap())
        .unwrap();
    for (r, &pr) in p.iter().enumerate() {
        let s = model.survival_at(&g.x[r], 20.0).unwrap();
        assert_close("1 - S", pr, 1.0 - s, 1e-12);
    }
}

/// Random survival data from a known proportional-hazards model; integer
/// times when `ties`, else distinct continuous ones.
fn synthetic(seed: u64, n: usize, p: usize, ties: bool) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(n);
    let (mut time, mut event) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let row: Vec<f64> = (0..p)
            .map(|j| rng.random::<f64>() * (1.0 + j as f64))
            .collect();
        let eta: f64 = row
            .iter()
            .enumerate()
            .map(|(j, v)| v * if j % 2 == 0 { 0.7 } else { -0.4 })
            .sum();
        let u: f64 = rng.random::<f64>().max(1e-12);
        let t = -u.ln() / eta.exp() * 30.0;
        let c = rng.random::<f64>() * 60.0;
        let mut d = t.min(c);
        if ties {
            d = d.ceil();
        }
        time.push(d);
        event.push(t <= c);
        rows.push(row);
    }
    Dataset::new(
        Matrix::from_rows(&rows).unwrap(),
        names(p),
        Target::Survival { time, event },
    )
    .unwrap()
}

fn fit(data: &Dataset, ties: Ties) -> CoxModel {
    CoxParams::new()
        .ties(ties)
        .check()
        .unwrap()
        .fit(data)
        .unwrap()
}

/// The Breslow partial log-likelihood by its definition, `O(n²)`.
fn naive_breslow_log_likelihood(data: &Dataset, beta: &[f64]) -> f64 {
    let Target::Survival { time, event } = data.target() else {
        unreachable!()
    };
    let eta: Vec<f64> = data
        .x()
        .rows()
        .map(|r| r.iter().zip(beta).map(|(a, b)| a * b).sum())
        .collect();
    let mut ll = 0.0;
    for i in 0..time.len() {
        if event[i] {
            let risk: f64 = (0..time.len())
                .filter(|&j| time[j] >= time[i])
                .map(|j| eta[j].exp())
                .sum();
            ll += eta[i] - risk.ln();
        }
    }
    ll
}

#[test]
fn breslow_log_likelihood_matches_its_definition() {
    let data = synthetic(3, 120, 3, true);
    let model = fit(&data, Ties::Breslow);
    // Centring shifts every η by a constant, which cancels.
    let want = naive_breslow_log_likelihood(&data, model.coefficients());
    assert_close("ll", model.log_likelihood(), want, 1e-10);
    let want0 = naive_breslow_log_likelihood(&data, &[0.0; 3]);
    assert_close("null ll", model.null_log_likelihood(), want0, 1e-10);
}

#[test]
fn without_ties_efron_equals_breslow() {
    let data = synthetic(5, 200, 4, false);
    let e = fit(&data, Ties::Efron);
    let b = fit(&data, Ties::Breslow);
    for (x, y) in e.coefficients().iter().zip(b.coefficients()) {
        assert_close("coefficient", *x, *y, 1e-10);
    }
    for (x, y) in e.standard_errors().iter().zip(b.standard_errors()) {
        assert_close("se", *x, y, 1e-10);
    }
    assert_close("ll", e.log_likelihood(), b.log_likelihood(), 1e-12);
}

#[test]
fn concordance_matches_a_naive_pair_count() {
    let data = synthetic(9, 150, 2, true);
    let model = fit(&data, Ties::Efron);
    let Target::Survival { time, event } = data.target() else {
        unreachable!()
    };
    let risk = model.predict(data.x()).unwrap();
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..time.len() {
        for j in 0..time.len() {
            let comparable = event[i] && (time[i] < time[j] || (time[i] == time[j] && !event[j]));
            if comparable {
                den += 1.0;
                if risk[i] > risk[j] {
                    num += 1.0;
                } else if risk[i] == risk[j] {
                    num += 0.5;
                }
            }
        }
    }
    assert_close("C", model.concordance(), num / den, 1e-12);
}

#[test]
fn weights_of_two_equal_duplicated_rows_under_breslow() {
    let data = synthetic(13, 80, 2, true);
    let weighted = CoxParams::new()
        .ties(Ties::Breslow)
        .check()
        .unwrap()
        .fit(&data.clone().with_weights(vec![2.0; 80]).unwrap())
        .unwrap();
    let idx: Vec<usize> = (0..80).chain(0..80).collect();
    let doubled = fit(&data.select_rows(&idx), Ties::Breslow);
    for (a, b) in weighted.coefficients().iter().zip(doubled.coefficients()) {
        assert_close("coefficient", *a, *b, 1e-9);
    }
}

/// Rows, durations and events of a dataset, for corrupting one of them.
type Edit = dyn Fn(&mut Vec<Vec<f64>>, &mut Vec<f64>, &mut Vec<bool>);

#[test]
fn malformed_inputs_give_clear_errors() {
    let data = synthetic(1, 40, 3, true);
    let params = CoxParams::new().check().unwrap();
    let with = |f: &Edit| {
        let mut rows: Vec<Vec<f64>> = data.x().rows().map(<[f64]>::to_vec).collect();
        let Target::Survival { time, event } = data.target() else {
            unreachable!()
        };
        let (mut time, mut event) = (time.clone(), event.clone());
        f(&mut rows, &mut time, &mut event);
        let d = Dataset::new(
            Matrix::from_rows(&rows).unwrap(),
            names(rows[0].len()),
            Target::Survival { time, event },
        )
        .unwrap();
        params.fit(&d).unwrap_err().to_string()
    };
    let e = with(&|x, _, _| x[7][1] = f64::NAN);
    assert!(e.contains("`x1`") && e.contains("at row 8"), "{e}");
    let e = with(&|x, _, _| x[3][2] = f64::INFINITY);
    assert!(e.contains("`x2`") && e.contains("at row 4"), "{e}");
    let e = with(&|_, t, _| t[5] = -1.0);
    assert!(e.contains("at row 6"), "{e}");
    let e = with(&|_, t, _| t[6] = f64::NAN);
    assert!(e.contains("at row 7"), "{e}");
    let e = with(&|_, _, ev| ev.fill(false));
    assert!(e.contains("censored"), "{e}");
    let e = with(&|x, _, _| x.iter_mut().for_each(|r| r[0] = 4.0));
    assert!(e.contains("`x0`") && e.contains("constant"), "{e}");
    let e = with(&|x, _, _| x.iter_mut().for_each(|r| r[2] = 2.0 * r[0] - r[1] + 1.0));
    assert!(e.contains("collinear") && e.contains("`x2`"), "{e}");

    let strata = CoxParams::new()
        .strata(vec!["nope".into()])
        .check()
        .unwrap()
        .fit(&data)
        .unwrap_err();
    assert!(matches!(strata, StatsError::MissingFeature { .. }));
    assert!(CoxParams::new().l2(-1.0).check().is_err());
    assert!(CoxParams::new().tol(0.0).check().is_err());
    assert!(CoxParams::new().max_iter(0).check().is_err());
    assert!(CoxParams::new().horizon_days(Some(0.0)).check().is_err());
    let binary = Dataset::new(
        Matrix::zeros(2, 1),
        names(1),
        Target::Binary(vec![0.0, 1.0]),
    )
    .unwrap();
    assert!(params.fit(&binary).is_err());
    let model = params.fit(&data).unwrap();
    assert!(model.predict(&Matrix::zeros(2, 2)).is_err());
    assert!(model.confidence_intervals(1.5).is_err());
}

#[test]
fn ties_parse_as_snake_case_with_efron_by_default() {
    assert_eq!(Ties::default(), Ties::Efron);
    let t: Ties = serde_json::from_str("\"breslow\"").unwrap();
    assert_eq!(t, Ties::Breslow);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn coefficients_are_invariant_to_shifting_a_covariate(
        seed in 0u64..1000, shift in -500.0f64..500.0, column in 0usize..3
    ) {
        let data = synthetic(seed, 60, 3, true);
        let base = fit(&data, Ties::Efron);
        let mut x = data.x().clone();
        for r in 0..x.n_rows() {
            x.set(r, column, x.get(r, column) + shift);
        }
        let shifted = Dataset::new(x, names(3), data.target().clone()).unwrap();
        let moved = fit(&shifted, Ties::Efron);
        for (a, b) in base.coefficients().iter().zip(moved.coefficients()) {
            prop_assert!((a - b).abs() <= 1e-7 * a.abs().max(1.0), "{a} vs {b}");
        }
        prop_assert!((base.log_likelihood() - moved.log_likelihood()).abs() < 1e-8);
    }

    #[test]
    fn the_fit_is_at_least_as_likely_as_no_effect(
        seed in 0u64..1000, ties in prop::bool::ANY, l2 in 0.0f64..0.5
    ) {
        let data = synthetic(seed, 50, 2, ties);
        let model = CoxParams::new().l2(l2).check().unwrap().fit(&data).unwrap();
        prop_assert!(model.log_likelihood() >= model.null_log_likelihood() - 1e-9);
        prop_assert!(model.likelihood_ratio_test().0 >= -1e-8);
    }
}

#[test]
fn a_ridge_makes_collinear_covariates_identifiable() {
    let data = synthetic(2, 60, 3, true);
    let mut rows: Vec<Vec<f64>> = data.x().rows().map(<[f64]>::to_vec).collect();
    for r in &mut rows {
        r.push(r[0] + r[1]);
    }
    let d = Dataset::new(
        Matrix::from_rows(&rows).unwrap(),
        names(4),
        data.target().clone(),
    )
    .unwrap();
    assert!(CoxParams::new().check().unwrap().fit(&d).is_err());
    let model = CoxParams::new().l2(0.1).check().unwrap().fit(&d).unwrap();
    assert!(model.converged());
    assert!(model.coefficients().iter().all(|b| b.is_finite()));
    assert!(
        model
            .standard_errors()
            .iter()
            .all(|s| s.is_finite() && *s > 0.0)
    );
}

/// The exported specification's raw score is the log partial hazard the
/// model predicts, over the full layout (strata columns included, with
/// coefficient 0), and its prediction the partial hazard.
#[test]
fn spec_raw_score_is_the_log_partial_hazard() {
    let mut data = synthetic(8, 300, 3, false);
    // A stratum column: its values pick a baseline, never the risk score.
    let strata: Vec<f64> = (0..300).map(|i| f64::from(i % 2)).collect();
    let x = data
        .x()
        .hstack(&Matrix::new(strata, 300, 1).unwrap())
        .unwrap();
    let mut names = data.feature_names().to_vec();
    names.push("region".into());
    data = Dataset::new(x, names.clone(), data.target().clone()).unwrap();
    let model = CoxParams::new()
        .strata(vec!["region".into()])
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let spec = model.to_spec();
    assert_eq!(spec.feature_names, names);
    assert_eq!(spec.coef[3], 0.0);
    let want = model.predict(data.x()).unwrap();
    let raw = spec.predict_raw(data.x()).unwrap();
    let hazard = spec.predict(data.x()).unwrap();
    for ((w, r), h) in want.iter().zip(&raw).zip(&hazard) {
        assert_close("log partial hazard", *r, *w, 1e-12);
        assert_close("partial hazard", *h, w.exp(), 1e-12);
    }
}

/// A risk score from any model gets the Cox model's own baseline when the
/// score is the Cox model's: the Breslow estimator is one piece of code.
#[test]
fn breslow_baseline_on_cox_scores_is_the_cox_baseline() {
    use tenure_stats::BreslowBaseline;
    let (g, data) = rossi();
    let model = CoxParams::new().check().unwrap().fit(&data).unwrap();
    let eta = model.predict(data.x()).unwrap();
    let Target::Survival { time, event } = data.target() else {
        unreachable!()
    };
    let base = BreslowBaseline::fit(time, event, &eta, None).unwrap();
    let (t0, h0) = model.baseline_cumulative_hazard();
    let (t1, h1) = base.cumulative_hazard();
    assert_eq!(t0, t1);
    close_all("H0", h1, h0, 1e-12);
    // Shifting every score rescales H0 and leaves S(t | x) alone.
    let shifted: Vec<f64> = eta.iter().map(|e| e + 3.0).collect();
    let moved = BreslowBaseline::fit(time, event, &shifted, None).unwrap();
    let times = [5.0, 20.0, 52.0];
    let s = moved.survival_matrix(&shifted[..10], &times);
    for r in 0..10 {
        let want = model.survival_function(&g.x[r], &times).unwrap();
        for k in 0..times.len() {
            assert_close("S", s[k][r], want[k], 1e-12);
            assert_close("S", base.survival(eta[r], times[k]), want[k], 1e-12);
        }
    }
    let err = BreslowBaseline::fit(&[1.0, -2.0], &[true, true], &[0.0, 0.0], None).unwrap_err();
    assert!(err.to_string().contains("duration -2 at row 2"), "{err}");
    let err = BreslowBaseline::fit(&[1.0, 2.0], &[true, true], &[0.0, f64::NAN], None).unwrap_err();
    assert!(err.to_string().contains("score NaN at row 2"), "{err}");
    let err = BreslowBaseline::fit(&[1.0, 2.0], &[false, false], &[0.0, 0.0], None).unwrap_err();
    assert!(err.to_string().contains("censored"), "{err}");
}

//! A/B-test statistics against statsmodels and scipy
//! (`scripts/reference/statsmodels_ab.py`), CUPED's variance reduction on
//! data with a known correlation, and the error cases.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;
use tenure_metrics::{
    AbOptions, MetricsError, OutcomeKind, ab_test, cuped, normal_effect_size, normal_power,
    proportion_effect_size, sample_ratio_mismatch, two_proportion_test, welch_test,
};

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/statsmodels_ab.json"
));

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
    normal_power: NormalPower,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    expected_split: f64,
    treatment: Vec<u8>,
    outcome: Vec<f64>,
    covariate: Option<Vec<f64>>,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    outcome_kind: String,
    n_treatment: usize,
    n_control: usize,
    srm: Srm,
    ate: Ate,
    lift: Interval,
    power: Power,
    cuped: Option<CupedExpected>,
}

#[derive(Deserialize)]
struct Srm {
    chi2: f64,
    p: f64,
    mismatch: bool,
}

#[derive(Deserialize)]
struct Ate {
    estimate: f64,
    std_error: f64,
    ci_low: f64,
    ci_high: f64,
    statistic: f64,
    p: f64,
    df: Option<f64>,
}

#[derive(Deserialize)]
struct Interval {
    estimate: f64,
    ci_low: f64,
    ci_high: f64,
}

#[derive(Deserialize)]
struct Power {
    mde: f64,
    mde_solve_power: f64,
    mde_relative: f64,
    observed_power: f64,
}

#[derive(Deserialize)]
struct CupedExpected {
    theta: f64,
    estimate: f64,
    std_error: f64,
    ci_low: f64,
    ci_high: f64,
    p: f64,
    variance_reduction: f64,
}

#[derive(Deserialize)]
struct NormalPower {
    power: Vec<PowerCase>,
    solve: Vec<SolveCase>,
    cohen_h: Vec<CohenCase>,
}

#[derive(Deserialize)]
struct PowerCase {
    effect_size: f64,
    nobs1: f64,
    ratio: f64,
    alpha: f64,
    power: f64,
}

#[derive(Deserialize)]
struct SolveCase {
    nobs1: f64,
    ratio: f64,
    alpha: f64,
    power: f64,
    effect_size: f64,
    effect_size_exact: f64,
}

#[derive(Deserialize)]
struct CohenCase {
    p1: f64,
    p2: f64,
    h: f64,
}

fn golden() -> Golden {
    serde_json::from_str(GOLDEN).expect("statsmodels_ab.json parses")
}

#[track_caller]
fn close(what: &str, got: f64, want: f64, rel: f64) {
    let tol = rel * want.abs().max(1e-300) + 1e-15;
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, statsmodels {want:e} (diff {:e})",
        (got - want).abs()
    );
}

fn arms(case: &Case) -> Vec<bool> {
    case.treatment.iter().map(|&t| t == 1).collect()
}

#[test]
fn ab_test_matches_statsmodels_on_every_case() {
    for case in golden().cases {
        let name = &case.name;
        let options = AbOptions {
            expected_treatment_share: case.expected_split,
            ..AbOptions::default()
        };
        let report = ab_test(
            &arms(&case),
            &case.outcome,
            case.covariate.as_deref(),
            &options,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = &case.expected;
        let kind = match report.outcome_kind {
            OutcomeKind::Binary => "binary",
            OutcomeKind::Continuous => "continuous",
        };
        assert_eq!(kind, want.outcome_kind, "{name}");
        assert_eq!(report.srm.n_treatment, want.n_treatment, "{name}");
        assert_eq!(report.srm.n_control, want.n_control, "{name}");
        close(
            &format!("{name} srm chi2"),
            report.srm.chi2,
            want.srm.chi2,
            1e-12,
        );
        close(&format!("{name} srm p"), report.srm.p, want.srm.p, 1e-10);
        assert_eq!(report.srm.mismatch, want.srm.mismatch, "{name}");

        let ate = &report.ate;
        close(
            &format!("{name} ate"),
            ate.estimate,
            want.ate.estimate,
            1e-12,
        );
        close(
            &format!("{name} se"),
            ate.std_error,
            want.ate.std_error,
            1e-12,
        );
        close(
            &format!("{name} ci_low"),
            ate.ci_low,
            want.ate.ci_low,
            1e-10,
        );
        close(
            &format!("{name} ci_high"),
            ate.ci_high,
            want.ate.ci_high,
            1e-10,
        );
        close(
            &format!("{name} stat"),
            ate.statistic,
            want.ate.statistic,
            1e-11,
        );
        close(&format!("{name} p"), ate.p, want.ate.p, 1e-9);
        match (ate.df, want.ate.df) {
            (Some(got), Some(w)) => close(&format!("{name} df"), got, w, 1e-11),
            (None, None) => {}
            other => panic!("{name}: df {other:?}"),
        }

        let lift = report.lift.as_ref().expect("control mean is not zero");
        close(
            &format!("{name} lift"),
            lift.estimate,
            want.lift.estimate,
            1e-12,
        );
        close(
            &format!("{name} lift lo"),
            lift.ci_low,
            want.lift.ci_low,
            1e-10,
        );
        close(
            &format!("{name} lift hi"),
            lift.ci_high,
            want.lift.ci_high,
            1e-10,
        );

        let power = &report.power;
        close(&format!("{name} mde"), power.mde, want.power.mde, 1e-10);
        // statsmodels' own solver stops about 1e-6 short of the root.
        close(
            &format!("{name} mde (solve_power)"),
            power.mde,
            want.power.mde_solve_power,
            1e-5,
        );
        let rel = power.mde_relative.expect("control mean is not zero");
        close(
            &format!("{name} mde rel"),
            rel,
            want.power.mde_relative,
            1e-10,
        );
        close(
            &format!("{name} observed power"),
            power.observed_power,
            want.power.observed_power,
            1e-9,
        );

        match (&report.cuped, &want.cuped) {
            (Some(got), Some(w)) => {
                close(&format!("{name} theta"), got.theta, w.theta, 1e-10);
                let e = &got.effect;
                close(&format!("{name} cuped"), e.estimate, w.estimate, 1e-10);
                close(&format!("{name} cuped se"), e.std_error, w.std_error, 1e-10);
                close(&format!("{name} cuped lo"), e.ci_low, w.ci_low, 1e-9);
                close(&format!("{name} cuped hi"), e.ci_high, w.ci_high, 1e-9);
                close(&format!("{name} cuped p"), e.p, w.p, 1e-8);
                close(
                    &format!("{name} variance reduction"),
                    got.variance_reduction,
                    w.variance_reduction,
                    1e-9,
                );
            }
            (None, None) => {}
            _ => panic!("{name}: CUPED presence differs"),
        }
    }
}

#[test]
fn normal_power_matches_statsmodels() {
    let g = golden().normal_power;
    for c in &g.power {
        let got = normal_power(c.effect_size, c.nobs1, c.ratio, c.alpha);
        close("NormalIndPower.power", got, c.power, 1e-10);
    }
    for c in &g.solve {
        let got = normal_effect_size(c.nobs1, c.ratio, c.alpha, c.power);
        close(
            "root of NormalIndPower.power",
            got,
            c.effect_size_exact,
            1e-10,
        );
        // statsmodels' own solver stops about 1e-6 short of the root.
        close("NormalIndPower.solve_power", got, c.effect_size, 1e-5);
        close(
            "power at the solved effect",
            normal_power(got, c.nobs1, c.ratio, c.alpha),
            c.power,
            1e-10,
        );
    }
    for c in &g.cohen_h {
        close("Cohen's h", proportion_effect_size(c.p1, c.p2), c.h, 1e-13);
    }
}

/// Outcome `y = ρ x + √(1 − ρ²) ε` has correlation ρ with `x`; CUPED on `x`
/// must then remove about ρ² of the estimator's variance.
#[test]
fn cuped_reduces_variance_by_about_rho_squared() {
    let mut rng = StdRng::seed_from_u64(7);
    let n = 20_000;
    for rho in [0.3_f64, 0.6, 0.9] {
        let (mut yt, mut xt, mut yc, mut xc) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let x: f64 = StandardNormal.sample(&mut rng);
            let e: f64 = StandardNormal.sample(&mut rng);
            let treated = rng.random::<f64>() < 0.5;
            let y = rho * x + (1.0 - rho * rho).sqrt() * e + if treated { 0.05 } else { 0.0 };
            if treated {
                yt.push(y);
                xt.push(x);
            } else {
                yc.push(y);
                xc.push(x);
            }
        }
        let c = cuped(&yt, &xt, &yc, &xc, 0.95).unwrap();
        // Sampling error of the estimated reduction is about 0.01 at this n.
        assert!(
            (c.variance_reduction - rho * rho).abs() < 0.03,
            "rho {rho}: reduction {} vs rho^2 {}",
            c.variance_reduction,
            rho * rho
        );
        assert!((c.theta - rho).abs() < 0.03, "theta {} vs {rho}", c.theta);
        // The adjusted estimate stays unbiased for the 0.05 effect.
        let raw = welch_test(&yt, &yc, 0.95).unwrap();
        assert!(c.effect.std_error < raw.std_error);
        assert!(c.effect.ci_low < 0.05 && 0.05 < c.effect.ci_high);
    }
}

/// The delta-method interval of the relative lift covers the true lift at
/// about its nominal rate over repeated experiments.
#[test]
fn lift_interval_covers_at_about_the_nominal_rate() {
    let mut rng = StdRng::seed_from_u64(99);
    let (reps, n) = (400, 2000);
    let (mean_c, mean_t) = (10.0, 10.5);
    let mut covered = 0;
    for _ in 0..reps {
        let mut treated = Vec::with_capacity(n);
        let mut outcome = Vec::with_capacity(n);
        for i in 0..n {
            let t = i % 2 == 0;
            let e: f64 = StandardNormal.sample(&mut rng);
            treated.push(t);
            outcome.push(if t { mean_t } else { mean_c } + 3.0 * e);
        }
        let report = ab_test(&treated, &outcome, None, &AbOptions::default()).unwrap();
        let lift = report.lift.unwrap();
        let truth = (mean_t - mean_c) / mean_c;
        covered += usize::from(lift.ci_low <= truth && truth <= lift.ci_high);
    }
    // 95% of 400 is 380; the binomial sd is about 4.4.
    assert!(
        (366..=394).contains(&covered),
        "covered {covered} of {reps}"
    );
}

#[test]
fn binary_outcomes_are_detected_and_continuous_ones_are_not() {
    assert_eq!(OutcomeKind::detect(&[0.0, 1.0, 1.0]), OutcomeKind::Binary);
    assert_eq!(
        OutcomeKind::detect(&[0.0, 1.0, 2.0]),
        OutcomeKind::Continuous
    );
    let treated = [true, true, true, false, false, false];
    let y = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let report = ab_test(&treated, &y, None, &AbOptions::default()).unwrap();
    assert_eq!(report.outcome_kind, OutcomeKind::Binary);
    assert!(report.ate.df.is_none());
    let forced = AbOptions {
        outcome_kind: Some(OutcomeKind::Continuous),
        ..AbOptions::default()
    };
    let report = ab_test(&treated, &y, None, &forced).unwrap();
    assert!(report.ate.df.is_some());
}

#[test]
fn srm_flags_a_broken_split_only_below_the_threshold() {
    assert!(!sample_ratio_mismatch(5000, 5000, 0.5).unwrap().mismatch);
    let broken = sample_ratio_mismatch(5200, 4800, 0.5).unwrap();
    assert!(broken.mismatch && broken.p < 1e-3);
    assert!(!sample_ratio_mismatch(2000, 8000, 0.2).unwrap().mismatch);
    // Far tail: the closed form keeps precision where 1 − cdf would be 0.
    let extreme = sample_ratio_mismatch(6000, 4000, 0.5).unwrap();
    assert!(extreme.p > 0.0 && extreme.p < 1e-80, "{}", extreme.p);
}

#[test]
fn bad_inputs_are_named() {
    assert!(matches!(
        sample_ratio_mismatch(10, 10, 1.0),
        Err(MetricsError::OutOfRange {
            name: "expected_treatment_share",
            ..
        })
    ));
    assert!(matches!(
        welch_test(&[1.0], &[1.0, 2.0], 0.95),
        Err(MetricsError::TooFew {
            what: "treatment",
            got: 1,
            ..
        })
    ));
    assert!(matches!(
        welch_test(&[1.0, 1.0], &[2.0, 2.0], 0.95),
        Err(MetricsError::Constant { .. })
    ));
    assert!(matches!(
        two_proportion_test(&[1.0, 0.5], &[0.0, 1.0], 0.95),
        Err(MetricsError::NotBinaryValue {
            name: "treatment",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        ab_test(
            &[true, true, false, false],
            &[1.0, f64::NAN, 0.0, 1.0],
            None,
            &AbOptions::default()
        ),
        Err(MetricsError::NonFinite {
            name: "outcome",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        ab_test(
            &[true, true, true],
            &[1.0, 2.0, 3.0],
            None,
            &AbOptions::default()
        ),
        Err(MetricsError::TooFew {
            what: "control",
            got: 0,
            ..
        })
    ));
    assert!(matches!(
        cuped(&[1.0, 2.0], &[3.0, 3.0], &[1.0, 4.0], &[3.0, 3.0], 0.95),
        Err(MetricsError::Constant {
            name: "covariate",
            ..
        })
    ));
}

//! Recalibrating a miscalibrated model on synthetic data with a fixed seed:
//! calibrators fitted on one half of the rows, judged on the other half.

use proptest::prelude::*;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use tenure_calibration::{
    Binning, CalibrationError, Method, calibration_errors, fit, fit_isotonic, reliability,
};
use tenure_core::Calibrator;
use tenure_core::calibrator::{logit, sigmoid};

/// True probabilities, outcomes drawn from them, and a model's predictions
/// `sigmoid(spread · logit(q) + shift)`.
fn sample(n: usize, spread: f64, shift: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut p, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let z: f64 = -0.8 + 1.2 * rng.sample::<f64, _>(StandardNormal);
        let q = sigmoid(z);
        y.push(f64::from(u8::from(rng.random::<f64>() < q)));
        p.push(sigmoid(spread * z + shift));
    }
    (p, y)
}

fn ece(p: &[f64], y: &[f64], binning: Binning) -> f64 {
    calibration_errors(&reliability(p, y, 10, binning).unwrap()).ece
}

#[test]
fn every_calibrator_at_least_halves_the_ece_on_held_out_rows() {
    // Over-confident and biased upwards for Platt and isotonic; only
    // over-confident for temperature scaling, which cannot move the 0.5 point.
    for (method, shift) in [
        (Method::Platt, 0.8),
        (Method::Isotonic, 0.8),
        (Method::Temperature, 0.0),
    ] {
        let (p, y) = sample(20_000, 2.5, shift, 11);
        let (fit_p, test_p) = p.split_at(10_000);
        let (fit_y, test_y) = y.split_at(10_000);
        let calibrator = fit(method, fit_p, fit_y, None).unwrap().unwrap();
        let calibrated = calibrator.apply_all(test_p);
        for binning in [Binning::EqualWidth, Binning::EqualMass] {
            let (before, after) = (
                ece(test_p, test_y, binning),
                ece(&calibrated, test_y, binning),
            );
            assert!(
                after <= before / 2.0,
                "{method} {binning:?}: ECE {before:.4} -> {after:.4}"
            );
        }
    }
}

#[test]
fn platt_and_temperature_recover_the_distortion() {
    // p = sigmoid(2.5 z + 0.8) with true logit z: the inverse map is
    // sigmoid((logit(p) - 0.8) / 2.5), a = 0.4, b = -0.32.
    let (p, y) = sample(200_000, 2.5, 0.8, 5);
    let Some(Calibrator::Platt { a, b }) = fit(Method::Platt, &p, &y, None).unwrap() else {
        panic!("Platt")
    };
    assert!(
        (a - 0.4).abs() < 0.02 && (b + 0.32).abs() < 0.03,
        "a {a}, b {b}"
    );
    let (p, y) = sample(200_000, 2.5, 0.0, 6);
    let Some(Calibrator::Temperature { t }) = fit(Method::Temperature, &p, &y, None).unwrap()
    else {
        panic!("temperature")
    };
    assert!((t - 2.5).abs() < 0.1, "t {t}");
}

#[test]
fn method_none_keeps_the_model() {
    let (p, y) = sample(100, 1.0, 0.0, 1);
    assert_eq!(fit(Method::None, &p, &y, None).unwrap(), None);
}

#[test]
fn constant_predictions_still_calibrate_in_the_large() {
    let p = vec![0.8; 10];
    let y = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    for method in [Method::Platt, Method::Isotonic] {
        let c = fit(method, &p, &y, None).unwrap().unwrap();
        let out = c.apply(0.8);
        assert!((out - 0.3).abs() < 0.05, "{method}: {out}");
        c.check().unwrap();
    }
    // No temperature turns a confident 0.8 into 0.3: it would have to flip
    // the sign of the logit.
    let err = fit(Method::Temperature, &p, &y, None).unwrap_err();
    assert!(
        matches!(err, CalibrationError::NegativeTemperature { inverse } if inverse < 0.0),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Isotonic output is monotone in the input, within [0, 1], and the
    /// fitted points are a valid (checked) description.
    #[test]
    fn isotonic_is_monotone(
        rows in prop::collection::vec((0.0f64..=1.0, any::<bool>(), 0.01f64..5.0), 1..200),
        probes in prop::collection::vec(-0.5f64..1.5, 1..50),
    ) {
        let p: Vec<f64> = rows.iter().map(|r| (r.0 * 100.0).round() / 100.0).collect();
        let y: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.1))).collect();
        let w: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let iso = fit_isotonic(&p, &y, Some(&w)).unwrap();
        iso.check().unwrap();
        let mut probes = probes;
        probes.sort_by(f64::total_cmp);
        let out = iso.apply_all(&probes);
        for pair in out.windows(2) {
            prop_assert!(pair[0] <= pair[1] + 1e-15, "{pair:?}");
        }
        prop_assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        // The weighted mean is preserved: PAV pools, it does not shift.
        let fitted = iso.apply_all(&p);
        let total: f64 = w.iter().sum();
        let mean_y: f64 = y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / total;
        let mean_fit: f64 = fitted.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / total;
        prop_assert!((mean_y - mean_fit).abs() < 1e-9);
    }

    /// Platt and temperature maps preserve the order of predictions.
    #[test]
    fn logit_calibrators_preserve_order(a in 0.01f64..5.0, b in -3.0f64..3.0, t in 0.05f64..10.0,
                                         p in prop::collection::vec(0.0f64..=1.0, 2..50)) {
        let mut p = p;
        p.sort_by(f64::total_cmp);
        for c in [Calibrator::Platt { a, b }, Calibrator::Temperature { t }] {
            let out = c.apply_all(&p);
            for pair in out.windows(2) {
                prop_assert!(pair[0] <= pair[1]);
            }
            for (&q, &o) in p.iter().zip(&out) {
                prop_assert!((c.apply_logit(logit(q)) - o).abs() < 1e-15);
            }
        }
    }
}

/// Exponential event times with a per-subject rate, censored uniformly:
/// the true probability of an event by `horizon`, a distorted prediction
/// of it, and the observed `(time, event)`.
fn survival_sample(n: usize, horizon: f64, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut pred, mut time, mut event) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let x: f64 = rng.sample(StandardNormal);
        let rate = 0.004 * (0.9 * x).exp();
        let f = 1.0 - (-rate * horizon).exp();
        pred.push(sigmoid(2.0 * logit(f) + 0.6));
        let t = -rng.random::<f64>().ln() / rate;
        let c = 40.0 + 200.0 * rng.random::<f64>();
        time.push(t.min(c));
        event.push(t <= c);
    }
    (pred, time, event)
}

#[test]
fn survival_calibration_at_a_horizon_halves_the_km_calibration_error() {
    let horizon = 120.0;
    let (pred, time, event) = survival_sample(20_000, horizon, 3);
    let (fit_half, test_half) = (0..10_000, 10_000..20_000);
    let km_ece = |p: &[f64]| {
        let bins = tenure_metrics::calibration_at_horizon(
            &time[test_half.clone()],
            &event[test_half.clone()],
            p,
            horizon,
            10,
        )
        .unwrap();
        bins.iter()
            .map(|b| b.n as f64 / 10_000.0 * (b.mean_predicted - b.observed).abs())
            .sum::<f64>()
    };
    let before = km_ece(&pred[test_half.clone()]);
    for method in [Method::Platt, Method::Isotonic] {
        let c = tenure_calibration::fit_survival(
            method,
            &pred[fit_half.clone()],
            &time[fit_half.clone()],
            &event[fit_half.clone()],
            horizon,
        )
        .unwrap()
        .unwrap();
        let after = km_ece(&c.apply_all(&pred[test_half.clone()]));
        assert!(after <= before / 2.0, "{method}: {before:.4} -> {after:.4}");
    }
    // Ignoring censoring (every censored subject taken as event-free)
    // biases the fit downwards: the weighted fit must beat it.
    let naive_y: Vec<f64> = (0..10_000)
        .map(|i| f64::from(u8::from(event[i] && time[i] <= horizon)))
        .collect();
    let naive = fit(Method::Platt, &pred[..10_000], &naive_y, None)
        .unwrap()
        .unwrap();
    let weighted = tenure_calibration::fit_survival(
        Method::Platt,
        &pred[fit_half.clone()],
        &time[fit_half.clone()],
        &event[fit_half],
        horizon,
    )
    .unwrap()
    .unwrap();
    let naive_ece = km_ece(&naive.apply_all(&pred[test_half.clone()]));
    let weighted_ece = km_ece(&weighted.apply_all(&pred[test_half.clone()]));
    assert!(
        weighted_ece < naive_ece,
        "{weighted_ece} vs naive {naive_ece}"
    );
}

#[test]
fn fitting_on_logits_equals_fitting_on_their_probabilities() {
    let (p, y) = sample(5_000, 2.0, 0.3, 9);
    let z: Vec<f64> = p.iter().map(|&q| logit(q)).collect();
    let t_p = tenure_calibration::fit_temperature(&p, &y, None).unwrap();
    let t_z = tenure_calibration::fit_temperature_logits(&z, &y, None).unwrap();
    assert_eq!(t_p, t_z);
    let a_p = tenure_calibration::fit_platt(&p, &y, None).unwrap();
    let a_z = tenure_calibration::fit_platt_logits(&z, &y, None).unwrap();
    assert_eq!(a_p, a_z);
    for (&q, &l) in p.iter().zip(&z).take(50) {
        assert!((t_z.apply_logit(l) - t_p.apply(q)).abs() < 1e-15);
    }
    let err = tenure_calibration::fit_temperature_logits(&[f64::INFINITY, 0.0], &[1.0, 0.0], None)
        .unwrap_err();
    assert!(err.to_string().contains("logit[0] = inf"), "{err}");
}

/// The probabilities of a boosted model that over-fits (deep trees, many
/// rounds, a high learning rate) are over-confident; calibrators fitted on
/// its predictions for held-out rows repair them on other held-out rows.
#[test]
fn a_boosted_models_probabilities_calibrate_too() {
    use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target};
    use tenure_gbdt::{GbdtParams, Objective};

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    let n = 12_000;
    let mut rows = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let x: Vec<f64> = (0..4)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        let q = sigmoid(-1.0 + 0.8 * x[0] - 0.5 * x[1]);
        y.push(f64::from(u8::from(rng.random::<f64>() < q)));
        rows.push(x);
    }
    let names: Vec<String> = (0..4).map(|j| format!("x{j}")).collect();
    let (train, rest) = (0..4_000, 4_000..n);
    let data = Dataset::new(
        Matrix::from_rows(&rows[train.clone()]).unwrap(),
        names,
        Target::Binary(y[train].to_vec()),
    )
    .unwrap();
    let model = GbdtParams::new()
        .with(|c| {
            c.objective = Objective::Binary;
            c.num_iterations = 300;
            c.learning_rate = 0.3;
            c.num_leaves = 63;
            c.min_data_in_leaf = 5;
        })
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let p = model
        .predict(&Matrix::from_rows(&rows[rest.clone()]).unwrap())
        .unwrap();
    let y = &y[rest];
    let (fit_p, test_p) = p.split_at(4_000);
    let (fit_y, test_y) = y.split_at(4_000);
    for method in [Method::Platt, Method::Isotonic, Method::Temperature] {
        let c = fit(method, fit_p, fit_y, None).unwrap().unwrap();
        let calibrated = c.apply_all(test_p);
        let (before, after) = (
            ece(test_p, test_y, Binning::EqualMass),
            ece(&calibrated, test_y, Binning::EqualMass),
        );
        assert!(
            after <= before / 2.0,
            "{method}: ECE {before:.4} -> {after:.4}"
        );
    }
}

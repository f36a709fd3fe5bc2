//! Agreement with `scripts/reference/sklearn_calibration.json`.

use serde::Deserialize;
use tenure_calibration::{
    Binning, calibration_slope_intercept, fit_isotonic, fit_platt, fit_temperature,
    hosmer_lemeshow, measure, reliability,
};
use tenure_core::Calibrator;
use tenure_core::calibrator::PROB_CLIP;

const GOLDEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/reference/sklearn_calibration.json"
));

#[derive(Deserialize)]
struct Golden {
    prob_clip: f64,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    prob: Vec<f64>,
    y: Vec<f64>,
    weight: Vec<f64>,
    curves: Vec<Curve>,
    brier: f64,
    log_loss: f64,
    hosmer_lemeshow: Hl,
    slope: f64,
    intercept: f64,
    grid: Vec<f64>,
    unweighted: Fits,
    weighted: Fits,
}

#[derive(Deserialize)]
struct Curve {
    bins: usize,
    strategy: String,
    prob_true: Vec<f64>,
    prob_pred: Vec<f64>,
}

#[derive(Deserialize)]
struct Hl {
    groups: usize,
    statistic: f64,
    df: usize,
    p_value: f64,
}

#[derive(Deserialize)]
struct Ab {
    a: f64,
    b: f64,
}

#[derive(Deserialize)]
struct Iso {
    x: Vec<f64>,
    y: Vec<f64>,
    predict_grid: Vec<f64>,
}

#[derive(Deserialize)]
struct Fits {
    platt_sklearn: Ab,
    platt_newton: Ab,
    isotonic: Iso,
    temperature_sklearn: f64,
    temperature_newton: f64,
}

fn golden() -> Golden {
    serde_json::from_str(GOLDEN).expect("golden JSON parses")
}

#[track_caller]
fn close(got: f64, want: f64, rel: f64, what: &str) {
    let tol = rel * want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (|diff| {} > {tol})",
        (got - want).abs()
    );
}

#[track_caller]
fn close_all(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        close(*g, *w, rel, &format!("{what}[{k}]"));
    }
}

#[test]
fn the_logit_clip_is_the_scripts() {
    assert_eq!(golden().prob_clip, PROB_CLIP);
}

#[test]
fn reliability_matches_calibration_curve() {
    for case in golden().cases {
        for c in &case.curves {
            let binning = match c.strategy.as_str() {
                "uniform" => Binning::EqualWidth,
                "quantile" => Binning::EqualMass,
                other => panic!("strategy {other}"),
            };
            let bins = reliability(&case.prob, &case.y, c.bins, binning).unwrap();
            let what = format!("{} {} {}", case.name, c.bins, c.strategy);
            let observed: Vec<f64> = bins.iter().map(|b| b.observed).collect();
            let predicted: Vec<f64> = bins.iter().map(|b| b.mean_predicted).collect();
            close_all(&observed, &c.prob_true, 1e-12, &format!("{what} prob_true"));
            close_all(
                &predicted,
                &c.prob_pred,
                1e-12,
                &format!("{what} prob_pred"),
            );
            for b in &bins {
                assert!(b.observed_low <= b.observed && b.observed <= b.observed_high);
            }
        }
    }
}

#[test]
fn brier_log_loss_hosmer_lemeshow_and_slope_match() {
    for case in golden().cases {
        let m = measure(&case.prob, &case.y, 10).unwrap();
        close(m.brier.brier, case.brier, 1e-12, &case.name);
        close(m.log_loss, case.log_loss, 1e-12, &case.name);
        let parts = m.brier.reliability - m.brier.resolution + m.brier.uncertainty;
        close(parts + m.brier.within_bin, case.brier, 1e-12, &case.name);

        let hl = hosmer_lemeshow(&case.prob, &case.y, case.hosmer_lemeshow.groups).unwrap();
        close(
            hl.statistic,
            case.hosmer_lemeshow.statistic,
            1e-10,
            &case.name,
        );
        assert_eq!(hl.df, case.hosmer_lemeshow.df);
        close(hl.p_value, case.hosmer_lemeshow.p_value, 1e-9, &case.name);
        assert_eq!(m.hosmer_lemeshow, hl);

        let si = calibration_slope_intercept(&case.prob, &case.y).unwrap();
        close(si.slope, case.slope, 1e-9, &format!("{} slope", case.name));
        close(
            si.intercept,
            case.intercept,
            1e-9,
            &format!("{} intercept", case.name),
        );
    }
}

#[test]
fn calibrators_match_scikit_learn() {
    for case in golden().cases {
        for (label, fits, weights) in [
            ("unweighted", &case.unweighted, None),
            ("weighted", &case.weighted, Some(case.weight.as_slice())),
        ] {
            let what = format!("{} {label}", case.name);
            let Calibrator::Platt { a, b } = fit_platt(&case.prob, &case.y, weights).unwrap()
            else {
                panic!("Platt scaling gives Platt")
            };
            // The exact optimum, and scikit-learn's L-BFGS stop near it.
            close(a, fits.platt_newton.a, 1e-9, &format!("{what} platt a"));
            close(b, fits.platt_newton.b, 1e-9, &format!("{what} platt b"));
            close(a, fits.platt_sklearn.a, 1e-6, &format!("{what} sklearn a"));
            close(b, fits.platt_sklearn.b, 1e-6, &format!("{what} sklearn b"));

            let Calibrator::Temperature { t } =
                fit_temperature(&case.prob, &case.y, weights).unwrap()
            else {
                panic!("temperature scaling gives a temperature")
            };
            close(t, fits.temperature_newton, 1e-9, &format!("{what} t"));
            close(
                t,
                fits.temperature_sklearn,
                1e-6,
                &format!("{what} sklearn t"),
            );

            let iso = fit_isotonic(&case.prob, &case.y, weights).unwrap();
            let Calibrator::Isotonic { x, y } = &iso else {
                panic!("isotonic regression gives isotonic points")
            };
            close_all(x, &fits.isotonic.x, 0.0, &format!("{what} thresholds"));
            close_all(y, &fits.isotonic.y, 1e-12, &format!("{what} values"));
            close_all(
                &iso.apply_all(&case.grid),
                &fits.isotonic.predict_grid,
                1e-12,
                &format!("{what} predictions"),
            );
            iso.check().unwrap();
        }
    }
}

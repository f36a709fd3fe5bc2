//! Bad input gives a typed error that names the input at fault.

use tenure_calibration::{
    Binning, CalibrationError, Costs, Method, fit, fit_survival, hosmer_lemeshow, measure,
    reliability, top_k,
};
use tenure_core::Calibrator;

#[test]
fn bad_probabilities_labels_and_weights_are_named() {
    let y = [0.0, 1.0, 1.0];
    let err = fit(Method::Platt, &[0.1, 1.2, 0.5], &y, None).unwrap_err();
    assert_eq!(
        err,
        CalibrationError::NotProbability {
            name: "prob",
            index: 1,
            value: 1.2
        }
    );
    let err = fit(Method::Isotonic, &[0.1, f64::NAN, 0.5], &y, None).unwrap_err();
    assert!(
        matches!(err, CalibrationError::NotProbability { index: 1, .. }),
        "{err}"
    );
    let err = fit(Method::Platt, &[0.1, 0.2, 0.5], &[0.0, 2.0, 1.0], None).unwrap_err();
    assert_eq!(
        err,
        CalibrationError::NotBinary {
            index: 1,
            value: 2.0
        }
    );
    let err = fit(Method::Temperature, &[0.1, 0.2], &y, None).unwrap_err();
    assert!(
        matches!(err, CalibrationError::LengthMismatch { .. }),
        "{err}"
    );
    let err = fit(Method::Platt, &[0.1, 0.2, 0.3], &y, Some(&[1.0, -1.0, 1.0])).unwrap_err();
    assert_eq!(
        err,
        CalibrationError::BadWeight {
            index: 1,
            value: -1.0
        }
    );
    let err = fit(Method::Platt, &[], &[], None).unwrap_err();
    assert!(matches!(err, CalibrationError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("at least one row"), "{err}");
}

#[test]
fn a_single_class_cannot_be_calibrated() {
    for method in [Method::Platt, Method::Temperature] {
        let err = fit(method, &[0.2, 0.4], &[0.0, 0.0], None).unwrap_err();
        assert!(
            matches!(err, CalibrationError::SingleClass { class, .. } if class == 0.0),
            "{err}"
        );
        assert!(err.to_string().contains("both outcomes"), "{err}");
    }
}

#[test]
fn perfectly_separated_predictions_do_not_give_a_platt_fit() {
    // Unsmoothed targets are separated; Platt's smoothing keeps the fit finite.
    let p = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
    let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let c = fit(Method::Platt, &p, &y, None).unwrap().unwrap();
    c.check().unwrap();
    // The calibration slope has no smoothing: no finite maximum exists.
    let err = measure(&p, &y, 3).unwrap_err();
    assert!(
        matches!(
            err,
            CalibrationError::NoConvergence { .. } | CalibrationError::Undefined { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("separate"), "{err}");
}

#[test]
fn bad_parameters_are_named() {
    let p = [0.2, 0.4, 0.6];
    let y = [0.0, 1.0, 1.0];
    let err = reliability(&p, &y, 0, Binning::EqualWidth).unwrap_err();
    assert!(err.to_string().contains("bins"), "{err}");
    let err = hosmer_lemeshow(&p, &y, 2).unwrap_err();
    assert!(err.to_string().contains("groups"), "{err}");
    let err = hosmer_lemeshow(&p, &y, 10).unwrap_err();
    assert!(
        err.to_string().contains("3 rows cannot fill 10 groups"),
        "{err}"
    );
    let err = Costs::new(-1.0, 5.0).unwrap_err();
    assert!(err.to_string().contains("cost_fp"), "{err}");
    let err = Costs::new(1.0, 0.0).unwrap_err();
    assert!(err.to_string().contains("value_tp"), "{err}");
    let err = top_k(&p, &y, &[0.0]).unwrap_err();
    assert!(err.to_string().contains("top_k_percent"), "{err}");
    let err = top_k(&p, &y, &[150.0]).unwrap_err();
    assert!(err.to_string().contains("(0, 100]"), "{err}");
    assert_eq!(
        "sigmoid".parse::<Method>().unwrap_err(),
        "unknown calibration method `sigmoid` (expected none, platt, isotonic or temperature)"
    );
}

#[test]
fn invalid_calibrator_descriptions_are_rejected() {
    for (c, needle) in [
        (Calibrator::Platt { a: -1.0, b: 0.0 }, "a > 0"),
        (Calibrator::Temperature { t: 0.0 }, "t = 0"),
        (
            Calibrator::Isotonic {
                x: vec![0.1, 0.1],
                y: vec![0.0, 0.5],
            },
            "strictly increasing",
        ),
        (
            Calibrator::Isotonic {
                x: vec![0.1, 0.2],
                y: vec![0.5, 0.4],
            },
            "decreases",
        ),
        (
            Calibrator::Isotonic {
                x: vec![0.1],
                y: vec![],
            },
            "same non-zero number",
        ),
    ] {
        let err = c.check().unwrap_err().to_string();
        assert!(err.contains(needle), "{c:?}: {err}");
    }
}

#[test]
fn survival_calibration_rejects_bad_shapes() {
    let err = fit_survival(Method::Platt, &[0.1, 0.2], &[1.0], &[true], 5.0).unwrap_err();
    assert!(
        matches!(err, CalibrationError::LengthMismatch { .. }),
        "{err}"
    );
    let err = fit_survival(Method::Platt, &[0.1], &[f64::NAN], &[true], 5.0).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
}

//! Inputs a metric cannot score give a typed error that names the problem.

use tenure_metrics::{
    MetricsError, average_precision, brier_score, concordance_index, log_loss, mae, rmse, roc_auc,
    roc_curve,
};

#[test]
fn length_mismatch_names_both_inputs() {
    let err = roc_auc(&[0.0, 1.0], &[0.5]).unwrap_err();
    assert_eq!(
        err,
        MetricsError::LengthMismatch {
            left_name: "y_true",
            left: 2,
            right_name: "score",
            right: 1,
        }
    );
    assert_eq!(err.to_string(), "y_true has 2 values but score has 1");
    assert!(matches!(
        concordance_index(&[1.0, 2.0], &[true], &[0.0, 1.0]),
        Err(MetricsError::LengthMismatch {
            right_name: "event",
            ..
        })
    ));
}

#[test]
fn empty_input_is_an_error() {
    assert_eq!(rmse(&[], &[]), Err(MetricsError::Empty { metric: "rmse" }));
    assert!(matches!(
        log_loss(&[], &[]),
        Err(MetricsError::Empty { .. })
    ));
    assert!(matches!(
        concordance_index(&[], &[], &[]),
        Err(MetricsError::Empty { .. })
    ));
}

#[test]
fn single_class_makes_ranking_metrics_undefined() {
    let err = roc_auc(&[1.0, 1.0], &[0.2, 0.3]).unwrap_err();
    assert!(matches!(err, MetricsError::SingleClass { metric: "roc_auc", class } if class == 1.0));
    assert!(err.to_string().contains("only one class"));
    assert!(roc_curve(&[0.0, 0.0], &[0.2, 0.3]).is_err());
    assert_eq!(
        average_precision(&[0.0, 0.0], &[0.2, 0.3]),
        Err(MetricsError::NoPositives {
            metric: "average_precision"
        })
    );
    // Defined with positives only, and for losses with one class.
    assert_eq!(average_precision(&[1.0, 1.0], &[0.2, 0.3]), Ok(1.0));
    assert!(log_loss(&[1.0, 1.0], &[0.2, 0.3]).is_ok());
    assert!(brier_score(&[0.0], &[0.2]).is_ok());
}

#[test]
fn non_finite_values_are_located() {
    let err = roc_auc(&[0.0, 1.0, 1.0], &[0.1, f64::NAN, 0.3]).unwrap_err();
    assert!(matches!(
        err,
        MetricsError::NonFinite {
            name: "score",
            index: 1,
            ..
        }
    ));
    assert_eq!(err.to_string(), "score[1] = NaN is not finite");
    assert!(matches!(
        mae(&[f64::INFINITY], &[0.0]),
        Err(MetricsError::NonFinite {
            name: "y",
            index: 0,
            ..
        })
    ));
    assert!(matches!(
        concordance_index(&[1.0, f64::NAN], &[true, true], &[0.0, 1.0]),
        Err(MetricsError::NonFinite { name: "time", .. })
    ));
}

#[test]
fn labels_must_be_zero_or_one() {
    assert_eq!(
        roc_auc(&[0.0, 2.0], &[0.1, 0.2]),
        Err(MetricsError::NotBinary {
            index: 1,
            value: 2.0
        })
    );
}

#[test]
fn probabilities_must_lie_in_the_unit_interval() {
    assert_eq!(
        log_loss(&[0.0, 1.0], &[0.1, 1.5]),
        Err(MetricsError::ProbabilityOutOfRange {
            index: 1,
            value: 1.5
        })
    );
    assert!(brier_score(&[0.0], &[-0.1]).is_err());
}

#[test]
fn concordance_needs_a_comparable_pair() {
    // No events at all, or events only tied with each other.
    assert_eq!(
        concordance_index(&[1.0, 2.0], &[false, false], &[0.1, 0.2]),
        Err(MetricsError::NoComparablePairs)
    );
    assert_eq!(
        concordance_index(&[3.0, 3.0], &[true, true], &[0.1, 0.2]),
        Err(MetricsError::NoComparablePairs)
    );
}

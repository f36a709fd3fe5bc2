//! The task-aware entry point used by the runner.

use tenure_core::Target;
use tenure_metrics::{METRICS, MetricsError, evaluate, higher_is_better, roc_auc};

#[test]
fn binary_target_reports_four_metrics_in_order() {
    let y = vec![0.0, 1.0, 1.0, 0.0, 1.0];
    let p = [0.2, 0.7, 0.4, 0.5, 0.9];
    let scores = evaluate(&Target::Binary(y.clone()), &p).unwrap();
    let names: Vec<&str> = scores.iter().map(|s| s.0).collect();
    assert_eq!(names, ["auc", "pr_auc", "log_loss", "brier"]);
    assert_eq!(scores[0].1, roc_auc(&y, &p).unwrap());
}

#[test]
fn continuous_target_reports_rmse_and_mae() {
    let scores = evaluate(&Target::Continuous(vec![1.0, 3.0]), &[2.0, 1.0]).unwrap();
    assert_eq!(scores, vec![("rmse", 2.5f64.sqrt()), ("mae", 1.5)]);
}

#[test]
fn survival_target_reads_prediction_as_risk() {
    let target = Target::Survival {
        time: vec![1.0, 2.0, 3.0],
        event: vec![true, true, true],
    };
    assert_eq!(
        evaluate(&target, &[9.0, 5.0, 1.0]).unwrap(),
        vec![("c_index", 1.0)]
    );
    assert_eq!(
        evaluate(&target, &[1.0, 5.0, 9.0]).unwrap(),
        vec![("c_index", 0.0)]
    );
}

#[test]
fn prediction_length_must_match_target() {
    assert_eq!(
        evaluate(&Target::Continuous(vec![1.0, 2.0]), &[1.0]),
        Err(MetricsError::LengthMismatch {
            left_name: "target",
            left: 2,
            right_name: "prediction",
            right: 1,
        })
    );
}

#[test]
fn direction_of_every_metric() {
    for name in ["auc", "pr_auc", "c_index"] {
        assert!(higher_is_better(name), "{name}");
    }
    for name in ["log_loss", "brier", "rmse", "mae", "not_a_metric"] {
        assert!(!higher_is_better(name), "{name}");
    }
    assert_eq!(METRICS.len(), 7);
}

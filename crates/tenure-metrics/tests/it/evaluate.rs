//! The task-aware entry point used by the runner.

use tenure_core::Target;
use tenure_metrics::{
    METRICS, MetricsError, decile_mape, evaluate, higher_is_better, normalized_gini, roc_auc,
    top_decile_lift,
};

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
fn continuous_target_reports_rmse_and_mae_first() {
    // Two customers: the decile MAPE (10 rows) is undefined and skipped. The
    // top 10% is 0.2 of the customer predicted highest, who spent 1 of 4:
    // share 0.05, lift 0.5.
    let scores = evaluate(&Target::Continuous(vec![1.0, 3.0]), &[2.0, 1.0]).unwrap();
    assert_eq!(
        scores,
        vec![
            ("rmse", 2.5f64.sqrt()),
            ("mae", 1.5),
            ("gini", -1.0),
            ("spearman", -1.0),
            ("top_decile_lift", 0.5),
        ]
    );
}

#[test]
fn continuous_target_reports_the_clv_metrics() {
    let y: Vec<f64> = (0..20).map(|k| f64::from(k % 7 + 1) * 10.0).collect();
    let p: Vec<f64> = y.iter().map(|v| v + 1.0).collect();
    let scores = evaluate(&Target::Continuous(y.clone()), &p).unwrap();
    let names: Vec<&str> = scores.iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "rmse",
            "mae",
            "gini",
            "spearman",
            "top_decile_lift",
            "decile_mape"
        ]
    );
    assert_eq!(scores[2].1, normalized_gini(&y, &p).unwrap());
    assert_eq!(scores[3].1, 1.0);
    assert_eq!(scores[4].1, top_decile_lift(&y, &p).unwrap());
    assert_eq!(scores[5].1, decile_mape(&y, &p).unwrap());
}

#[test]
fn zero_spend_auc_is_reported_when_some_customers_spend_nothing() {
    let y = vec![0.0, 0.0, 5.0, 0.0, 12.0, 3.0];
    let p = vec![0.1, 0.4, 2.0, 0.3, 1.0, 0.35];
    let scores = evaluate(&Target::Continuous(y.clone()), &p).unwrap();
    let auc = scores.iter().find(|s| s.0 == "zero_spend_auc").unwrap().1;
    // 3 spenders x 3 non-spenders: 8 of the 9 pairs are ordered right.
    assert!((auc - 8.0 / 9.0).abs() < 1e-12, "{auc}");
}

#[test]
fn constant_prediction_gets_neutral_clv_scores() {
    let y: Vec<f64> = (1..=20).map(f64::from).collect();
    let scores = evaluate(&Target::Continuous(y), &[10.0; 20]).unwrap();
    let get = |name: &str| scores.iter().find(|s| s.0 == name).unwrap().1;
    assert_eq!(get("gini"), 0.0);
    assert_eq!(get("spearman"), 0.0);
    assert!((get("top_decile_lift") - 1.0).abs() < 1e-12);
    assert!(scores.iter().all(|s| s.1.is_finite()));
}

#[test]
fn undefined_clv_metrics_are_skipped() {
    // Negative amounts: no Lorenz curve, but a rank correlation.
    let y = vec![-1.0, 2.0, 3.0];
    let names: Vec<&str> = evaluate(&Target::Continuous(y), &[0.0, 1.0, 2.0])
        .unwrap()
        .iter()
        .map(|s| s.0)
        .collect();
    // Spenders vs non-spenders is still a ranking question.
    assert_eq!(names, ["rmse", "mae", "spearman", "zero_spend_auc"]);
    // Constant actual values: nothing to rank.
    let scores = evaluate(&Target::Continuous(vec![5.0; 3]), &[0.0, 1.0, 2.0]).unwrap();
    let names: Vec<&str> = scores.iter().map(|s| s.0).collect();
    assert_eq!(names, ["rmse", "mae", "top_decile_lift"]);
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
    for name in [
        "auc",
        "pr_auc",
        "c_index",
        "uno_c",
        "zero_spend_auc",
        "gini",
        "spearman",
        "top_decile_lift",
        "td_auc",
    ] {
        assert!(higher_is_better(name), "{name}");
    }
    for name in [
        "log_loss",
        "brier",
        "rmse",
        "mae",
        "decile_mape",
        "ibs",
        "brier_horizon",
        "ece_horizon",
        "not_a_metric",
    ] {
        assert!(!higher_is_better(name), "{name}");
    }
    assert_eq!(METRICS.len(), 17);
}

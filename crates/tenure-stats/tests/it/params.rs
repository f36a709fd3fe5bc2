//! Bad parameters, wrong targets and malformed inputs give typed errors that
//! say what is wrong.

use tenure_core::{CoreError, Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_stats::{
    HistoricalAverageParams, KaplanMeierParams, LogisticRegressionParams, StatsError,
};

use crate::common::{churn_data, dataset};

fn invalid_param(err: StatsError) -> &'static str {
    match err {
        StatsError::Core(CoreError::InvalidParam { name, .. }) => name,
        other => panic!("expected an invalid parameter, got {other:?}"),
    }
}

#[test]
fn logistic_parameters_are_checked_and_named() {
    let bad = |p: LogisticRegressionParams| invalid_param(p.check().unwrap_err());
    assert_eq!(bad(LogisticRegressionParams::new().l2(-1.0)), "l2");
    assert_eq!(bad(LogisticRegressionParams::new().l2(f64::NAN)), "l2");
    assert_eq!(bad(LogisticRegressionParams::new().l2(f64::INFINITY)), "l2");
    assert_eq!(bad(LogisticRegressionParams::new().max_iter(0)), "max_iter");
    assert_eq!(bad(LogisticRegressionParams::new().tol(0.0)), "tol");
    let err = LogisticRegressionParams::new()
        .l2(-1.0)
        .check()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid parameter `l2`: must be finite and >= 0, got -1"
    );

    let ok = LogisticRegressionParams::new()
        .l2(0.0)
        .max_iter(5)
        .tol(1e-3)
        .fit_intercept(false);
    let checked = ok.check_ref().unwrap();
    assert_eq!(
        (
            checked.l2(),
            checked.max_iter(),
            checked.tol(),
            checked.fit_intercept()
        ),
        (0.0, 5, 1e-3, false)
    );
    let defaults = LogisticRegressionParams::default().check().unwrap();
    assert_eq!(
        (
            defaults.l2(),
            defaults.max_iter(),
            defaults.tol(),
            defaults.fit_intercept()
        ),
        (1.0, 100, 1e-8, true)
    );
}

#[test]
fn horizons_must_be_positive() {
    for h in [0.0, -3.0, f64::NAN] {
        assert_eq!(
            invalid_param(KaplanMeierParams::new(h).check().unwrap_err()),
            "horizon_days"
        );
        assert_eq!(
            invalid_param(HistoricalAverageParams::new(h).check().unwrap_err()),
            "horizon_days"
        );
    }
    assert_eq!(
        KaplanMeierParams::new(90.0).check().unwrap().horizon_days(),
        90.0
    );
    let ha = HistoricalAverageParams::new(90.0).check().unwrap();
    assert!(!ha.calibrate());
}

#[test]
fn every_model_names_the_target_it_needs() {
    let binary = churn_data(1, 20, 2);
    let continuous = dataset(&[vec![1.0], vec![2.0]], Target::Continuous(vec![1.0, 2.0]));
    let err = LogisticRegressionParams::new()
        .check()
        .unwrap()
        .fit(&continuous)
        .unwrap_err();
    assert_eq!(
        err,
        StatsError::Core(CoreError::WrongTarget {
            model: "logistic regression",
            expected: "binary",
            got: "continuous",
        })
    );
    assert_eq!(
        err.to_string(),
        "logistic regression needs a binary target, got continuous"
    );
    let err = KaplanMeierParams::new(30.0)
        .check()
        .unwrap()
        .fit(&binary)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Kaplan-Meier needs a survival target, got binary"
    );
    let err = HistoricalAverageParams::new(30.0)
        .check()
        .unwrap()
        .fit(&binary)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "historical average needs a continuous target, got binary"
    );
}

#[test]
fn logistic_rejects_unusable_training_data() {
    let params = LogisticRegressionParams::new().check().unwrap();
    let cannot_fit = |d: &Dataset| match params.fit(d).unwrap_err() {
        StatsError::Core(CoreError::CannotFit { reason, .. }) => reason,
        other => panic!("expected CannotFit, got {other:?}"),
    };
    let rows = vec![vec![1.0], vec![2.0], vec![3.0]];
    let labels = |y: &[f64]| dataset(&rows, Target::Binary(y.to_vec()));
    assert!(cannot_fit(&labels(&[0.0, 2.0, 1.0])).contains("label 2 at row 2"));
    assert!(cannot_fit(&labels(&[1.0, 1.0, 1.0])).contains("single class"));
    let zero_weight_negatives = labels(&[0.0, 1.0, 1.0])
        .with_weights(vec![0.0, 1.0, 1.0])
        .unwrap();
    assert!(cannot_fit(&zero_weight_negatives).contains("single class"));
    let negative_weight = labels(&[0.0, 1.0, 1.0])
        .with_weights(vec![1.0, -1.0, 1.0])
        .unwrap();
    assert!(cannot_fit(&negative_weight).contains("at row 2"));

    let infinite = dataset(
        &[vec![1.0, f64::INFINITY], vec![2.0, 0.0]],
        Target::Binary(vec![0.0, 1.0]),
    );
    assert_eq!(
        params.fit(&infinite).unwrap_err(),
        StatsError::InfiniteFeature {
            feature: "x1".into(),
            row: 1
        }
    );
}

#[test]
fn kaplan_meier_rejects_bad_times() {
    let target = Target::Survival {
        time: vec![1.0, -2.0],
        event: vec![true, true],
    };
    let d = Dataset::new(Matrix::zeros(2, 0), vec![], target).unwrap();
    let err = KaplanMeierParams::new(30.0)
        .check()
        .unwrap()
        .fit(&d)
        .unwrap_err();
    assert!(err.to_string().contains("time -2 at row 2"), "{err}");
}

#[test]
fn predicting_needs_the_training_width() {
    let data = churn_data(2, 50, 3);
    let model = LogisticRegressionParams::new()
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    let err = model.predict(&Matrix::zeros(2, 2)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape mismatch: the model was fitted on 3 features but got 2 columns"
    );
    let err = model
        .predict(&Matrix::from_rows(&[vec![0.0, f64::NEG_INFINITY, 0.0]]).unwrap())
        .unwrap_err();
    assert!(matches!(err, StatsError::InfiniteFeature { row: 1, .. }));
}

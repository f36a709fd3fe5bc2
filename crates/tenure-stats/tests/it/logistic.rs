//! Logistic regression: optimality against a naive gradient, invariances,
//! separation, weights.

use proptest::prelude::*;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_stats::{LogisticRegression, LogisticRegressionParams, StatsError};

use crate::common::{assert_close, churn_data, dataset};

fn fit(data: &Dataset, l2: f64) -> Result<LogisticRegression, StatsError> {
    LogisticRegressionParams::new().l2(l2).check()?.fit(data)
}

fn column_stats(x: &Matrix, j: usize) -> (f64, f64) {
    let values: Vec<f64> = x.column(j).filter(|v| !v.is_nan()).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

/// The penalised objective's gradient, written out from its definition on
/// freshly standardised data: zero at the optimum.
fn naive_gradient(data: &Dataset, model: &LogisticRegression, l2: f64) -> Vec<f64> {
    let x = data.x();
    let Target::Binary(y) = data.target() else {
        unreachable!()
    };
    let stats: Vec<(f64, f64)> = (0..x.n_cols()).map(|j| column_stats(x, j)).collect();
    let p = model.predict(x).unwrap();
    let mut grad = vec![0.0; x.n_cols() + 1];
    for i in 0..x.n_rows() {
        let r = p[i] - y[i];
        grad[0] += r;
        for (j, &(mean, sd)) in stats.iter().enumerate() {
            let v = x.get(i, j);
            let z = if v.is_nan() { 0.0 } else { (v - mean) / sd };
            grad[j + 1] += r * z;
        }
    }
    for (j, b) in model.standardised_coefficients().iter().enumerate() {
        grad[j + 1] += l2 * b;
    }
    grad
}

fn rescale_column(data: &Dataset, j: usize, factor: f64, offset: f64) -> Dataset {
    let x = data.x();
    let mut scaled = x.clone();
    for i in 0..x.n_rows() {
        scaled.set(i, j, x.get(i, j) * factor + offset);
    }
    Dataset::new(scaled, data.feature_names().to_vec(), data.target().clone()).unwrap()
}

#[test]
fn gradient_vanishes_at_the_fit() {
    for (seed, l2) in [(1, 1.0), (2, 0.1), (3, 25.0), (4, 0.0)] {
        let data = churn_data(seed, 400, 6);
        let model = fit(&data, l2).unwrap();
        assert!(model.converged());
        for g in naive_gradient(&data, &model, l2) {
            assert!(g.abs() < 1e-8, "seed {seed}, l2 {l2}: gradient {g}");
        }
    }
}

#[test]
fn missing_values_are_imputed_with_the_training_mean() {
    let mut rows: Vec<Vec<f64>> = (0..60)
        .map(|i| vec![f64::from(i % 7), f64::from(i % 5) * 10.0])
        .collect();
    rows[3][0] = f64::NAN;
    rows[10][1] = f64::NAN;
    let y = (0..60).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
    let data = dataset(&rows, Target::Binary(y));
    let model = fit(&data, 1.0).unwrap();
    assert!(
        naive_gradient(&data, &model, 1.0)
            .iter()
            .all(|g| g.abs() < 1e-8)
    );
    // Predicting a missing value equals predicting the training mean.
    let (mean, _) = column_stats(data.x(), 1);
    let a = model
        .predict(&Matrix::from_rows(&[vec![2.0, f64::NAN]]).unwrap())
        .unwrap();
    let b = model
        .predict(&Matrix::from_rows(&[vec![2.0, mean]]).unwrap())
        .unwrap();
    assert_close("imputed prediction", a[0], b[0], 1e-12);
}

#[test]
fn constant_column_gets_a_zero_coefficient() {
    let data = churn_data(5, 200, 3);
    let x = data
        .x()
        .hstack(&Matrix::new(vec![4.2; 200], 200, 1).unwrap())
        .unwrap();
    let mut names = data.feature_names().to_vec();
    names.push("constant".into());
    let with_constant = Dataset::new(x, names, data.target().clone()).unwrap();
    for l2 in [1.0, 0.0] {
        let model = fit(&with_constant, l2).unwrap();
        assert_eq!(model.coefficients()[3], 0.0, "l2 = {l2}");
        let reference = fit(&data, l2).unwrap();
        for j in 0..3 {
            assert_close(
                "coefficient",
                model.coefficients()[j],
                reference.coefficients()[j],
                1e-9,
            );
        }
    }
}

#[test]
fn separable_data_stays_finite_with_a_penalty() {
    let rows: Vec<Vec<f64>> = (0..40)
        .map(|i| vec![f64::from(i), 1.0 - f64::from(i % 2)])
        .collect();
    let y = (0..40).map(|i| f64::from(u8::from(i >= 20))).collect();
    let data = dataset(&rows, Target::Binary(y));
    let model = fit(&data, 1e-3).unwrap();
    assert!(model.converged());
    assert!(model.coefficients().iter().all(|c| c.is_finite()));
    let p = model.predict(data.x()).unwrap();
    assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    assert!(p[0] < 0.01 && p[39] > 0.99);
}

#[test]
fn separable_data_without_a_penalty_is_an_error() {
    let rows: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(i)]).collect();
    let y = (0..40).map(|i| f64::from(u8::from(i >= 20))).collect();
    let err = fit(&dataset(&rows, Target::Binary(y)), 0.0).unwrap_err();
    assert_eq!(err, StatsError::Separated);
    assert!(err.to_string().contains("l2 > 0"));
}

#[test]
fn without_intercept_the_model_passes_through_the_origin() {
    let data = churn_data(6, 300, 3);
    let model = LogisticRegressionParams::new()
        .fit_intercept(false)
        .check()
        .unwrap()
        .fit(&data)
        .unwrap();
    assert_eq!(model.intercept(), 0.0);
    let p = model.predict(&Matrix::zeros(1, 3)).unwrap();
    assert_close("p(0)", p[0], 0.5, 1e-12);
}

#[test]
fn integer_weights_equal_duplicated_rows() {
    // The scaler's statistics are unweighted, so with a penalty the two fits
    // would penalise differently scaled coefficients; without one the
    // probabilities do not depend on the scaling at all.
    let data = churn_data(7, 150, 4);
    let weights: Vec<f64> = (0..150).map(|i| f64::from(i % 3)).collect();
    let idx: Vec<usize> = (0..150)
        .flat_map(|i| std::iter::repeat_n(i, i % 3))
        .collect();
    let weighted = fit(&data.clone().with_weights(weights).unwrap(), 0.0).unwrap();
    let duplicated = fit(&data.select_rows(&idx), 0.0).unwrap();
    let (pw, pd) = (
        weighted.predict(data.x()).unwrap(),
        duplicated.predict(data.x()).unwrap(),
    );
    for (a, b) in pw.iter().zip(&pd) {
        assert_close("probability", *a, *b, 1e-9);
    }
}

#[test]
fn wide_fit_converges_quickly() {
    let data = churn_data(8, 5000, 40);
    let model = fit(&data, 1.0).unwrap();
    assert!(model.converged());
    assert!(model.n_iter() <= 10, "{} Newton steps", model.n_iter());
    assert!(
        naive_gradient(&data, &model, 1.0)
            .iter()
            .all(|g| g.abs() < 1e-6)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn probabilities_lie_in_the_open_unit_interval(seed in 0u64..1000, l2 in 0.01f64..100.0) {
        let data = churn_data(seed, 80, 3);
        let model = fit(&data, l2).unwrap();
        for p in model.predict(data.x()).unwrap() {
            prop_assert!(p > 0.0 && p < 1.0);
        }
    }

    #[test]
    fn probabilities_ignore_the_scale_of_a_column(
        seed in 0u64..1000,
        j in 0usize..3,
        factor in prop_oneof![1e-3f64..1e-1, 1e1f64..1e4, -1e3f64..-1e-2],
        offset in -1e4f64..1e4,
    ) {
        let data = churn_data(seed, 100, 3);
        let base = fit(&data, 1.0).unwrap();
        let moved = rescale_column(&data, j, factor, offset);
        let model = fit(&moved, 1.0).unwrap();
        let (p0, p1) = (base.predict(data.x()).unwrap(), model.predict(moved.x()).unwrap());
        for (a, b) in p0.iter().zip(&p1) {
            prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b);
        }
        // Standardising a column of offset `offset` and spread `factor`
        // cancels `offset / factor` ulps: the raw coefficient carries that
        // relative error (seed 399, offset 8057 at factor 0.001: 2e-9).
        let scaled = base.coefficients()[j] / factor;
        let tolerance = 1e-9 + 1e-13 * (offset / factor).abs();
        prop_assert!(
            (model.coefficients()[j] - scaled).abs() <= tolerance * scaled.abs().max(1.0),
            "{} vs {}",
            model.coefficients()[j],
            scaled
        );
    }

    #[test]
    fn a_larger_penalty_shrinks_the_coefficients(seed in 0u64..1000) {
        let data = churn_data(seed, 120, 3);
        let norm = |m: &LogisticRegression| -> f64 {
            m.standardised_coefficients().iter().map(|b| b * b).sum()
        };
        let (loose, tight) = (fit(&data, 0.1).unwrap(), fit(&data, 10.0).unwrap());
        prop_assert!(norm(&tight) <= norm(&loose) + 1e-12);
    }
}

/// The exported specification predicts what the model does, missing
/// values included, with and without an intercept.
#[test]
fn spec_predicts_like_the_model() {
    let data = churn_data(5, 400, 6);
    let mut rows: Vec<Vec<f64>> = data.x().rows().map(<[f64]>::to_vec).collect();
    for (i, row) in rows.iter_mut().enumerate() {
        if i % 7 == 0 {
            row[i % 6] = f64::NAN;
        }
    }
    let x = Matrix::from_rows(&rows).unwrap();
    for intercept in [true, false] {
        let model = LogisticRegressionParams::new()
            .fit_intercept(intercept)
            .check()
            .unwrap()
            .fit(&data)
            .unwrap();
        let spec = model.to_spec();
        assert_eq!(spec.feature_names, data.feature_names());
        for (a, b) in spec
            .predict(&x)
            .unwrap()
            .iter()
            .zip(model.predict(&x).unwrap())
        {
            assert_close("spec prediction", *a, b, 1e-12);
        }
    }
}

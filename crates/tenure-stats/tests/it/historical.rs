//! The historical-average CLV baseline.

use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_stats::{HistoricalAverage, HistoricalAverageParams, StatsError};

use crate::common::assert_close;

fn data(rows: &[Vec<f64>], y: Vec<f64>) -> Dataset {
    let names = vec![
        "frequency_90d".into(),
        "tenure_days".into(),
        "monetary_sum_all".into(),
    ];
    Dataset::new(
        Matrix::from_rows(rows).unwrap(),
        names,
        Target::Continuous(y),
    )
    .unwrap()
}

fn fit(data: &Dataset, calibrate: bool) -> Result<HistoricalAverage, StatsError> {
    HistoricalAverageParams::new(90.0)
        .calibrate(calibrate)
        .check()?
        .fit(data)
}

#[test]
fn forecast_is_spend_rate_times_horizon() {
    let rows = vec![
        vec![3.0, 180.0, 360.0],
        vec![1.0, 0.0, 50.0],       // first seen today: divide by one day
        vec![0.0, f64::NAN, 100.0], // missing tenure
        vec![2.0, 30.0, f64::NAN],  // missing spend
        vec![2.0, 45.0, 0.0],
    ];
    let d = data(&rows, vec![0.0; 5]);
    let model = fit(&d, false).unwrap();
    assert_eq!(model.scale(), 1.0);
    let pred = model.predict(d.x()).unwrap();
    assert_eq!(pred, vec![180.0, 4500.0, 0.0, 0.0, 0.0]);
}

#[test]
fn calibration_is_least_squares_through_the_origin() {
    let rows: Vec<Vec<f64>> = (1..=20)
        .map(|i| vec![0.0, f64::from(i) * 10.0, f64::from(i * i)])
        .collect();
    let raw: Vec<f64> = rows.iter().map(|r| r[2] / r[1] * 90.0).collect();
    let y: Vec<f64> = raw
        .iter()
        .enumerate()
        .map(|(i, f)| 0.4 * f + if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let d = data(&rows, y.clone());
    let model = fit(&d, true).unwrap();
    let naive = raw.iter().zip(&y).map(|(f, y)| f * y).sum::<f64>()
        / raw.iter().map(|f| f * f).sum::<f64>();
    assert_close("scale", model.scale(), naive, 1e-12);
    let pred = model.predict(d.x()).unwrap();
    for (p, f) in pred.iter().zip(&raw) {
        assert_close("prediction", *p, naive * f, 1e-12);
    }
    // Scaling the target scales the calibration factor.
    let tripled = data(&rows, y.iter().map(|v| 3.0 * v).collect());
    assert_close(
        "tripled",
        fit(&tripled, true).unwrap().scale(),
        3.0 * naive,
        1e-12,
    );
}

#[test]
fn calibration_honours_weights() {
    let rows = vec![vec![0.0, 10.0, 10.0], vec![0.0, 10.0, 20.0]];
    let d = data(&rows, vec![90.0, 90.0])
        .with_weights(vec![1.0, 0.0])
        .unwrap();
    // Only the first row counts: its raw forecast 90 equals the target.
    assert_close("scale", fit(&d, true).unwrap().scale(), 1.0, 1e-12);
}

#[test]
fn all_zero_forecasts_keep_the_scale_at_one() {
    let d = data(&[vec![1.0, 10.0, 0.0]], vec![5.0]);
    assert_eq!(fit(&d, true).unwrap().scale(), 1.0);
}

#[test]
fn missing_feature_is_named() {
    let x = Matrix::from_rows(&[vec![1.0, 2.0]]).unwrap();
    let names = vec!["tenure_days".into(), "recency_days".into()];
    let d = Dataset::new(x, names, Target::Continuous(vec![1.0])).unwrap();
    let err = fit(&d, false).unwrap_err();
    assert!(matches!(
        err,
        StatsError::MissingFeature {
            feature: "monetary_sum_all",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "historical average needs a feature named `monetary_sum_all`; the dataset has: \
         tenure_days, recency_days"
    );
}

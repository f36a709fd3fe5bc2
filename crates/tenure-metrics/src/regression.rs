//! Regression metrics for amounts (CLV).

use crate::error::{MetricsError, check_pair};

/// Root mean squared error.
pub fn rmse(y: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    check_pair("rmse", "y", y, "pred", pred)?;
    let total: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    Ok((total / y.len() as f64).sqrt())
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    check_pair("mae", "y", y, "pred", pred)?;
    let total: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum();
    Ok(total / y.len() as f64)
}

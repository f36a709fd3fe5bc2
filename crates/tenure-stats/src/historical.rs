//! The historical-average CLV baseline: past spend rate times the horizon.

use serde::{Deserialize, Serialize};
use tenure_core::{CoreError, Dataset, Fit, Matrix, ParamGuard, Predict, Target};

use crate::error::{StatsError, cannot_fit, check_width, row_number, row_weights};

const MODEL: &str = "historical average";
/// Lifetime spend so far.
pub const MONETARY_FEATURE: &str = "monetary_sum_all";
/// Days since the customer's first purchase.
pub const TENURE_FEATURE: &str = "tenure_days";

/// Hyperparameters of [`HistoricalAverage`]: the horizon in days, and whether
/// to rescale the raw forecast on the training rows (`calibrate`, default off).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoricalAverageParams(HistoricalAverageValidParams);

/// Checked [`HistoricalAverageParams`]; implements [`Fit`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoricalAverageValidParams {
    horizon_days: f64,
    calibrate: bool,
}

impl HistoricalAverageParams {
    pub fn new(horizon_days: f64) -> Self {
        Self(HistoricalAverageValidParams {
            horizon_days,
            calibrate: false,
        })
    }

    pub fn calibrate(mut self, calibrate: bool) -> Self {
        self.0.calibrate = calibrate;
        self
    }
}

impl HistoricalAverageValidParams {
    pub fn horizon_days(&self) -> f64 {
        self.horizon_days
    }

    pub fn calibrate(&self) -> bool {
        self.calibrate
    }
}

impl ParamGuard for HistoricalAverageParams {
    type Checked = HistoricalAverageValidParams;
    type Error = StatsError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        crate::check_horizon(self.0.horizon_days)?;
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Forecasts spend within the horizon as
/// `scale · monetary_sum_all / max(tenure_days, 1) · horizon_days`.
///
/// `max(·, 1)` keeps a customer seen for less than a day from dividing by
/// zero. A missing or infinite input forecasts 0. `scale` is 1 unless the
/// model was fitted with `calibrate`, in which case it is the least-squares
/// slope through the origin of the target on the raw forecast over the
/// (weighted) training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoricalAverage {
    monetary_col: usize,
    tenure_col: usize,
    n_features: usize,
    horizon_days: f64,
    scale: f64,
}

impl HistoricalAverage {
    /// The calibration factor (1 without calibration).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn horizon_days(&self) -> f64 {
        self.horizon_days
    }

    fn raw(&self, row: &[f64]) -> f64 {
        let (spend, tenure) = (row[self.monetary_col], row[self.tenure_col]);
        if spend.is_finite() && tenure.is_finite() {
            spend / tenure.max(1.0) * self.horizon_days
        } else {
            0.0
        }
    }
}

impl Predict for HistoricalAverage {
    type Error = StatsError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, StatsError> {
        check_width(self.n_features, x.n_cols())?;
        Ok(x.rows().map(|row| self.scale * self.raw(row)).collect())
    }
}

impl Fit for HistoricalAverageValidParams {
    type Model = HistoricalAverage;
    type Error = StatsError;

    fn fit(&self, data: &Dataset) -> Result<HistoricalAverage, StatsError> {
        let Target::Continuous(y) = data.target() else {
            return Err(CoreError::WrongTarget {
                model: MODEL,
                expected: "continuous",
                got: data.target().kind(),
            }
            .into());
        };
        let column = |feature: &'static str| {
            data.feature_names()
                .iter()
                .position(|name| name == feature)
                .ok_or_else(|| StatsError::MissingFeature {
                    model: MODEL,
                    feature,
                    available: if data.feature_names().is_empty() {
                        "no features".into()
                    } else {
                        data.feature_names().join(", ")
                    },
                })
        };
        let mut model = HistoricalAverage {
            monetary_col: column(MONETARY_FEATURE)?,
            tenure_col: column(TENURE_FEATURE)?,
            n_features: data.n_features(),
            horizon_days: self.horizon_days,
            scale: 1.0,
        };
        if self.calibrate {
            if let Some(i) = y.iter().position(|v| !v.is_finite()) {
                return Err(cannot_fit(
                    MODEL,
                    format!("target {} at row {} is not finite", y[i], row_number(i)),
                ));
            }
            let w = row_weights(MODEL, data.weights(), y.len())?;
            let (mut xy, mut xx) = (0.0, 0.0);
            for ((row, &y), &w) in data.x().rows().zip(y).zip(&w) {
                let f = model.raw(row);
                xy += w * f * y;
                xx += w * f * f;
            }
            // Every raw forecast zero: no scale can change them, keep 1.
            if xx > 0.0 {
                model.scale = xy / xx;
            }
        }
        Ok(model)
    }
}

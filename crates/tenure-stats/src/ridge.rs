//! Ridge (L2-penalised least-squares) linear regression, solved exactly by
//! a Cholesky factorisation of the penalised normal equations.

use serde::{Deserialize, Serialize};
use tenure_core::{CoreError, Dataset, Fit, Matrix, ParamGuard, Predict, Target};

use crate::error::{StatsError, cannot_fit, check_width, row_weights};
use crate::linalg::{add_weighted_gram, cholesky_solve, dot};
use crate::standardize::Standardizer;

const MODEL: &str = "ridge regression";

/// Hyperparameters of [`RidgeRegression`], as the user fills them.
///
/// | parameter | default | meaning |
/// |---|---|---|
/// | `l2` | 1.0 | penalty `l2·‖w‖²` on the standardised coefficients (intercept free); scikit-learn's `Ridge(alpha = l2)` |
/// | `fit_intercept` | true | fit a constant term |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RidgeRegressionParams(RidgeRegressionValidParams);

/// Checked hyperparameters of [`RidgeRegression`]; only
/// [`RidgeRegressionParams::check`] makes them, and they implement [`Fit`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RidgeRegressionValidParams {
    l2: f64,
    fit_intercept: bool,
}

impl Default for RidgeRegressionParams {
    fn default() -> Self {
        Self::new()
    }
}

impl RidgeRegressionParams {
    pub fn new() -> Self {
        Self(RidgeRegressionValidParams {
            l2: 1.0,
            fit_intercept: true,
        })
    }

    pub fn l2(mut self, l2: f64) -> Self {
        self.0.l2 = l2;
        self
    }

    pub fn fit_intercept(mut self, fit_intercept: bool) -> Self {
        self.0.fit_intercept = fit_intercept;
        self
    }
}

impl ParamGuard for RidgeRegressionParams {
    type Checked = RidgeRegressionValidParams;
    type Error = StatsError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let l2 = self.0.l2;
        tenure_core::ensure_param!(
            l2.is_finite() && l2 >= 0.0,
            "l2",
            "must be finite and >= 0, got {l2}"
        );
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl RidgeRegressionValidParams {
    pub fn l2(&self) -> f64 {
        self.l2
    }

    pub fn fit_intercept(&self) -> bool {
        self.fit_intercept
    }
}

/// A fitted ridge regression; [`Predict`] returns the expected outcome.
///
/// Inputs are standardised with statistics of the training data, stored
/// here; a missing value (NaN) counts as the training mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeRegression {
    feature_names: Vec<String>,
    scaler: Standardizer,
    standardised_coefficients: Vec<f64>,
    standardised_intercept: f64,
    coefficients: Vec<f64>,
    intercept: f64,
}

impl RidgeRegression {
    /// Coefficients in the original scale of each feature.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Intercept in the original feature scale.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Coefficients per standard deviation of each feature (what the
    /// penalty acts on).
    pub fn standardised_coefficients(&self) -> &[f64] {
        &self.standardised_coefficients
    }

    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }
}

impl Predict for RidgeRegression {
    type Error = StatsError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, StatsError> {
        check_width(self.feature_names.len(), x.n_cols())?;
        let mut z = vec![0.0; x.n_cols()];
        x.rows()
            .enumerate()
            .map(|(r, row)| {
                self.scaler
                    .transform_row(row, r, &self.feature_names, &mut z)?;
                Ok(self.standardised_intercept + dot(&self.standardised_coefficients, &z))
            })
            .collect()
    }
}

impl Fit for RidgeRegressionValidParams {
    type Model = RidgeRegression;
    type Error = StatsError;

    /// Minimises `Σ wᵢ (yᵢ − b − zᵢ·β)² + l2·‖β‖²` over the standardised
    /// inputs `z` (the intercept `b` is not penalised): scikit-learn's
    /// `Ridge(alpha = l2)` on `StandardScaler`-transformed inputs with the
    /// dataset weights as `sample_weight`. Takes a continuous target; with
    /// `l2 = 0` collinear features make the fit fail.
    fn fit(&self, data: &Dataset) -> Result<RidgeRegression, StatsError> {
        let Target::Continuous(y) = data.target() else {
            return Err(CoreError::WrongTarget {
                model: MODEL,
                expected: "continuous",
                got: data.target().kind(),
            }
            .into());
        };
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(cannot_fit(
                MODEL,
                format!("target {} at row {i} is not finite", y[i]),
            ));
        }
        if y.is_empty() {
            return Err(cannot_fit(MODEL, "no training rows"));
        }
        let w = row_weights(MODEL, data.weights(), y.len())?;
        let names = data.feature_names();
        let scaler = Standardizer::fit(data.x(), names, self.fit_intercept)?;
        let offset = usize::from(self.fit_intercept);
        let d = names.len() + offset;
        let mut z = vec![1.0; y.len() * d];
        for (r, (row, out)) in data
            .x()
            .rows()
            .zip(z.chunks_exact_mut(d.max(1)))
            .enumerate()
        {
            scaler.transform_row(row, r, names, &mut out[offset..])?;
        }
        let rows = || z.chunks_exact(d.max(1)).take(y.len());
        let mut gram = vec![0.0; d * d];
        add_weighted_gram(&mut gram, d, rows().zip(w.iter().copied()));
        for j in offset..d {
            gram[j * d + j] += self.l2;
        }
        let mut rhs = vec![0.0; d];
        for ((row, &yi), &wi) in rows().zip(y).zip(&w) {
            for (r, zj) in rhs.iter_mut().zip(row) {
                *r += wi * yi * zj;
            }
        }
        let beta = if d == 0 {
            Vec::new()
        } else {
            cholesky_solve(&gram, &rhs).ok_or_else(|| {
                cannot_fit(
                    MODEL,
                    "the penalised normal equations are singular (collinear features \
                     with l2 = 0?): use l2 > 0",
                )
            })?
        };
        let standardised_intercept = if self.fit_intercept { beta[0] } else { 0.0 };
        let standardised_coefficients = beta[offset..].to_vec();
        let coefficients: Vec<f64> = standardised_coefficients
            .iter()
            .zip(&scaler.scale)
            .map(|(b, s)| b / s)
            .collect();
        let intercept = standardised_intercept - dot(&coefficients, &scaler.shift);
        Ok(RidgeRegression {
            feature_names: names.to_vec(),
            scaler,
            standardised_coefficients,
            standardised_intercept,
            coefficients,
            intercept,
        })
    }
}

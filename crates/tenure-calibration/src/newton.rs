//! A logistic regression with one or two coefficients, by Newton's method:
//! the fit behind Platt scaling, temperature scaling and the calibration
//! slope and intercept.

use tenure_core::calibrator::sigmoid;

use crate::error::CalibrationError;

const MAX_ITER: usize = 100;
const MAX_HALVINGS: usize = 60;

/// `softplus(η) − t·η`: the log loss of a logit `η` for a (possibly
/// smoothed) target `t ∈ [0, 1]`, without overflow.
fn loss(eta: f64, t: f64) -> f64 {
    eta.max(0.0) + (-eta.abs()).exp().ln_1p() - t * eta
}

/// The rows of a fit: target, weight, an offset added to the linear
/// predictor, and one or two columns.
pub(crate) struct Problem<'a> {
    pub what: &'static str,
    pub target: &'a [f64],
    pub weight: &'a [f64],
    pub offset: Option<&'a [f64]>,
    pub columns: Vec<&'a [f64]>,
}

impl Problem<'_> {
    fn eta(&self, theta: &[f64], i: usize) -> f64 {
        let base = self.offset.map_or(0.0, |o| o[i]);
        base + self
            .columns
            .iter()
            .zip(theta)
            .map(|(c, b)| c[i] * b)
            .sum::<f64>()
    }

    fn objective(&self, theta: &[f64]) -> f64 {
        (0..self.target.len())
            .map(|i| self.weight[i] * loss(self.eta(theta, i), self.target[i]))
            .sum()
    }

    /// Minimises the weighted log loss from `theta`, returning the minimiser.
    pub(crate) fn solve(&self, mut theta: Vec<f64>) -> Result<Vec<f64>, CalibrationError> {
        let k = self.columns.len();
        debug_assert!(k == 1 || k == 2, "one or two coefficients");
        let mut value = self.objective(&theta);
        for _ in 0..MAX_ITER {
            let mut g = [0.0; 2];
            let mut h = [[0.0; 2]; 2];
            for i in 0..self.target.len() {
                let w = self.weight[i];
                if w == 0.0 {
                    continue;
                }
                let p = sigmoid(self.eta(&theta, i));
                let r = w * (p - self.target[i]);
                let v = w * p * (1.0 - p);
                for (a, row) in h.iter_mut().enumerate().take(k) {
                    let xa = self.columns[a][i];
                    g[a] += r * xa;
                    for (cell, column) in row.iter_mut().zip(&self.columns) {
                        *cell += v * xa * column[i];
                    }
                }
            }
            let step = if k == 1 {
                if h[0][0] <= 0.0 {
                    return Err(self.singular());
                }
                [-g[0] / h[0][0], 0.0]
            } else {
                let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
                if det <= 1e-300 || det <= 1e-14 * h[0][0] * h[1][1] {
                    return Err(self.singular());
                }
                [
                    -(h[1][1] * g[0] - h[0][1] * g[1]) / det,
                    -(h[0][0] * g[1] - h[1][0] * g[0]) / det,
                ]
            };
            // Halve the step until the loss does not rise (it is convex, so
            // the full Newton step almost always succeeds).
            let mut scale = 1.0;
            let mut accepted = None;
            for _ in 0..MAX_HALVINGS {
                let trial: Vec<f64> = (0..k).map(|a| theta[a] + scale * step[a]).collect();
                let v = self.objective(&trial);
                if v <= value + 1e-12 * value.abs() {
                    accepted = Some((trial, v));
                    break;
                }
                scale *= 0.5;
            }
            let Some((next, v)) = accepted else {
                // No step lowers the loss: already at the minimum up to rounding.
                return Ok(theta);
            };
            let moved =
                (0..k).all(|a| (next[a] - theta[a]).abs() <= 1e-13 * (1.0 + theta[a].abs()));
            theta = next;
            value = v;
            if moved {
                return Ok(theta);
            }
        }
        Err(CalibrationError::NoConvergence {
            what: self.what,
            iterations: MAX_ITER,
            detail: format!(
                " (coefficients {theta:?}: the outcome may be perfectly separated by the predictions)"
            ),
        })
    }

    fn singular(&self) -> CalibrationError {
        CalibrationError::Undefined {
            what: self.what,
            reason: "the information matrix is singular: the predictions are constant, or \
                     they separate the outcomes perfectly"
                .into(),
        }
    }
}

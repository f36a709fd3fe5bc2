//! Probability calibrators as plain data: what a fitted calibrator is, and
//! how it maps a model's probability to a calibrated one.
//!
//! Fitting lives in `tenure-calibration`; this description is all a runner,
//! a report or an ONNX exporter needs. Each variant is a small formula that
//! an exporter can append to a graph after the model's output.

use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// Probabilities are clipped to `[PROB_CLIP, 1 − PROB_CLIP]` before their
/// logit is taken, so that 0 and 1 map to finite logits (±16.1). The value
/// is representable apart from 1 in `f32`, so a single-precision graph can
/// apply the same clip.
pub const PROB_CLIP: f64 = 1e-7;

/// `ln(p / (1 − p))` of `p` clipped to `[PROB_CLIP, 1 − PROB_CLIP]`; `NaN`
/// stays `NaN`.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(PROB_CLIP, 1.0 - PROB_CLIP);
    (p / (1.0 - p)).ln()
}

/// `1 / (1 + exp(−z))`, computed without overflow for large `|z|`.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// A fitted map from a model's predicted probability `p` to a calibrated
/// probability. With `z = logit(p)` (see [`logit`]):
///
/// - `Platt { a, b }`: `sigmoid(a · z + b)` (Platt scaling: a logistic
///   regression on the model's logit);
/// - `Temperature { t }`: `sigmoid(z / t)` (temperature scaling: one
///   parameter, keeps the ranking and the 0.5 point; `t > 1` softens
///   over-confident predictions);
/// - `Isotonic { x, y }`: the piecewise-linear interpolation of the points
///   `(x[k], y[k])` at `p` itself, clipped to `[x[0], x[last]]` — the
///   non-decreasing step fit of isotonic regression, as scikit-learn's
///   `IsotonicRegression(out_of_bounds="clip")` predicts it.
///
/// ```
/// use tenure_core::Calibrator;
///
/// let platt = Calibrator::Platt { a: 1.0, b: 0.0 };
/// assert!((platt.apply(0.3) - 0.3).abs() < 1e-12);
/// let soft = Calibrator::Temperature { t: 2.0 };
/// assert!(soft.apply(0.9) < 0.9 && soft.apply(0.1) > 0.1);
/// let iso = Calibrator::Isotonic { x: vec![0.2, 0.6], y: vec![0.1, 0.5] };
/// assert_eq!(iso.apply(0.0), 0.1);
/// assert!((iso.apply(0.4) - 0.3).abs() < 1e-12);
/// assert_eq!(iso.apply(0.9), 0.5);
/// assert_eq!(
///     serde_json::to_string(&soft).unwrap(),
///     r#"{"method":"temperature","t":2.0}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    Platt {
        a: f64,
        b: f64,
    },
    Isotonic {
        /// Input probabilities, strictly increasing.
        x: Vec<f64>,
        /// Calibrated probabilities at `x`, non-decreasing, in `[0, 1]`.
        y: Vec<f64>,
    },
    Temperature {
        t: f64,
    },
}

impl Calibrator {
    /// The method's name as configs and reports spell it.
    pub fn method(&self) -> &'static str {
        match self {
            Calibrator::Platt { .. } => "platt",
            Calibrator::Isotonic { .. } => "isotonic",
            Calibrator::Temperature { .. } => "temperature",
        }
    }

    /// The calibrated probability of a predicted probability `p`; `NaN`
    /// stays `NaN`.
    pub fn apply(&self, p: f64) -> f64 {
        if p.is_nan() {
            return f64::NAN;
        }
        match self {
            Calibrator::Isotonic { x, y } => interpolate(x, y, p),
            _ => self.apply_logit(logit(p)),
        }
    }

    /// The calibrated probability of a logit `z` (a neural model's raw
    /// output, say), without the round trip through a clipped probability
    /// for the logit-based methods.
    pub fn apply_logit(&self, z: f64) -> f64 {
        match self {
            Calibrator::Platt { a, b } => sigmoid(a * z + b),
            Calibrator::Temperature { t } => sigmoid(z / t),
            Calibrator::Isotonic { x, y } => {
                if z.is_nan() {
                    f64::NAN
                } else {
                    interpolate(x, y, sigmoid(z))
                }
            }
        }
    }

    /// [`apply`](Self::apply) to every value.
    pub fn apply_all(&self, p: &[f64]) -> Vec<f64> {
        p.iter().map(|&v| self.apply(v)).collect()
    }

    /// Checks that the parameters describe a valid, order-preserving map
    /// (for a description read from a file): finite values, `a > 0`,
    /// `t > 0`, isotonic points non-empty, of equal length, `x` strictly
    /// increasing, `y` non-decreasing within `[0, 1]`.
    pub fn check(&self) -> Result<()> {
        let bad =
            |name: &'static str, reason: String| Err(CoreError::InvalidParam { name, reason });
        match self {
            Calibrator::Platt { a, b } => {
                if !(a.is_finite() && *a > 0.0 && b.is_finite()) {
                    return bad(
                        "platt",
                        format!("a = {a}, b = {b}: expected finite values with a > 0"),
                    );
                }
            }
            Calibrator::Temperature { t } => {
                if !(t.is_finite() && *t > 0.0) {
                    return bad("temperature", format!("t = {t} is not a finite value > 0"));
                }
            }
            Calibrator::Isotonic { x, y } => {
                if x.is_empty() || x.len() != y.len() {
                    return bad(
                        "isotonic",
                        format!(
                            "{} thresholds and {} values: expected the same non-zero number",
                            x.len(),
                            y.len()
                        ),
                    );
                }
                if let Some(k) = x.iter().position(|v| !v.is_finite()) {
                    return bad("isotonic", format!("x[{k}] = {} is not finite", x[k]));
                }
                if let Some(k) = y.iter().position(|v| !(0.0..=1.0).contains(v)) {
                    return bad("isotonic", format!("y[{k}] = {} is outside [0, 1]", y[k]));
                }
                if let Some(k) = (1..x.len()).find(|&k| x[k] <= x[k - 1]) {
                    return bad(
                        "isotonic",
                        format!("x is not strictly increasing at x[{k}] = {}", x[k]),
                    );
                }
                if let Some(k) = (1..y.len()).find(|&k| y[k] < y[k - 1]) {
                    return bad("isotonic", format!("y decreases at y[{k}] = {}", y[k]));
                }
            }
        }
        Ok(())
    }
}

/// `numpy.interp(p, x, y)`: linear between the points, flat outside them.
fn interpolate(x: &[f64], y: &[f64], p: f64) -> f64 {
    let (Some(&first), Some(&last)) = (x.first(), x.last()) else {
        return f64::NAN;
    };
    if p <= first {
        return y[0];
    }
    if p >= last {
        return y[y.len() - 1];
    }
    // x[k - 1] <= p < x[k]
    let k = x.partition_point(|&v| v <= p);
    let (x0, x1, y0, y1) = (x[k - 1], x[k], y[k - 1], y[k]);
    y0 + (y1 - y0) * (p - x0) / (x1 - x0)
}

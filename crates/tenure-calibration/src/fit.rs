//! Fitting calibrators on out-of-fold predictions.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tenure_core::Calibrator;
use tenure_core::calibrator::logit;

use crate::error::{CalibrationError, check_binary, ensure, weights_or_ones};
use crate::newton::Problem;

/// Which calibrator to fit, as an experiment's `[calibration] method` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Keep the model's probabilities; the measures are still reported.
    None,
    /// [`fit_platt`].
    #[default]
    Platt,
    /// [`fit_isotonic`].
    Isotonic,
    /// [`fit_temperature`].
    Temperature,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::None,
        Method::Platt,
        Method::Isotonic,
        Method::Temperature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Platt => "platt",
            Method::Isotonic => "isotonic",
            Method::Temperature => "temperature",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!("unknown calibration method `{s}` (expected none, platt, isotonic or temperature)")
            })
    }
}

/// Fits the calibrator of `method` to predicted probabilities `prob` and
/// binary outcomes `y` (optionally weighted); `Method::None` gives `None`.
///
/// The rows must be out of fold: predictions of a model on rows it was not
/// trained on (a calibrator fitted on training predictions learns the
/// model's over-fit, not its calibration).
pub fn fit(
    method: Method,
    prob: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Option<Calibrator>, CalibrationError> {
    Ok(match method {
        Method::None => None,
        Method::Platt => Some(fit_platt(prob, y, weights)?),
        Method::Isotonic => Some(fit_isotonic(prob, y, weights)?),
        Method::Temperature => Some(fit_temperature(prob, y, weights)?),
    })
}

struct Checked {
    z: Vec<f64>,
    w: Vec<f64>,
    positives: f64,
    negatives: f64,
}

fn prepare(
    what: &'static str,
    prob: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Checked, CalibrationError> {
    check_binary(what, prob, y)?;
    let z: Vec<f64> = prob.iter().map(|&p| logit(p)).collect();
    prepare_logits(what, z, y, weights)
}

fn prepare_logits(
    what: &'static str,
    z: Vec<f64>,
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Checked, CalibrationError> {
    ensure!(
        z.len() == y.len(),
        CalibrationError::LengthMismatch {
            left_name: "logits",
            left: z.len(),
            right_name: "y",
            right: y.len(),
        }
    );
    ensure!(!z.is_empty(), CalibrationError::Empty { what });
    if let Some(index) = z.iter().position(|v| !v.is_finite()) {
        return Err(CalibrationError::Undefined {
            what,
            reason: format!("logit[{index}] = {} is not finite", z[index]),
        });
    }
    if let Some(index) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(CalibrationError::NotBinary {
            index,
            value: y[index],
        });
    }
    let w = weights_or_ones(weights, z.len())?;
    let positives: f64 = y.iter().zip(&w).map(|(y, w)| y * w).sum();
    let negatives: f64 = y.iter().zip(&w).map(|(y, w)| (1.0 - y) * w).sum();
    if positives <= 0.0 || negatives <= 0.0 {
        return Err(CalibrationError::SingleClass {
            what,
            class: if positives > 0.0 { 1.0 } else { 0.0 },
        });
    }
    Ok(Checked {
        z,
        w,
        positives,
        negatives,
    })
}

/// Platt scaling: `sigmoid(a · logit(p) + b)` fitted by maximum likelihood
/// against Platt's smoothed targets `(N₊ + 1) / (N₊ + 2)` for positives and
/// `1 / (N₋ + 2)` for negatives (weighted counts), as scikit-learn's
/// `CalibratedClassifierCV(method="sigmoid")` does on a decision function.
/// When every prediction is the same, only `b` is fitted (with `a = 1`), so
/// the map still preserves order.
pub fn fit_platt(
    prob: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Calibrator, CalibrationError> {
    platt(prepare(PLATT, prob, y, weights)?, y)
}

/// [`fit_platt`] on a model's logits (a neural network's raw outputs, say)
/// instead of its probabilities; apply the result with
/// [`Calibrator::apply_logit`].
pub fn fit_platt_logits(
    logits: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Calibrator, CalibrationError> {
    platt(prepare_logits(PLATT, logits.to_vec(), y, weights)?, y)
}

const PLATT: &str = "Platt scaling";
const TEMPERATURE: &str = "temperature scaling";

fn platt(c: Checked, y: &[f64]) -> Result<Calibrator, CalibrationError> {
    const WHAT: &str = PLATT;
    let hi = (c.positives + 1.0) / (c.positives + 2.0);
    let lo = 1.0 / (c.negatives + 2.0);
    let target: Vec<f64> = y.iter().map(|&v| if v == 1.0 { hi } else { lo }).collect();
    let start_b = ((c.positives + 1.0) / (c.negatives + 1.0)).ln();
    let ones = vec![1.0; y.len()];
    let constant = c.z.iter().all(|&z| z == c.z[0]);
    if constant {
        let b = Problem {
            what: WHAT,
            target: &target,
            weight: &c.w,
            offset: Some(&c.z),
            columns: vec![&ones],
        }
        .solve(vec![start_b - c.z[0]])?;
        return Ok(Calibrator::Platt { a: 1.0, b: b[0] });
    }
    let ab = Problem {
        what: WHAT,
        target: &target,
        weight: &c.w,
        offset: None,
        columns: vec![&c.z, &ones],
    }
    .solve(vec![0.0, start_b])?;
    Ok(Calibrator::Platt { a: ab[0], b: ab[1] })
}

/// Temperature scaling: `sigmoid(logit(p) / t)`, the `t > 0` that minimises
/// the (weighted) log loss; a one-parameter fit on the logits that keeps
/// the ranking (scikit-learn's `method="temperature"` for two classes).
///
/// Predictions that rank worse than chance have no positive temperature:
/// an error. So do predictions that are all exactly 0.5 (logit 0, nothing
/// to scale).
pub fn fit_temperature(
    prob: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Calibrator, CalibrationError> {
    temperature(prepare(TEMPERATURE, prob, y, weights)?, y)
}

/// Temperature scaling of a model's logits, the usual form for neural
/// networks: the `t` of `sigmoid(z / t)`; apply the result with
/// [`Calibrator::apply_logit`].
pub fn fit_temperature_logits(
    logits: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Calibrator, CalibrationError> {
    temperature(prepare_logits(TEMPERATURE, logits.to_vec(), y, weights)?, y)
}

fn temperature(c: Checked, y: &[f64]) -> Result<Calibrator, CalibrationError> {
    let u = Problem {
        what: TEMPERATURE,
        target: y,
        weight: &c.w,
        offset: None,
        columns: vec![&c.z],
    }
    .solve(vec![1.0])?[0];
    if u <= 0.0 {
        return Err(CalibrationError::NegativeTemperature { inverse: u });
    }
    Ok(Calibrator::Temperature { t: 1.0 / u })
}

/// Isotonic regression by pool-adjacent-violators: the non-decreasing step
/// function of `p` closest to the outcomes in (weighted) least squares, as
/// scikit-learn's `IsotonicRegression(out_of_bounds="clip")` fits it: equal
/// predictions are first pooled (weighted mean outcome), and of each run of
/// equal fitted values only the first and last point are kept. Between the
/// points [`Calibrator::apply`] interpolates linearly.
pub fn fit_isotonic(
    prob: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Calibrator, CalibrationError> {
    const WHAT: &str = "isotonic regression";
    check_binary(WHAT, prob, y)?;
    let w = weights_or_ones(weights, prob.len())?;
    let mut order: Vec<usize> = (0..prob.len()).filter(|&i| w[i] > 0.0).collect();
    if order.is_empty() {
        return Err(CalibrationError::Empty {
            what: "isotonic regression (rows with a positive weight)",
        });
    }
    order.sort_by(|&a, &b| prob[a].partial_cmp(&prob[b]).unwrap_or(Ordering::Equal));

    // Distinct predictions with their weighted outcome sums.
    let mut x: Vec<f64> = Vec::new();
    let mut wy: Vec<f64> = Vec::new();
    let mut ws: Vec<f64> = Vec::new();
    for &i in &order {
        if x.last() == Some(&prob[i]) {
            let k = x.len() - 1;
            wy[k] += w[i] * y[i];
            ws[k] += w[i];
        } else {
            x.push(prob[i]);
            wy.push(w[i] * y[i]);
            ws.push(w[i]);
        }
    }

    // Pool adjacent violators: blocks of (outcome sum, weight, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(x.len());
    for k in 0..x.len() {
        blocks.push((wy[k], ws[k], 1));
        while blocks.len() >= 2 {
            let (s1, w1, n1) = blocks[blocks.len() - 1];
            let (s0, w0, n0) = blocks[blocks.len() - 2];
            if s0 / w0 >= s1 / w1 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s0 + s1, w0 + w1, n0 + n1);
            } else {
                break;
            }
        }
    }
    let mut fitted = Vec::with_capacity(x.len());
    for (s, w, n) in blocks {
        fitted.extend(std::iter::repeat_n(s / w, n));
    }

    // Drop interior points of flat runs: the interpolation is the same.
    let n = x.len();
    let keep: Vec<usize> = (0..n)
        .filter(|&k| {
            k == 0 || k == n - 1 || fitted[k] != fitted[k - 1] || fitted[k] != fitted[k + 1]
        })
        .collect();
    Ok(Calibrator::Isotonic {
        x: keep.iter().map(|&k| x[k]).collect(),
        y: keep.iter().map(|&k| fitted[k]).collect(),
    })
}

/// Fits the calibrator of `method` to predicted probabilities of an event
/// by time `t` (`1 − S(t | x)`) of subjects followed for `time` with an
/// event or not (`event`): the outcome "event by `t`" is known for subjects
/// with an event by `t` or followed past it, and each is weighted by the
/// inverse probability of remaining uncensored that long
/// ([`tenure_metrics::status_at`]), so that censoring does not bias the fit.
pub fn fit_survival(
    method: Method,
    event_prob: &[f64],
    time: &[f64],
    event: &[bool],
    t: f64,
) -> Result<Option<Calibrator>, CalibrationError> {
    if method == Method::None {
        return Ok(None);
    }
    crate::error::ensure!(
        event_prob.len() == time.len(),
        CalibrationError::LengthMismatch {
            left_name: "event_prob",
            left: event_prob.len(),
            right_name: "time",
            right: time.len(),
        }
    );
    let status = tenure_metrics::status_at(time, event, t)?;
    let (mut p, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for (&prob, s) in event_prob.iter().zip(status) {
        if let Some((label, weight)) = s.filter(|&(_, weight)| weight > 0.0) {
            p.push(prob);
            y.push(label);
            w.push(weight);
        }
    }
    fit(method, &p, &y, Some(&w))
}

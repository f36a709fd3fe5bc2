use thiserror::Error;

/// Why a calibrator could not be fitted or a measure computed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CalibrationError {
    #[error("{left_name} has {left} values but {right_name} has {right}")]
    LengthMismatch {
        left_name: &'static str,
        left: usize,
        right_name: &'static str,
        right: usize,
    },
    #[error("{what} needs at least one row")]
    Empty { what: &'static str },
    #[error("{name}[{index}] = {value} is not a probability in [0, 1]")]
    NotProbability {
        name: &'static str,
        index: usize,
        value: f64,
    },
    #[error("y[{index}] = {value} is not a binary label (expected 0 or 1)")]
    NotBinary { index: usize, value: f64 },
    #[error("weight[{index}] = {value} is not a finite number >= 0")]
    BadWeight { index: usize, value: f64 },
    #[error("{what} needs both outcomes among the rows with weight (all are {class})")]
    SingleClass { what: &'static str, class: f64 },
    #[error("{name} = {value}: {reason}")]
    BadParameter {
        name: &'static str,
        value: f64,
        reason: &'static str,
    },
    #[error("{what} did not converge in {iterations} Newton steps{detail}")]
    NoConvergence {
        what: &'static str,
        iterations: usize,
        detail: String,
    },
    #[error(
        "temperature scaling needs predictions that rank at least as well as chance: the \
         fitted inverse temperature is {inverse} (a temperature must be > 0)"
    )]
    NegativeTemperature { inverse: f64 },
    #[error("{what} is undefined: {reason}")]
    Undefined { what: &'static str, reason: String },
    #[error(transparent)]
    Metrics(#[from] tenure_metrics::MetricsError),
}

/// Returns early with a [`CalibrationError`] unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $err:expr) => {
        if !$cond {
            return Err($err);
        }
    };
}
pub(crate) use ensure;

/// Probabilities and labels of one binary sample: same non-zero length,
/// probabilities in `[0, 1]`, labels 0 or 1.
pub(crate) fn check_binary(
    what: &'static str,
    prob: &[f64],
    y: &[f64],
) -> Result<(), CalibrationError> {
    ensure!(
        prob.len() == y.len(),
        CalibrationError::LengthMismatch {
            left_name: "prob",
            left: prob.len(),
            right_name: "y",
            right: y.len(),
        }
    );
    ensure!(!prob.is_empty(), CalibrationError::Empty { what });
    check_probabilities("prob", prob)?;
    if let Some(index) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(CalibrationError::NotBinary {
            index,
            value: y[index],
        });
    }
    Ok(())
}

pub(crate) fn check_probabilities(name: &'static str, p: &[f64]) -> Result<(), CalibrationError> {
    match p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(index) => Err(CalibrationError::NotProbability {
            name,
            index,
            value: p[index],
        }),
        None => Ok(()),
    }
}

/// The weights, or 1 per row: finite, non-negative, one per row.
pub(crate) fn weights_or_ones(
    weights: Option<&[f64]>,
    n: usize,
) -> Result<Vec<f64>, CalibrationError> {
    let Some(w) = weights else {
        return Ok(vec![1.0; n]);
    };
    ensure!(
        w.len() == n,
        CalibrationError::LengthMismatch {
            left_name: "prob",
            left: n,
            right_name: "weights",
            right: w.len(),
        }
    );
    if let Some(index) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(CalibrationError::BadWeight {
            index,
            value: w[index],
        });
    }
    Ok(w.to_vec())
}

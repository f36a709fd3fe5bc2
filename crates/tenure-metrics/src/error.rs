use thiserror::Error;

/// Why a metric could not be computed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MetricsError {
    #[error("{left_name} has {left} values but {right_name} has {right}")]
    LengthMismatch {
        left_name: &'static str,
        left: usize,
        right_name: &'static str,
        right: usize,
    },
    #[error("{metric} is undefined on empty input")]
    Empty { metric: &'static str },
    #[error("{metric} is undefined when y_true holds only one class (all {class})")]
    SingleClass { metric: &'static str, class: f64 },
    #[error("{metric} is undefined without a positive example in y_true")]
    NoPositives { metric: &'static str },
    #[error("{name}[{index}] = {value} is not finite")]
    NonFinite {
        name: &'static str,
        index: usize,
        value: f64,
    },
    #[error("y_true[{index}] = {value} is not a binary label (expected 0 or 1)")]
    NotBinary { index: usize, value: f64 },
    #[error("probability[{index}] = {value} is outside [0, 1]")]
    ProbabilityOutOfRange { index: usize, value: f64 },
    #[error(
        "concordance index is undefined: no comparable pairs (it needs an event strictly before another subject's exit)"
    )]
    NoComparablePairs,
    #[error("{name} has no event: every subject is censored")]
    AllCensored { name: &'static str },
    #[error(
        "time {time} is past the last training time {last}: the censoring distribution is unknown there"
    )]
    BeyondCensoringSupport { time: f64, last: f64 },
    #[error("the censoring survival function is zero at event time {time}")]
    ZeroCensoringSurvival { time: f64 },
    #[error("evaluation time {time} is outside the test follow-up [{min}, {max})")]
    TimeOutsideFollowUp { time: f64, min: f64, max: f64 },
    #[error("times must be strictly increasing, but times[{index}] is not")]
    TimesNotIncreasing { index: usize },
    #[error("no case (event at or before time {time}): the time-dependent AUC is undefined")]
    NoCases { time: f64 },
    #[error("{metric} needs at least {needed} {what}, got {got}")]
    TooFew {
        metric: &'static str,
        what: &'static str,
        needed: usize,
        got: usize,
    },
    #[error("{name}[{index}] = {value} is negative")]
    Negative {
        name: &'static str,
        index: usize,
        value: f64,
    },
    #[error("{metric} is undefined when the actual values sum to zero")]
    ZeroTotal { metric: &'static str },
    #[error("{metric} is undefined when {name} is constant")]
    Constant {
        metric: &'static str,
        name: &'static str,
    },
    #[error("decile MAPE is undefined: the mean actual value of decile {decile} is zero")]
    ZeroDecileMean { decile: usize },
    #[error("{name}[{index}] = {value} is not 0 or 1")]
    NotBinaryValue {
        name: &'static str,
        index: usize,
        value: f64,
    },
    #[error("{name} = {value} is out of range: expected a value {expected}")]
    OutOfRange {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
}

/// Returns early with a [`MetricsError`] unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $err:expr) => {
        if !$cond {
            return Err($err);
        }
    };
}
pub(crate) use ensure;

/// Inputs of a two-vector metric: same non-zero length, every value finite.
pub(crate) fn check_pair(
    metric: &'static str,
    left_name: &'static str,
    left: &[f64],
    right_name: &'static str,
    right: &[f64],
) -> Result<(), MetricsError> {
    ensure!(
        left.len() == right.len(),
        MetricsError::LengthMismatch {
            left_name,
            left: left.len(),
            right_name,
            right: right.len(),
        }
    );
    ensure!(!left.is_empty(), MetricsError::Empty { metric });
    check_finite(left_name, left)?;
    check_finite(right_name, right)
}

pub(crate) fn check_finite(name: &'static str, values: &[f64]) -> Result<(), MetricsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricsError::NonFinite {
            name,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Labels must be exactly 0 or 1; returns the number of positives.
pub(crate) fn count_positives(y_true: &[f64]) -> Result<usize, MetricsError> {
    let mut positives = 0;
    for (index, &value) in y_true.iter().enumerate() {
        if value == 1.0 {
            positives += 1;
        } else if value != 0.0 {
            return Err(MetricsError::NotBinary { index, value });
        }
    }
    Ok(positives)
}

pub(crate) fn check_probabilities(prob: &[f64]) -> Result<(), MetricsError> {
    match prob.iter().position(|p| !(0.0..=1.0).contains(p)) {
        Some(index) => Err(MetricsError::ProbabilityOutOfRange {
            index,
            value: prob[index],
        }),
        None => Ok(()),
    }
}

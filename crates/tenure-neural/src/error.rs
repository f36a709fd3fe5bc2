use tenure_core::CoreError;
use tenure_device::DeviceError;

/// Why a neural model could not be built, trained or used.
#[derive(Debug, thiserror::Error)]
pub enum NeuralError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A stop was requested (Ctrl-C) while training: no model.
    #[error("training interrupted")]
    Interrupted,
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("{model} needs a {expected} target, got a {got} one")]
    WrongTarget {
        model: &'static str,
        expected: &'static str,
        got: &'static str,
    },
    #[error("feature `{column}`, row {row}: {reason}")]
    BadFeature {
        column: String,
        row: usize,
        reason: String,
    },
    #[error("categorical feature `{0}` is not among the dataset's features")]
    UnknownCategorical(String),
    #[error("cannot train {model}: {reason}")]
    CannotTrain { model: &'static str, reason: String },
    #[error("training diverged at epoch {epoch}: the loss is {loss} (lower the learning rate)")]
    Diverged { epoch: usize, loss: f64 },
    #[error("the {backend} device failed: {reason}")]
    Backend {
        backend: &'static str,
        reason: String,
    },
}

pub type Result<T, E = NeuralError> = std::result::Result<T, E>;

/// Returns early with [`NeuralError::InvalidParam`] unless the condition holds.
macro_rules! ensure_param {
    ($cond:expr, $name:literal, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::NeuralError::InvalidParam {
                name: $name,
                reason: format!($($reason)+),
            });
        }
    };
}
pub(crate) use ensure_param;

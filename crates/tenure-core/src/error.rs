use thiserror::Error;

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Errors shared by every model family: shapes that do not line up,
/// parameters out of range, targets of the wrong kind.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    #[error("{model} needs a {expected} target, got {got}")]
    WrongTarget {
        model: &'static str,
        expected: &'static str,
        got: &'static str,
    },
    #[error("cannot fit {model}: {reason}")]
    CannotFit { model: &'static str, reason: String },
}

/// Returns early with a [`CoreError::InvalidParam`] unless the condition holds,
/// so that checks are one line each and never skipped for convenience.
#[macro_export]
macro_rules! ensure_param {
    ($cond:expr, $name:literal, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::CoreError::InvalidParam {
                name: $name,
                reason: format!($($reason)+),
            }
            .into());
        }
    };
}

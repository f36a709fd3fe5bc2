use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = OnnxError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum OnnxError {
    /// The model specification cannot be exported as it stands.
    #[error("cannot export {what}: {reason}")]
    Spec { what: String, reason: String },
    /// The graph the exporter built breaks a rule of the ONNX format; a bug
    /// in the exporter, caught before anything is written.
    #[error("invalid ONNX graph at {at}: {reason}")]
    Invalid { at: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
}

/// Returns early with an [`OnnxError::Spec`] unless the condition holds.
macro_rules! ensure_spec {
    ($cond:expr, $what:expr, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::OnnxError::Spec {
                what: $what.to_string(),
                reason: format!($($reason)+),
            });
        }
    };
}

/// Returns early with an [`OnnxError::Invalid`] unless the condition holds.
macro_rules! ensure_valid {
    ($cond:expr, $at:expr, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::OnnxError::Invalid {
                at: $at.to_string(),
                reason: format!($($reason)+),
            });
        }
    };
}

pub(crate) use {ensure_spec, ensure_valid};

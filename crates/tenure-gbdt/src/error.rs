use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = GbdtError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum GbdtError {
    #[error(transparent)]
    Core(#[from] tenure_core::CoreError),
    /// A stop was requested (Ctrl-C) while training: no model.
    #[error("training interrupted")]
    Interrupted,
    #[error("unknown gbdt parameter `{key}`; known parameters: {known}")]
    UnknownParam { key: String, known: String },
    #[error("invalid value `{value}` for gbdt parameter `{key}`: expected {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("categorical feature `{name}` is not a column of the table")]
    UnknownFeature { name: String },
    #[error(
        "categorical feature `{feature}`, row {row}: {value} is not a non-negative integer category code"
    )]
    BadCategory {
        feature: String,
        row: usize,
        value: f64,
    },
    #[error("{set} data, row {row}: {reason}")]
    BadLabel {
        set: String,
        row: usize,
        reason: String,
    },
    #[error("the {objective} objective needs {expected}")]
    ObjectiveMismatch {
        objective: &'static str,
        expected: &'static str,
    },
    #[error("metric `{metric}` does not apply to these labels")]
    LabelMismatch { metric: &'static str },
    #[error("cannot train on zero rows")]
    Empty,
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error(transparent)]
    Metric(#[from] tenure_metrics::MetricsError),
    #[error("cannot start the thread pool: {0}")]
    Threads(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
    /// The GPU asked for cannot train the booster.
    #[error("gbdt on the GPU: {0}")]
    Device(String),
}

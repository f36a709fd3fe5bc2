use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = RunnerError> = std::result::Result<T, E>;

/// Everything that can stop an experiment, each naming where to look.
#[derive(Debug, Error)]
pub enum RunnerError {
    #[error("cannot read config {}: {source}", path.display())]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    ConfigSyntax { path: PathBuf, message: String },
    #[error("{}: invalid `{key}`: {reason}", path.display())]
    Config {
        path: PathBuf,
        key: String,
        reason: String,
    },
    #[error(transparent)]
    Data(#[from] tenure_data::DataError),
    #[error("model `{model}`: {message}")]
    Model { model: String, message: String },
    #[error("metrics for model `{model}` on {fold}: {source}")]
    Metrics {
        model: String,
        fold: String,
        #[source]
        source: tenure_metrics::MetricsError,
    },
    #[error("tracking store: {0}")]
    Store(#[from] tenure_store::StoreError),
    #[error("registering `{name}`: {reason}")]
    Registration { name: String, reason: String },
    #[error("report: {0}")]
    Report(#[from] tenure_report::ReportError),
    #[error(transparent)]
    Core(#[from] tenure_core::CoreError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

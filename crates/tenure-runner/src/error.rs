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
    /// A customer whose arm is neither the treated nor the control value.
    #[error("{}: column `{column}`: {detail}", path.display())]
    Arm {
        path: PathBuf,
        column: String,
        detail: String,
    },
    #[error(
        "{}: column `{column}` holds only `{present}`: the {arm} group has no rows \
         (an A/B test needs units in both arms)",
        path.display()
    )]
    EmptyArm {
        path: PathBuf,
        column: String,
        arm: String,
        present: String,
    },
    #[error(
        "{}: column `{column}` has the values {values}: which one is the treatment? \
         Pass --treated VALUE",
        path.display()
    )]
    AbArms {
        path: PathBuf,
        column: String,
        values: String,
    },
    #[error("{flag} {value}: expected a value {expected}")]
    AbOption {
        flag: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{}: {source}", path.display())]
    AbTest {
        path: PathBuf,
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
    #[error(transparent)]
    Device(#[from] tenure_device::DeviceError),
    #[error("tuning: {0}")]
    Tune(#[from] tenure_tune::TuneError),
    /// The data cannot train or score a model at all (one customer, say).
    #[error("{}: {reason}", path.display())]
    Insufficient { path: PathBuf, reason: String },
    /// Ctrl-C (SIGINT) or SIGTERM: the run stopped at its next step (a
    /// boosting round, a training batch, a fold, an artifact) and was marked
    /// KILLED.
    #[error("interrupted: stopped at the next step; the run is marked KILLED")]
    Interrupted,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

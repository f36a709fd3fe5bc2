use thiserror::Error;

pub type Result<T, E = TuneError> = std::result::Result<T, E>;

/// Why a search could not be configured, sampled or stored.
#[derive(Debug, Error)]
pub enum TuneError {
    /// A bad search space: `key` is the parameter's path inside the space
    /// (`l2.low`, `booster.choices`), for the caller to prefix with where the
    /// space came from.
    #[error("invalid `{key}`: {reason}")]
    Space { key: String, reason: String },
    /// Bad sampler, pruner or study settings.
    #[error(transparent)]
    Param(#[from] tenure_core::CoreError),
    #[error("unknown sampler `{0}` (expected one of: auto, tpe, gp, random)")]
    UnknownSampler(String),
    #[error("unknown pruner `{0}` (expected one of: none, median, asha)")]
    UnknownPruner(String),
    /// The stored study was created with a different space or direction.
    #[error(
        "study `{study}` in {path} was created with a different {what}: {detail}; use another study name or delete the study"
    )]
    StudyMismatch {
        study: String,
        path: String,
        what: &'static str,
        detail: String,
    },
    #[error("study storage {path}: {source}")]
    Storage {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("study storage {path}: stored {what} cannot be read: {reason}")]
    Corrupt {
        path: String,
        what: &'static str,
        reason: String,
    },
    #[error("trial {number} is not running in this worker")]
    NotRunning { number: u64 },
}

/// Returns early with a [`TuneError::Space`] unless the condition holds.
macro_rules! ensure_space {
    ($cond:expr, $key:expr, $($reason:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            return Err($crate::TuneError::Space {
                key: $key.to_string(),
                reason: format!($($reason)+),
            });
        }
    };
}
pub(crate) use ensure_space;

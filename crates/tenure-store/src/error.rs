use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in [`crate::LocalStore`].
///
/// Every variant that touches the disk names the path, so a failure in a long
/// experiment sweep can be traced to the file without a debugger.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O call failed; `action` says what we were doing with `path`.
    #[error("cannot {action} '{}': {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A metric, param or tag key, or an artifact path, that MLflow would
    /// reject or that would escape its directory.
    #[error("invalid {kind} '{key}': {reason}")]
    InvalidKey {
        kind: &'static str,
        key: String,
        reason: String,
    },

    /// A run id, experiment id or experiment name that is not well formed.
    #[error("invalid {kind} '{value}': {reason}")]
    InvalidId {
        kind: &'static str,
        value: String,
        reason: &'static str,
    },

    #[error("run '{run_id}' not found in store '{}'", root.display())]
    RunNotFound { run_id: String, root: PathBuf },

    #[error("experiment '{experiment_id}' not found in store '{}'", root.display())]
    ExperimentNotFound {
        experiment_id: String,
        root: PathBuf,
    },

    /// MLflow moves deleted experiments to `.trash` and refuses to reuse
    /// their names; we do the same so the UI never shows two experiments
    /// with one name after a restore.
    #[error(
        "experiment '{name}' exists in deleted state (id {experiment_id}); restore or purge it \
         from '.trash' before reusing the name"
    )]
    ExperimentDeleted { name: String, experiment_id: String },

    #[error("{what} '{id}' is deleted; it cannot be written to")]
    NotActive { what: &'static str, id: String },

    /// Params are immutable in MLflow: a sweep that logs a different value
    /// under the same key is almost always a bug in the caller.
    #[error(
        "param '{key}' of run '{run_id}' was already logged as '{old}'; refusing to change it \
         to '{new}'"
    )]
    ParamChanged {
        run_id: String,
        key: String,
        old: String,
        new: String,
    },

    /// The caller asked for something contradictory.
    #[error("{0}")]
    InvalidArgument(String),

    /// A file in the store does not have the format we (or MLflow) write.
    #[error("malformed store file '{}': {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}

/// Returns early with the given error unless the condition holds, so checks
/// cost one line and are never skipped for convenience.
macro_rules! ensure {
    ($cond:expr, $err:expr $(,)?) => {
        if !$cond {
            return Err($err);
        }
    };
}
pub(crate) use ensure;

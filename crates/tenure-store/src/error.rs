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

    #[error("registered model '{name}' not found in registry {location}")]
    ModelNotFound { name: String, location: String },

    #[error("registered model '{name}' has no version {version} (registry {location})")]
    VersionNotFound {
        name: String,
        version: u64,
        location: String,
    },

    #[error("registered model '{name}' has no alias '{alias}' (registry {location})")]
    AliasNotFound {
        name: String,
        alias: String,
        location: String,
    },

    /// A file of a model version is absent where the registry says it is.
    #[error("{what} of {model} version {version} is missing: {detail}")]
    MissingFile {
        what: String,
        model: String,
        version: u64,
        detail: String,
    },

    /// Bytes read back do not hash to what was recorded at registration:
    /// the storage was tampered with or corrupted.
    #[error("{file} of {model} version {version} is corrupt: sha256 {actual}, expected {expected}")]
    ChecksumMismatch {
        file: String,
        model: String,
        version: u64,
        expected: String,
        actual: String,
    },

    /// A run does not hold what a registration needs.
    #[error("run '{run_id}' cannot be registered: {reason}")]
    NotRegistrable { run_id: String, reason: String },

    /// A remote tracking server refused or failed a request.
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

/// What a remote tracking server (MLflow over REST) answered, classified so
/// callers can react to, say, bad credentials without parsing messages.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind} ({url}): {message}")]
pub struct RemoteError {
    pub kind: RemoteErrorKind,
    /// The request URL, never with credentials.
    pub url: String,
    pub status: Option<u16>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteErrorKind {
    /// 401: credentials missing or wrong.
    Unauthorized,
    /// 403: credentials valid but not allowed (or a host check refused us).
    Forbidden,
    /// 404 from a route that exists: the resource does not.
    NotFound,
    /// The server answered, but not like an MLflow tracking server.
    NotMlflow,
    /// Could not connect, or 429/5xx after every retry.
    Unavailable,
    /// The server rejected the request as invalid (400 with an MLflow error).
    Rejected,
}

impl std::fmt::Display for RemoteErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RemoteErrorKind::Unauthorized => {
                "unauthorized: set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or \
                 MLFLOW_TRACKING_TOKEN"
            }
            RemoteErrorKind::Forbidden => "forbidden",
            RemoteErrorKind::NotFound => "not found",
            RemoteErrorKind::NotMlflow => "not an MLflow tracking server",
            RemoteErrorKind::Unavailable => "tracking server unavailable",
            RemoteErrorKind::Rejected => "request rejected by the tracking server",
        })
    }
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

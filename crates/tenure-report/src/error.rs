use std::io;
use std::path::PathBuf;

/// What can go wrong when writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An I/O call failed; `action` says what we were doing with `path`.
    #[error("cannot {action} '{}': {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ReportError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| ReportError::Io {
            action,
            path,
            source,
        }
    }
}

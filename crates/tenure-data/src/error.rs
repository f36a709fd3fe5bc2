use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Everything that can be wrong with input data or its configuration.
///
/// Each variant names the file, the column and, where there is one, the first
/// offending row (1-based, counting data rows, header excluded) and what was
/// expected, so that a user can fix the input without reading code.
#[derive(Debug, Error)]
pub enum DataError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("cannot write {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
    #[error("{}: unsupported file type (expected .csv or .parquet)", path.display())]
    UnsupportedFormat { path: PathBuf },
    #[error("{}: table is empty (expected at least one data row)", path.display())]
    Empty { path: PathBuf },
    #[error("{}: missing column `{column}` (available: {})", path.display(), available.join(", "))]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: Vec<String>,
    },
    #[error("{}: column `{column}` has type {found}, expected {expected}", path.display())]
    WrongType {
        path: PathBuf,
        column: String,
        expected: String,
        found: String,
    },
    #[error("{}: column `{column}`, row {row}: {found}, expected {expected}", path.display())]
    BadValue {
        path: PathBuf,
        column: String,
        row: usize,
        found: String,
        expected: String,
    },
    #[error("{}: column `{column}`, row {row}: duplicate customer id `{id}` (first seen at row {first_row})", path.display())]
    DuplicateId {
        path: PathBuf,
        column: String,
        row: usize,
        id: String,
        first_row: usize,
    },
    #[error("invalid `{key}`: {reason}")]
    Config { key: String, reason: String },
    #[error(transparent)]
    Core(#[from] tenure_core::CoreError),
    /// A polars operation on frames this crate built itself failed.
    #[error("polars: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
}

/// Returns early with a [`DataError::Config`] unless the condition holds.
#[macro_export]
macro_rules! ensure_config {
    ($cond:expr, $key:expr, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::DataError::Config {
                key: $key.to_string(),
                reason: format!($($reason)+),
            });
        }
    };
}

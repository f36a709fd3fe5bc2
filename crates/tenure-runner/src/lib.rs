//! The experiment config schema and the pipeline that wires tenure's crates:
//! data → as-of snapshots → time-split folds → models → metrics → tracking
//! store → HTML report.
//!
//! ```no_run
//! use tenure_runner::{Experiment, RunOptions, run};
//!
//! let exp = Experiment::load("experiments/quickstart.toml".as_ref())?;
//! let outcome = run(&exp, &RunOptions::default())?;
//! println!("report at {}", outcome.report.display());
//! # Ok::<(), tenure_runner::RunnerError>(())
//! ```

pub mod config;
mod error;
pub mod models;
pub mod output;
pub mod pipeline;
mod progress;
mod report;

pub use config::Experiment;
pub use error::{Result, RunnerError};
pub use pipeline::{RunOptions, RunOutcome, prepare, run, split_summary};
pub use progress::Progress;

/// Lower layers, re-exported so the binary depends on the runner alone.
pub use tenure_core as core;
pub use tenure_data as data;
pub use tenure_store as store;

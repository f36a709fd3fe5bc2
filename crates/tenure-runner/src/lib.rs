//! The experiment config schema and the pipeline that wires tenure's crates:
//! data → as-of snapshots → time-split folds → models → metrics → tracking
//! store → HTML report.
//!
//! ```
//! use tenure_runner::data::synth::{self, SynthConfig};
//! use tenure_runner::{Experiment, RunOptions, run};
//!
//! let dir = tempfile::tempdir()?;
//! synth::write(&SynthConfig { customers: 1_000, ..SynthConfig::default() }, &dir.path().join("data"))?;
//! std::fs::write(dir.path().join("churn.toml"), r#"
//!     name = "doc"
//!     [data.transactions]
//!     path = "data/transactions.parquet"
//!     [data.customers]
//!     path = "data/customers.parquet"
//!     signup = "signup_date"
//!     end = "cancel_date"
//!     categorical = ["plan"]
//!     [labels]
//!     task = "churn"
//!     horizon_days = 90
//!     [cv]
//!     first = "2022-07-01"
//!     every_days = 90
//!     folds = 2
//!     [[models]]
//!     kind = "logistic"
//! "#)?;
//! let exp = Experiment::load(&dir.path().join("churn.toml"))?;
//! let options = RunOptions { tracking_dir: Some(dir.path().join("runs")), ..RunOptions::default() };
//! let outcome = run(&exp, &options)?;
//! assert!(outcome.report.is_file());
//! assert!(outcome.models[0].metrics["auc"].mean > 0.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ab;
pub mod bench;
pub mod calibrate;
pub mod config;
mod error;
pub mod export;
pub mod fit;
pub mod fit_gbdt;
#[doc(hidden)]
pub mod fuzz;
pub mod interrupt;
pub mod models;
pub mod output;
pub mod pipeline;
mod progress;
mod report;
mod report_calibration;
mod sanity;
pub mod settings;
pub mod tracking;
pub mod tune;
pub mod uplift;

pub use config::Experiment;
pub use error::{Result, RunnerError};
pub use pipeline::{RunOptions, RunOutcome, prepare, run, split_summary};
pub use progress::Progress;

/// Lower layers, re-exported so the binary depends on the runner alone.
pub use tenure_core as core;
pub use tenure_data as data;
pub use tenure_device as device;
pub use tenure_metrics as metrics;
pub use tenure_neural as neural;
pub use tenure_store as store;
pub use tenure_tune as hpo;

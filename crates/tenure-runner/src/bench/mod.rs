//! `tenure bench`: a fixed suite of experiments measured run over run, and
//! compared with a baseline so that CI can gate on regressions.
//!
//! A [`Suite`] names datasets and experiments; [`run_suite`] fits each
//! model on its experiment's test cutoff (as `tenure run` does, early
//! stopping rounds from the CV folds included), records the task's metrics
//! there, and times `repeat` fits and predictions (median and spread), with
//! the peak memory, device, tenure version and git commit. [`compare`]
//! checks every value against a [`Baseline`] — a previous results file or a
//! registered model's test metrics — with per-metric tolerances: quality
//! regressions gate, speed ones are reported. [`render`] writes the text
//! table and the Markdown summary.
//!
//! ```
//! use tenure_runner::bench::{Spread, Tolerance, suite};
//!
//! let s = Spread::of(&[0.30, 0.10, 0.20]).unwrap();
//! assert_eq!((s.median, s.min, s.max), (0.20, 0.10, 0.30));
//! assert_eq!(suite::default_tolerance("auc"), Tolerance::Abs(0.005));
//! ```

pub mod compare;
pub mod gbdt;
mod memory;
pub mod render;
mod run;
mod spread;
pub mod suite;

pub use compare::{Baseline, BaselineRef, Champion, Check, Comparison, Status, compare};
pub use memory::reset_peak_rss;
pub use run::{BenchOptions, BenchResults, ModelRecord, SCHEMA, run_suite};
pub use spread::Spread;
pub use suite::{Suite, Tolerance};

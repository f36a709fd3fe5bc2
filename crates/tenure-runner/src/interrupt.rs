//! Ctrl-C as a request the pipeline honours between steps.
//!
//! The binary installs the signal handler (it owns the process); the handler
//! only calls [`request`]. The run pipeline and the tuner poll [`check`]
//! between snapshots, folds, models and artifact writes, so an interrupt
//! never lands inside a write: what was logged is whole, the run is marked
//! KILLED in the tracking store, and a tuning study keeps its interrupted
//! trial for the next `tenure tune` to take up again. Inside a fit, the
//! boosting and network training loops poll the same flag (it lives in
//! `tenure_core::interrupt`) and return an error, which the pipeline reports
//! as the interrupt it is.

use crate::{Result, RunnerError};

/// Asks the running pipeline, and the fit inside it, to stop at its next
/// step ([`tenure_core::interrupt::request`]). Returns whether a stop had
/// already been requested (a second Ctrl-C), so that a handler can exit at
/// once when the user insists.
pub fn request() -> bool {
    tenure_core::interrupt::request()
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    tenure_core::interrupt::requested()
}

/// `Err(RunnerError::Interrupted)` once a stop was requested.
pub fn check() -> Result<()> {
    if requested() {
        Err(RunnerError::Interrupted)
    } else {
        Ok(())
    }
}

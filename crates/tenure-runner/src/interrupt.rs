//! Ctrl-C as a request the pipeline honours between steps.
//!
//! The binary installs the signal handler (it owns the process); the handler
//! only calls [`request`]. The run pipeline and the tuner poll [`check`]
//! between snapshots, folds, models and artifact writes, so an interrupt
//! never lands inside a write: what was logged is whole, the run is marked
//! KILLED in the tracking store, and a tuning study keeps its interrupted
//! trial for the next `tenure tune` to take up again.
//!
//! The flag is process-wide because a signal is; nothing else is global.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Result, RunnerError};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks the running pipeline to stop at its next step. Returns whether a
/// stop had already been requested (a second Ctrl-C), so that a handler can
/// exit at once when the user insists.
pub fn request() -> bool {
    REQUESTED.swap(true, Ordering::SeqCst)
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// `Err(RunnerError::Interrupted)` once a stop was requested.
pub fn check() -> Result<()> {
    if requested() {
        Err(RunnerError::Interrupted)
    } else {
        Ok(())
    }
}

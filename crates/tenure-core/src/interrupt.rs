//! Ctrl-C as a request that every long computation honours at its next
//! step.
//!
//! The binary installs the signal handler (it owns the process) and the
//! handler only calls [`request`]. The boosting loop polls [`requested`]
//! before each round, the network training loop before each batch, and the
//! pipeline between its steps, so a single long fit stops within a round or
//! a batch instead of running to its end. A stopped fit returns an error,
//! never a partial model.
//!
//! The flag is process-wide because a signal is; nothing else is global.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running computation to stop at its next step. Returns
/// whether a stop had already been requested (a second Ctrl-C), so that a
/// handler can exit at once when the user insists.
pub fn request() -> bool {
    REQUESTED.swap(true, Ordering::SeqCst)
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

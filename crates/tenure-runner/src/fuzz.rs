//! Bodies of the fuzz targets in `fuzz/` (cargo-fuzz, nightly), shared with
//! the stable tests that replay their corpus and with the property tests.
//! Each takes arbitrary bytes and panics only when a property is broken.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Experiment, RunnerError};

/// A fresh scratch directory in the system temp directory, unique per
/// process and call (fuzzers run inputs on several threads).
fn scratch_dir() -> Option<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tenure-fuzz-exp-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// Loads `data` as an experiment file. It must load or fail with an error
/// that names the file and, for a bad value, the key.
pub fn experiment_toml(data: &[u8]) {
    let Some(dir) = scratch_dir() else {
        return;
    };
    let path = dir.join("experiment.toml");
    if std::fs::write(&path, data).is_ok() {
        check_load(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Loads the experiment at `path` and checks the error, if any: it names
/// the file, and a config error names a key. Returns the message.
pub fn check_load(path: &std::path::Path) -> Option<String> {
    let err = Experiment::load(path).err()?;
    let text = err.to_string();
    match &err {
        RunnerError::Config { key, .. } => {
            assert!(!key.is_empty(), "{text}");
            assert!(text.contains(&path.display().to_string()), "{text}");
        }
        RunnerError::ConfigSyntax { .. } => {
            assert!(text.contains(&path.display().to_string()), "{text}");
        }
        // The file that could not be read (this one or one it extends),
        // and errors of the files the config names (data).
        _ => {}
    }
    Some(text)
}

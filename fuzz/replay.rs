//! Replays a fuzz target's corpus (`fuzz/corpus/<target>/`) and any saved
//! crash (`fuzz/artifacts/<target>/`) through the target's body: the stable
//! regression test of each fuzzed crate includes this file with
//! `#[path = "../../../../fuzz/replay.rs"]`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Every input of `target`, corpus first, sorted by path.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Runs every input through `body`; a panic names the input's file.
/// Returns how many inputs ran, so a test can check the corpus is there.
pub fn replay(target: &str, body: impl Fn(&[u8])) -> usize {
    let inputs = inputs(target);
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        if catch_unwind(AssertUnwindSafe(|| body(&data))).is_err() {
            panic!("fuzz input {} fails (see the panic above)", path.display());
        }
    }
    inputs.len()
}

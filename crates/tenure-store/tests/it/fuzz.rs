//! A store whose files were damaged (by hand, a full disk, another tool)
//! gives typed errors, never a panic: the fuzz target's corpus and crashes
//! replayed, arbitrary bytes in every file, and truncated files.

use proptest::prelude::*;
use tenure_store::{LocalStore, RunStatus};

#[path = "../../../../fuzz/replay.rs"]
mod replay;

#[test]
fn the_fuzz_corpus_and_crashes_replay() {
    let n = replay::replay("store_files", tenure_store::fuzz::store_files);
    assert!(n > 0, "fuzz/corpus/store_files is missing");
}

/// A store with one finished run; returns it and the run's folder.
fn one_run(dir: &std::path::Path) -> (LocalStore, String, std::path::PathBuf) {
    let store = LocalStore::open(dir).unwrap();
    let exp = store.get_or_create_experiment("e").unwrap();
    let run = store.create_run(&exp, "r", &[]).unwrap();
    store.log_param(&run, "p", "1").unwrap();
    store.log_metric(&run, "auc", 0.5, 0).unwrap();
    store.log_metric(&run, "auc", 0.7, 1).unwrap();
    store.end_run(&run, RunStatus::Finished).unwrap();
    let run_dir = dir.join(&exp).join(&run);
    (store, run, run_dir)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_in_any_file_never_panic(
        pick in any::<u8>(),
        contents in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut data = vec![pick];
        data.extend(contents);
        tenure_store::fuzz::store_files(&data);
    }

    #[test]
    fn a_truncated_run_file_is_an_error_naming_it_or_still_reads(
        which in 0usize..3,
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (store, run, run_dir) = one_run(dir.path());
        let file = run_dir.join(["meta.yaml", "metrics/auc", "params/p"][which]);
        let bytes = std::fs::read(&file).unwrap();
        let keep = cut.index(bytes.len() + 1);
        std::fs::write(&file, &bytes[..keep]).unwrap();
        match store.get_run(&run) {
            Ok(r) => {
                // What still parses is a prefix of what was written.
                prop_assert!(r.metrics.get("auc").is_none_or(|m| m.len() <= 2));
            }
            Err(e) => {
                let text = e.to_string();
                prop_assert!(
                    text.contains(&*file.file_name().unwrap().to_string_lossy()),
                    "{}", text
                );
            }
        }
        let _ = store.list_runs(None);
    }

    #[test]
    fn arbitrary_text_in_meta_yaml_never_panics(text in "[ -~\\n]{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        let (store, run, run_dir) = one_run(dir.path());
        std::fs::write(run_dir.join("meta.yaml"), &text).unwrap();
        let _ = store.get_run(&run);
        let _ = store.list_runs(None);
        let _ = store.end_run(&run, RunStatus::Killed);
        std::fs::write(dir.path().join("0").join("meta.yaml"), &text).unwrap();
        let _ = store.list_experiments();
        let _ = store.get_or_create_experiment("other");
    }
}

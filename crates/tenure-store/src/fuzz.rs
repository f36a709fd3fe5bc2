//! Body of the `store_files` fuzz target in `fuzz/` (cargo-fuzz, nightly),
//! shared with the stable tests that replay its corpus and with the
//! property tests: any file of a store replaced by arbitrary bytes makes
//! every read a typed [`crate::StoreError`] or a success, never a panic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::registry::{Candidate, ModelRef};
use crate::{LocalRegistry, LocalStore, ModelRegistry, RunStatus};

/// A store with one experiment, a finished run with params, metrics, tags
/// and a model, and a registered version with an alias: every kind of
/// file a store holds. Built once; each input works on a copy.
fn template() -> Option<&'static (PathBuf, Vec<PathBuf>)> {
    static TEMPLATE: OnceLock<Option<(PathBuf, Vec<PathBuf>)>> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let root = std::env::temp_dir()
                .join(format!("tenure-fuzz-store-template-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            build_template(&root).ok()?;
            let mut files = Vec::new();
            list_files(&root, &root, &mut files);
            files.sort();
            Some((root, files))
        })
        .as_ref()
}

fn build_template(root: &Path) -> crate::Result<()> {
    let store = LocalStore::open(root)?;
    let exp = store.get_or_create_experiment("fuzz")?;
    let run = store.create_run(&exp, "fuzz-run", &[("team", "growth")])?;
    store.log_param(&run, "l2", "1.0")?;
    store.log_metric(&run, "m.test.auc", 0.75, 0)?;
    store.log_metric(&run, "m.test.auc", 0.8, 1)?;
    store.set_tag(&run, "tenure.data.fingerprint", "abc")?;
    store.log_artifact_bytes(&run, "models/m/model.onnx", b"onnx bytes")?;
    store.log_artifact_bytes(&run, "models/m/model_card.json", b"{}")?;
    store.log_artifact_bytes(&run, "metrics.json", b"{\"auc\": 0.8}")?;
    store.end_run(&run, RunStatus::Finished)?;
    let registry = LocalRegistry::in_store(store.root())?;
    let candidate = Candidate::from_run(&store, &run, None)?;
    let v = registry.register("churn", &candidate)?;
    registry.set_alias("churn", "champion", v.version, "fuzz", "first")?;
    registry.set_model_tag("churn", "owner", "fuzz")?;
    Ok(())
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            list_files(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// The first byte picks a file of the template store (by index, wrapping);
/// the rest replaces its contents. Then every read and a few writes run.
pub fn store_files(data: &[u8]) {
    let Some((&pick, contents)) = data.split_first() else {
        return;
    };
    let Some((template, files)) = template() else {
        return;
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!("tenure-fuzz-store-{}-{n}", std::process::id()));
    if copy_dir(template, &root).is_err() {
        let _ = std::fs::remove_dir_all(&root);
        return;
    }
    let target = root.join(&files[usize::from(pick) % files.len()]);
    if std::fs::write(&target, contents).is_ok() {
        exercise(&root);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Every read of the store and the registry, and writes that read first.
/// Results are ignored: only a panic is a failure.
pub fn exercise(root: &Path) {
    let Ok(store) = LocalStore::open(root) else {
        return;
    };
    let _ = store.list_experiments();
    let _ = store.experiment_by_name("fuzz");
    if let Ok(runs) = store.list_runs(None) {
        for info in runs {
            let _ = store.get_run(&info.run_id);
            let _ = store.log_metric(&info.run_id, "m.test.auc", 0.9, 2);
            let _ = store.set_tag(&info.run_id, "after", "fuzz");
            let _ = store.end_run(&info.run_id, RunStatus::Killed);
            let _ = Candidate::from_run(&store, &info.run_id, None);
        }
    }
    let Ok(registry) = LocalRegistry::in_store(root) else {
        return;
    };
    let _ = registry.list_models();
    let _ = registry.get_model("churn");
    if let Ok(versions) = registry.list_versions("churn") {
        for v in versions {
            let _ = registry.get_version("churn", v.version);
            let _ = registry.read_verified(&v, "model.onnx");
        }
    }
    let _ = registry.alias_version("churn", "champion");
    let _ = registry.promotions("churn");
    if let Ok(r) = "churn@champion".parse::<ModelRef>() {
        let _ = registry.resolve(&r);
    }
    let _ = registry.set_alias("churn", "champion", 1, "fuzz", "again");
}

use std::fs;

use tenure_store::{LocalStore, RUN_NAME_TAG, StoreError};

use crate::leftover_temp_files;

fn store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn unknown_run_is_a_clear_error() {
    let (_dir, store) = store();
    let missing = "ffffffffffffffffffffffffffffffff";
    let err = store.get_run(missing).unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(missing) && msg.contains("not found"), "{msg}");
    assert!(matches!(
        store.log_metric(missing, "m", 1.0, 0),
        Err(StoreError::RunNotFound { .. })
    ));
    assert!(matches!(
        store.end_run(missing, tenure_store::RunStatus::Finished),
        Err(StoreError::RunNotFound { .. })
    ));
    // A run id that is a path is rejected before touching the disk.
    assert!(matches!(
        store.get_run("../0"),
        Err(StoreError::InvalidId { .. })
    ));
}

#[test]
fn unknown_experiment_is_a_clear_error() {
    let (_dir, store) = store();
    let err = store.create_run("77", "r", &[]).unwrap_err();
    assert!(
        matches!(err, StoreError::ExperimentNotFound { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("'77'"));
    assert!(matches!(
        store.list_runs(Some("77")),
        Err(StoreError::ExperimentNotFound { .. })
    ));
    assert!(matches!(
        store.get_or_create_experiment("  "),
        Err(StoreError::InvalidId { .. })
    ));
}

#[test]
fn params_are_immutable() {
    let (_dir, store) = store();
    let run = store.create_run("0", "r", &[]).unwrap();
    store.log_param(&run, "depth", "3").unwrap();
    let err = store.log_param(&run, "depth", "5").unwrap_err();
    match &err {
        StoreError::ParamChanged { key, old, new, .. } => {
            assert_eq!(
                (key.as_str(), old.as_str(), new.as_str()),
                ("depth", "3", "5")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.get_run(&run).unwrap().params["depth"], "3");
}

#[test]
fn keys_that_escape_or_mlflow_rejects_are_refused() {
    let (dir, store) = store();
    let run = store.create_run("0", "r", &[]).unwrap();
    for bad in [
        "",
        "../evil",
        "/abs",
        "a/../../b",
        "a//b",
        "trailing/",
        "..",
        "semi;colon",
    ] {
        let err = store.log_metric(&run, bad, 1.0, 0).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidKey { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains("invalid metric"), "{err}");
        assert!(store.log_param(&run, bad, "v").is_err(), "{bad:?}");
        assert!(store.set_tag(&run, bad, "v").is_err(), "{bad:?}");
    }
    for bad in ["", "../x", "/etc/passwd", "a/../../x", "a\\b"] {
        let err = store.log_artifact_bytes(&run, bad, b"x").unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidKey { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(store.artifact_path(&run, bad).is_err());
    }
    assert!(matches!(
        store.create_run("0", "r", &[("../t", "v")]),
        Err(StoreError::InvalidKey { .. })
    ));
    assert!(matches!(
        store.log_artifact_file(&run, dir.path(), "dir-copy"),
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        store.log_artifact_file(&run, &dir.path().join("missing"), "x"),
        Err(StoreError::Io { .. })
    ));
    // Nothing was written outside the store.
    assert!(!dir.path().parent().unwrap().join("evil").exists());
    assert!(leftover_temp_files(dir.path()).is_empty());
}

#[test]
fn contradicting_run_names_are_refused() {
    let (_dir, store) = store();
    let err = store
        .create_run("0", "a", &[(RUN_NAME_TAG, "b")])
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err:?}");
}

#[test]
fn deleted_runs_are_read_only() {
    let (_dir, store) = store();
    let run = store.create_run("0", "r", &[]).unwrap();
    store.log_param(&run, "p", "1").unwrap();
    // MLflow's UI deletes by flipping the lifecycle stage in meta.yaml.
    let meta_path = store.root().join("0").join(&run).join("meta.yaml");
    let text = fs::read_to_string(&meta_path).unwrap();
    fs::write(
        &meta_path,
        text.replace("lifecycle_stage: active", "lifecycle_stage: deleted"),
    )
    .unwrap();
    let err = store.log_metric(&run, "m", 1.0, 0).unwrap_err();
    assert!(matches!(err, StoreError::NotActive { .. }), "{err:?}");
    // Still readable, but not listed.
    assert_eq!(store.get_run(&run).unwrap().params["p"], "1");
    assert!(store.list_runs(Some("0")).unwrap().is_empty());
}

#[test]
fn corrupt_files_name_their_path() {
    let (_dir, store) = store();
    let run = store.create_run("0", "r", &[]).unwrap();
    let metric = store.root().join("0").join(&run).join("metrics").join("m");
    fs::write(&metric, "12 not-a-number 0\n").unwrap();
    let err = store.get_run(&run).unwrap_err();
    assert!(matches!(err, StoreError::Malformed { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&metric.display().to_string()),
        "{err}"
    );
}

#[test]
fn deleted_experiment_names_are_not_reused() {
    let (_dir, store) = store();
    let exp = store.get_or_create_experiment("old").unwrap();
    // What `mlflow experiments delete` does on a file store.
    let from = store.root().join(&exp);
    let meta = fs::read_to_string(from.join("meta.yaml")).unwrap();
    fs::write(
        from.join("meta.yaml"),
        meta.replace("lifecycle_stage: active", "lifecycle_stage: deleted"),
    )
    .unwrap();
    fs::rename(&from, store.root().join(".trash").join(&exp)).unwrap();

    let err = store.get_or_create_experiment("old").unwrap_err();
    assert!(
        matches!(err, StoreError::ExperimentDeleted { .. }),
        "{err:?}"
    );
    assert!(matches!(
        store.create_run(&exp, "r", &[]),
        Err(StoreError::NotActive { .. })
    ));
    // And the deleted id is not handed out again.
    let next = store.get_or_create_experiment("new").unwrap();
    assert_ne!(next, exp);
}

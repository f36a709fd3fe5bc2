use std::collections::BTreeMap;

use tenure_store::{
    DEFAULT_EXPERIMENT_ID, LifecycleStage, LocalStore, MetricPoint, RUN_NAME_TAG, RunStatus,
};

use crate::leftover_temp_files;

#[test]
fn everything_logged_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let exp = store
        .get_or_create_experiment("churn / gbdt: \"v2\" ✓")
        .unwrap();
    assert_eq!(
        store
            .get_or_create_experiment("churn / gbdt: \"v2\" ✓")
            .unwrap(),
        exp
    );
    let run = store
        .create_run(
            &exp,
            "baseline #1",
            &[("dataset", "telco"), ("note", "a\nb")],
        )
        .unwrap();
    assert_eq!(run.len(), 32);
    assert!(run.bytes().all(|b| b.is_ascii_hexdigit()));

    let params = [
        ("learning_rate", "0.05"),
        ("model/depth", "6"),
        ("empty", ""),
        ("text", "multi\nline 'quoted' \"value\" ünïcode"),
    ];
    for (k, v) in params {
        store.log_param(&run, k, v).unwrap();
    }
    // Same value again is fine.
    store.log_param(&run, "learning_rate", "0.05").unwrap();

    let values = [0.69, f64::NAN, f64::INFINITY, -1e-300, 0.1 + 0.2];
    for (step, v) in values.iter().enumerate() {
        store
            .log_metric(&run, "train/loss", *v, step as i64 - 1)
            .unwrap();
    }
    let curve: Vec<MetricPoint> = (0..100)
        .map(|i| MetricPoint {
            timestamp_ms: 1_700_000_000_000 + i,
            value: 1.0 / (i as f64 + 1.0),
            step: i,
        })
        .collect();
    store.log_metric_history(&run, "valid auc", &curve).unwrap();
    store
        .log_metric_history(&run, "valid auc", &curve[..3])
        .unwrap();

    store.set_tag(&run, "stage", "first").unwrap();
    store.set_tag(&run, "stage", "second").unwrap();

    let bytes: Vec<u8> = (0..=255).collect();
    let p1 = store
        .log_artifact_bytes(&run, "model/weights.bin", &bytes)
        .unwrap();
    let src = dir.path().join("outside.txt");
    std::fs::write(&src, "report body").unwrap();
    let p2 = store
        .log_artifact_file(&run, &src, "report one.txt")
        .unwrap();
    assert_eq!(std::fs::read(&p1).unwrap(), bytes);
    assert_eq!(std::fs::read_to_string(&p2).unwrap(), "report body");
    assert_eq!(store.artifact_path(&run, "model/weights.bin").unwrap(), p1);
    assert_eq!(
        store.artifact_dir(&run).unwrap(),
        p1.parent().unwrap().parent().unwrap()
    );

    let before_end = store.get_run(&run).unwrap();
    assert_eq!(before_end.info.status, RunStatus::Running);
    assert_eq!(before_end.info.end_time_ms, None);
    store.end_run(&run, RunStatus::Failed).unwrap();

    let got = store.get_run(&run).unwrap();
    assert_eq!(got.info.run_id, run);
    assert_eq!(got.info.experiment_id, exp);
    assert_eq!(got.info.run_name, "baseline #1");
    assert_eq!(got.info.status, RunStatus::Failed);
    assert_eq!(got.info.lifecycle_stage, LifecycleStage::Active);
    let end = got.info.end_time_ms.expect("end time set");
    assert!(end >= got.info.start_time_ms);
    assert!(got.info.artifact_uri.starts_with("file:///"));
    assert!(
        got.info
            .artifact_uri
            .ends_with(&format!("/{exp}/{run}/artifacts"))
    );

    let want_params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got.params, want_params);

    let loss = &got.metrics["train/loss"];
    assert_eq!(loss.len(), values.len());
    for (i, (p, v)) in loss.iter().zip(values).enumerate() {
        assert_eq!(p.step, i as i64 - 1);
        assert!(p.timestamp_ms >= got.info.start_time_ms);
        if v.is_nan() {
            assert!(p.value.is_nan());
        } else {
            assert_eq!(p.value.to_bits(), v.to_bits());
        }
    }
    let auc = &got.metrics["valid auc"];
    assert_eq!(auc.len(), 103);
    assert_eq!(&auc[..100], &curve[..]);
    assert_eq!(&auc[100..], &curve[..3]);
    // The highest step wins, as in MLflow's UI.
    assert_eq!(got.latest_metric("valid auc"), Some(0.01));
    assert_eq!(got.latest_metric("nope"), None);

    assert_eq!(got.tags["stage"], "second");
    assert_eq!(got.tags["dataset"], "telco");
    assert_eq!(got.tags["note"], "a\nb");
    assert_eq!(got.tags[RUN_NAME_TAG], "baseline #1");
    assert_eq!(got.tags["mlflow.source.type"], "LOCAL");
    assert!(got.tags.contains_key("mlflow.user"));
    assert_eq!(got.artifacts, ["model/weights.bin", "report one.txt"]);

    assert!(leftover_temp_files(dir.path()).is_empty());
}

#[test]
fn experiments_list_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested").join("tenure-runs");
    let store = LocalStore::open(&root).unwrap();
    assert!(store.root().is_absolute());

    let exps = store.list_experiments().unwrap();
    assert_eq!(exps.len(), 1);
    assert_eq!(exps[0].experiment_id, DEFAULT_EXPERIMENT_ID);
    assert_eq!(exps[0].name, "Default");
    assert_eq!(store.get_or_create_experiment("Default").unwrap(), "0");

    let a = store.get_or_create_experiment("a").unwrap();
    let b = store.get_or_create_experiment("b").unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("1", "2"));

    // A second handle (another process, say) sees the same store.
    let again = LocalStore::open(&root).unwrap();
    assert_eq!(again.get_or_create_experiment("b").unwrap(), b);
    let names: Vec<String> = again
        .list_experiments()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["Default", "a", "b"]);
    let exp_a = again.get_experiment(&a).unwrap();
    assert_eq!(exp_a.name, "a");
    assert!(exp_a.creation_time_ms.is_some());
    assert_eq!(again.experiment_by_name("zzz").unwrap(), None);
}

#[test]
fn runs_are_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let exp = store.get_or_create_experiment("e").unwrap();
    let mut made = Vec::new();
    for i in 0..3 {
        made.push(store.create_run(&exp, &format!("r{i}"), &[]).unwrap());
        // Distinct start times make "newest first" observable.
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    let other = store.create_run("0", "", &[]).unwrap();

    let listed: Vec<String> = store
        .list_runs(Some(&exp))
        .unwrap()
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    made.reverse();
    assert_eq!(listed, made);

    let all = store.list_runs(None).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].run_id, other);
    assert!(
        all.windows(2)
            .all(|w| w[0].start_time_ms >= w[1].start_time_ms)
    );
    // An empty name gets one derived from the id, never an empty string.
    assert_eq!(all[0].run_name, format!("run-{}", &other[..8]));
}

#[test]
fn run_name_tag_renames_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let run = store
        .create_run("0", "", &[(RUN_NAME_TAG, "from-tag")])
        .unwrap();
    assert_eq!(store.get_run(&run).unwrap().info.run_name, "from-tag");
    store.set_tag(&run, RUN_NAME_TAG, "renamed").unwrap();
    let got = store.get_run(&run).unwrap();
    assert_eq!(got.info.run_name, "renamed");
    assert_eq!(got.tags[RUN_NAME_TAG], "renamed");
}

#[test]
fn end_run_with_non_terminal_status_clears_end_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let run = store.create_run("0", "r", &[]).unwrap();
    store.end_run(&run, RunStatus::Killed).unwrap();
    assert!(store.get_run(&run).unwrap().info.end_time_ms.is_some());
    store.end_run(&run, RunStatus::Scheduled).unwrap();
    let info = store.get_run(&run).unwrap().info;
    assert_eq!(info.status, RunStatus::Scheduled);
    assert_eq!(info.end_time_ms, None);
}

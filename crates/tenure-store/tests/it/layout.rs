//! The files are where MLflow's `FileStore` looks for them, in its formats.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use tenure_store::{LocalStore, RunStatus};

/// `key: value` pairs of a flat meta.yaml, values unparsed.
fn meta(path: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn keys(m: &BTreeMap<String, String>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

#[test]
fn files_are_where_mlflow_expects_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("my runs");
    let store = LocalStore::open(&root).unwrap();
    let root = store.root().to_path_buf();

    // The default experiment and MLflow's trash folder exist from the start.
    assert!(root.join(".trash").is_dir());
    let default = meta(&root.join("0").join("meta.yaml"));
    assert_eq!(
        keys(&default),
        [
            "artifact_location",
            "creation_time",
            "experiment_id",
            "last_update_time",
            "lifecycle_stage",
            "name"
        ]
    );
    // Quoted: an unquoted 0 would be read by PyYAML as an integer.
    assert_eq!(default["experiment_id"], "\"0\"");
    assert_eq!(default["name"], "Default");
    assert_eq!(default["lifecycle_stage"], "active");
    // The space in the root is percent-encoded, as Python's Path.as_uri does.
    assert!(default["artifact_location"].starts_with("file:///"));
    assert!(
        default["artifact_location"].ends_with("/my%20runs/0"),
        "{default:?}"
    );
    assert!(default["creation_time"].parse::<i64>().unwrap() > 1_600_000_000_000);

    let exp = store.get_or_create_experiment("cox: baseline").unwrap();
    let exp_meta = meta(&root.join(&exp).join("meta.yaml"));
    assert_eq!(exp_meta["name"], "\"cox: baseline\"");
    assert_eq!(exp_meta["experiment_id"], format!("\"{exp}\""));

    let run = store.create_run(&exp, "fold-1", &[]).unwrap();
    store.log_param(&run, "penalizer", "0.1").unwrap();
    store.log_param(&run, "features/set", "rfm").unwrap();
    store.log_metric(&run, "c_index", 0.71, 0).unwrap();
    store.log_metric(&run, "c_index", 0.73, 1).unwrap();
    store.log_metric(&run, "folds/1/ibs", 0.12, 0).unwrap();
    store.set_tag(&run, "kind", "cox").unwrap();
    store
        .log_artifact_bytes(&run, "plots/km.svg", b"<svg/>")
        .unwrap();
    store.end_run(&run, RunStatus::Finished).unwrap();

    let run_dir = root.join(&exp).join(&run);
    let run_meta = meta(&run_dir.join("meta.yaml"));
    assert_eq!(
        keys(&run_meta),
        [
            "artifact_uri",
            "deleted_time",
            "end_time",
            "entry_point_name",
            "experiment_id",
            "lifecycle_stage",
            "run_id",
            "run_name",
            "run_uuid",
            "source_name",
            "source_type",
            "source_version",
            "start_time",
            "status",
            "tags",
            "user_id"
        ]
    );
    // Quoting is optional for a hex id; both spellings read back the same.
    assert_eq!(run_meta["run_id"].trim_matches('"'), run);
    assert_eq!(run_meta["run_uuid"].trim_matches('"'), run);
    assert_eq!(run_meta["run_name"], "fold-1");
    assert_eq!(run_meta["status"], "3");
    assert_eq!(run_meta["source_type"], "4");
    assert_eq!(run_meta["tags"], "[]");
    assert_eq!(run_meta["deleted_time"], "null");
    assert_eq!(run_meta["lifecycle_stage"], "active");
    assert_eq!(run_meta["entry_point_name"], "\"\"");
    let start: i64 = run_meta["start_time"].parse().unwrap();
    let end: i64 = run_meta["end_time"].parse().unwrap();
    assert!(end >= start);
    assert!(
        run_meta["artifact_uri"].ends_with(&format!("/my%20runs/{exp}/{run}/artifacts")),
        "{run_meta:?}"
    );

    // Params: the bare value, no newline; '/' in keys makes sub-folders.
    assert_eq!(
        fs::read_to_string(run_dir.join("params/penalizer")).unwrap(),
        "0.1"
    );
    assert_eq!(
        fs::read_to_string(run_dir.join("params/features/set")).unwrap(),
        "rfm"
    );

    // Metrics: one "timestamp value step" line per value.
    let lines: Vec<Vec<String>> = fs::read_to_string(run_dir.join("metrics/c_index"))
        .unwrap()
        .lines()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, (value, step)) in lines.iter().zip([("0.71", "0"), ("0.73", "1")]) {
        assert_eq!(line.len(), 3);
        assert!(line[0].parse::<i64>().unwrap() >= start);
        assert_eq!(line[1], value);
        assert_eq!(line[2], step);
    }
    assert!(run_dir.join("metrics/folds/1/ibs").is_file());

    assert_eq!(
        fs::read_to_string(run_dir.join("tags/kind")).unwrap(),
        "cox"
    );
    assert_eq!(
        fs::read_to_string(run_dir.join("tags/mlflow.runName")).unwrap(),
        "fold-1"
    );
    assert_eq!(
        fs::read(run_dir.join("artifacts/plots/km.svg")).unwrap(),
        b"<svg/>"
    );

    // Nothing but MLflow's folders, meta.yaml and our hidden lock file.
    let mut entries: Vec<String> = fs::read_dir(&run_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            ".lock",
            "artifacts",
            "meta.yaml",
            "metrics",
            "params",
            "tags"
        ]
    );
}

#[test]
fn reads_runs_written_by_mlflow() {
    // A run as MLflow's Python FileStore writes it: PyYAML quoting, integer
    // status, metrics without a step column (pre-1.0 format).
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let root = store.root();
    let exp_dir = root.join("417");
    fs::create_dir_all(&exp_dir).unwrap();
    fs::write(
        exp_dir.join("meta.yaml"),
        "artifact_location: file:///somewhere/mlruns/417\ncreation_time: 1700000000000\n\
         experiment_id: '417'\nlast_update_time: 1700000000000\nlifecycle_stage: active\n\
         name: from python\n",
    )
    .unwrap();
    let run_id = "0123456789abcdef0123456789abcdef";
    let run_dir = exp_dir.join(run_id);
    for sub in ["metrics", "params", "tags", "artifacts"] {
        fs::create_dir_all(run_dir.join(sub)).unwrap();
    }
    fs::write(
        run_dir.join("meta.yaml"),
        format!(
            "artifact_uri: file:///somewhere/mlruns/417/{run_id}/artifacts\nend_time: null\n\
             entry_point_name: ''\nexperiment_id: '417'\nlifecycle_stage: active\n\
             run_id: {run_id}\nrun_name: python-run\nrun_uuid: {run_id}\nsource_name: ''\n\
             source_type: 4\nsource_version: ''\nstart_time: 1700000000001\nstatus: 1\n\
             tags: []\nuser_id: someone\n"
        ),
    )
    .unwrap();
    fs::write(
        run_dir.join("metrics/acc"),
        "1700000000002 0.5\n1700000000003 nan 2\n",
    )
    .unwrap();
    fs::write(run_dir.join("params/alpha"), "1.0").unwrap();

    let exp = store.experiment_by_name("from python").unwrap().unwrap();
    assert_eq!(exp.experiment_id, "417");
    // The next id we hand out is above MLflow's.
    assert_eq!(store.get_or_create_experiment("ours").unwrap(), "418");

    let run = store.get_run(run_id).unwrap();
    assert_eq!(run.info.run_name, "python-run");
    assert_eq!(run.info.user_id, "someone");
    assert_eq!(run.info.status, RunStatus::Running);
    assert_eq!(run.params["alpha"], "1.0");
    let acc = &run.metrics["acc"];
    assert_eq!((acc[0].step, acc[0].value), (0, 0.5));
    assert!(acc[1].value.is_nan());
    // We log into it too.
    store.log_metric(run_id, "acc", 0.75, 3).unwrap();
    assert_eq!(store.get_run(run_id).unwrap().metrics["acc"].len(), 3);
    assert_eq!(store.list_runs(Some("417")).unwrap().len(), 1);
}

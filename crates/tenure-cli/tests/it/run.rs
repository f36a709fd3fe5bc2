use std::process::Stdio;

use serde_json::Value;

use crate::common::{run_ok, synth_dir, tenure, write_experiment};

#[test]
fn synth_writes_the_three_tables() {
    for f in ["transactions.parquet", "customers.parquet", "truth.parquet"] {
        assert!(synth_dir().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn run_json_is_one_object_with_models_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "json-run");
    let out = run_ok(tenure().arg("run").arg(&exp).arg("--json"));
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(text.trim()).expect("stdout is one JSON object");
    assert_eq!(v["experiment"], "json-run");
    let run_id = v["run_id"].as_str().unwrap();
    assert_eq!(run_id.len(), 32);
    let report = v["report"].as_str().unwrap();
    let html = std::fs::read_to_string(report).unwrap();
    assert!(html.contains("<svg"), "report has an inline ROC curve");
    assert!(html.contains("json-run"));
    let model = &v["models"][0];
    assert_eq!(model["name"], "logreg");
    assert_eq!(model["kind"], "logistic");
    assert_eq!(model["task"], "churn");
    let auc = &model["metrics"]["auc"];
    assert_eq!(auc["folds"].as_array().unwrap().len(), 2);
    let mean = auc["mean"].as_f64().unwrap();
    assert!(mean > 0.6 && mean < 1.0, "auc {mean}");
    assert!(auc["test"].as_f64().unwrap() > 0.6);
    for m in ["pr_auc", "log_loss", "brier"] {
        assert!(model["metrics"][m]["mean"].is_f64(), "{m} missing");
    }

    // The run is in the store and reads back through `runs`.
    let store = dir.path().join("store");
    let list = run_ok(
        tenure()
            .args(["runs", "list", "--json", "--store"])
            .arg(&store),
    );
    let runs: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(runs[0]["run_id"], run_id);
    assert_eq!(runs[0]["status"], "finished");
    let show = run_ok(
        tenure()
            .args(["runs", "show", run_id, "--json", "--store"])
            .arg(&store),
    );
    let run: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(run["params"]["logreg.kind"], "logistic");
    assert_eq!(run["metrics"]["logreg.auc"].as_array().unwrap().len(), 2);
    let artifacts: Vec<&str> = run["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in ["report.html", "config.toml", "split.json", "metrics.json"] {
        assert!(artifacts.contains(&a), "{a} not in {artifacts:?}");
    }
    let text = run_ok(
        tenure()
            .args(["runs", "show", run_id, "--store"])
            .arg(&store),
    );
    assert!(String::from_utf8_lossy(&text.stdout).contains("logreg.auc"));
}

#[test]
fn human_output_has_split_and_metrics_tables() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "tables");
    let out = run_ok(tenure().arg("run").arg(&exp));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["fold 1", "fold 2", "test", "2023-07-01", "auc", "report:"] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("device:"), "device line missing: {stderr}");
}

#[test]
fn split_prints_each_fold_with_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "split");
    let out = run_ok(tenure().arg("split").arg(&exp).arg("--json"));
    let folds: Value = serde_json::from_slice(&out.stdout).unwrap();
    let folds = folds.as_array().unwrap();
    assert_eq!(folds.len(), 3);
    assert_eq!(folds[0]["valid_cutoff"], "2023-04-01");
    assert_eq!(folds[1]["valid_cutoff"], "2023-07-01");
    assert_eq!(folds[2]["name"], "test");
    for f in folds {
        assert!(f["train_rows"].as_u64().unwrap() > 0);
        assert!(f["valid_rows"].as_u64().unwrap() > 0);
    }
    let out = run_ok(tenure().arg("split").arg(&exp));
    assert!(String::from_utf8_lossy(&out.stdout).contains("train rows"));
}

#[test]
fn two_runs_at_once_into_one_store_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "concurrent");
    let children: Vec<_> = (0..2)
        .map(|_| {
            tenure()
                .arg("run")
                .arg(&exp)
                .arg("--json")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(v["run_id"].as_str().unwrap().to_string());
    }
    let store = dir.path().join("store");
    let list = run_ok(
        tenure()
            .args([
                "runs",
                "list",
                "--json",
                "--experiment",
                "concurrent",
                "--store",
            ])
            .arg(&store),
    );
    let runs: Value = serde_json::from_slice(&list.stdout).unwrap();
    let listed: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    for id in &ids {
        assert!(listed.contains(&id.as_str()));
        let show = run_ok(
            tenure()
                .args(["runs", "show", id, "--json", "--store"])
                .arg(&store),
        );
        let run: Value = serde_json::from_slice(&show.stdout).unwrap();
        assert_eq!(run["status"], "finished");
        for metric in [
            "logreg.auc",
            "logreg.brier",
            "logreg.log_loss",
            "logreg.pr_auc",
        ] {
            assert_eq!(
                run["metrics"][metric].as_array().unwrap().len(),
                2,
                "{metric}"
            );
        }
    }
}

#[test]
fn unknown_device_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write_experiment(dir.path(), "device");
    let out = tenure()
        .arg("run")
        .arg(&exp)
        .args(["--device", "tpu"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected auto, cpu, wgpu or cuda"));
}

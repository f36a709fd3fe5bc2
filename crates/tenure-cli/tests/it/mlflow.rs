//! `tenure run` with a real MLflow server as its tracking store, checked
//! through MLflow's own REST API against the same run on the local store.

use std::path::Path;

use serde_json::Value;
use tenure_mlflow::testing::MlflowServer;

use crate::common::{run_ok, tenure, write_experiment};

/// A JSON answer of MLflow's REST API.
fn rest(server: &MlflowServer, path: &str, query: &[(&str, &str)]) -> Value {
    serde_json::from_slice(&server.get(path, query)).unwrap()
}

/// Runs the experiment in `dir` with `extra` CLI arguments; returns the
/// `--json` summary.
fn run_experiment(config: &Path, extra: &[&str]) -> Value {
    let out = run_ok(
        tenure()
            .arg("run")
            .arg(config)
            .args(["--json", "--quiet"])
            .args(extra),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_run_on_mlflow_has_every_param_metric_step_and_artifact() {
    let server = MlflowServer::shared();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("cli-mlflow-{}", std::process::id());
    let config = write_experiment(dir.path(), &name);
    let local = run_experiment(&config, &[]);
    let remote = run_experiment(&config, &["--tracking-uri", &server.url]);
    let run_id = remote["run_id"].as_str().unwrap();
    assert!(
        remote["report"]
            .as_str()
            .unwrap()
            .starts_with("mlflow-artifacts:/")
    );

    let got = rest(server, "/api/2.0/mlflow/runs/get", &[("run_id", run_id)]);
    let info = &got["run"]["info"];
    assert_eq!(info["status"], "FINISHED");
    let exp = rest(
        server,
        "/api/2.0/mlflow/experiments/get",
        &[("experiment_id", info["experiment_id"].as_str().unwrap())],
    );
    assert_eq!(exp["experiment"]["name"], name.as_str());

    // Params and every metric step equal the local run's.
    let local_run: Value = serde_json::from_slice(
        &run_ok(
            tenure()
                .args([
                    "runs",
                    "show",
                    local["run_id"].as_str().unwrap(),
                    "--json",
                    "--store",
                ])
                .arg(dir.path().join("store")),
        )
        .stdout,
    )
    .unwrap();
    let params: serde_json::Map<String, Value> = got["run"]["data"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["key"].as_str().unwrap().to_string(), p["value"].clone()))
        .collect();
    assert_eq!(&params, local_run["params"].as_object().unwrap());
    let local_metrics = local_run["metrics"].as_object().unwrap();
    assert!(!local_metrics.is_empty());
    for (key, points) in local_metrics {
        let h = rest(
            server,
            "/api/2.0/mlflow/metrics/get-history",
            &[("run_id", run_id), ("metric_key", key)],
        );
        let mut remote_points: Vec<(i64, f64)> = h["metrics"]
            .as_array()
            .unwrap_or_else(|| panic!("metric {key} missing on the server"))
            .iter()
            .map(|m| (m["step"].as_i64().unwrap(), m["value"].as_f64().unwrap()))
            .collect();
        remote_points.sort_by_key(|p| p.0);
        let mut local_points: Vec<(i64, f64)> = points
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["step"].as_i64().unwrap(), p["value"].as_f64().unwrap()))
            .collect();
        local_points.sort_by_key(|p| p.0);
        assert_eq!(remote_points, local_points, "metric {key}");
    }

    // Artifacts: deterministic ones byte-identical to the local run's; the
    // report identical once its run id is swapped.
    let artifacts = |rel: &str| server.get("/get-artifact", &[("path", rel), ("run_uuid", run_id)]);
    let local_art = |rel: &str| {
        std::fs::read(
            Path::new(local["store"].as_str().unwrap())
                .join(local["experiment_id"].as_str().unwrap())
                .join(local["run_id"].as_str().unwrap())
                .join("artifacts")
                .join(rel),
        )
        .unwrap()
    };
    for rel in ["config.toml", "split.json"] {
        assert_eq!(artifacts(rel), local_art(rel), "{rel}");
    }
    let report = String::from_utf8(artifacts("report.html")).unwrap();
    let local_report = String::from_utf8(local_art("report.html"))
        .unwrap()
        .replace(local["run_id"].as_str().unwrap(), run_id);
    assert_eq!(report, local_report);

    // `runs list/show` read the server like the local store.
    let listed = run_ok(tenure().args(["runs", "list", "--json", "--tracking-uri", &server.url]));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["run_id"] == run_id)
    );
    let shown = run_ok(tenure().args([
        "runs",
        "show",
        run_id,
        "--json",
        "--tracking-uri",
        &server.url,
    ]));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["params"], local_run["params"]);
    assert_eq!(
        shown["artifacts"], local_run["artifacts"],
        "same artifact list on both stores"
    );
    assert_eq!(
        shown["metrics"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        local_metrics.keys().collect::<Vec<_>>()
    );
}

#[test]
fn the_environment_variable_selects_the_server() {
    let server = MlflowServer::shared();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("cli-env-{}", std::process::id());
    let config = write_experiment(dir.path(), &name);
    // Without tracking.uri in the config, MLFLOW_TRACKING_URI decides.
    let text = std::fs::read_to_string(&config).unwrap();
    let cut = text.find("[tracking]").unwrap();
    std::fs::write(&config, &text[..cut]).unwrap();
    let out = run_ok(
        tenure()
            .arg("run")
            .arg(&config)
            .args(["--json", "--quiet"])
            .env("MLFLOW_TRACKING_URI", &server.url),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["store"], server.url.as_str());
    let got = rest(
        server,
        "/api/2.0/mlflow/runs/get",
        &[("run_id", v["run_id"].as_str().unwrap())],
    );
    assert_eq!(got["run"]["info"]["status"], "FINISHED");
}

#[test]
fn a_server_that_is_down_fails_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tenure()
        .args([
            "runs",
            "list",
            "--tracking-uri",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("MLFLOW_TRACKING_TOKEN", "top-secret-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unavailable"), "{err}");
    assert!(!err.contains("top-secret-token"), "{err}");
}

#[test]
fn a_run_that_fails_midway_is_marked_failed_on_the_server() {
    // A private server whose artifact store cannot be written: the run is
    // created, its params and metrics logged, then the first artifact
    // upload fails (HTTP 500, retried, then given up).
    let server = MlflowServer::start();
    let artifacts = server.artifacts_dir();
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::write(&artifacts, b"not a directory").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let name = format!("cli-failing-{}", std::process::id());
    let config = write_experiment(dir.path(), &name);
    let out = tenure()
        .arg("run")
        .arg(&config)
        .args(["--json", "--quiet", "--tracking-uri", &server.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unavailable"), "{err}");

    let exp = rest(
        &server,
        "/api/2.0/mlflow/experiments/get-by-name",
        &[("experiment_name", &name)],
    );
    let id = exp["experiment"]["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = serde_json::to_vec(&serde_json::json!({"experiment_ids": [id]})).unwrap();
    let runs: Value =
        serde_json::from_slice(&server.post("/api/2.0/mlflow/runs/search", &body)).unwrap();
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["info"]["status"], "FAILED");
    assert!(runs[0]["info"]["end_time"].as_i64().is_some());
    let tags = runs[0]["data"]["tags"].as_array().unwrap();
    assert!(tags.iter().any(|t| t["key"] == "tenure.error"));
}

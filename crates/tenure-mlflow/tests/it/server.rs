//! What tenure writes, read back through MLflow's own REST API and the
//! server's artifact directory: MLflow sees the same runs, files and
//! registry entries that tenure does.

use serde_json::Value;
use tenure_mlflow::testing::MlflowServer;
use tenure_mlflow::{MlflowRegistry, MlflowStore};
use tenure_store::registry::{Candidate, sha256_hex};
use tenure_store::{ModelRegistry, RunStatus, TrackingStore};

use crate::conformance::{model_run, unique};

fn get(server: &MlflowServer, path: &str, query: &[(&str, &str)]) -> Value {
    let resp = reqwest::blocking::Client::new()
        .get(format!("{}{path}", server.url))
        .query(query)
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().unwrap()
}

#[test]
fn runs_metrics_and_artifacts_as_mlflow_sees_them() {
    let server = MlflowServer::shared();
    let store = MlflowStore::connect(&server.url).unwrap();
    let exp = store.get_or_create_experiment(&unique("seen")).unwrap();
    let run = store.create_run(&exp, "visible", &[]).unwrap();
    store.log_param(&run, "model.kind", "gbdt").unwrap();
    for step in 0..5 {
        store
            .log_metric(&run, "auc", 0.5 + step as f64 / 10.0, step)
            .unwrap();
    }
    store.log_metric(&run, "nan_metric", f64::NAN, 0).unwrap();
    let onnx: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    store
        .log_artifact_bytes(&run, "models/gbdt/model.onnx", &onnx)
        .unwrap();
    store.end_run(&run, RunStatus::Finished).unwrap();

    let r = get(server, "/api/2.0/mlflow/runs/get", &[("run_id", &run)]);
    assert_eq!(r["run"]["info"]["status"], "FINISHED");
    assert_eq!(r["run"]["info"]["run_name"], "visible");
    assert_eq!(r["run"]["data"]["params"][0]["value"], "gbdt");
    let h = get(
        server,
        "/api/2.0/mlflow/metrics/get-history",
        &[("run_id", &run), ("metric_key", "auc")],
    );
    let steps: Vec<i64> = h["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps.len(), 5);
    let h = get(
        server,
        "/api/2.0/mlflow/metrics/get-history",
        &[("run_id", &run), ("metric_key", "nan_metric")],
    );
    assert_eq!(h["metrics"][0]["value"], "NaN");

    // On the server's disk and through its UI download route, byte for byte.
    let on_disk = server
        .artifacts_dir()
        .join(&exp)
        .join(&run)
        .join("artifacts/models/gbdt/model.onnx");
    assert_eq!(std::fs::read(on_disk).unwrap(), onnx);
    let via_ui = reqwest::blocking::Client::new()
        .get(format!("{}/get-artifact", server.url))
        .query(&[("path", "models/gbdt/model.onnx"), ("run_uuid", &run)])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(sha256_hex(&via_ui), sha256_hex(&onnx));
}

#[test]
fn registered_versions_are_mlflow_model_versions() {
    let server = MlflowServer::shared();
    let store = MlflowStore::connect(&server.url).unwrap();
    let reg = MlflowRegistry::connect(&server.url).unwrap();
    let name = unique("mv");
    let run = model_run(&store, b"model bytes", 0.9);
    let v = reg
        .register(&name, &Candidate::from_run(&store, &run, None).unwrap())
        .unwrap();
    reg.set_alias(&name, "champion", v.version, "ci", "first")
        .unwrap();

    let mv = get(
        server,
        "/api/2.0/mlflow/model-versions/get",
        &[("name", &name), ("version", "1")],
    );
    let source = mv["model_version"]["source"].as_str().unwrap();
    assert!(source.starts_with("mlflow-artifacts:/"), "{source}");
    assert!(
        source.ends_with(&format!("{run}/artifacts/models/gbdt")),
        "{source}"
    );
    assert_eq!(mv["model_version"]["run_id"], run.as_str());
    let alias = get(
        server,
        "/api/2.0/mlflow/registered-models/alias",
        &[("name", &name), ("alias", "champion")],
    );
    assert_eq!(alias["model_version"]["version"], "1");
    // MLflow's own model-version download route serves the same bytes.
    let bytes = reqwest::blocking::Client::new()
        .get(format!("{}/model-versions/get-artifact", server.url))
        .query(&[("path", "model.onnx"), ("name", &name), ("version", "1")])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&bytes[..], b"model bytes");
}

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

/// A proxy in front of `upstream` that carries every request out but, for
/// the first request to each path in `fail_once`, answers 502 instead of
/// the server's answer: a gateway that timed out after the server did the
/// work. Returns the proxy's URL.
fn lossy_gateway(upstream: &str, fail_once: &'static [&'static str]) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        let mut failed: Vec<&str> = Vec::new();
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut head = Vec::new();
            let mut length = 0usize;
            let mut request_line = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if request_line.is_empty() {
                    request_line = line.clone();
                }
                if !lower.starts_with("connection:") {
                    head.push(line);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut server = TcpStream::connect(&upstream).unwrap();
            server.write_all(head.concat().as_bytes()).unwrap();
            server.write_all(b"Connection: close\r\n\r\n").unwrap();
            server.write_all(&body).unwrap();
            let mut answer = Vec::new();
            server.read_to_end(&mut answer).unwrap();
            let path = request_line.split(' ').nth(1).unwrap_or("");
            let lose = fail_once
                .iter()
                .find(|p| path.ends_with(**p) && !failed.contains(p));
            if let Some(p) = lose {
                failed.push(p);
                let _ = client.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntimeout",
                );
                continue;
            }
            // The server's answer, with the connection closed after it.
            let split = answer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("an HTTP answer");
            let text = String::from_utf8_lossy(&answer[..split]).to_string();
            let mut out: Vec<u8> = text
                .split("\r\n")
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .flat_map(|l| format!("{l}\r\n").into_bytes())
                .collect();
            out.extend_from_slice(b"Connection: close\r\n\r\n");
            out.extend_from_slice(&answer[split + 4..]);
            let _ = client.write_all(&out);
        }
    });
    url
}

/// A create request the server carried out but whose answer was lost (a
/// 502 from a gateway) is not sent again blindly: the client finds the run
/// or version its first request made, so there is exactly one of each, and
/// the token it looked for stays out of the tags tenure shows.
#[test]
fn lost_answers_to_creates_make_no_duplicate_runs_or_versions() {
    let server = MlflowServer::shared();
    let gateway = lossy_gateway(
        &server.url,
        &[
            "/api/2.0/mlflow/runs/create",
            "/api/2.0/mlflow/model-versions/create",
        ],
    );
    let retry = tenure_mlflow::RetryPolicy {
        max_retries: 3,
        initial_backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_millis(20),
    };
    let client = || {
        tenure_mlflow::MlflowClient::with_auth(&gateway, tenure_mlflow::Auth::None)
            .unwrap()
            .with_retry(retry)
    };
    let store = MlflowStore::new(client());
    let exp = store.get_or_create_experiment(&unique("lost")).unwrap();
    let run = store
        .create_run(&exp, "once", &[("team", "growth")])
        .unwrap();
    let runs = store.list_runs(Some(&exp)).unwrap();
    assert_eq!(runs.len(), 1, "one run, not one per try");
    assert_eq!(runs[0].run_id, run);
    let tags = store.get_run(&run).unwrap().tags;
    assert_eq!(tags.get("team").map(String::as_str), Some("growth"));
    assert!(tags.keys().all(|k| !k.contains("create_token")), "{tags:?}");

    store.end_run(&run, RunStatus::Finished).unwrap();
    let reg = MlflowRegistry::new(MlflowStore::new(client()));
    let name = unique("lost-mv");
    let direct = MlflowStore::connect(&server.url).unwrap();
    let trained = model_run(&direct, b"weights", 0.8);
    let v = reg
        .register(
            &name,
            &Candidate::from_run(&direct, &trained, None).unwrap(),
        )
        .unwrap();
    assert_eq!(v.version, 1);
    let versions = get(
        server,
        "/api/2.0/mlflow/model-versions/search",
        &[("filter", &format!("name='{name}'"))],
    );
    assert_eq!(versions["model_versions"].as_array().unwrap().len(), 1);
    let shown = reg.get_version(&name, 1).unwrap();
    assert!(shown.tags.keys().all(|k| !k.contains("create_token")));
}

//! Body of the `mlflow_response` fuzz target in `fuzz/` (cargo-fuzz,
//! nightly), shared with the stable tests that replay its corpus and with
//! the property tests: whatever a server answers, every call of the
//! tracking store and the registry ends in a value or a typed
//! [`tenure_store::StoreError`], never a panic.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tenure_store::registry::{Candidate, CandidateFile, Lineage, ModelRef};
use tenure_store::{Metric, ModelRegistry, RunStatus, TrackingStore};

use crate::{MlflowClient, MlflowRegistry, MlflowStore, RetryPolicy};

/// Statuses the first byte picks from: successes, MLflow's error classes,
/// and the retried ones (retries are off here).
const STATUSES: [u16; 12] = [200, 200, 200, 201, 204, 400, 401, 403, 404, 405, 429, 500];

#[derive(Debug, Default)]
struct Reply {
    status: u16,
    json: bool,
    body: Vec<u8>,
}

/// A loopback HTTP server answering every request with the current reply.
fn server() -> Option<&'static (String, Arc<Mutex<Reply>>)> {
    static SERVER: OnceLock<Option<(String, Arc<Mutex<Reply>>)>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let listener = TcpListener::bind("127.0.0.1:0").ok()?;
            let url = format!("http://{}", listener.local_addr().ok()?);
            let reply = Arc::new(Mutex::new(Reply::default()));
            let shared = reply.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let Ok(read_half) = stream.try_clone() else {
                        continue;
                    };
                    let mut reader = BufReader::new(read_half);
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut request = vec![0; length];
                    let _ = reader.read_exact(&mut request);
                    let r = shared.lock().unwrap_or_else(|e| e.into_inner());
                    let head = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        r.status,
                        if r.json { "application/json" } else { "text/html" },
                        r.body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&r.body);
                }
            });
            Some((url, reply))
        })
        .as_ref()
}

/// The first byte picks the HTTP status and the content type; the rest is
/// the body every request of this input is answered with.
pub fn response_body(data: &[u8]) {
    // One input at a time: the server has one reply.
    static SERIAL: Mutex<()> = Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let Some((url, reply)) = server() else {
        return;
    };
    {
        let mut r = reply.lock().unwrap_or_else(|e| e.into_inner());
        r.status = STATUSES[usize::from(pick) % STATUSES.len()];
        r.json = pick & 0x80 == 0;
        r.body = body.to_vec();
    }
    let no_retry = RetryPolicy {
        max_retries: 0,
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };
    let Ok(client) = MlflowClient::with_auth(url, crate::Auth::None) else {
        return;
    };
    exercise(MlflowStore::new(client.with_retry(no_retry)));
}

/// Every call of the tracking store and the registry. Results are ignored:
/// only a panic is a failure.
fn exercise(store: MlflowStore) {
    let run = "0123456789abcdef0123456789abcdef";
    let _ = store.get_or_create_experiment("fuzz");
    let _ = store.experiment_by_name("fuzz");
    let _ = store.list_experiments();
    let _ = store.create_run("1", "fuzz", &[("k", "v")]);
    let _ = store.log_batch(
        run,
        &[Metric::now("auc", 0.5, 0), Metric::now("nan", f64::NAN, 1)],
        &[("p", "1")],
        &[("t", "x")],
    );
    let _ = store.log_artifact_bytes(run, "models/m/model.onnx", b"onnx");
    let _ = store.read_artifact(run, "models/m/model.onnx");
    let _ = store.artifact_location(run, "models/m");
    let _ = store.end_run(run, RunStatus::Killed);
    let _ = store.list_runs(Some("1"));
    let _ = store.list_runs(None);
    let _ = store.get_run(run);
    let registry = MlflowRegistry::new(store);
    let candidate = Candidate {
        source: "runs:/0123456789abcdef0123456789abcdef/models/m".into(),
        files: vec![CandidateFile {
            name: "model.onnx".into(),
            run_path: "models/m/model.onnx".into(),
            bytes: b"onnx".to_vec(),
        }],
        lineage: Lineage {
            run_id: run.into(),
            experiment_id: "1".into(),
            model: "m".into(),
            ..Lineage::default()
        },
    };
    let _ = registry.register("churn", &candidate);
    let _ = registry.list_models();
    let _ = registry.get_model("churn");
    if let Ok(versions) = registry.list_versions("churn") {
        for v in versions.iter().take(3) {
            let _ = registry.read_file(v, "model.onnx");
            let _ = registry.read_verified(v, "model.onnx");
        }
    }
    let _ = registry.get_version("churn", 1);
    let _ = registry.alias_version("churn", "champion");
    let _ = registry.set_alias("churn", "champion", 1, "fuzz", "why");
    let _ = registry.promotions("churn");
    let _ = registry.set_model_tag("churn", "k", "v");
    let _ = registry.set_version_tag("churn", 1, "k", "v");
    if let Ok(r) = "churn@champion".parse::<ModelRef>() {
        let _ = registry.resolve(&r);
    }
}

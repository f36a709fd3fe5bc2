//! A real `mlflow server` for tests: SQLite backend store and served
//! artifacts in a temporary directory, on a free loopback port.
//!
//! The Python comes from `TENURE_TEST_PYTHON` (set by
//! `source scripts/testenv/setup.sh`). The server runs under a small shell
//! watchdog in its own process group: when the test process exits — even
//! without dropping a server kept in a `static` — the watchdog signals the
//! whole group, so no `mlflow`/`uvicorn` process outlives the tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a cold start may take on a loaded 2-core machine (measured: 6 s
/// idle; compiling neighbours slow it several-fold).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct MlflowServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    child: Child,
}

/// The path of the test Python, or a panic that says how to get one.
pub fn test_python() -> PathBuf {
    match std::env::var_os("TENURE_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "TENURE_TEST_PYTHON is not set: these tests need a real MLflow server. Run \
             `source scripts/testenv/setup.sh` (or scripts/test.sh) first"
        ),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

impl MlflowServer {
    /// Starts a server and waits until `/health` answers.
    pub fn start() -> Self {
        let python = test_python();
        let dir = tempfile::tempdir().expect("temp dir for mlflow");
        let port = free_port();
        let db = dir.path().join("mlflow.db");
        let artifacts = dir.path().join("artifacts");
        let log = dir.path().join("server.log");
        // `exec`-less on purpose: the shell stays the group leader and
        // watches the test process.
        let script = r#"
"$PY" -m mlflow server --host 127.0.0.1 --port "$PORT" \
  --backend-store-uri "sqlite:///$DB" --artifacts-destination "$ARTIFACTS" \
  --serve-artifacts --workers 1 >"$LOG" 2>&1 &
while kill -0 "$TEST_PID" 2>/dev/null && kill -0 $! 2>/dev/null; do sleep 1; done
kill -TERM 0
"#;
        let child = std::os::unix::process::CommandExt::process_group(
            Command::new("sh")
                .arg("-c")
                .arg(script)
                .env("PY", &python)
                .env("PORT", port.to_string())
                .env("DB", &db)
                .env("ARTIFACTS", &artifacts)
                .env("LOG", &log)
                .env("TEST_PID", std::process::id().to_string())
                // The GenAI job runner adds ~2 GB of workers we do not use.
                .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            0,
        )
        .spawn()
        .expect("spawn sh for mlflow server");
        let mut server = Self {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            child,
        };
        server.wait_healthy(&log);
        server
    }

    /// One server for the whole test binary.
    pub fn shared() -> &'static MlflowServer {
        static SERVER: OnceLock<MlflowServer> = OnceLock::new();
        SERVER.get_or_init(MlflowServer::start)
    }

    fn wait_healthy(&mut self, log: &Path) {
        let started = Instant::now();
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mlflow server exited ({status}) before answering /health:\n{}",
                    tail(log)
                );
            }
            if let Ok(resp) = client.get(format!("{}/health", self.url)).send()
                && resp.status().is_success()
            {
                return;
            }
            assert!(
                started.elapsed() < STARTUP_TIMEOUT,
                "mlflow server did not answer /health within {STARTUP_TIMEOUT:?}:\n{}",
                tail(log)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The body of a GET on the server (`path` starts with `/`), for
    /// checking what MLflow itself answers; panics on a non-2xx status.
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Vec<u8> {
        let resp = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.url))
            .query(query)
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status();
        let body = resp.bytes().expect("read body").to_vec();
        assert!(
            status.is_success(),
            "GET {path} {query:?}: {status}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    /// The body of a JSON POST on the server; panics on a non-2xx status.
    pub fn post(&self, path: &str, json_body: &[u8]) -> Vec<u8> {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}{path}", self.url))
            .header("Content-Type", "application/json")
            .body(json_body.to_vec())
            .send()
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = resp.status();
        let body = resp.bytes().expect("read body").to_vec();
        assert!(
            status.is_success(),
            "POST {path}: {status}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    /// The server's directory of served artifacts.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.dir.path().join("artifacts")
    }
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        // Our own process group (the watchdog shell is its leader).
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

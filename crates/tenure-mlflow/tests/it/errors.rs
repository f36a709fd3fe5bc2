//! Failure handling against small fake HTTP servers on the loopback: bad
//! credentials, a server that is not MLflow, retries on 429/5xx, a dead
//! port. (The happy paths run against a real MLflow server.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure_mlflow::{Auth, MlflowClient, MlflowStore, RetryPolicy};
use tenure_store::{RemoteErrorKind, StoreError, TrackingStore};

struct Reply {
    status: u16,
    content_type: &'static str,
    body: &'static str,
    extra: &'static str,
}

/// Serves `replies` in order (the last one forever) and records each
/// request's head.
fn fake(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            log.lock().unwrap().push(head);
            let r = &replies[i.min(replies.len() - 1)];
            let _ = write!(
                stream,
                "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
                r.status,
                r.content_type,
                r.body.len(),
                r.extra,
                r.body
            );
        }
    });
    (url, seen)
}

fn store(url: &str, auth: Auth) -> MlflowStore {
    let retry = RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    MlflowStore::new(
        MlflowClient::with_auth(url, auth)
            .unwrap()
            .with_retry(retry),
    )
}

fn remote_kind(e: StoreError) -> (RemoteErrorKind, String) {
    match e {
        StoreError::Remote(r) => (r.kind, r.to_string()),
        other => panic!("expected a remote error, got {other}"),
    }
}

const EMPTY_SEARCH: &str = r#"{"experiments": []}"#;

#[test]
fn bad_credentials_say_so_and_never_echo_the_secret() {
    let (url, seen) = fake(vec![Reply {
        status: 401,
        content_type: "text/plain",
        body: "You are not authenticated.",
        extra: "WWW-Authenticate: Basic realm=\"mlflow\"\r\n",
    }]);
    let s = store(&url, Auth::Bearer("s3cret-token".into()));
    let (kind, msg) = remote_kind(s.list_experiments().unwrap_err());
    assert_eq!(kind, RemoteErrorKind::Unauthorized);
    assert!(msg.contains("MLFLOW_TRACKING_TOKEN"), "{msg}");
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(!format!("{s:?}").contains("s3cret"));
    let heads = seen.lock().unwrap();
    assert_eq!(heads.len(), 1, "401 is not retried");
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer s3cret-token")
    );
}

#[test]
fn basic_auth_is_sent() {
    let (url, seen) = fake(vec![Reply {
        status: 200,
        content_type: "application/json",
        body: EMPTY_SEARCH,
        extra: "",
    }]);
    let auth = Auth::Basic {
        username: "alice".into(),
        password: "pw".into(),
    };
    assert!(store(&url, auth).list_experiments().unwrap().is_empty());
    let head = seen.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.contains("authorization: basic ywxpy2u6chc="), "{head}");
}

#[test]
fn forbidden_carries_the_servers_reason() {
    let (url, _) = fake(vec![Reply {
        status: 403,
        content_type: "text/plain",
        body: "Invalid Host header",
        extra: "",
    }]);
    let (kind, msg) = remote_kind(store(&url, Auth::None).list_experiments().unwrap_err());
    assert_eq!(kind, RemoteErrorKind::Forbidden);
    assert!(msg.contains("Invalid Host header"), "{msg}");
}

#[test]
fn a_server_that_is_not_mlflow_is_named_as_such() {
    for (status, body) in [(404, "<html>Not Found</html>"), (200, "<html>hello</html>")] {
        let (url, _) = fake(vec![Reply {
            status,
            content_type: "text/html",
            body,
            extra: "",
        }]);
        let (kind, msg) = remote_kind(store(&url, Auth::None).list_experiments().unwrap_err());
        assert_eq!(kind, RemoteErrorKind::NotMlflow, "{status}: {msg}");
    }
}

#[test]
fn overload_and_server_errors_are_retried() {
    let (url, seen) = fake(vec![
        Reply {
            status: 503,
            content_type: "text/plain",
            body: "busy",
            extra: "",
        },
        Reply {
            status: 429,
            content_type: "text/plain",
            body: "slow down",
            extra: "Retry-After: 0\r\n",
        },
        Reply {
            status: 200,
            content_type: "application/json",
            body: EMPTY_SEARCH,
            extra: "",
        },
    ]);
    assert!(
        store(&url, Auth::None)
            .list_experiments()
            .unwrap()
            .is_empty()
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn persistent_server_errors_give_up_as_unavailable() {
    let (url, seen) = fake(vec![Reply {
        status: 500,
        content_type: "text/plain",
        body: "boom",
        extra: "",
    }]);
    let (kind, msg) = remote_kind(store(&url, Auth::None).list_experiments().unwrap_err());
    assert_eq!(kind, RemoteErrorKind::Unavailable);
    assert!(msg.contains("boom"), "{msg}");
    assert_eq!(seen.lock().unwrap().len(), 4, "one try and three retries");
}

#[test]
fn a_dead_port_is_unavailable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (kind, _) = remote_kind(
        store(&format!("http://127.0.0.1:{port}"), Auth::None)
            .list_experiments()
            .unwrap_err(),
    );
    assert_eq!(kind, RemoteErrorKind::Unavailable);
}

#[test]
fn mlflow_api_errors_keep_their_code() {
    let (url, _) = fake(vec![Reply {
        status: 400,
        content_type: "application/json",
        body: r#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad key"}"#,
        extra: "",
    }]);
    let (kind, msg) = remote_kind(store(&url, Auth::None).list_experiments().unwrap_err());
    assert_eq!(kind, RemoteErrorKind::Rejected);
    assert!(msg.contains("INVALID_PARAMETER_VALUE: bad key"), "{msg}");
}

#[test]
fn a_page_token_sent_twice_ends_the_listing_with_an_error() {
    // Found by fuzzing: a server repeating its page token kept every
    // listing going forever.
    let (url, seen) = fake(vec![Reply {
        status: 200,
        content_type: "application/json",
        body: r#"{"experiments": [{"experiment_id": "1", "name": "x"}], "next_page_token": "again"}"#,
        extra: "",
    }]);
    let (kind, msg) = remote_kind(store(&url, Auth::None).list_experiments().unwrap_err());
    assert_eq!(kind, RemoteErrorKind::NotMlflow);
    assert!(msg.contains("\"again\" twice"), "{msg}");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn an_artifact_folder_listing_itself_is_an_error() {
    // Found by fuzzing: a folder whose listing holds itself made the
    // artifact walk recurse until the stack overflowed.
    let (url, _) = fake(vec![
        Reply {
            status: 200,
            content_type: "application/json",
            body: r#"{"run": {"info": {"run_id": "r1", "experiment_id": "1", "artifact_uri": "mlflow-artifacts:/1/r1/artifacts"}, "data": {}}}"#,
            extra: "",
        },
        Reply {
            status: 200,
            content_type: "application/json",
            body: r#"{"files": [{"path": "models", "is_dir": true}]}"#,
            extra: "",
        },
    ]);
    let (kind, msg) = remote_kind(store(&url, Auth::None).get_run("r1").unwrap_err());
    assert_eq!(kind, RemoteErrorKind::NotMlflow);
    assert!(msg.contains("not inside it"), "{msg}");
}

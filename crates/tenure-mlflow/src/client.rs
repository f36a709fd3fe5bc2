//! HTTP plumbing: base URL, credentials, retries, and turning MLflow's
//! answers into typed errors.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tenure_store::{RemoteError, RemoteErrorKind};

pub(crate) type RemoteResult<T> = Result<T, RemoteError>;

/// Credentials, from the environment variables MLflow's own client reads.
/// `Debug` never shows them.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Basic { .. } => "Auth::Basic(<redacted>)",
            Auth::Bearer(_) => "Auth::Bearer(<redacted>)",
        })
    }
}

impl Auth {
    /// `MLFLOW_TRACKING_TOKEN` (bearer) wins over
    /// `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` (basic).
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(token) = var("MLFLOW_TRACKING_TOKEN") {
            return Auth::Bearer(token);
        }
        match (
            var("MLFLOW_TRACKING_USERNAME"),
            var("MLFLOW_TRACKING_PASSWORD"),
        ) {
            (Some(username), password) => Auth::Basic {
                username,
                password: password.unwrap_or_default(),
            },
            _ => Auth::None,
        }
    }

    fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Basic { username, password } => req.basic_auth(username, Some(password)),
            Auth::Bearer(token) => req.bearer_auth(token),
        }
    }
}

/// How often and how patiently to retry 429, 5xx and connection failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay before the first retry; doubled each time.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, retry: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_backoff)
    }
}

/// The tag by which [`MlflowClient::post_create`]'s `find` recognises what
/// its request created; readers leave it out of the tags they return.
pub(crate) const CREATE_TOKEN_TAG: &str = "tenure.create_token";

/// A token unique to one create request: 128 bits from the process's
/// randomly keyed hasher, the clock, the process id and a counter.
pub(crate) fn create_token() -> String {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    let keys = std::collections::hash_map::RandomState::new();
    format!(
        "{:016x}{:016x}",
        keys.hash_one((seed, 0u8)),
        keys.hash_one((seed, 1u8))
    )
}

/// What one try of a request came to.
enum Attempt {
    /// An answer to read: a success, or an error retrying cannot mend.
    Answer(Response),
    /// A failure worth another try after `wait`; `maybe_done` when the
    /// server may have carried the request out; `error` if no try is left.
    Retry {
        wait: Duration,
        maybe_done: bool,
        error: RemoteError,
    },
    Fail(RemoteError),
}

/// A connection to one MLflow server.
#[derive(Debug, Clone)]
pub struct MlflowClient {
    /// Without credentials or trailing slash.
    base: Url,
    http: Client,
    auth: Auth,
    retry: RetryPolicy,
}

/// MLflow's JSON error body.
#[derive(Debug, serde::Deserialize)]
struct ApiError {
    error_code: String,
    #[serde(default)]
    message: String,
}

impl MlflowClient {
    /// A client for `uri` (`http://` or `https://`), with credentials from
    /// the environment, or from the URI's user info if it has one.
    pub fn new(uri: &str) -> RemoteResult<Self> {
        Self::with_auth(uri, Auth::from_env())
    }

    pub fn with_auth(uri: &str, auth: Auth) -> RemoteResult<Self> {
        let bad = |message: String| RemoteError {
            kind: RemoteErrorKind::Rejected,
            url: redact(uri),
            status: None,
            message,
        };
        let mut base = Url::parse(uri).map_err(|e| bad(format!("not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad(
                "an MLflow tracking URI must be http:// or https://".into()
            ));
        }
        let mut auth = auth;
        if !base.username().is_empty() && matches!(auth, Auth::None) {
            auth = Auth::Basic {
                username: percent_decode(base.username()),
                password: percent_decode(base.password().unwrap_or("")),
            };
        }
        let _ = base.set_username("");
        let _ = base.set_password(None);
        let trimmed = base.path().trim_end_matches('/').to_string();
        base.set_path(&trimmed);
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| bad(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            base,
            http,
            auth,
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The server's base URL, without credentials.
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    /// `base` + `/` + `segments`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("http(s) URLs can have paths");
            path.pop_if_empty();
            for s in segments {
                path.extend(s.split('/'));
            }
        }
        url
    }

    fn error(
        &self,
        kind: RemoteErrorKind,
        url: &Url,
        status: Option<u16>,
        message: String,
    ) -> RemoteError {
        RemoteError {
            kind,
            url: url.to_string(),
            status,
            message,
        }
    }

    /// The error for an answer that parses but cannot be what an MLflow
    /// server means (a listing that never ends, a path outside its folder).
    pub(crate) fn malformed(&self, endpoint: &str, message: String) -> RemoteError {
        let url = self.url(&["api/2.0/mlflow", endpoint]);
        self.error(RemoteErrorKind::NotMlflow, &url, None, message)
    }

    /// Sends the request `build` makes, retrying connection failures, 429
    /// and 5xx with exponential backoff (or the server's `Retry-After`).
    pub(crate) fn send(
        &self,
        url: &Url,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> RemoteResult<Response> {
        let mut retry = 0;
        loop {
            match self.attempt(url, &build, retry) {
                Attempt::Answer(resp) => return Ok(resp),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { wait, error, .. } => {
                    if retry >= self.retry.max_retries {
                        return Err(error);
                    }
                    std::thread::sleep(wait.min(self.retry.max_backoff));
                    retry += 1;
                }
            }
        }
    }

    /// POSTs a request that creates something (a run, a model version),
    /// which a blind retry could create twice: a gateway's 5xx or a timeout
    /// can hide a request the server carried out. Once any try may have
    /// reached the server, every later one is preceded by `find`, which
    /// looks for what the request created (by a token its body carries)
    /// with the client it is given: one try, no retries, since a failed
    /// look only means "not known yet". A refused connection or a 429
    /// before that cannot have reached the server and is retried directly.
    pub(crate) fn post_create<T: DeserializeOwned, B: Serialize + ?Sized, E: From<RemoteError>>(
        &self,
        endpoint: &str,
        body: &B,
        find: impl Fn(&MlflowClient) -> Result<Option<T>, E>,
    ) -> Result<T, E> {
        let url = self.url(&["api/2.0/mlflow", endpoint]);
        let once = self.clone().with_retry(RetryPolicy {
            max_retries: 0,
            ..self.retry
        });
        let mut may_exist = false;
        let mut retry = 0;
        loop {
            match self.attempt(&url, |c| c.post(url.clone()).json(body), retry) {
                Attempt::Answer(resp) => return Ok(self.parse(&url, resp)?),
                Attempt::Fail(e) => return Err(e.into()),
                Attempt::Retry {
                    wait,
                    maybe_done,
                    error,
                } => {
                    may_exist |= maybe_done;
                    std::thread::sleep(wait.min(self.retry.max_backoff));
                    if may_exist && let Ok(Some(done)) = find(&once) {
                        return Ok(done);
                    }
                    if retry >= self.retry.max_retries {
                        return Err(error.into());
                    }
                    retry += 1;
                }
            }
        }
    }

    /// One try of a request; `retry` counts the tries before it.
    fn attempt(&self, url: &Url, build: impl Fn(&Client) -> RequestBuilder, retry: u32) -> Attempt {
        match self.auth.apply(build(&self.http)).send() {
            Ok(resp) => {
                let status = resp.status();
                let code = status.as_u16();
                if !(code == 429 || status.is_server_error()) {
                    return Attempt::Answer(resp);
                }
                let wait = retry_after(&resp).unwrap_or_else(|| self.retry.delay(retry));
                let body = body_snippet(resp);
                Attempt::Retry {
                    wait,
                    // 429: refused before any work. A 5xx may come from a
                    // proxy after the server did the work.
                    maybe_done: code != 429,
                    error: self.error(
                        RemoteErrorKind::Unavailable,
                        url,
                        Some(code),
                        format!("HTTP {code} after {} attempts: {body}", retry + 1),
                    ),
                }
            }
            Err(e) => {
                let error = self.error(
                    RemoteErrorKind::Unavailable,
                    url,
                    None,
                    format!(
                        "cannot reach the server after {} attempts: {}",
                        retry + 1,
                        error_chain(&e)
                    ),
                );
                if !(e.is_connect() || e.is_timeout() || e.is_request()) {
                    return Attempt::Fail(error);
                }
                Attempt::Retry {
                    wait: self.retry.delay(retry),
                    maybe_done: !e.is_connect(),
                    error,
                }
            }
        }
    }

    /// Checks an answer and parses its JSON body.
    pub(crate) fn parse<T: DeserializeOwned>(&self, url: &Url, resp: Response) -> RemoteResult<T> {
        let status = resp.status().as_u16();
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = resp.text().map_err(|e| {
            self.error(
                RemoteErrorKind::Unavailable,
                url,
                Some(status),
                format!("reading the answer failed: {}", error_chain(&e)),
            )
        })?;
        if (200..300).contains(&status) {
            let text = if text.trim().is_empty() { "{}" } else { &text };
            return serde_json::from_str(text).map_err(|e| {
                self.error(
                    RemoteErrorKind::NotMlflow,
                    url,
                    Some(status),
                    format!(
                        "the answer is not the JSON an MLflow server sends ({e}): {}",
                        snippet(text)
                    ),
                )
            });
        }
        Err(self.classify(url, status, is_json, &text))
    }

    /// Turns a non-2xx answer into an error whose kind says what to do.
    pub(crate) fn classify(
        &self,
        url: &Url,
        status: u16,
        is_json: bool,
        text: &str,
    ) -> RemoteError {
        let api: Option<ApiError> = if is_json {
            serde_json::from_str(text).ok()
        } else {
            None
        };
        let (kind, message) = match (status, api) {
            (401, api) => (
                RemoteErrorKind::Unauthorized,
                api.map_or_else(|| snippet(text), |a| a.message),
            ),
            (403, api) => (
                RemoteErrorKind::Forbidden,
                api.map_or_else(|| snippet(text), |a| a.message),
            ),
            (_, Some(api)) if api.error_code == "RESOURCE_DOES_NOT_EXIST" || status == 404 => {
                (RemoteErrorKind::NotFound, api.message)
            }
            (_, Some(api)) => (
                RemoteErrorKind::Rejected,
                format!("{}: {}", api.error_code, api.message),
            ),
            // Unknown routes and wrong methods answer HTML, not MLflow JSON.
            (404 | 405, None) => (
                RemoteErrorKind::NotMlflow,
                format!(
                    "HTTP {status} without an MLflow error body: is {} an MLflow tracking server? \
                     ({})",
                    self.base_url(),
                    snippet(text)
                ),
            ),
            (_, None) => (
                RemoteErrorKind::NotMlflow,
                format!("HTTP {status}: {}", snippet(text)),
            ),
        };
        self.error(kind, url, Some(status), message)
    }

    /// GET `/api/2.0/mlflow/<endpoint>?query`.
    pub(crate) fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        endpoint: &str,
        query: &Q,
    ) -> RemoteResult<T> {
        let url = self.url(&["api/2.0/mlflow", endpoint]);
        let resp = self.send(&url, |c| c.get(url.clone()).query(query))?;
        self.parse(&url, resp)
    }

    /// POST `/api/2.0/mlflow/<endpoint>` with a JSON body.
    pub(crate) fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        endpoint: &str,
        body: &B,
    ) -> RemoteResult<T> {
        let url = self.url(&["api/2.0/mlflow", endpoint]);
        let resp = self.send(&url, |c| c.post(url.clone()).json(body))?;
        self.parse(&url, resp)
    }

    /// Uploads through the artifact proxy (`mlflow-artifacts`).
    pub(crate) fn put_artifact(&self, path: &str, bytes: &[u8]) -> RemoteResult<()> {
        let url = self.url(&["api/2.0/mlflow-artifacts/artifacts", path]);
        let resp = self.send(&url, |c| c.put(url.clone()).body(bytes.to_vec()))?;
        self.parse::<serde_json::Value>(&url, resp).map(drop)
    }

    /// Downloads through the artifact proxy.
    pub(crate) fn get_artifact(&self, path: &str) -> RemoteResult<Vec<u8>> {
        let url = self.url(&["api/2.0/mlflow-artifacts/artifacts", path]);
        let resp = self.send(&url, |c| c.get(url.clone()))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let is_json = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let text = resp.text().unwrap_or_default();
            return Err(self.classify(&url, status, is_json, &text));
        }
        resp.bytes().map(|b| b.to_vec()).map_err(|e| {
            self.error(
                RemoteErrorKind::Unavailable,
                &url,
                Some(status),
                format!("download interrupted: {}", error_chain(&e)),
            )
        })
    }
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

fn body_snippet(resp: Response) -> String {
    snippet(&resp.text().unwrap_or_default())
}

fn snippet(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 200 {
        format!("{}…", one_line.chars().take(200).collect::<String>())
    } else if one_line.is_empty() {
        "(empty body)".into()
    } else {
        one_line
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The URI with any user info removed, for messages.
pub(crate) fn redact(uri: &str) -> String {
    match Url::parse(uri) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "<unparseable URI>".into(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The page tokens a paginated listing has followed. A server that hands
/// out a token twice would keep a listing going forever: that answer is an
/// error instead.
#[derive(Debug, Default)]
pub(crate) struct PageTokens(std::collections::HashSet<String>);

impl PageTokens {
    /// The token to ask for next, `None` at the end of the listing.
    pub(crate) fn next(
        &mut self,
        client: &MlflowClient,
        endpoint: &str,
        token: Option<String>,
    ) -> RemoteResult<Option<String>> {
        match token.filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) if self.0.contains(&t) => Err(client.malformed(
                endpoint,
                format!("the server sent the page token {t:?} twice: its listing would never end"),
            )),
            Some(t) => {
                self.0.insert(t.clone());
                Ok(Some(t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_never_show() {
        let c =
            MlflowClient::with_auth("http://alice:s%40cret@127.0.0.1:5000/", Auth::None).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:5000");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s@cret") && !shown.contains("alice"),
            "{shown}"
        );
        match &c.auth {
            Auth::Basic { username, password } => {
                assert_eq!((username.as_str(), password.as_str()), ("alice", "s@cret"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(redact("https://u:p@h/x"), "https://h/x");
    }

    #[test]
    fn urls_encode_segments() {
        let c = MlflowClient::with_auth("http://h:1/prefix/", Auth::None).unwrap();
        let u = c.url(&[
            "api/2.0/mlflow-artifacts/artifacts",
            "1/abc/artifacts/a b/c#d.txt",
        ]);
        assert_eq!(
            u.as_str(),
            "http://h:1/prefix/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a%20b/c%23d.txt"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0), Duration::from_millis(250));
        assert_eq!(p.delay(2), Duration::from_secs(1));
        assert_eq!(p.delay(10), Duration::from_secs(8));
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(MlflowClient::with_auth("file:///tmp/x", Auth::None).is_err());
        assert!(MlflowClient::with_auth("databricks", Auth::None).is_err());
    }
}

//! [`TrackingStore`] on an MLflow server.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenure_store::{
    Experiment, LifecycleStage, Metric, MetricPoint, RemoteError, RemoteErrorKind, Result, Run,
    RunInfo, RunStatus, StoreError, TrackingStore,
};

use crate::client::{CREATE_TOKEN_TAG, MlflowClient, PageTokens, RemoteResult, create_token};

/// The server's per-request limits on `runs/log-batch`.
pub const MAX_METRICS_PER_BATCH: usize = 1000;
pub const MAX_PARAMS_PER_BATCH: usize = 100;
pub const MAX_TAGS_PER_BATCH: usize = 100;
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;

const ARTIFACT_SCHEME: &str = "mlflow-artifacts:";

/// Runs, params, metrics, tags and artifacts on an MLflow tracking server.
#[derive(Debug)]
pub struct MlflowStore {
    client: MlflowClient,
    /// Run id → artifact root path on the proxy, so artifact calls need no
    /// extra round trip.
    artifact_roots: Mutex<HashMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Serialize)]
struct KeyValueRef<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Debug, Deserialize)]
struct WireExperiment {
    experiment_id: String,
    name: String,
    #[serde(default)]
    artifact_location: String,
    #[serde(default)]
    lifecycle_stage: String,
    creation_time: Option<i64>,
    last_update_time: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct WireRunInfo {
    run_id: String,
    experiment_id: String,
    #[serde(default)]
    run_name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    start_time: Option<i64>,
    end_time: Option<i64>,
    #[serde(default)]
    artifact_uri: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    lifecycle_stage: String,
}

#[derive(Debug, Deserialize, Default)]
struct WireRunData {
    #[serde(default)]
    metrics: Vec<WireMetric>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

#[derive(Debug, Deserialize)]
struct WireRun {
    info: WireRunInfo,
    #[serde(default)]
    data: WireRunData,
}

#[derive(Debug, Deserialize)]
struct WireMetric {
    key: String,
    value: Value,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    step: i64,
}

#[derive(Debug, Deserialize)]
struct FileInfo {
    path: String,
    #[serde(default)]
    is_dir: bool,
}

impl MlflowStore {
    pub fn new(client: MlflowClient) -> Self {
        Self {
            client,
            artifact_roots: Mutex::new(HashMap::new()),
        }
    }

    /// A store for `uri`, with credentials from the environment.
    pub fn connect(uri: &str) -> Result<Self> {
        Ok(Self::new(MlflowClient::new(uri)?))
    }

    pub fn client(&self) -> &MlflowClient {
        &self.client
    }

    fn run_not_found(&self, run_id: &str) -> impl FnOnce(RemoteError) -> StoreError {
        let run_id = run_id.to_string();
        let root = self.client.base_url().into();
        move |e| match e.kind {
            RemoteErrorKind::NotFound => StoreError::RunNotFound { run_id, root },
            _ => e.into(),
        }
    }

    fn run_info(&self, run_id: &str) -> Result<WireRun> {
        #[derive(Deserialize)]
        struct Resp {
            run: WireRun,
        }
        let resp: Resp = self
            .client
            .get("runs/get", &[("run_id", run_id)])
            .map_err(self.run_not_found(run_id))?;
        Ok(resp.run)
    }

    /// The run's artifact root as a path under the artifact proxy.
    fn artifact_root(&self, run_id: &str) -> Result<String> {
        if let Some(root) = self
            .artifact_roots
            .lock()
            .expect("not poisoned")
            .get(run_id)
        {
            return Ok(root.clone());
        }
        let uri = self.run_info(run_id)?.info.artifact_uri;
        let root = proxy_path(&uri).ok_or_else(|| {
            StoreError::Remote(RemoteError {
                kind: RemoteErrorKind::Rejected,
                url: self.client.base_url(),
                status: None,
                message: format!(
                    "run {run_id} keeps its artifacts at '{uri}', which tenure cannot reach over \
                     HTTP: start the server with --serve-artifacts (the default) so artifacts go \
                     through its mlflow-artifacts proxy"
                ),
            })
        })?;
        self.artifact_roots
            .lock()
            .expect("not poisoned")
            .insert(run_id.to_string(), root.clone());
        Ok(root)
    }

    /// Every artifact below `dir` (relative to the run root), recursively.
    fn list_artifacts(&self, run_id: &str, dir: &str, out: &mut Vec<String>) -> Result<()> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            files: Vec<FileInfo>,
        }
        let mut query = vec![("run_id", run_id)];
        if !dir.is_empty() {
            query.push(("path", dir));
        }
        let resp: Resp = self
            .client
            .get("artifacts/list", &query)
            .map_err(self.run_not_found(run_id))?;
        for f in resp.files {
            // Each folder must list paths strictly inside it, so the walk
            // ends whatever the server answers.
            let inside = if dir.is_empty() {
                !f.path.is_empty()
            } else {
                f.path
                    .strip_prefix(dir)
                    .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'))
            };
            if !inside {
                return Err(self
                    .client
                    .malformed(
                        "artifacts/list",
                        format!(
                            "listing {dir:?} of run {run_id} returned {:?}, which is not inside it",
                            f.path
                        ),
                    )
                    .into());
            }
            if f.is_dir {
                self.list_artifacts(run_id, &f.path, out)?;
            } else {
                out.push(f.path);
            }
        }
        Ok(())
    }

    fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<MetricPoint>> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            metrics: Vec<WireMetric>,
            next_page_token: Option<String>,
        }
        let mut points = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = PageTokens::default();
        loop {
            let mut query = vec![
                ("run_id", run_id.to_string()),
                ("metric_key", key.to_string()),
                ("max_results", "25000".to_string()),
            ];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let resp: Resp = self
                .client
                .get("metrics/get-history", &query)
                .map_err(self.run_not_found(run_id))?;
            for m in resp.metrics {
                points.push(MetricPoint {
                    timestamp_ms: m.timestamp,
                    value: decode_value(&m.value),
                    step: m.step,
                });
            }
            match pages.next(&self.client, "metrics/get-history", resp.next_page_token)? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        points.sort_by_key(|p| (p.step, p.timestamp_ms));
        Ok(points)
    }

    /// Posts one `log-batch` request; translates the server's refusal to
    /// change a param into the same error the local store gives.
    fn post_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[(&str, &str)],
        tags: &[(&str, &str)],
    ) -> Result<()> {
        let body = json!({
            "run_id": run_id,
            "metrics": metrics.iter().map(|m| json!({
                "key": m.key,
                "value": encode_value(m.value),
                "timestamp": m.timestamp_ms,
                "step": m.step,
            })).collect::<Vec<_>>(),
            "params": params.iter().map(|(key, value)| KeyValueRef { key, value }).collect::<Vec<_>>(),
            "tags": tags.iter().map(|(key, value)| KeyValueRef { key, value }).collect::<Vec<_>>(),
        });
        match self.client.post::<Value, _>("runs/log-batch", &body) {
            Ok(_) => Ok(()),
            Err(e) if e.kind == RemoteErrorKind::Rejected && !params.is_empty() => {
                let logged = self.run_info(run_id)?.data.params;
                for (key, new) in params {
                    if let Some(old) = logged.iter().find(|p| p.key == *key)
                        && old.value != *new
                    {
                        return Err(StoreError::ParamChanged {
                            run_id: run_id.to_string(),
                            key: key.to_string(),
                            old: old.value.clone(),
                            new: new.to_string(),
                        });
                    }
                }
                Err(e.into())
            }
            Err(e) => Err(self.run_not_found(run_id)(e)),
        }
    }
}

/// `mlflow-artifacts:/a/b` or `mlflow-artifacts://host:port/a/b` → `a/b`.
fn proxy_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix(ARTIFACT_SCHEME)?;
    let path = match rest.strip_prefix("//") {
        Some(with_host) => with_host.split_once('/').map_or("", |(_, p)| p),
        None => rest,
    };
    Some(path.trim_matches('/').to_string())
}

/// MLflow's JSON spelling of a metric value: non-finite values as strings.
fn encode_value(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v == f64::INFINITY {
        json!("Infinity")
    } else if v == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(v)
    }
}

/// The inverse of [`encode_value`]. The SQL store keeps infinities as
/// ±1.7976931348623157e308 (the largest double), which we map back.
fn decode_value(v: &Value) -> f64 {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x == f64::MAX {
                f64::INFINITY
            } else if x == f64::MIN {
                f64::NEG_INFINITY
            } else {
                x
            }
        }
        Value::String(s) => match s.as_str() {
            "Infinity" | "inf" => f64::INFINITY,
            "-Infinity" | "-inf" => f64::NEG_INFINITY,
            other => other.parse().unwrap_or(f64::NAN),
        },
        _ => f64::NAN,
    }
}

fn to_run_info(w: WireRunInfo) -> RunInfo {
    RunInfo {
        run_id: w.run_id,
        experiment_id: w.experiment_id,
        run_name: w.run_name,
        status: RunStatus::from_name(&w.status).unwrap_or(RunStatus::Running),
        start_time_ms: w.start_time.unwrap_or(0),
        end_time_ms: w.end_time,
        artifact_uri: w.artifact_uri,
        user_id: w.user_id,
        lifecycle_stage: stage(&w.lifecycle_stage),
    }
}

fn stage(s: &str) -> LifecycleStage {
    if s == "deleted" {
        LifecycleStage::Deleted
    } else {
        LifecycleStage::Active
    }
}

fn to_experiment(w: WireExperiment) -> Experiment {
    Experiment {
        experiment_id: w.experiment_id,
        name: w.name,
        artifact_location: w.artifact_location,
        lifecycle_stage: stage(&w.lifecycle_stage),
        creation_time_ms: w.creation_time,
        last_update_time_ms: w.last_update_time,
    }
}

/// Params or tags of a batch: key, value.
type Pairs<'a> = &'a [(&'a str, &'a str)];

/// Splits a batch so that no request exceeds the server's limits.
fn chunks<'a>(
    metrics: &'a [Metric],
    params: Pairs<'a>,
    tags: Pairs<'a>,
) -> Vec<(&'a [Metric], Pairs<'a>, Pairs<'a>)> {
    let mut out = Vec::new();
    let (mut m, mut p, mut t) = (0, 0, 0);
    while m < metrics.len() || p < params.len() || t < tags.len() || out.is_empty() {
        let np = (params.len() - p).min(MAX_PARAMS_PER_BATCH);
        let nt = (tags.len() - t).min(MAX_TAGS_PER_BATCH);
        let nm = (metrics.len() - m)
            .min(MAX_METRICS_PER_BATCH)
            .min(MAX_ENTITIES_PER_BATCH - np - nt);
        out.push((&metrics[m..m + nm], &params[p..p + np], &tags[t..t + nt]));
        m += nm;
        p += np;
        t += nt;
    }
    out
}

impl TrackingStore for MlflowStore {
    fn location(&self) -> String {
        self.client.base_url()
    }

    fn get_or_create_experiment(&self, name: &str) -> Result<String> {
        if let Some(exp) = self.experiment_by_name_any_stage(name)? {
            if exp.lifecycle_stage == LifecycleStage::Deleted {
                return Err(StoreError::ExperimentDeleted {
                    name: name.to_string(),
                    experiment_id: exp.experiment_id,
                });
            }
            return Ok(exp.experiment_id);
        }
        #[derive(Deserialize)]
        struct Created {
            experiment_id: String,
        }
        match self
            .client
            .post::<Created, _>("experiments/create", &json!({ "name": name }))
        {
            Ok(c) => Ok(c.experiment_id),
            // Another client created it between our look and our create.
            Err(e) if e.message.starts_with("RESOURCE_ALREADY_EXISTS") => self
                .experiment_by_name_any_stage(name)?
                .map(|e| e.experiment_id)
                .ok_or_else(|| e.into()),
            Err(e) => Err(e.into()),
        }
    }

    fn experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
        Ok(self
            .experiment_by_name_any_stage(name)?
            .filter(|e| e.lifecycle_stage == LifecycleStage::Active))
    }

    fn list_experiments(&self) -> Result<Vec<Experiment>> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            experiments: Vec<WireExperiment>,
            next_page_token: Option<String>,
        }
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = PageTokens::default();
        loop {
            let mut body = json!({"max_results": 1000, "view_type": "ACTIVE_ONLY"});
            if let Some(t) = &token {
                body["page_token"] = json!(t);
            }
            let resp: Resp = self.client.post("experiments/search", &body)?;
            out.extend(resp.experiments.into_iter().map(to_experiment));
            match pages.next(&self.client, "experiments/search", resp.next_page_token)? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        out.sort_by(|a, b| id_order(&a.experiment_id).cmp(&id_order(&b.experiment_id)));
        Ok(out)
    }

    fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        tags: &[(&str, &str)],
    ) -> Result<String> {
        let user = current_user();
        let mut all: BTreeMap<&str, &str> = BTreeMap::new();
        all.insert("mlflow.user", &user);
        all.insert("mlflow.source.type", "LOCAL");
        all.extend(tags.iter().copied());
        let token = create_token();
        all.insert(CREATE_TOKEN_TAG, &token);
        let name = if run_name.is_empty() {
            all.get(tenure_store::RUN_NAME_TAG).copied().unwrap_or("")
        } else {
            run_name
        };
        let mut body = json!({
            "experiment_id": experiment_id,
            "start_time": now_ms(),
            "user_id": user,
            "tags": all.iter().map(|(key, value)| KeyValueRef { key, value }).collect::<Vec<_>>(),
        });
        if !name.is_empty() {
            body["run_name"] = json!(name);
        }
        #[derive(Deserialize)]
        struct Resp {
            run: WireRun,
        }
        let find = |client: &MlflowClient| -> RemoteResult<Option<Resp>> {
            let body = json!({
                "experiment_ids": [experiment_id],
                "filter": format!("tags.`{CREATE_TOKEN_TAG}` = '{token}'"),
                "run_view_type": "ALL",
                "max_results": 1,
            });
            #[derive(Deserialize)]
            struct Found {
                #[serde(default)]
                runs: Vec<WireRun>,
            }
            let found: Found = client.post("runs/search", &body)?;
            Ok(found.runs.into_iter().next().map(|run| Resp { run }))
        };
        let resp: Resp = self
            .client
            .post_create("runs/create", &body, find)
            .map_err(|e| match e.kind {
                RemoteErrorKind::NotFound => StoreError::ExperimentNotFound {
                    experiment_id: experiment_id.to_string(),
                    root: self.client.base_url().into(),
                },
                _ => e.into(),
            })?;
        let info = resp.run.info;
        if let Some(root) = proxy_path(&info.artifact_uri) {
            self.artifact_roots
                .lock()
                .expect("not poisoned")
                .insert(info.run_id.clone(), root);
        }
        Ok(info.run_id)
    }

    fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[(&str, &str)],
        tags: &[(&str, &str)],
    ) -> Result<()> {
        // The server rejects a batch naming one param twice, even with one
        // value; keep the first of identical pairs, let conflicts through.
        let mut unique: Vec<(&str, &str)> = Vec::with_capacity(params.len());
        for &(k, v) in params {
            if !unique.contains(&(k, v)) {
                unique.push((k, v));
            }
        }
        for (m, p, t) in chunks(metrics, &unique, tags) {
            self.post_batch(run_id, m, p, t)?;
        }
        Ok(())
    }

    fn log_artifact_bytes(&self, run_id: &str, rel_path: &str, bytes: &[u8]) -> Result<String> {
        check_artifact_path(rel_path)?;
        let root = self.artifact_root(run_id)?;
        self.client
            .put_artifact(&format!("{root}/{rel_path}"), bytes)?;
        Ok(format!("{ARTIFACT_SCHEME}/{root}/{rel_path}"))
    }

    fn read_artifact(&self, run_id: &str, rel_path: &str) -> Result<Vec<u8>> {
        check_artifact_path(rel_path)?;
        let root = self.artifact_root(run_id)?;
        Ok(self.client.get_artifact(&format!("{root}/{rel_path}"))?)
    }

    fn artifact_location(&self, run_id: &str, rel_path: &str) -> Result<String> {
        check_artifact_path(rel_path)?;
        let root = self.artifact_root(run_id)?;
        Ok(format!("{ARTIFACT_SCHEME}/{root}/{rel_path}"))
    }

    fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        let mut body = json!({"run_id": run_id, "status": status.as_str()});
        if status.is_terminal() {
            body["end_time"] = json!(now_ms());
        }
        self.client
            .post::<Value, _>("runs/update", &body)
            .map_err(self.run_not_found(run_id))?;
        Ok(())
    }

    fn list_runs(&self, experiment_id: Option<&str>) -> Result<Vec<RunInfo>> {
        let ids: Vec<String> = match experiment_id {
            Some(id) => vec![id.to_string()],
            None => self
                .list_experiments()?
                .into_iter()
                .map(|e| e.experiment_id)
                .collect(),
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            runs: Vec<WireRun>,
            next_page_token: Option<String>,
        }
        let mut runs = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = PageTokens::default();
        loop {
            let mut body = json!({
                "experiment_ids": ids,
                "max_results": 1000,
                "run_view_type": "ACTIVE_ONLY",
                "order_by": ["attributes.start_time DESC"],
            });
            if let Some(t) = &token {
                body["page_token"] = json!(t);
            }
            let resp: Resp = self.client.post("runs/search", &body)?;
            runs.extend(resp.runs.into_iter().map(|r| to_run_info(r.info)));
            match pages.next(&self.client, "runs/search", resp.next_page_token)? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        runs.sort_by(|a, b| {
            (std::cmp::Reverse(a.start_time_ms), &a.run_id)
                .cmp(&(std::cmp::Reverse(b.start_time_ms), &b.run_id))
        });
        Ok(runs)
    }

    fn get_run(&self, run_id: &str) -> Result<Run> {
        let wire = self.run_info(run_id)?;
        let mut metrics = BTreeMap::new();
        for m in &wire.data.metrics {
            metrics.insert(m.key.clone(), self.metric_history(run_id, &m.key)?);
        }
        let mut artifacts = Vec::new();
        self.list_artifacts(run_id, "", &mut artifacts)?;
        artifacts.sort();
        Ok(Run {
            params: wire
                .data
                .params
                .into_iter()
                .map(|kv| (kv.key, kv.value))
                .collect(),
            tags: wire
                .data
                .tags
                .into_iter()
                .filter(|kv| kv.key != CREATE_TOKEN_TAG)
                .map(|kv| (kv.key, kv.value))
                .collect(),
            info: to_run_info(wire.info),
            metrics,
            artifacts,
        })
    }
}

impl MlflowStore {
    fn experiment_by_name_any_stage(&self, name: &str) -> Result<Option<Experiment>> {
        #[derive(Deserialize)]
        struct Resp {
            experiment: WireExperiment,
        }
        match self
            .client
            .get::<Resp, _>("experiments/get-by-name", &[("experiment_name", name)])
        {
            Ok(r) => Ok(Some(to_experiment(r.experiment))),
            Err(e) if e.kind == RemoteErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The same rule as the local store: relative, `/`-separated, no `..`.
fn check_artifact_path(rel: &str) -> Result<()> {
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && rel
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..");
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey {
            kind: "artifact path",
            key: rel.to_string(),
            reason: "must be a relative '/'-separated path without '.', '..' or empty parts".into(),
        })
    }
}

fn id_order(id: &str) -> (u8, u128, &str) {
    match id.parse::<u128>() {
        Ok(n) => (0, n, id),
        Err(_) => (1, 0, id),
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_every_limit() {
        let metrics: Vec<Metric> = (0..2500).map(|i| Metric::now("m", i as f64, i)).collect();
        let keys: Vec<String> = (0..250).map(|i| format!("p{i}")).collect();
        let params: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
        let tags: Vec<(&str, &str)> = keys[..120].iter().map(|k| (k.as_str(), "t")).collect();
        let cs = chunks(&metrics, &params, &tags);
        for (m, p, t) in &cs {
            assert!(m.len() <= MAX_METRICS_PER_BATCH);
            assert!(p.len() <= MAX_PARAMS_PER_BATCH);
            assert!(t.len() <= MAX_TAGS_PER_BATCH);
            assert!(m.len() + p.len() + t.len() <= MAX_ENTITIES_PER_BATCH);
        }
        assert_eq!(cs.iter().map(|c| c.0.len()).sum::<usize>(), 2500);
        assert_eq!(cs.iter().map(|c| c.1.len()).sum::<usize>(), 250);
        assert_eq!(cs.iter().map(|c| c.2.len()).sum::<usize>(), 120);
        // Order is kept, so a metric history arrives in the order logged.
        let steps: Vec<i64> = cs.iter().flat_map(|c| c.0.iter().map(|m| m.step)).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(chunks(&[], &[], &[]).len(), 1);
    }

    #[test]
    fn non_finite_values_use_mlflow_spelling() {
        assert_eq!(encode_value(f64::NAN), json!("NaN"));
        assert_eq!(encode_value(f64::INFINITY), json!("Infinity"));
        assert_eq!(encode_value(f64::NEG_INFINITY), json!("-Infinity"));
        assert_eq!(encode_value(0.25), json!(0.25));
        assert!(decode_value(&json!("NaN")).is_nan());
        assert_eq!(decode_value(&json!(1.7976931348623157e308)), f64::INFINITY);
        assert_eq!(
            decode_value(&json!(-1.7976931348623157e308)),
            f64::NEG_INFINITY
        );
        assert_eq!(decode_value(&json!(0.5)), 0.5);
    }

    #[test]
    fn artifact_uris_map_to_proxy_paths() {
        assert_eq!(
            proxy_path("mlflow-artifacts:/1/abc/artifacts").unwrap(),
            "1/abc/artifacts"
        );
        assert_eq!(
            proxy_path("mlflow-artifacts://h:5000/1/abc/artifacts").unwrap(),
            "1/abc/artifacts"
        );
        assert!(proxy_path("s3://bucket/1/abc").is_none());
    }
}

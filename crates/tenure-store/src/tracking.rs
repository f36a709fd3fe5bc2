//! One interface to a tracking store, whichever store is behind it: the
//! embedded [`LocalStore`] or a remote MLflow server (`tenure-mlflow`).

use std::fmt::Debug;
use std::path::Path;

use crate::error::{Result, StoreError};
use crate::model::{Experiment, MetricPoint, Run, RunInfo, RunStatus};
use crate::store::LocalStore;

/// One metric value of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub timestamp_ms: i64,
    pub step: i64,
}

impl Metric {
    /// A value timestamped now.
    pub fn now(key: impl Into<String>, value: f64, step: i64) -> Self {
        Self {
            key: key.into(),
            value,
            timestamp_ms: crate::store::now_ms(),
            step,
        }
    }
}

/// What `tenure run`, `tenure runs` and the registry need from a tracking
/// store. Object safe: the runner holds a `Box<dyn TrackingStore>` chosen
/// from the tracking URI.
///
/// Semantics shared by every implementation (and checked by one test suite
/// run against each): params are immutable (same value again is a no-op, a
/// different one is an error); metric histories keep every point; runs are
/// listed newest first; artifact paths are `/`-separated and relative.
pub trait TrackingStore: Debug + Send + Sync {
    /// Where the store is, for messages: a directory or a server URL
    /// (never with credentials).
    fn location(&self) -> String;

    fn get_or_create_experiment(&self, name: &str) -> Result<String>;

    fn experiment_by_name(&self, name: &str) -> Result<Option<Experiment>>;

    /// Active experiments.
    fn list_experiments(&self) -> Result<Vec<Experiment>>;

    /// Starts a run and returns its id.
    fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        tags: &[(&str, &str)],
    ) -> Result<String>;

    /// Logs metrics, params and tags in as few round trips as the store
    /// allows.
    fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[(&str, &str)],
        tags: &[(&str, &str)],
    ) -> Result<()>;

    fn log_param(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        self.log_batch(run_id, &[], &[(key, value)], &[])
    }

    /// Logs one metric value, timestamped now.
    fn log_metric(&self, run_id: &str, key: &str, value: f64, step: i64) -> Result<()> {
        self.log_batch(run_id, &[Metric::now(key, value, step)], &[], &[])
    }

    fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        self.log_batch(run_id, &[], &[], &[(key, value)])
    }

    /// Stores an artifact (replacing any previous one) and returns where it
    /// lives: a file path or a URI.
    fn log_artifact_bytes(&self, run_id: &str, rel_path: &str, bytes: &[u8]) -> Result<String>;

    /// Copies a local file into the run's artifacts.
    fn log_artifact_file(&self, run_id: &str, src: &Path, rel_path: &str) -> Result<String> {
        let bytes = std::fs::read(src).map_err(StoreError::io("read artifact source", src))?;
        self.log_artifact_bytes(run_id, rel_path, &bytes)
    }

    /// The bytes of an artifact.
    fn read_artifact(&self, run_id: &str, rel_path: &str) -> Result<Vec<u8>>;

    /// Where artifact `rel_path` of the run lives, in the store's own terms
    /// (a path, or an `mlflow-artifacts:` URI), whether or not it exists.
    fn artifact_location(&self, run_id: &str, rel_path: &str) -> Result<String>;

    /// Records the run's final status (and its end time when terminal).
    fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()>;

    /// Active runs of one experiment, or of all, newest first.
    fn list_runs(&self, experiment_id: Option<&str>) -> Result<Vec<RunInfo>>;

    /// Everything logged to a run, with full metric histories.
    fn get_run(&self, run_id: &str) -> Result<Run>;
}

impl TrackingStore for LocalStore {
    fn location(&self) -> String {
        self.root().display().to_string()
    }

    fn get_or_create_experiment(&self, name: &str) -> Result<String> {
        LocalStore::get_or_create_experiment(self, name)
    }

    fn experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
        LocalStore::experiment_by_name(self, name)
    }

    fn list_experiments(&self) -> Result<Vec<Experiment>> {
        LocalStore::list_experiments(self)
    }

    fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        tags: &[(&str, &str)],
    ) -> Result<String> {
        LocalStore::create_run(self, experiment_id, run_name, tags)
    }

    fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[(&str, &str)],
        tags: &[(&str, &str)],
    ) -> Result<()> {
        for (key, value) in params {
            LocalStore::log_param(self, run_id, key, value)?;
        }
        // One file rewrite per key, however many points it gets.
        let mut by_key: std::collections::BTreeMap<&str, Vec<MetricPoint>> = Default::default();
        for m in metrics {
            by_key.entry(&m.key).or_default().push(MetricPoint {
                timestamp_ms: m.timestamp_ms,
                value: m.value,
                step: m.step,
            });
        }
        for (key, points) in by_key {
            LocalStore::log_metric_history(self, run_id, key, &points)?;
        }
        for (key, value) in tags {
            LocalStore::set_tag(self, run_id, key, value)?;
        }
        Ok(())
    }

    fn log_param(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        LocalStore::log_param(self, run_id, key, value)
    }

    fn log_metric(&self, run_id: &str, key: &str, value: f64, step: i64) -> Result<()> {
        LocalStore::log_metric(self, run_id, key, value, step)
    }

    fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        LocalStore::set_tag(self, run_id, key, value)
    }

    fn log_artifact_bytes(&self, run_id: &str, rel_path: &str, bytes: &[u8]) -> Result<String> {
        LocalStore::log_artifact_bytes(self, run_id, rel_path, bytes)
            .map(|p| p.display().to_string())
    }

    fn log_artifact_file(&self, run_id: &str, src: &Path, rel_path: &str) -> Result<String> {
        LocalStore::log_artifact_file(self, run_id, src, rel_path).map(|p| p.display().to_string())
    }

    fn read_artifact(&self, run_id: &str, rel_path: &str) -> Result<Vec<u8>> {
        let path = self.artifact_path(run_id, rel_path)?;
        std::fs::read(&path).map_err(StoreError::io("read artifact", &path))
    }

    fn artifact_location(&self, run_id: &str, rel_path: &str) -> Result<String> {
        self.artifact_path(run_id, rel_path)
            .map(|p| p.display().to_string())
    }

    fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        LocalStore::end_run(self, run_id, status)
    }

    fn list_runs(&self, experiment_id: Option<&str>) -> Result<Vec<RunInfo>> {
        LocalStore::list_runs(self, experiment_id)
    }

    fn get_run(&self, run_id: &str) -> Result<Run> {
        LocalStore::get_run(self, run_id)
    }
}

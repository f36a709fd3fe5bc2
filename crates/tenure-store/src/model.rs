use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Status of a run, with MLflow's integer codes (stored in `meta.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Scheduled,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    /// MLflow's `RunStatus` enum value.
    pub fn code(self) -> i64 {
        match self {
            RunStatus::Running => 1,
            RunStatus::Scheduled => 2,
            RunStatus::Finished => 3,
            RunStatus::Failed => 4,
            RunStatus::Killed => 5,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => RunStatus::Running,
            2 => RunStatus::Scheduled,
            3 => RunStatus::Finished,
            4 => RunStatus::Failed,
            5 => RunStatus::Killed,
            _ => return None,
        })
    }

    /// MLflow's string name (`"FINISHED"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            RunStatus::Running,
            RunStatus::Scheduled,
            RunStatus::Finished,
            RunStatus::Failed,
            RunStatus::Killed,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the run has stopped (successfully or not).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Failed | RunStatus::Killed
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// MLflow soft-deletes: a deleted experiment or run stays on disk (experiments
/// move to `.trash`) with this stage set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    Active,
    Deleted,
}

impl LifecycleStage {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Active => "active",
            LifecycleStage::Deleted => "deleted",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(LifecycleStage::Active),
            "deleted" => Some(LifecycleStage::Deleted),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: LifecycleStage,
    /// Missing in experiments written by old MLflow versions.
    pub creation_time_ms: Option<i64>,
    pub last_update_time_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub experiment_id: String,
    pub run_name: String,
    pub status: RunStatus,
    pub start_time_ms: i64,
    pub end_time_ms: Option<i64>,
    /// `file://` URI of the run's artifact directory, as MLflow records it.
    pub artifact_uri: String,
    pub user_id: String,
    pub lifecycle_stage: LifecycleStage,
}

/// One logged value of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub timestamp_ms: i64,
    pub value: f64,
    pub step: i64,
}

/// A run with everything logged to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub info: RunInfo,
    pub params: BTreeMap<String, String>,
    /// Full history of each metric, in the order it was logged.
    pub metrics: BTreeMap<String, Vec<MetricPoint>>,
    pub tags: BTreeMap<String, String>,
    /// Artifact paths relative to the run's artifact directory, `/`-separated,
    /// sorted.
    pub artifacts: Vec<String>,
}

impl Run {
    /// The last value logged at the highest step, which is what MLflow shows
    /// as a metric's value.
    pub fn latest_metric(&self, key: &str) -> Option<f64> {
        self.metrics
            .get(key)?
            .iter()
            .copied()
            .reduce(|best, p| {
                if (p.step, p.timestamp_ms) >= (best.step, best.timestamp_ms) {
                    p
                } else {
                    best
                }
            })
            .map(|p| p.value)
    }
}

//! Results against a baseline: a previous results file, or the metrics the
//! registry recorded for a model version (`NAME@ALIAS`, e.g. the champion).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tenure_store::registry::ModelRef;
use tenure_store::{ModelRegistry, TrackingStore};

use super::run::{BenchResults, SCHEMA};
use super::suite::{self, Suite, Tolerance};
use crate::{Result, RunnerError};

/// Where the baseline comes from, as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineRef {
    /// A previous results file of `tenure bench run`.
    File(PathBuf),
    /// A registered model version: its test metrics at registration.
    Registry(ModelRef),
}

impl BaselineRef {
    /// An existing file, else a `NAME@ALIAS` (or `NAME/VERSION`) registry
    /// reference; a `.json` name that does not exist is a missing file.
    pub fn parse(s: &str) -> Result<Self> {
        let path = Path::new(s);
        if path.exists() || s.ends_with(".json") || s.contains(std::path::MAIN_SEPARATOR) {
            if !path.is_file() {
                return Err(RunnerError::Io {
                    context: format!("baseline {s}"),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            return Ok(Self::File(path.to_path_buf()));
        }
        s.parse::<ModelRef>()
            .map(Self::Registry)
            .map_err(|e| RunnerError::Io {
                context: format!(
                    "baseline {s}: no such file, and not a registry reference NAME@ALIAS ({e})"
                ),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
    }
}

/// Baseline values by record id (`<entry>/<model>`) and metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Said in the table and the summary.
    pub source: String,
    pub values: BTreeMap<String, BTreeMap<String, f64>>,
}

/// Reads a results file of `tenure bench run`.
pub fn read_results(path: &Path) -> Result<BenchResults> {
    let text = std::fs::read_to_string(path).map_err(|source| RunnerError::Io {
        context: format!("cannot read {}", path.display()),
        source,
    })?;
    let results: BenchResults =
        serde_json::from_str(&text).map_err(|e| RunnerError::ConfigSyntax {
            path: path.to_path_buf(),
            message: format!("not a tenure bench results file: {e}"),
        })?;
    if results.schema != SCHEMA {
        return Err(RunnerError::Config {
            path: path.to_path_buf(),
            key: "schema".into(),
            reason: format!("`{}`, expected `{SCHEMA}`", results.schema),
        });
    }
    Ok(results)
}

impl Baseline {
    /// Every value of a previous results file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let r = read_results(path)?;
        Ok(Self::from_results(&r, &format!("{}", path.display())))
    }

    pub fn from_results(r: &BenchResults, name: &str) -> Self {
        let commit = r
            .git_commit
            .as_deref()
            .map(|c| format!(", commit {}", &c[..c.len().min(10)]))
            .unwrap_or_default();
        Self {
            source: format!("{name} ({}{commit})", r.started),
            values: r
                .entries
                .iter()
                .map(|e| (e.id.clone(), e.values()))
                .collect(),
        }
    }
}

/// A registered model version's test metrics and where they came from.
#[derive(Debug, Clone)]
pub struct Champion {
    pub reference: String,
    pub version: u64,
    pub run_id: String,
    /// The run's model the version was registered from.
    pub model: String,
    /// The name of the run's experiment, when the store knows it.
    pub experiment: Option<String>,
    pub test_metrics: BTreeMap<String, f64>,
}

impl Champion {
    /// Resolves `reference` in the registry; fails when it selects nothing.
    pub fn resolve(
        registry: &dyn ModelRegistry,
        store: &dyn TrackingStore,
        reference: &ModelRef,
    ) -> Result<Self> {
        let v = registry.resolve(reference)?;
        let experiment = store
            .list_experiments()
            .ok()
            .and_then(|all| {
                all.into_iter()
                    .find(|e| e.experiment_id == v.lineage.experiment_id)
            })
            .map(|e| e.name);
        Ok(Self {
            reference: reference.to_string(),
            version: v.version,
            run_id: v.lineage.run_id,
            model: v.lineage.model,
            experiment,
            test_metrics: v.lineage.test_metrics,
        })
    }

    /// The champion's metrics as the baseline of the one record of the
    /// same model (and experiment) in `results`.
    pub fn baseline_for(&self, results: &BenchResults) -> Result<Baseline> {
        let by_model: Vec<&str> = results
            .entries
            .iter()
            .filter(|e| e.model == self.model)
            .map(|e| e.id.as_str())
            .collect();
        let matching: Vec<&str> = results
            .entries
            .iter()
            .filter(|e| {
                e.model == self.model && self.experiment.as_ref().is_none_or(|x| &e.experiment == x)
            })
            .map(|e| e.id.as_str())
            .collect();
        let fail = |reason: String| RunnerError::Registration {
            name: self.reference.clone(),
            reason,
        };
        let id = match matching.as_slice() {
            [one] => one.to_string(),
            [] => {
                return Err(fail(format!(
                    "version {} was registered from model `{}` of experiment `{}`, which the \
                     suite does not bench (records with that model: {})",
                    self.version,
                    self.model,
                    self.experiment.as_deref().unwrap_or("?"),
                    if by_model.is_empty() {
                        "none".to_string()
                    } else {
                        by_model.join(", ")
                    }
                )));
            }
            many => {
                return Err(fail(format!(
                    "several records match model `{}`: {}; a registry baseline needs exactly one",
                    self.model,
                    many.join(", ")
                )));
            }
        };
        // The run also logged calibration measures under `test.`; the
        // bench measures the task's metrics only.
        let metrics = self
            .test_metrics
            .iter()
            .filter(|(m, _)| tenure_metrics::METRICS.iter().any(|(k, _)| k == m))
            .map(|(m, v)| (m.clone(), *v))
            .collect();
        Ok(Baseline {
            source: format!(
                "registry {} (version {}, run {})",
                self.reference, self.version, self.run_id
            ),
            values: BTreeMap::from([(id, metrics)]),
        })
    }
}

/// How one value compares with its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Improved,
    Regressed,
    /// The baseline has the metric; this run has no finite value of it.
    Missing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Improved => "improved",
            Status::Regressed => "REGRESSED",
            Status::Missing => "MISSING",
        }
    }

    pub fn is_bad(self) -> bool {
        matches!(self, Status::Regressed | Status::Missing)
    }
}

/// One metric of one record against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub id: String,
    pub metric: String,
    /// Speed or memory (reported; gated only on request) rather than quality.
    pub speed: bool,
    pub higher_is_better: bool,
    pub baseline: f64,
    pub current: Option<f64>,
    /// `current - baseline`.
    pub delta: Option<f64>,
    pub tolerance: Tolerance,
    pub status: Status,
}

/// The whole comparison, as written into the results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline: String,
    pub checks: Vec<Check>,
    pub quality_regressions: usize,
    pub speed_regressions: usize,
    /// Baseline records this run does not have (the suite changed).
    pub missing_records: Vec<String>,
    /// Records of this run the baseline does not have.
    pub new_records: Vec<String>,
}

impl Comparison {
    /// The quality checks that failed, and the speed ones with `speed`.
    pub fn failures(&self, speed: bool) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(move |c| c.status.is_bad() && (speed || !c.speed))
    }
}

/// Compares every baseline value with this run's, with the suite's
/// tolerances: a value is regressed when it moved in the worse direction
/// by more than its tolerance (absolute, or relative to the baseline).
pub fn compare(results: &BenchResults, baseline: &Baseline, suite: &Suite) -> Comparison {
    compare_with(results, baseline, |m| suite.tolerance(m))
}

pub fn compare_with(
    results: &BenchResults,
    baseline: &Baseline,
    tolerance: impl Fn(&str) -> Tolerance,
) -> Comparison {
    let mut checks = Vec::new();
    let mut missing_records = Vec::new();
    for (id, base) in &baseline.values {
        let Some(record) = results.entries.iter().find(|e| &e.id == id) else {
            missing_records.push(id.clone());
            continue;
        };
        let current = record.values();
        for (metric, &b) in base {
            let higher = suite::higher_is_better(metric);
            let tol = tolerance(metric);
            let cur = current.get(metric).copied().filter(|v| v.is_finite());
            let status = match cur {
                None => Status::Missing,
                Some(c) => {
                    let worse = if higher { b - c } else { c - b };
                    let allowed = match tol {
                        Tolerance::Abs(t) => t,
                        Tolerance::Rel(t) => t * b.abs(),
                    };
                    if worse > allowed {
                        Status::Regressed
                    } else if -worse > allowed {
                        Status::Improved
                    } else {
                        Status::Ok
                    }
                }
            };
            checks.push(Check {
                id: id.clone(),
                metric: metric.clone(),
                speed: suite::is_speed(metric),
                higher_is_better: higher,
                baseline: b,
                current: cur,
                delta: cur.map(|c| c - b),
                tolerance: tol,
                status,
            });
        }
    }
    let new_records = results
        .entries
        .iter()
        .filter(|e| !baseline.values.contains_key(&e.id))
        .map(|e| e.id.clone())
        .collect();
    let count = |speed: bool| {
        checks
            .iter()
            .filter(|c| c.speed == speed && c.status.is_bad())
            .count()
    };
    Comparison {
        baseline: baseline.source.clone(),
        quality_regressions: count(false),
        speed_regressions: count(true),
        checks,
        missing_records,
        new_records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{ModelRecord, Spread};

    fn record(id: &str, auc: f64, train_seconds: f64) -> ModelRecord {
        let (entry, model) = id.split_once('/').unwrap();
        ModelRecord {
            id: id.into(),
            entry: entry.into(),
            experiment: entry.into(),
            dataset: None,
            model: model.into(),
            kind: "logistic".into(),
            task: "churn".into(),
            test_cutoff: "2023-10-01".into(),
            train_rows: 100,
            test_rows: 50,
            features: 3,
            quality: BTreeMap::from([("auc".into(), auc), ("log_loss".into(), 0.5)]),
            train_seconds: Spread::of(&[train_seconds]).unwrap(),
            train_cpu_seconds: None,
            predict_seconds: None,
            predict_rows_per_second: None,
            peak_rss_mb: Some(100.0),
            device: "cpu".into(),
        }
    }

    fn results(entries: Vec<ModelRecord>) -> BenchResults {
        BenchResults {
            schema: SCHEMA.into(),
            suite: "t".into(),
            started: "2026-01-01T00:00:00Z".into(),
            tenure_version: "0".into(),
            git_commit: None,
            device: "cpu".into(),
            device_note: String::new(),
            repeat: 1,
            seconds: 0.0,
            entries,
            comparison: None,
        }
    }

    fn status(c: &Comparison, metric: &str) -> Status {
        c.checks.iter().find(|k| k.metric == metric).unwrap().status
    }

    #[test]
    fn quality_gates_with_absolute_and_speed_with_relative_tolerances() {
        let base = Baseline::from_results(&results(vec![record("e/m", 0.80, 1.0)]), "base");
        let tol = suite::default_tolerance;
        // Within 0.005 AUC and 50 % time: ok.
        let c = compare_with(&results(vec![record("e/m", 0.796, 1.4)]), &base, tol);
        assert_eq!(
            (status(&c, "auc"), status(&c, "train_seconds")),
            (Status::Ok, Status::Ok)
        );
        assert_eq!((c.quality_regressions, c.speed_regressions), (0, 0));
        // AUC 0.01 lower and twice as slow: both regressed, only AUC gates.
        let c = compare_with(&results(vec![record("e/m", 0.79, 2.0)]), &base, tol);
        assert_eq!(status(&c, "auc"), Status::Regressed);
        assert_eq!(status(&c, "train_seconds"), Status::Regressed);
        assert_eq!((c.quality_regressions, c.speed_regressions), (1, 1));
        let gated: Vec<&str> = c.failures(false).map(|k| k.metric.as_str()).collect();
        assert_eq!(gated, ["auc"]);
        assert_eq!(c.failures(true).count(), 2);
        // Better by more than the tolerance: improved. Lower log loss is better.
        let mut better = record("e/m", 0.82, 0.4);
        better.quality.insert("log_loss".into(), 0.4);
        let c = compare_with(&results(vec![better]), &base, tol);
        assert_eq!(status(&c, "auc"), Status::Improved);
        assert_eq!(status(&c, "log_loss"), Status::Improved);
        assert_eq!(status(&c, "train_seconds"), Status::Improved);
        // A relative tolerance scales with the baseline: 2 % of 0.5 = 0.01.
        let mut worse = record("e/m", 0.80, 1.0);
        worse.quality.insert("log_loss".into(), 0.509);
        assert_eq!(
            status(
                &compare_with(&results(vec![worse.clone()]), &base, tol),
                "log_loss"
            ),
            Status::Ok
        );
        worse.quality.insert("log_loss".into(), 0.511);
        assert_eq!(
            status(&compare_with(&results(vec![worse]), &base, tol), "log_loss"),
            Status::Regressed
        );
    }

    #[test]
    fn a_vanished_metric_gates_and_changed_records_are_listed() {
        let base = Baseline::from_results(
            &results(vec![record("e/m", 0.8, 1.0), record("e/gone", 0.8, 1.0)]),
            "b",
        );
        let mut now = record("e/m", 0.8, 1.0);
        now.quality.remove("auc");
        let c = compare_with(
            &results(vec![now, record("e/new", 0.7, 1.0)]),
            &base,
            suite::default_tolerance,
        );
        assert_eq!(status(&c, "auc"), Status::Missing);
        assert_eq!(c.quality_regressions, 1);
        assert_eq!(c.missing_records, ["e/gone"]);
        assert_eq!(c.new_records, ["e/new"]);
    }

    #[test]
    fn a_champion_maps_to_the_one_record_of_its_model_and_experiment() {
        let champion = Champion {
            reference: "churn@champion".into(),
            version: 3,
            run_id: "r".into(),
            model: "m".into(),
            experiment: Some("e".into()),
            test_metrics: BTreeMap::from([("auc".into(), 0.9), ("ece_calibrated".into(), 0.01)]),
        };
        let r = results(vec![record("e/m", 0.8, 1.0), record("f/m", 0.8, 1.0)]);
        let b = champion.baseline_for(&r).unwrap();
        assert_eq!(b.values.keys().collect::<Vec<_>>(), ["e/m"]);
        // Calibration measures of the run are not bench metrics.
        assert_eq!(b.values["e/m"].keys().collect::<Vec<_>>(), ["auc"]);
        let c = compare_with(&r, &b, suite::default_tolerance);
        assert_eq!(status(&c, "auc"), Status::Regressed);
        let unknown = Champion {
            experiment: None,
            ..champion.clone()
        };
        let err = unknown.baseline_for(&r).unwrap_err().to_string();
        assert!(err.contains("e/m, f/m"), "{err}");
        let elsewhere = Champion {
            model: "x".into(),
            ..champion
        };
        assert!(
            elsewhere
                .baseline_for(&r)
                .unwrap_err()
                .to_string()
                .contains("does not bench")
        );
    }

    #[test]
    fn baseline_references_are_files_or_registry_versions() {
        assert_eq!(
            BaselineRef::parse("churn@champion").unwrap(),
            BaselineRef::Registry("churn@champion".parse().unwrap())
        );
        assert!(
            BaselineRef::parse("missing.json")
                .unwrap_err()
                .to_string()
                .contains("missing.json")
        );
        assert!(BaselineRef::parse("not a ref!").is_err());
    }
}

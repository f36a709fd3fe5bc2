//! The benchmark suite file: datasets, the experiments to run on them and
//! the tolerances of the comparison with a baseline.
//!
//! ```toml
//! name = "default"
//! repeat = 3                       # timed fits and predictions per model
//!
//! [tolerances]                     # overrides of the defaults, per metric
//! auc = 0.01                       # a number: the metric's default kind
//! rmse = { rel = 0.05 }            # or say which: { abs = … } / { rel = … }
//! train_seconds = { rel = 1.0 }
//!
//! [datasets.synth]
//! kind = "synthetic"               # tenure synth, generated for the run
//! customers = 3000
//! seed = 7
//!
//! [datasets.cdnow]
//! kind = "cdnow"                   # the CDNOW log in `dir` (default
//! dir = "../../shared/datasets/cdnow"  # $TENURE_DATASETS/cdnow)
//!
//! [datasets.own]
//! kind = "files"
//! transactions = "data/transactions.parquet"
//! customers = "data/customers.parquet"
//!
//! [[experiments]]
//! path = "experiments/churn.toml"  # relative to the suite file
//! dataset = "synth"                # replaces the experiment's data files
//! models = ["logreg", "gbdt"]      # default: all of its models
//! name = "churn-synth"             # default: the experiment's name
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Result, RunnerError};

/// How far a metric may move the wrong way before it is a regression.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tolerance {
    /// In the metric's own units (AUC, C-index, …).
    Abs(f64),
    /// As a fraction of the baseline's value (times, memory, RMSE, …).
    Rel(f64),
}

impl Tolerance {
    pub fn value(self) -> f64 {
        match self {
            Tolerance::Abs(v) | Tolerance::Rel(v) => v,
        }
    }
}

impl std::fmt::Display for Tolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tolerance::Abs(v) => write!(f, "±{v}"),
            // Rounded so that 0.07 prints as 7, not 7.000000000000001.
            Tolerance::Rel(v) => write!(f, "±{}%", (v * 1e6).round() / 1e4),
        }
    }
}

/// The speed and memory measurements a bench records beside the quality
/// metrics, with whether larger is better.
pub const SPEED_METRICS: &[(&str, bool)] = &[
    ("train_seconds", false),
    ("train_cpu_seconds", false),
    ("predict_rows_per_second", true),
    ("peak_rss_mb", false),
];

/// Whether larger values of `metric` (quality or speed) are better.
pub fn higher_is_better(metric: &str) -> bool {
    SPEED_METRICS
        .iter()
        .find(|(m, _)| *m == metric)
        .map_or_else(|| tenure_metrics::higher_is_better(metric), |(_, h)| *h)
}

/// Whether `metric` is a speed or memory measurement (reported; gated only
/// on request) rather than a quality metric (gated).
pub fn is_speed(metric: &str) -> bool {
    SPEED_METRICS.iter().any(|(m, _)| *m == metric)
}

/// The tolerance when the suite gives none: quality metrics on a bounded
/// scale move by 0.005; errors in the data's own units (RMSE, MAE, log
/// loss, …) by 2 %; times and memory, noisy on shared machines, by 50 %.
pub fn default_tolerance(metric: &str) -> Tolerance {
    match metric {
        m if is_speed(m) => Tolerance::Rel(0.5),
        "auc" | "pr_auc" | "brier" | "gini" | "spearman" | "zero_spend_auc" | "c_index"
        | "uno_c" | "ibs" | "td_auc" | "brier_horizon" | "ece_horizon" => Tolerance::Abs(0.005),
        _ => Tolerance::Rel(0.02),
    }
}

/// The suite file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: String,
    #[serde(default = "default_repeat")]
    repeat: usize,
    #[serde(default)]
    tolerances: BTreeMap<String, TolSetting>,
    #[serde(default)]
    datasets: BTreeMap<String, DatasetConfig>,
    experiments: Vec<EntryConfig>,
}

fn default_repeat() -> usize {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TolSetting {
    Number(f64),
    Kind(Tolerance),
}

/// One named dataset of the suite, as written: `kind` says which of the
/// other keys apply (a plain struct rather than a tagged enum, so that an
/// error points at the offending key).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetConfig {
    kind: DatasetKind,
    /// synthetic: how many customers, and the generator's seed.
    #[serde(default)]
    customers: Option<toml::Value>,
    #[serde(default)]
    seed: Option<u64>,
    /// cdnow: the folder of the CDNOW files, and which log.
    #[serde(default)]
    dir: Option<PathBuf>,
    #[serde(default)]
    file: Option<String>,
    /// files: the transactions (and customers) tables.
    #[serde(default)]
    transactions: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DatasetKind {
    /// `tenure synth` customers, generated into a scratch directory.
    Synthetic,
    /// The CDNOW transaction log (`cdnow_master.csv`, or `file`).
    Cdnow,
    /// Transactions (and customers) files of the user's.
    Files,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryConfig {
    path: PathBuf,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    dataset: Option<String>,
    #[serde(default)]
    models: Option<Vec<String>>,
}

/// A dataset with its paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Dataset {
    Synthetic {
        customers: usize,
        seed: u64,
    },
    Files {
        transactions: PathBuf,
        customers: Option<PathBuf>,
    },
}

/// One experiment of the suite, checked: the experiment loads and the
/// models named exist in it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Unique in the suite; results are keyed `<name>/<model>`.
    pub name: String,
    pub experiment: PathBuf,
    pub dataset: Option<(String, Dataset)>,
    /// The models to bench, in the experiment's order.
    pub models: Vec<String>,
}

/// A loaded, checked suite.
#[derive(Debug, Clone)]
pub struct Suite {
    pub path: PathBuf,
    pub name: String,
    pub repeat: usize,
    pub entries: Vec<Entry>,
    tolerances: BTreeMap<String, Tolerance>,
}

impl Suite {
    /// Reads and checks a suite: unknown keys, wrong types, missing files,
    /// unknown datasets, models or metrics are errors naming the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| RunnerError::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        let file: SuiteFile = toml::from_str(&text).map_err(|e| {
            let reason = e.message().trim().to_string();
            match e.span().map(|s| key_at(&text, s.start)) {
                Some(key) if !key.is_empty() => RunnerError::Config {
                    path: path.to_path_buf(),
                    key,
                    reason,
                },
                _ => RunnerError::ConfigSyntax {
                    path: path.to_path_buf(),
                    message: reason,
                },
            }
        })?;
        let err = |key: String, reason: String| RunnerError::Config {
            path: path.to_path_buf(),
            key,
            reason,
        };
        let base = path.parent().unwrap_or(Path::new("."));
        if file.name.trim().is_empty() {
            return Err(err("name".into(), "must not be empty".into()));
        }
        if file.repeat == 0 {
            return Err(err("repeat".into(), "must be at least 1".into()));
        }
        let mut tolerances = BTreeMap::new();
        for (metric, setting) in &file.tolerances {
            let key = format!("tolerances.{metric}");
            if !is_speed(metric) && !tenure_metrics::METRICS.iter().any(|(m, _)| m == metric) {
                let mut known: Vec<&str> = SPEED_METRICS.iter().map(|(m, _)| *m).collect();
                known.extend(tenure_metrics::METRICS.iter().map(|(m, _)| *m));
                return Err(err(
                    key,
                    format!("unknown metric `{metric}`; one of {}", known.join(", ")),
                ));
            }
            let tol = match *setting {
                TolSetting::Number(v) => match default_tolerance(metric) {
                    Tolerance::Abs(_) => Tolerance::Abs(v),
                    Tolerance::Rel(_) => Tolerance::Rel(v),
                },
                TolSetting::Kind(t) => t,
            };
            if !(tol.value().is_finite() && tol.value() >= 0.0) {
                return Err(err(
                    key,
                    format!("must be a finite number >= 0, got {}", tol.value()),
                ));
            }
            tolerances.insert(metric.clone(), tol);
        }
        let mut datasets = BTreeMap::new();
        for (name, d) in &file.datasets {
            datasets.insert(name.clone(), resolve_dataset(path, base, name, d)?);
        }
        if file.experiments.is_empty() {
            return Err(err(
                "experiments".into(),
                "no experiments: add at least one [[experiments]] table".into(),
            ));
        }
        let mut entries: Vec<Entry> = Vec::new();
        for (i, e) in file.experiments.iter().enumerate() {
            let key = |k: &str| format!("experiments[{i}].{k}");
            let experiment = base.join(&e.path);
            if !experiment.is_file() {
                return Err(err(
                    key("path"),
                    format!("no experiment file at {}", experiment.display()),
                ));
            }
            let exp = crate::Experiment::load(&experiment)?;
            let dataset = match &e.dataset {
                None => None,
                Some(d) => {
                    let Some(ds) = datasets.get(d) else {
                        let known: Vec<&str> = datasets.keys().map(String::as_str).collect();
                        return Err(err(
                            key("dataset"),
                            format!(
                                "no dataset `{d}` in [datasets] (datasets: {})",
                                if known.is_empty() {
                                    "none".to_string()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        ));
                    };
                    if exp.file.data.customers.is_some()
                        && matches!(
                            ds,
                            Dataset::Files {
                                customers: None,
                                ..
                            }
                        )
                    {
                        return Err(err(
                            key("dataset"),
                            format!(
                                "experiment {} reads a customers table but dataset `{d}` has none",
                                experiment.display()
                            ),
                        ));
                    }
                    Some((d.clone(), ds.clone()))
                }
            };
            let all: Vec<String> = exp.models.iter().map(|m| m.name.clone()).collect();
            let models = match &e.models {
                None => all,
                Some(wanted) => {
                    if wanted.is_empty() {
                        return Err(err(key("models"), "must name at least one model".into()));
                    }
                    if let Some(missing) = wanted.iter().find(|m| !all.contains(m)) {
                        return Err(err(
                            key("models"),
                            format!(
                                "experiment {} has no model `{missing}` (models: {})",
                                experiment.display(),
                                all.join(", ")
                            ),
                        ));
                    }
                    all.into_iter().filter(|m| wanted.contains(m)).collect()
                }
            };
            let name = e.name.clone().unwrap_or_else(|| exp.name().to_string());
            if entries.iter().any(|x| x.name == name) {
                return Err(err(
                    key("name"),
                    format!(
                        "two entries are named `{name}`: give each a distinct `name` (the \
                         results are keyed by it)"
                    ),
                ));
            }
            entries.push(Entry {
                name,
                experiment,
                dataset,
                models,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            name: file.name,
            repeat: file.repeat,
            entries,
            tolerances,
        })
    }

    /// The tolerance of `metric`: the suite's, else the default.
    pub fn tolerance(&self, metric: &str) -> Tolerance {
        self.tolerances
            .get(metric)
            .copied()
            .unwrap_or_else(|| default_tolerance(metric))
    }
}

fn resolve_dataset(path: &Path, base: &Path, name: &str, d: &DatasetConfig) -> Result<Dataset> {
    let err = |k: &str, reason: String| RunnerError::Config {
        path: path.to_path_buf(),
        key: format!("datasets.{name}.{k}"),
        reason,
    };
    // Keys of another kind are mistakes, not silently ignored settings.
    let allowed: &[&str] = match d.kind {
        DatasetKind::Synthetic => &["customers", "seed"],
        DatasetKind::Cdnow => &["dir", "file"],
        DatasetKind::Files => &["transactions", "customers"],
    };
    let given = [
        ("customers", d.customers.is_some()),
        ("seed", d.seed.is_some()),
        ("dir", d.dir.is_some()),
        ("file", d.file.is_some()),
        ("transactions", d.transactions.is_some()),
    ];
    if let Some((k, _)) = given.iter().find(|(k, set)| *set && !allowed.contains(k)) {
        return Err(err(
            k,
            format!(
                "not a key of a {:?} dataset (its keys: {})",
                d.kind,
                allowed.join(", ")
            )
            .to_lowercase(),
        ));
    }
    let file_at = |k: &str, p: &Path| {
        let p = base.join(p);
        if p.is_file() {
            Ok(p)
        } else {
            Err(err(k, format!("no file at {}", p.display())))
        }
    };
    match d.kind {
        DatasetKind::Synthetic => {
            let customers = match &d.customers {
                Some(toml::Value::Integer(n)) if *n > 0 => *n as usize,
                Some(other) => {
                    return Err(err(
                        "customers",
                        format!("expected a positive number of customers, found {other}"),
                    ));
                }
                None => return Err(err("customers", "missing: how many customers".into())),
            };
            Ok(Dataset::Synthetic {
                customers,
                seed: d.seed.unwrap_or(42),
            })
        }
        DatasetKind::Cdnow => {
            let dir = match &d.dir {
                Some(dir) => base.join(dir),
                None => match std::env::var_os("TENURE_DATASETS") {
                    Some(root) => PathBuf::from(root).join("cdnow"),
                    None => {
                        return Err(err(
                            "dir",
                            "give the folder holding the CDNOW files, or set TENURE_DATASETS"
                                .into(),
                        ));
                    }
                },
            };
            let transactions = dir.join(d.file.as_deref().unwrap_or("cdnow_master.csv"));
            if !transactions.is_file() {
                return Err(err(
                    "dir",
                    format!("no CDNOW file at {}", transactions.display()),
                ));
            }
            Ok(Dataset::Files {
                transactions,
                customers: None,
            })
        }
        DatasetKind::Files => {
            let Some(transactions) = &d.transactions else {
                return Err(err(
                    "transactions",
                    "missing: the transactions table".into(),
                ));
            };
            let customers = match &d.customers {
                Some(toml::Value::String(c)) => Some(file_at("customers", Path::new(c))?),
                Some(other) => {
                    return Err(err(
                        "customers",
                        format!("expected a file path, found {other}"),
                    ));
                }
                None => None,
            };
            Ok(Dataset::Files {
                transactions: file_at("transactions", transactions)?,
                customers,
            })
        }
    }
}

/// The dotted key at byte `offset` of a TOML text, for error messages: the
/// key on that line (or the table header itself) under the nearest table
/// header above it; array tables get their index.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();
    let header = |l: &str| -> Option<(String, bool)> {
        let l = l.split('#').next().unwrap_or("").trim();
        if let Some(inner) = l.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
            Some((inner.trim().to_string(), true))
        } else {
            l.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .map(|inner| (inner.trim().to_string(), false))
        }
    };
    if let Some((h, _)) = header(line) {
        return h;
    }
    let key = line
        .split_once('=')
        .map_or("", |(k, _)| k.trim())
        .trim_matches('"')
        .to_string();
    // The table the line belongs to, and for an array table its index.
    let before = &text[..line_start];
    let Some((table, is_array)) = before.lines().rev().find_map(header) else {
        return key;
    };
    let table = if is_array {
        let marker = format!("[[{table}]]");
        let index = before
            .lines()
            .filter(|l| l.split('#').next().unwrap_or("").trim() == marker)
            .count()
            .saturating_sub(1);
        format!("{table}[{index}]")
    } else {
        table
    };
    if key.is_empty() {
        table
    } else {
        format!("{table}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_under_their_tables() {
        let text = "name = \"x\"\nrepeats = 3\n[datasets.synth]\nkind = \"synthetic\"\ncustomer = 5\n\
                    [[experiments]]\npath = \"a\"\n[[experiments]]\nmodel = [\"b\"]\n";
        let at = |needle: &str| key_at(text, text.find(needle).unwrap());
        assert_eq!(at("repeats"), "repeats");
        assert_eq!(at("customer ="), "datasets.synth.customer");
        assert_eq!(at("model ="), "experiments[1].model");
        assert_eq!(at("[datasets"), "datasets.synth");
    }

    #[test]
    fn default_tolerances_are_absolute_for_bounded_scores_relative_otherwise() {
        assert_eq!(default_tolerance("auc"), Tolerance::Abs(0.005));
        assert_eq!(default_tolerance("c_index"), Tolerance::Abs(0.005));
        assert_eq!(default_tolerance("rmse"), Tolerance::Rel(0.02));
        assert_eq!(default_tolerance("train_seconds"), Tolerance::Rel(0.5));
        assert!(higher_is_better("predict_rows_per_second"));
        assert!(!higher_is_better("train_seconds"));
        assert!(higher_is_better("auc") && !higher_is_better("log_loss"));
        assert_eq!(Tolerance::Rel(0.07).to_string(), "±7%");
        assert_eq!(Tolerance::Abs(0.005).to_string(), "±0.005");
    }
}

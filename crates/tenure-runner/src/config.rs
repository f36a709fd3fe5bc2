//! The experiment config: one TOML file that describes data, features,
//! labels, cross-validation, models and tracking.
//!
//! A config may `extends = ["../configs/…toml"]` reusable pieces; they are
//! merged table by table, the experiment's own keys winning. Relative paths
//! resolve against the experiment file's directory, so an experiment runs the
//! same from any working directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tenure_core::Task;
use tenure_data::io::{CustomersSource, TransactionsSource};
use tenure_data::{CvConfig, FeatureConfig, LabelConfig};

use crate::models::ModelSpec;
use crate::settings::CalibrationSpec;
use crate::{Result, RunnerError};

/// The experiment file as written, before models are checked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Other config files merged under this one (reusable pieces in `configs/`).
    #[serde(default)]
    pub extends: Vec<PathBuf>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub data: DataConfig,
    #[serde(default)]
    pub features: FeatureConfig,
    pub labels: LabelConfig,
    pub cv: CvConfig,
    pub models: Vec<ModelConfig>,
    #[serde(default)]
    pub tracking: TrackingConfig,
    /// Uplift models of a randomised campaign (see [`crate::uplift`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplift: Option<crate::uplift::UpliftConfig>,
    /// Register the run's best model (and maybe promote it) when present.
    #[serde(default)]
    pub registry: Option<RegistryConfig>,
    /// `survival_times_days`: see [`crate::settings::survival_times`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<toml::Table>,
    /// See [`crate::settings::CalibrationSpec`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<toml::Table>,
    /// Hyperparameter search (`tenure tune`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<crate::tune::TuneConfig>,
}

fn default_seed() -> u64 {
    42
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub transactions: TransactionsSource,
    #[serde(default)]
    pub customers: Option<CustomersSource>,
}

/// One model to train on every fold: `kind` picks the family, `params` its
/// hyperparameters (checked by the family itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    #[serde(default)]
    pub name: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub params: toml::Table,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrackingConfig {
    /// A directory for the embedded local store (MLflow file-store layout),
    /// or the `http(s)://` URL of an MLflow tracking server. Unset: the
    /// `MLFLOW_TRACKING_URI` environment variable, else `tenure-runs`.
    #[serde(default)]
    pub uri: Option<String>,
}

/// The store used when neither the command line, the config nor
/// `MLFLOW_TRACKING_URI` names one.
pub const DEFAULT_TRACKING_URI: &str = "tenure-runs";

/// `[registry]`: after a successful run, register the best model under
/// `name`; with `alias`, move the alias to it only if it beats the current
/// holder on the test cutoff by `margin`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Registered model name.
    pub name: String,
    /// Which `[[models]]` entry to register; default: the best on `metric`.
    #[serde(default)]
    pub model: Option<String>,
    /// Alias to promote to (e.g. `champion`); none: register only.
    #[serde(default)]
    pub alias: Option<String>,
    /// Test-cutoff metric that picks the best model and gates promotion.
    pub metric: String,
    /// How much better than the alias holder the new model must be.
    #[serde(default)]
    pub margin: f64,
}

/// A loaded, checked experiment: every path absolute, every model built.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub path: PathBuf,
    pub file: ExperimentFile,
    pub models: Vec<ModelSpec>,
    /// The checked `[tune]` table, if any.
    pub tune: Option<crate::tune::TuneSpec>,
    pub uplift: Option<crate::uplift::UpliftSpec>,
    /// The merged config, as run (logged as an artifact for reproducibility).
    pub resolved_toml: String,
    /// Checked `[calibration]` (defaults when the table is absent).
    pub calibration: CalibrationSpec,
    /// Survival experiments: days after the cutoff at which models give
    /// `S(t | x)` (checked `[evaluation] survival_times_days`); empty for
    /// the other tasks.
    pub survival_times_days: Vec<f64>,
}

impl Experiment {
    pub fn task(&self) -> Task {
        self.file.labels.task
    }

    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The local store directory (relative URIs resolve against the current
    /// directory, like MLflow's `./mlruns`).
    pub fn tracking_dir(&self) -> PathBuf {
        let uri = self
            .file
            .tracking
            .uri
            .as_deref()
            .unwrap_or(DEFAULT_TRACKING_URI)
            .trim_start_matches("file://");
        PathBuf::from(uri)
    }

    /// Loads, merges, parses and checks an experiment file.
    pub fn load(path: &Path) -> Result<Self> {
        let merged = load_merged(path, &mut Vec::new())?;
        let resolved_toml = toml::to_string_pretty(&merged).unwrap_or_default();
        // The merged value has no spans: name the key path instead, so
        // that `test_cutoff = 0` says which key wanted a string.
        let mut file: ExperimentFile =
            serde_path_to_error::deserialize(merged).map_err(|e| RunnerError::ConfigSyntax {
                path: path.to_path_buf(),
                message: match e.path().to_string().as_str() {
                    "." => describe_toml_error(e.inner()),
                    key => format!("`{key}`: {}", describe_toml_error(e.inner())),
                },
            })?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.data.transactions.path = resolve(base, &file.data.transactions.path);
        if let Some(c) = &mut file.data.customers {
            c.path = resolve(base, &c.path);
        }
        let cfg_err = |key: &str, reason: String| RunnerError::Config {
            path: path.to_path_buf(),
            key: key.to_string(),
            reason,
        };
        if file.name.trim().is_empty() {
            return Err(cfg_err("name", "must not be empty".into()));
        }
        file.features
            .validate()
            .map_err(|e| config_error_from_data(path, e))?;
        file.labels
            .validate()
            .map_err(|e| config_error_from_data(path, e))?;
        if file.models.is_empty() {
            return Err(cfg_err(
                "models",
                "no models: add at least one [[models]] table".into(),
            ));
        }
        if let Some(r) = &file.registry {
            check_registry(r, &file)
                .map_err(|(key, reason)| cfg_err(&format!("registry.{key}"), reason))?;
        }
        let mut models = Vec::with_capacity(file.models.len());
        for (i, m) in file.models.iter().enumerate() {
            let mut spec = ModelSpec::from_config(m, file.labels.task, file.labels.horizon_days)
                .map_err(|(key, reason)| cfg_err(&format!("models[{i}].{key}"), reason))?;
            spec.set_default_seed(file.seed);
            if models.iter().any(|s: &ModelSpec| s.name == spec.name) {
                return Err(cfg_err(
                    &format!("models[{i}].name"),
                    format!(
                        "duplicate model name `{}`: give each model a distinct `name`",
                        spec.name
                    ),
                ));
            }
            models.push(spec);
        }
        let uplift = match &file.uplift {
            Some(u) => Some(
                crate::uplift::UpliftSpec::from_config(
                    u.clone(),
                    file.labels.task,
                    file.labels.horizon_days,
                    base,
                )
                .map_err(|(key, reason)| cfg_err(&key, reason))?,
            ),
            None => None,
        };
        let calibration = crate::settings::calibration(file.calibration.as_ref())
            .map_err(|(key, reason)| cfg_err(&key, reason))?;
        let survival_times_days = crate::settings::survival_times(
            file.evaluation.as_ref(),
            file.labels.task,
            file.labels.horizon_days,
        )
        .map_err(|(key, reason)| cfg_err(&key, reason))?;
        let tune = match &file.tune {
            Some(t) => Some(crate::tune::TuneSpec::check(
                t,
                path,
                file.labels.task,
                file.labels.horizon_days,
                &file.models,
                &models,
            )?),
            None => None,
        };
        Ok(Self {
            path: path.to_path_buf(),
            file,
            models,
            tune,
            uplift,
            resolved_toml,
            calibration,
            survival_times_days,
        })
    }
}

fn check_registry(
    r: &RegistryConfig,
    file: &ExperimentFile,
) -> std::result::Result<(), (&'static str, String)> {
    tenure_store::registry::validate_model_name(&r.name).map_err(|e| ("name", e.to_string()))?;
    if let Some(alias) = &r.alias {
        tenure_store::registry::validate_alias(alias).map_err(|e| ("alias", e.to_string()))?;
    }
    if !tenure_metrics::METRICS.iter().any(|(m, _)| *m == r.metric) {
        let known: Vec<&str> = tenure_metrics::METRICS.iter().map(|(m, _)| *m).collect();
        return Err((
            "metric",
            format!("unknown metric `{}`; one of {}", r.metric, known.join(", ")),
        ));
    }
    if !(r.margin.is_finite() && r.margin >= 0.0) {
        return Err((
            "margin",
            format!("must be a finite number >= 0, got {}", r.margin),
        ));
    }
    if let Some(model) = &r.model {
        let names: Vec<String> = file
            .models
            .iter()
            .map(|m| m.name.clone().unwrap_or_else(|| m.kind.clone()))
            .collect();
        if !names.contains(model) {
            return Err((
                "model",
                format!("no model named `{model}`; models: {}", names.join(", ")),
            ));
        }
    }
    Ok(())
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn config_error_from_data(path: &Path, e: tenure_data::DataError) -> RunnerError {
    match e {
        tenure_data::DataError::Config { key, reason } => RunnerError::Config {
            path: path.to_path_buf(),
            key,
            reason,
        },
        other => RunnerError::Data(other),
    }
}

fn describe_toml_error(e: &toml::de::Error) -> String {
    // The span-annotated rendering of `toml` points at the offending line;
    // keep it on one line for log-friendly messages.
    e.message().trim().to_string()
}

/// Reads a file and the files it `extends`, merged depth-first; `stack`
/// guards against cycles.
fn load_merged(path: &Path, stack: &mut Vec<PathBuf>) -> Result<toml::Value> {
    let canonical = path
        .canonicalize()
        .map_err(|source| RunnerError::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
    if stack.contains(&canonical) {
        return Err(RunnerError::Config {
            path: path.to_path_buf(),
            key: "extends".into(),
            reason: "config files extend each other in a cycle".into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| RunnerError::ReadConfig {
        path: path.to_path_buf(),
        source,
    })?;
    let mut value: toml::Table = toml::from_str(&text).map_err(|e| RunnerError::ConfigSyntax {
        path: path.to_path_buf(),
        message: e.to_string().replace('\n', " ").trim().to_string(),
    })?;
    let parents = match value.remove("extends") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(PathBuf::from(s)),
                other => Err(RunnerError::Config {
                    path: path.to_path_buf(),
                    key: "extends".into(),
                    reason: format!("expected a list of file paths, found {}", other.type_str()),
                }),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(other) => {
            return Err(RunnerError::Config {
                path: path.to_path_buf(),
                key: "extends".into(),
                reason: format!("expected a list of file paths, found {}", other.type_str()),
            });
        }
    };
    stack.push(canonical);
    let base = path.parent().unwrap_or(Path::new("."));
    let mut merged = toml::Value::Table(toml::Table::new());
    for parent in parents {
        let piece = load_merged(&resolve(base, &parent), stack)?;
        merge(&mut merged, piece);
    }
    stack.pop();
    merge(&mut merged, toml::Value::Table(value));
    Ok(merged)
}

/// Deep-merges tables; anything else in `top` replaces what is below.
fn merge(below: &mut toml::Value, top: toml::Value) {
    match (below, top) {
        (toml::Value::Table(b), toml::Value::Table(t)) => {
            for (k, v) in t {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, top) => *slot = top,
    }
}

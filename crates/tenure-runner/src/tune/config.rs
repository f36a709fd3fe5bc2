//! The `[tune]` table of an experiment, checked against the models and the
//! task when the experiment loads.
//!
//! ```toml
//! [tune]
//! model = "logreg"            # a [[models]] entry, by name
//! metric = "auc"              # one the task reports; direction follows it
//! trials = 30
//! sampler = "auto"            # auto (default) | tpe | gp | random
//! pruner = "median"           # none | median | asha (fed per round and per fold: see crate::tune)
//! # or, with settings:
//! # pruner = { kind = "asha", min_resource = 3, reduction_factor = 3 }
//! # pruner = { kind = "median", n_warmup_steps = 10, n_startup_trials = 5 }
//! [tune.space]
//! l2 = { type = "float", low = 1e-4, high = 100.0, log = true }
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tenure_core::Task;
use tenure_tune::{
    Direction, Distribution, ParamDef, ParamSpec, ParamValue, Params, Pruner, SamplerKind,
    SearchSpace,
};

use crate::config::ModelConfig;
use crate::models::ModelSpec;
use crate::{Result, RunnerError};

/// `pruner` as written: a name with the default settings, or a table with
/// `kind` and the pruner's settings (the steps they count are rounds or
/// epochs of the first fold, then folds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum PrunerConfig {
    Name(String),
    Table(toml::Table),
}

impl PrunerConfig {
    /// The pruner, or the offending key (`tune.pruner...`) and why.
    pub fn build(&self) -> std::result::Result<Pruner, (String, String)> {
        let table = match self {
            PrunerConfig::Name(name) => {
                return name
                    .parse()
                    .map_err(|e: tenure_tune::TuneError| ("tune.pruner".into(), e.to_string()));
            }
            PrunerConfig::Table(t) => t,
        };
        let key = |k: &str| format!("tune.pruner.{k}");
        let kind = match table.get("kind") {
            Some(toml::Value::String(k)) => k.as_str(),
            Some(other) => {
                return Err((key("kind"), format!("expected a string, found {other}")));
            }
            None => return Err((key("kind"), "missing (none, median or asha)".into())),
        };
        let allowed: &[&str] = match kind {
            "none" => &[],
            "median" => &["n_startup_trials", "n_warmup_steps", "n_min_trials"],
            "asha" => &[
                "min_resource",
                "reduction_factor",
                "min_early_stopping_rate",
            ],
            other => {
                return Err((
                    key("kind"),
                    format!("unknown pruner `{other}` (expected none, median or asha)"),
                ));
            }
        };
        let mut settings = std::collections::BTreeMap::new();
        for (k, v) in table.iter().filter(|(k, _)| *k != "kind") {
            if !allowed.contains(&k.as_str()) {
                return Err((
                    key(k),
                    format!(
                        "not a setting of the {kind} pruner (expected {})",
                        if allowed.is_empty() {
                            "none".to_string()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                ));
            }
            match v.as_integer() {
                Some(n) if n >= 0 => {
                    settings.insert(k.as_str(), n as u64);
                }
                _ => return Err((key(k), format!("expected an integer >= 0, found {v}"))),
            }
        }
        let checked = |e: tenure_core::CoreError| match e {
            tenure_core::CoreError::InvalidParam { name, reason } => (key(name), reason),
            other => ("tune.pruner".into(), other.to_string()),
        };
        use tenure_core::ParamGuard;
        Ok(match kind {
            "median" => {
                let mut p = tenure_tune::MedianParams::new();
                if let Some(&n) = settings.get("n_startup_trials") {
                    p = p.n_startup_trials(n as usize);
                }
                if let Some(&n) = settings.get("n_warmup_steps") {
                    p = p.n_warmup_steps(n);
                }
                if let Some(&n) = settings.get("n_min_trials") {
                    p = p.n_min_trials(n as usize);
                }
                Pruner::Median(p.check().map_err(checked)?)
            }
            "asha" => {
                let mut p = tenure_tune::AshaParams::new();
                if let Some(&n) = settings.get("min_resource") {
                    p = p.min_resource(n);
                }
                if let Some(&n) = settings.get("reduction_factor") {
                    p = p.reduction_factor(n);
                }
                if let Some(&n) = settings.get("min_early_stopping_rate") {
                    p = p.min_early_stopping_rate(n as u32);
                }
                Pruner::Asha(p.check().map_err(checked)?)
            }
            _ => Pruner::None,
        })
    }
}

/// The `[tune]` table as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TuneConfig {
    /// The `[[models]]` entry to tune: its `name` (or its kind when unnamed).
    pub model: String,
    /// The CV metric to optimise.
    pub metric: String,
    /// `maximize` or `minimize`; by default what is better for the metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Trials in the study (all workers and all resumptions together).
    #[serde(default = "default_trials")]
    pub trials: u64,
    /// Stop starting trials after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampler: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruner: Option<PrunerConfig>,
    /// Study name in the storage; defaults to the experiment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<String>,
    /// SQLite file of the study; defaults to `tune.db` in the tracking
    /// directory. Relative paths resolve against the experiment file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<PathBuf>,
    /// One table per hyperparameter, injected into the model's `params`
    /// (dotted names reach nested tables).
    pub space: toml::Table,
}

fn default_trials() -> u64 {
    30
}

/// A checked `[tune]` table.
#[derive(Debug, Clone)]
pub struct TuneSpec {
    pub config: TuneConfig,
    /// Index of the tuned model in the experiment's models.
    pub model_index: usize,
    pub space: SearchSpace,
    pub direction: Direction,
    pub sampler: SamplerKind,
    pub pruner: Pruner,
}

/// The metrics each task's folds are scored with.
pub fn task_metrics(task: Task) -> &'static [&'static str] {
    match task {
        Task::Churn => &["auc", "pr_auc", "log_loss", "brier"],
        Task::Survival => &[
            "c_index",
            "uno_c",
            "ibs",
            "td_auc",
            "brier_horizon",
            "ece_horizon",
        ],
        Task::Clv => &[
            "rmse",
            "mae",
            "gini",
            "spearman",
            "top_decile_lift",
            "decile_mape",
        ],
    }
}

impl TuneSpec {
    /// Checks the table against the experiment's task and models; errors
    /// name the key (`tune.model`, `tune.space.l2.low`).
    pub fn check(
        config: &TuneConfig,
        path: &Path,
        task: Task,
        horizon_days: u32,
        models: &[ModelConfig],
        specs: &[ModelSpec],
    ) -> Result<Self> {
        let err = |key: &str, reason: String| RunnerError::Config {
            path: path.to_path_buf(),
            key: key.to_string(),
            reason,
        };
        let model_index = specs
            .iter()
            .position(|s| s.name == config.model)
            .ok_or_else(|| {
                let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                err(
                    "tune.model",
                    format!(
                        "no model named `{}` (models: {})",
                        config.model,
                        names.join(", ")
                    ),
                )
            })?;
        let metrics = task_metrics(task);
        if !metrics.contains(&config.metric.as_str()) {
            return Err(err(
                "tune.metric",
                format!(
                    "`{}` is not a {task} metric (expected one of: {})",
                    config.metric,
                    metrics.join(", ")
                ),
            ));
        }
        let direction = match &config.direction {
            Some(d) => d.parse().map_err(|e: String| err("tune.direction", e))?,
            None if tenure_metrics::higher_is_better(&config.metric) => Direction::Maximize,
            None => Direction::Minimize,
        };
        let sampler = match &config.sampler {
            Some(s) => s
                .parse()
                .map_err(|e: tenure_tune::TuneError| err("tune.sampler", e.to_string()))?,
            None => SamplerKind::default(),
        };
        let pruner = match &config.pruner {
            Some(p) => p.build().map_err(|(key, reason)| err(&key, reason))?,
            None => Pruner::None,
        };
        if config.trials == 0 {
            return Err(err("tune.trials", "must be at least 1".into()));
        }
        if let Some(t) = config.timeout_seconds
            && !(t.is_finite() && t > 0.0)
        {
            return Err(err(
                "tune.timeout_seconds",
                format!("must be a positive number of seconds, got {t}"),
            ));
        }
        let mut tables = Vec::with_capacity(config.space.len());
        for (name, value) in &config.space {
            let spec = ParamSpec::deserialize(value.clone()).map_err(|e| {
                err(
                    &format!("tune.space.{name}"),
                    e.message().trim().to_string(),
                )
            })?;
            tables.push((name.clone(), spec));
        }
        let space =
            SearchSpace::from_specs(tables.iter().map(|(n, s)| (n.as_str(), s))).map_err(|e| {
                match e {
                    tenure_tune::TuneError::Space { key, reason } => {
                        err(&format!("tune.space.{key}"), reason)
                    }
                    other => err("tune.space", other.to_string()),
                }
            })?;
        let spec = Self {
            config: config.clone(),
            model_index,
            space,
            direction,
            sampler,
            pruner,
        };
        spec.probe(&models[model_index], task, horizon_days, path)?;
        Ok(spec)
    }

    /// Builds the model with each parameter at each end of its range (and
    /// each choice), its parents set to values that activate it, so a name
    /// the model does not know or a range it rejects fails at load time.
    fn probe(&self, model: &ModelConfig, task: Task, horizon_days: u32, path: &Path) -> Result<()> {
        for (def, probes) in self.probes() {
            for (v, params) in probes {
                let cfg = inject(model, &params);
                if let Err((_, reason)) = ModelSpec::from_config(&cfg, task, horizon_days) {
                    return Err(RunnerError::Config {
                        path: path.to_path_buf(),
                        key: format!("tune.space.{}", def.name),
                        reason: format!(
                            "model `{}` ({}) rejects {} = {v}: {reason}",
                            self.config.model, model.kind, def.name
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Each parameter at each end of its range and at each choice, with its
    /// parents set to values that activate it.
    fn probes(&self) -> Vec<(&ParamDef, Vec<(ParamValue, Params)>)> {
        self.space
            .params()
            .iter()
            .map(|def| {
                let values: Vec<ParamValue> = match &def.distribution {
                    Distribution::Float { low, high, .. } => {
                        vec![ParamValue::Float(*low), ParamValue::Float(*high)]
                    }
                    Distribution::Int { low, high, .. } => {
                        vec![ParamValue::Int(*low), ParamValue::Int(*high)]
                    }
                    Distribution::Categorical { choices } => choices.clone(),
                };
                let mut context = Params::new();
                let mut stack: Vec<&tenure_tune::Condition> = def.conditions.iter().collect();
                while let Some(c) = stack.pop() {
                    context.insert(c.parent.clone(), c.values[0].clone());
                    if let Some(parent) = self.space.get(&c.parent) {
                        stack.extend(parent.conditions.iter());
                    }
                }
                let probes = values
                    .into_iter()
                    .map(|v| {
                        let mut params = context.clone();
                        params.insert(def.name.clone(), v.clone());
                        (v, params)
                    })
                    .collect();
                (def, probes)
            })
            .collect()
    }

    /// How many pruner steps the first CV fold's rounds take (the step
    /// numbering of [`crate::tune`]): the most boosting rounds or epochs a
    /// configuration of the space trains, or 0 when the model is fitted in
    /// one go or the metric needs more than the scores. Rounds grow with
    /// the parameter that sets them, so the ends of its range bound them;
    /// the model's own value counts only while no unconditional parameter
    /// of the space overrides it.
    pub fn round_steps(&self, model: &ModelConfig, task: Task, horizon_days: u32) -> u64 {
        if !crate::pipeline::scores_alone(task, &self.config.metric) {
            return 0;
        }
        let rounds = |cfg: &ModelConfig| {
            ModelSpec::from_config(cfg, task, horizon_days)
                .ok()
                .and_then(|m| m.max_rounds())
        };
        let Some(base) = rounds(model) else {
            return 0;
        };
        let mut most: Option<usize> = None;
        let mut base_reachable = true;
        for (def, probes) in self.probes() {
            let at: Vec<usize> = probes
                .iter()
                .filter_map(|(_, params)| rounds(&inject(model, params)))
                .collect();
            if at.iter().any(|&r| r != base) {
                most = at.iter().copied().chain(most).max();
                base_reachable &= !def.conditions.is_empty();
            }
        }
        most.into_iter()
            .chain(base_reachable.then_some(base))
            .max()
            .unwrap_or(base) as u64
    }
}

/// The model's config with sampled values written into its `params`
/// (a dotted name such as `tree.max_depth` reaches a nested table).
pub fn inject(model: &ModelConfig, params: &Params) -> ModelConfig {
    let mut cfg = model.clone();
    for (name, value) in params {
        let parts: Vec<&str> = name.split('.').collect();
        let mut table = &mut cfg.params;
        for part in &parts[..parts.len() - 1] {
            let entry = table
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            table = entry.as_table_mut().expect("made a table above");
        }
        table.insert(parts[parts.len() - 1].to_string(), to_toml(value));
    }
    cfg
}

fn to_toml(v: &ParamValue) -> toml::Value {
    match v {
        ParamValue::Bool(b) => toml::Value::Boolean(*b),
        ParamValue::Int(i) => toml::Value::Integer(*i),
        ParamValue::Float(f) => toml::Value::Float(*f),
        ParamValue::Str(s) => toml::Value::String(s.clone()),
    }
}

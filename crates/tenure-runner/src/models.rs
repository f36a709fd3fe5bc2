//! The model families an experiment can name, built from `[[models]]` tables.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Task};
use tenure_stats::{
    CoxParams, CoxValidParams, HistoricalAverageParams, HistoricalAverageValidParams,
    KaplanMeierParams, KaplanMeierValidParams, LogisticRegressionParams,
    LogisticRegressionValidParams, Ties,
};

/// The model kinds this build knows, with the task each one serves.
pub const KINDS: &[(&str, Task, &str)] = &[
    (
        "logistic",
        Task::Churn,
        "L2-regularised logistic regression (IRLS)",
    ),
    (
        "kaplan_meier",
        Task::Survival,
        "Kaplan-Meier baseline (no covariates)",
    ),
    (
        "cox",
        Task::Survival,
        "Cox proportional hazards on standardised features",
    ),
    ("historical_average", Task::Clv, "past spend rate x horizon"),
];

/// A checked model: a name and the validated hyperparameters of its family.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub kind: &'static str,
    pub family: Family,
    /// Hyperparameters as given (for tracking).
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub enum Family {
    Logistic(LogisticRegressionValidParams),
    KaplanMeier(KaplanMeierValidParams),
    Cox(CoxValidParams),
    HistoricalAverage(HistoricalAverageValidParams),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogisticConfig {
    #[serde(default = "one")]
    l2: f64,
    #[serde(default = "hundred")]
    max_iter: usize,
    #[serde(default = "tol")]
    tol: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KaplanMeierConfig {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoxConfig {
    #[serde(default)]
    ties: Ties,
    /// A small ridge by default: snapshot features include complete one-hot
    /// sets, which are collinear with the baseline hazard.
    #[serde(default = "cox_l2")]
    l2: f64,
    #[serde(default = "fifty")]
    max_iter: usize,
}

fn cox_l2() -> f64 {
    0.01
}
fn fifty() -> usize {
    50
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoricalAverageConfig {
    #[serde(default)]
    calibrate: bool,
}

fn one() -> f64 {
    1.0
}
fn hundred() -> usize {
    100
}
fn tol() -> f64 {
    1e-8
}

impl ModelSpec {
    /// Builds a model from its config table. Errors are `(key, reason)`
    /// relative to the model's table, for the caller to place.
    pub fn from_config(
        cfg: &crate::config::ModelConfig,
        task: Task,
        horizon_days: u32,
    ) -> Result<Self, (String, String)> {
        let Some(&(kind, serves, _)) = KINDS.iter().find(|(k, _, _)| *k == cfg.kind) else {
            let known: Vec<&str> = KINDS.iter().map(|(k, _, _)| *k).collect();
            return Err((
                "kind".into(),
                format!(
                    "unknown model kind `{}` (expected one of: {})",
                    cfg.kind,
                    known.join(", ")
                ),
            ));
        };
        if serves != task {
            return Err((
                "kind".into(),
                format!("`{kind}` is a {serves} model but the experiment's task is {task}"),
            ));
        }
        let bad = |e: &dyn std::fmt::Display| ("params".to_string(), e.to_string());
        let family = match kind {
            "logistic" => {
                let p: LogisticConfig = parse_params(&cfg.params)?;
                let valid = LogisticRegressionParams::new()
                    .l2(p.l2)
                    .max_iter(p.max_iter)
                    .tol(p.tol)
                    .check()
                    .map_err(|e| bad(&e))?;
                Family::Logistic(valid)
            }
            "kaplan_meier" => {
                let _: KaplanMeierConfig = parse_params(&cfg.params)?;
                let valid = KaplanMeierParams::new(f64::from(horizon_days))
                    .check()
                    .map_err(|e| bad(&e))?;
                Family::KaplanMeier(valid)
            }
            "cox" => {
                let p: CoxConfig = parse_params(&cfg.params)?;
                let valid = CoxParams::new()
                    .ties(p.ties)
                    .l2(p.l2)
                    .max_iter(p.max_iter)
                    .check()
                    .map_err(|e| bad(&e))?;
                Family::Cox(valid)
            }
            "historical_average" => {
                let p: HistoricalAverageConfig = parse_params(&cfg.params)?;
                let valid = HistoricalAverageParams::new(f64::from(horizon_days))
                    .calibrate(p.calibrate)
                    .check()
                    .map_err(|e| bad(&e))?;
                Family::HistoricalAverage(valid)
            }
            _ => unreachable!("kind listed in KINDS without a builder"),
        };
        let params = cfg
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        Ok(Self {
            name: cfg.name.clone().unwrap_or_else(|| kind.to_string()),
            kind,
            family,
            params,
        })
    }

    /// Fits on `train` and scores `valid`.
    pub fn fit_predict(&self, train: &Dataset, valid: &Matrix) -> Result<Vec<f64>, String> {
        fn go<P>(p: &P, train: &Dataset, valid: &Matrix) -> Result<Vec<f64>, String>
        where
            P: Fit,
            P::Error: std::fmt::Display,
            <P::Model as Predict>::Error: std::fmt::Display,
        {
            let model = p.fit(train).map_err(|e| e.to_string())?;
            model.predict(valid).map_err(|e| e.to_string())
        }
        match &self.family {
            Family::Logistic(p) => go(p, train, valid),
            Family::KaplanMeier(p) => go(p, train, valid),
            Family::Cox(p) => {
                // Cox takes complete inputs: impute and scale with the
                // training rows' statistics only.
                let scaler = Scaler::fit(train.x());
                let names = scaler
                    .keep
                    .iter()
                    .map(|&j| train.feature_names()[j].clone())
                    .collect();
                let train =
                    Dataset::new(scaler.transform(train.x()), names, train.target().clone())
                        .map_err(|e| e.to_string())?;
                go(p, &train, &scaler.transform(valid))
            }
            Family::HistoricalAverage(p) => go(p, train, valid),
        }
    }
}

fn parse_params<T: DeserializeOwned>(table: &toml::Table) -> Result<T, (String, String)> {
    T::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| ("params".to_string(), e.message().trim().to_string()))
}

/// Column means and standard deviations of the training rows (missing values
/// ignored); transforming fills a missing value with the mean, i.e. 0, and
/// drops columns constant in training, which carry no information.
#[derive(Debug, Clone)]
struct Scaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
    keep: Vec<usize>,
}

impl Scaler {
    fn fit(x: &Matrix) -> Self {
        let p = x.n_cols();
        let (mut n, mut sum) = (vec![0usize; p], vec![0.0; p]);
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_finite() {
                    n[j] += 1;
                    sum[j] += v;
                }
            }
        }
        let mean: Vec<f64> = (0..p)
            .map(|j| if n[j] > 0 { sum[j] / n[j] as f64 } else { 0.0 })
            .collect();
        let mut sq = vec![0.0; p];
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v.is_finite() {
                    sq[j] += (v - mean[j]).powi(2);
                }
            }
        }
        let scale: Vec<f64> = (0..p)
            .map(|j| {
                if n[j] > 0 {
                    (sq[j] / n[j] as f64).sqrt()
                } else {
                    0.0
                }
            })
            .collect();
        let keep = (0..p).filter(|&j| scale[j] > 0.0).collect();
        Self { mean, scale, keep }
    }

    fn transform(&self, x: &Matrix) -> Matrix {
        let mut out = Matrix::zeros(x.n_rows(), self.keep.len());
        for r in 0..x.n_rows() {
            for (k, &j) in self.keep.iter().enumerate() {
                let v = x.get(r, j);
                if v.is_finite() {
                    out.set(r, k, (v - self.mean[j]) / self.scale[j]);
                }
            }
        }
        out
    }
}

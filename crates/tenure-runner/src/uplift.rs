//! `[uplift]`: who should a retention campaign target? Uplift models
//! (T-learner, X-learner, class transformation) trained on the customers
//! active at one cutoff, with the campaign arm from the customers table and
//! the experiment's label as the outcome, and evaluated on held-out
//! customers: Qini curve and coefficient, AUUC, uplift by decile, the value
//! of targeting the top share; and, when the data come with a ground truth
//! (`tenure synth`'s `truth.parquet`), how close the ranking is to the true
//! individual effects.
//!
//! A higher outcome is better for every metric: the churn label is turned
//! into retention (`1 − churn`), so a positive uplift is churn prevented.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tenure_core::{Matrix, Target, Task};
use tenure_data::{CustomerLog, HighCardinality, SnapshotBuilder, format_date, parse_date};
use tenure_metrics::{
    AbOptions, AbReport, PolicyValue, UpliftCurve, UpliftDecile, ab_test, auuc, policy_values,
    qini_coefficient, qini_curve, spearman, uplift_by_decile,
};
use tenure_uplift::{
    ClassTransformation, META_LEARNERS, TLearner, UpliftData, UpliftLearner, XLearner,
};

use tenure_report::{HtmlReport, LineChart, Series};
use tenure_store::TrackingStore;

use crate::config::ModelConfig;
use crate::models::ModelSpec;
use crate::output::p_value;
use crate::pipeline::{column, target_encode};
use crate::{Experiment, Result, RunnerError};

/// Model kinds that learn from any feature matrix and can serve as base
/// learners (the others need particular features or no features at all).
pub const BASE_KINDS: &[&str] = &["gbdt", "logistic", "ridge"];

/// The `[uplift]` table as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UpliftConfig {
    /// Categorical column of the customers table holding each customer's arm.
    pub treatment: String,
    #[serde(default = "default_treated")]
    pub treated_value: String,
    #[serde(default = "default_control")]
    pub control_value: String,
    /// Features are taken before this date and the outcome is the label in
    /// `[cutoff, cutoff + horizon)`.
    pub cutoff: String,
    /// Share of the customers held out to evaluate the models.
    #[serde(default = "default_test_share")]
    pub test_share: f64,
    #[serde(default = "default_learners")]
    pub learners: Vec<String>,
    /// Outcome models (and the class transformation's classifier): a model
    /// of the experiment's task. Default: `gbdt` with 3-leaf trees, 150
    /// rounds at learning rate 0.05, at least 200 rows per leaf.
    #[serde(default = "default_base")]
    pub base: BaseModelConfig,
    /// Regressions of imputed effects (X-learner) and of the transformed
    /// outcome (class transformation of a continuous outcome). Default: the
    /// same `gbdt` with `objective = "regression"`.
    #[serde(default = "default_regressor")]
    pub regressor: BaseModelConfig,
    /// Shares of customers to target for the policy values.
    #[serde(default = "default_fractions")]
    pub policy_fractions: Vec<f64>,
    #[serde(default)]
    pub truth: Option<TruthConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaseModelConfig {
    pub kind: String,
    #[serde(default)]
    pub params: toml::Table,
}

/// A table of true individual effects, one row per customer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TruthConfig {
    pub path: PathBuf,
    #[serde(default = "default_customer_id")]
    pub customer_id: String,
    /// The true effect of treatment on the experiment's label (for churn:
    /// on the churn probability, so a campaign that prevents churn has a
    /// negative effect). `tenure synth` writes it as `ite`.
    #[serde(default = "default_truth_column")]
    pub column: String,
}

fn default_treated() -> String {
    "treatment".into()
}
fn default_control() -> String {
    "control".into()
}
fn default_test_share() -> f64 {
    0.3
}
fn default_learners() -> Vec<String> {
    META_LEARNERS.iter().map(|s| (*s).to_string()).collect()
}
/// Gradient boosting with small trees and large leaves: an uplift is a
/// small difference of two noisy predictions, and deeper trees fit each
/// arm's noise (on `tenure synth` campaigns, 3-leaf trees ranked customers
/// by their true effect consistently better than 7-leaf ones).
fn gbdt_defaults() -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("num_iterations".into(), toml::Value::Integer(150));
    t.insert("learning_rate".into(), toml::Value::Float(0.05));
    t.insert("num_leaves".into(), toml::Value::Integer(3));
    t.insert("min_data_in_leaf".into(), toml::Value::Integer(200));
    t
}
fn default_base() -> BaseModelConfig {
    BaseModelConfig {
        kind: "gbdt".into(),
        params: gbdt_defaults(),
    }
}
fn default_regressor() -> BaseModelConfig {
    // Imputed effects and transformed outcomes can be negative: squared
    // error, not the CLV default of Tweedie.
    let mut params = gbdt_defaults();
    params.insert("objective".into(), toml::Value::String("regression".into()));
    BaseModelConfig {
        kind: "gbdt".into(),
        params,
    }
}
fn default_fractions() -> Vec<f64> {
    (0..=10).map(|k| f64::from(k) / 10.0).collect()
}
fn default_customer_id() -> String {
    "customer_id".into()
}
fn default_truth_column() -> String {
    "ite".into()
}

/// A checked `[uplift]` table: dates parsed, base models built, paths
/// resolved against the experiment file.
#[derive(Debug, Clone)]
pub struct UpliftSpec {
    pub config: UpliftConfig,
    pub cutoff: i64,
    pub base: ModelSpec,
    pub regressor: ModelSpec,
}

impl UpliftSpec {
    /// Errors are `(key, reason)`, the key spelled in full (`uplift.cutoff`).
    pub fn from_config(
        mut config: UpliftConfig,
        task: Task,
        horizon_days: u32,
        base_dir: &Path,
    ) -> Result<Self, (String, String)> {
        let err = |key: &str, reason: String| Err((format!("uplift.{key}"), reason));
        if task == Task::Survival {
            return Err((
                "labels.task".into(),
                "uplift needs a churn or clv label as its outcome, not survival".into(),
            ));
        }
        let Some(cutoff) = parse_date(&config.cutoff) else {
            return err(
                "cutoff",
                format!("`{}` is not a date like 2023-07-01", config.cutoff),
            );
        };
        if !(config.test_share > 0.0 && config.test_share < 1.0) {
            return err(
                "test_share",
                format!(
                    "must be strictly between 0 and 1, got {}",
                    config.test_share
                ),
            );
        }
        if config.treated_value == config.control_value {
            return err(
                "control_value",
                format!("equals treated_value `{}`", config.treated_value),
            );
        }
        if config.learners.is_empty() {
            return err(
                "learners",
                format!("no learners: name some of {}", META_LEARNERS.join(", ")),
            );
        }
        for (i, l) in config.learners.iter().enumerate() {
            if !META_LEARNERS.contains(&l.as_str()) {
                return err(
                    &format!("learners[{i}]"),
                    format!(
                        "unknown learner `{l}` (expected one of: {})",
                        META_LEARNERS.join(", ")
                    ),
                );
            }
            if config.learners[..i].contains(l) {
                return err(&format!("learners[{i}]"), format!("`{l}` is listed twice"));
            }
        }
        if let Some(i) = config
            .policy_fractions
            .iter()
            .position(|f| !(0.0..=1.0).contains(f))
        {
            return err(
                &format!("policy_fractions[{i}]"),
                format!("must be in [0, 1], got {}", config.policy_fractions[i]),
            );
        }
        let build = |key: &str, cfg: &BaseModelConfig, task: Task| {
            if !BASE_KINDS.contains(&cfg.kind.as_str()) {
                return Err((
                    format!("uplift.{key}.kind"),
                    format!(
                        "`{}` cannot be a base learner (expected one of: {})",
                        cfg.kind,
                        BASE_KINDS.join(", ")
                    ),
                ));
            }
            let model = ModelConfig {
                name: Some(format!("uplift.{key}")),
                kind: cfg.kind.clone(),
                params: cfg.params.clone(),
            };
            ModelSpec::from_config(&model, task, horizon_days)
                .map_err(|(k, reason)| (format!("uplift.{key}.{k}"), reason))
        };
        let base = build("base", &config.base, task)?;
        let regressor = build("regressor", &config.regressor, Task::Clv)?;
        if let Some(t) = config.truth.as_mut().filter(|t| t.path.is_relative()) {
            t.path = base_dir.join(&t.path);
        }
        Ok(Self {
            config,
            cutoff,
            base,
            regressor,
        })
    }
}

/// One meta-learner's scores on the held-out customers.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerOutcome {
    pub name: String,
    pub qini_coefficient: f64,
    /// Normalised area under the uplift curve; `None` for a continuous
    /// outcome (scikit-uplift defines its perfect curve for 0/1 outcomes).
    pub auuc: Option<f64>,
    pub mean_predicted_uplift: f64,
    pub deciles: Vec<UpliftDecile>,
    pub policy: Vec<PolicyValue>,
    pub qini_curve: UpliftCurve,
    /// Against the true individual effects, when a truth table is given.
    pub truth: Option<TruthComparison>,
    pub fit_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TruthComparison {
    /// Spearman correlation of the predicted uplift with the true one.
    pub spearman: f64,
    /// Mean true uplift of the top 10% by prediction, over the mean true
    /// uplift of everyone.
    pub top_decile_true_uplift: f64,
}

/// What `[uplift]` produced; written to the run as `uplift.json`.
#[derive(Debug, Clone, Serialize)]
pub struct UpliftOutcome {
    pub cutoff: String,
    pub treatment: String,
    /// What the uplift is measured on.
    pub outcome: String,
    pub train_rows: usize,
    pub test_rows: usize,
    /// Share of treated customers among the training rows (the propensity).
    pub treated_share: f64,
    /// The campaign as an A/B test on every customer active at the cutoff.
    pub ab: AbReport,
    pub learners: Vec<LearnerOutcome>,
    /// The ranking by the TRUE individual effect, scored like the learners:
    /// the best any model could do on these held-out outcomes.
    pub oracle: Option<LearnerOutcome>,
    pub mean_true_uplift: Option<f64>,
}

/// Arms, outcome and features of the customers active at the cutoff.
struct Campaign {
    ids: Vec<String>,
    treated: Vec<bool>,
    outcome: Vec<f64>,
    binary: bool,
    x: Matrix,
    names: Vec<String>,
    high_cardinality: Vec<HighCardinality>,
}

fn config_error(exp: &Experiment, key: &str, reason: String) -> RunnerError {
    RunnerError::Config {
        path: exp.path.clone(),
        key: format!("uplift.{key}"),
        reason,
    }
}

fn campaign(exp: &Experiment, spec: &UpliftSpec, log: &CustomerLog) -> Result<Campaign> {
    let f = &exp.file;
    let cfg = &spec.config;
    let snapshot = SnapshotBuilder::new(log, &f.features, &f.labels, spec.cutoff)
        .and_then(|b| b.build(spec.cutoff))
        .map_err(|e| match e {
            tenure_data::DataError::Config { reason, .. } => config_error(exp, "cutoff", reason),
            other => other.into(),
        })?;

    let attr = log
        .customers()
        .and_then(|t| t.categorical.iter().find(|a| a.name == cfg.treatment))
        .ok_or_else(|| {
            let listed = f
                .data
                .customers
                .as_ref()
                .map(|c| c.categorical.join(", "))
                .unwrap_or_default();
            config_error(
                exp,
                "treatment",
                format!(
                    "`{}` is not a categorical column of the customers table \
                     (data.customers.categorical lists: {listed})",
                    cfg.treatment
                ),
            )
        })?;
    let customers_path = f
        .data
        .customers
        .as_ref()
        .map_or_else(PathBuf::new, |c| c.path.clone());
    let mut treated = Vec::with_capacity(snapshot.customer_ids.len());
    for id in &snapshot.customer_ids {
        let i = log
            .customer_ids()
            .binary_search(id)
            .expect("snapshot customers come from the log");
        let level = attr.codes[i].map(|c| attr.levels[c as usize].as_str());
        treated.push(match level {
            Some(l) if l == cfg.treated_value => true,
            Some(l) if l == cfg.control_value => false,
            other => {
                return Err(RunnerError::Arm {
                    path: customers_path,
                    column: cfg.treatment.clone(),
                    detail: format!(
                        "customer {id} has {}, expected `{}` or `{}` \
                         (uplift.treated_value / uplift.control_value)",
                        other.map_or("a missing value".into(), |l| format!("`{l}`")),
                        cfg.treated_value,
                        cfg.control_value
                    ),
                });
            }
        });
    }

    let (outcome, binary) = match snapshot.dataset.target() {
        Target::Binary(churn) => (churn.iter().map(|c| 1.0 - c).collect(), true),
        Target::Continuous(spend) => (spend.clone(), false),
        Target::Survival { .. } => unreachable!("checked when the config was loaded"),
    };
    // The arm must not be a feature: the models would split on it, and the
    // class transformation's label is a function of it.
    let prefix = format!("attr_{}=", cfg.treatment);
    let names = snapshot.dataset.feature_names();
    let keep: Vec<usize> = (0..names.len())
        .filter(|&j| !names[j].starts_with(&prefix))
        .collect();
    let x = snapshot.dataset.x();
    let mut kept = Matrix::zeros(x.n_rows(), keep.len());
    for r in 0..x.n_rows() {
        for (k, &j) in keep.iter().enumerate() {
            kept.set(r, k, x.get(r, j));
        }
    }
    let high_cardinality = snapshot
        .high_cardinality
        .iter()
        .filter(|h| h.name != format!("attr_{}_te", cfg.treatment))
        .cloned()
        .collect();
    Ok(Campaign {
        ids: snapshot.customer_ids.clone(),
        treated,
        outcome,
        binary,
        x: kept,
        names: keep.iter().map(|&j| names[j].clone()).collect(),
        high_cardinality,
    })
}

/// Whether a customer is held out: a hash of the seed and the customer id,
/// so the split depends neither on row order nor on the other customers.
fn held_out(seed: u64, id: &str, share: f64) -> bool {
    // FNV-1a, then SplitMix64's finaliser to spread the bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64 <= share
}

/// True effects on the label, per customer id.
fn read_truth(
    exp: &Experiment,
    spec: &UpliftSpec,
    truth: &TruthConfig,
) -> Result<HashMap<String, f64>> {
    // `tenure synth` records where its truth was evaluated; a truth for
    // another cutoff or horizon would be compared with the wrong effects.
    if let Ok(meta) = tenure_data::synth::read_truth_metadata(&truth.path) {
        let horizon = exp.file.labels.horizon_days.to_string();
        let expected = [
            (
                "tenure.synth.truth_cutoff",
                format_date(spec.cutoff),
                "cutoff",
            ),
            ("tenure.synth.truth_horizon_days", horizon, "horizon_days"),
        ];
        for (key, want, what) in expected {
            if let Some(got) = meta.get(key).filter(|got| **got != want) {
                return Err(config_error(
                    exp,
                    "truth",
                    format!(
                        "{} holds effects for {what} {got}, but the uplift is measured at \
                         {want}: regenerate it (tenure synth --truth-cutoff/--truth-horizon-days) \
                         or change uplift.cutoff / labels.horizon_days",
                        truth.path.display()
                    ),
                ));
            }
        }
    }
    let table =
        tenure_data::io::read_columns(&truth.path, &[&truth.column], &[&truth.customer_id])?;
    let ids = table.text(&truth.customer_id).expect("read");
    let values = table.numeric(&truth.column).expect("read");
    Ok(ids
        .iter()
        .zip(values)
        .filter_map(|(id, v)| Some((id.clone()?, *v)))
        .collect())
}

fn score(
    name: &str,
    y: &[f64],
    uplift: &[f64],
    treated: &[bool],
    binary: bool,
    fractions: &[f64],
    truth: Option<&[f64]>,
) -> std::result::Result<LearnerOutcome, tenure_metrics::MetricsError> {
    let truth = truth.map(|t| TruthComparison {
        // A constant prediction has no ranking at all.
        spearman: spearman(t, uplift).unwrap_or(0.0),
        top_decile_true_uplift: top_decile_ratio(t, uplift),
    });
    Ok(LearnerOutcome {
        name: name.to_string(),
        qini_coefficient: qini_coefficient(y, uplift, treated)?,
        auuc: if binary {
            Some(auuc(y, uplift, treated)?)
        } else {
            None
        },
        mean_predicted_uplift: uplift.iter().sum::<f64>() / uplift.len() as f64,
        deciles: uplift_by_decile(y, uplift, treated, 10)?,
        policy: policy_values(y, uplift, treated, fractions)?,
        qini_curve: qini_curve(y, uplift, treated)?,
        truth,
        fit_seconds: 0.0,
    })
}

/// Mean true effect of the top 10% by `score`, over the mean of everyone.
fn top_decile_ratio(truth: &[f64], score: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let k = (score.len() / 10).max(1);
    let top = order[..k].iter().map(|&i| truth[i]).sum::<f64>() / k as f64;
    top / (truth.iter().sum::<f64>() / truth.len() as f64)
}

/// Trains every configured meta-learner on the training customers and
/// scores the held-out ones.
pub fn evaluate(exp: &Experiment, spec: &UpliftSpec, log: &CustomerLog) -> Result<UpliftOutcome> {
    let cfg = &spec.config;
    let c = campaign(exp, spec, log)?;
    let ab = ab_test(&c.treated, &c.outcome, None, &AbOptions::default()).map_err(|source| {
        RunnerError::Metrics {
            model: "uplift".into(),
            fold: format!("the campaign at {}", cfg.cutoff),
            source,
        }
    })?;

    let (test, train): (Vec<usize>, Vec<usize>) =
        (0..c.ids.len()).partition(|&i| held_out(exp.file.seed, &c.ids[i], cfg.test_share));
    let pick = |rows: &[usize], v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let arms = |rows: &[usize]| rows.iter().map(|&i| c.treated[i]).collect::<Vec<bool>>();
    let (y_train, y_test) = (pick(&train, &c.outcome), pick(&test, &c.outcome));
    let (t_train, t_test) = (arms(&train), arms(&test));
    let target = |y: Vec<f64>| {
        if c.binary {
            Target::Binary(y)
        } else {
            Target::Continuous(y)
        }
    };
    let train_target = target(y_train);
    let mut x_train = c.x.select_rows(&train);
    let mut x_test = c.x.select_rows(&test);
    let mut names = c.names.clone();
    let test_codes: Vec<HighCardinality> = c
        .high_cardinality
        .iter()
        .map(|h| HighCardinality {
            codes: test.iter().map(|&i| h.codes[i]).collect(),
            ..h.clone()
        })
        .collect();
    let train_codes = |k: usize| {
        train
            .iter()
            .map(|&i| c.high_cardinality[k].codes[i])
            .collect()
    };
    for e in target_encode(exp, &test_codes, train_codes, &train_target)? {
        x_train = x_train.hstack(&column(e.train))?;
        x_test = x_test.hstack(&column(e.valid))?;
        names.push(e.name);
    }
    let data = UpliftData::new(&x_train, &names, &train_target, &t_train).map_err(|e| {
        RunnerError::Model {
            model: "uplift".into(),
            message: format!("training rows: {e}"),
        }
    })?;
    if t_test.iter().all(|&t| t) || !t_test.iter().any(|&t| t) {
        return Err(config_error(
            exp,
            "test_share",
            format!(
                "the {} held-out customers are all in one arm: raise test_share",
                t_test.len()
            ),
        ));
    }

    let truth = match &cfg.truth {
        Some(t) => {
            let table = read_truth(exp, spec, t)?;
            // Benefit in the metrics' direction: for churn, churn prevented.
            let sign = if c.binary { -1.0 } else { 1.0 };
            let mut values = Vec::with_capacity(test.len());
            for &i in &test {
                let id = &c.ids[i];
                match table.get(id) {
                    Some(v) if v.is_finite() => values.push(sign * v),
                    _ => {
                        return Err(config_error(
                            exp,
                            "truth",
                            format!(
                                "{} has no `{}` for held-out customer {id}, who is active at {}",
                                t.path.display(),
                                t.column,
                                cfg.cutoff
                            ),
                        ));
                    }
                }
            }
            Some(values)
        }
        None => None,
    };

    let metric_error = |name: &str| {
        let name = name.to_string();
        move |source: tenure_metrics::MetricsError| RunnerError::Metrics {
            model: format!("uplift.{name}"),
            fold: "the held-out customers".into(),
            source,
        }
    };
    let mut learners = Vec::new();
    for name in &cfg.learners {
        let learner: Box<dyn UpliftLearner + '_> = match name.as_str() {
            "t_learner" => Box::new(TLearner::new(&spec.base)),
            "x_learner" => Box::new(XLearner::new(&spec.base, &spec.regressor)),
            "class_transformation" => {
                Box::new(ClassTransformation::new(&spec.base, &spec.regressor))
            }
            other => unreachable!("learner `{other}` passed the config check"),
        };
        let t0 = Instant::now();
        let uplift = learner
            .fit_predict(&data, &x_test)
            .map_err(|e| RunnerError::Model {
                model: format!("uplift.{name}"),
                message: e.to_string(),
            })?;
        let mut scored = score(
            name,
            &y_test,
            &uplift,
            &t_test,
            c.binary,
            &cfg.policy_fractions,
            truth.as_deref(),
        )
        .map_err(metric_error(name))?;
        scored.fit_seconds = t0.elapsed().as_secs_f64();
        learners.push(scored);
    }
    let oracle = match &truth {
        Some(t) => Some(
            score(
                "true effect",
                &y_test,
                t,
                &t_test,
                c.binary,
                &cfg.policy_fractions,
                Some(t),
            )
            .map_err(metric_error("true_effect"))?,
        ),
        None => None,
    };
    Ok(UpliftOutcome {
        cutoff: cfg.cutoff.clone(),
        treatment: cfg.treatment.clone(),
        outcome: if c.binary {
            format!(
                "retention (1 - churn within {} days)",
                exp.file.labels.horizon_days
            )
        } else {
            format!("spend within {} days", exp.file.labels.horizon_days)
        },
        train_rows: train.len(),
        test_rows: test.len(),
        treated_share: data.treated_share(),
        ab,
        learners,
        mean_true_uplift: truth
            .as_ref()
            .map(|t| t.iter().sum::<f64>() / t.len() as f64),
        oracle,
    })
}

/// Logs each learner's scores as metrics and the whole outcome as
/// `uplift.json`.
pub fn log(u: &UpliftOutcome, store: &dyn TrackingStore, run_id: &str) -> Result<()> {
    for l in u.learners.iter().chain(&u.oracle) {
        let key = l.name.replace(' ', "_");
        let mut metrics = vec![("qini", l.qini_coefficient)];
        metrics.extend(l.auuc.map(|a| ("auuc", a)));
        if let Some(t) = &l.truth {
            metrics.push(("spearman_true", t.spearman));
        }
        for (metric, value) in metrics {
            store.log_metric(run_id, &format!("uplift.{key}.{metric}"), value, 0)?;
        }
    }
    // serde_json writes NaN (an arm without customers in a decile) as null.
    let json = serde_json::to_string_pretty(u).unwrap_or_default();
    store.log_artifact_bytes(run_id, "uplift.json", json.as_bytes())?;
    Ok(())
}

/// The `uplift` entry of `tenure run --json`: each model's headline scores
/// (the curves, deciles and policy values are in the run's `uplift.json`).
pub fn json_summary(u: &UpliftOutcome) -> serde_json::Value {
    let finite = |v: f64| v.is_finite().then_some(v);
    let learner = |l: &LearnerOutcome| {
        serde_json::json!({
            "name": l.name,
            "qini_coefficient": finite(l.qini_coefficient),
            "auuc": l.auuc.and_then(finite),
            "mean_predicted_uplift": finite(l.mean_predicted_uplift),
            "spearman_true": l.truth.as_ref().and_then(|t| finite(t.spearman)),
            "top_decile_true_uplift": l.truth.as_ref().and_then(|t| finite(t.top_decile_true_uplift)),
        })
    };
    serde_json::json!({
        "cutoff": u.cutoff,
        "treatment": u.treatment,
        "outcome": u.outcome,
        "train_rows": u.train_rows,
        "test_rows": u.test_rows,
        "ate": {
            "estimate": u.ab.ate.estimate,
            "ci_low": u.ab.ate.ci_low,
            "ci_high": u.ab.ate.ci_high,
            "p": u.ab.ate.p,
        },
        "mean_true_uplift": u.mean_true_uplift,
        "learners": u.learners.iter().map(learner).collect::<Vec<_>>(),
        "oracle": u.oracle.as_ref().map(learner),
    })
}

/// One row per learner (and the true-effect ranking), for the terminal.
pub fn table(u: &UpliftOutcome) -> String {
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    let best_policy = |l: &LearnerOutcome| {
        l.policy
            .iter()
            .max_by(|a, b| a.value.total_cmp(&b.value))
            .map_or("-".into(), |p| {
                format!("top {:.0}%: {:+.4}", p.fraction * 100.0, p.gain_over_none)
            })
    };
    let rows: Vec<Vec<String>> = u
        .learners
        .iter()
        .chain(&u.oracle)
        .map(|l| {
            vec![
                l.name.clone(),
                format!("{:.4}", l.qini_coefficient),
                fmt(l.auuc),
                fmt(l.truth.as_ref().map(|t| t.spearman)),
                fmt(l.truth.as_ref().map(|t| t.top_decile_true_uplift)),
                format!("{:.4}", l.mean_predicted_uplift),
                best_policy(l),
            ]
        })
        .collect();
    crate::output::text_table(
        &[
            "uplift model",
            "qini",
            "auuc",
            "spearman(true)",
            "top10% true/avg",
            "mean uplift",
            "best policy (gain vs none)",
        ],
        &rows,
    )
}

/// The uplift part of the run's HTML report: the campaign as an A/B test,
/// the models' scores, and the Qini, uplift-by-decile and policy charts as
/// inline SVG.
pub fn report_section(r: &mut HtmlReport, u: &UpliftOutcome) {
    let ab = &u.ab;
    let mut pairs = vec![
        ("outcome".to_string(), u.outcome.clone()),
        ("cutoff".into(), u.cutoff.clone()),
        (
            "customers (treated / control)".into(),
            format!("{} / {}", ab.treatment.n, ab.control.n),
        ),
        (
            "mean outcome (treated / control)".into(),
            format!("{:.4} / {:.4}", ab.treatment.mean, ab.control.mean),
        ),
        (
            "average effect (95% CI, p)".into(),
            format!(
                "{:+.4} ({:+.4} … {:+.4}, p = {})",
                ab.ate.estimate,
                ab.ate.ci_low,
                ab.ate.ci_high,
                p_value(ab.ate.p)
            ),
        ),
        (
            "sample ratio vs 50/50 (chi², p)".into(),
            format!("{:.2}, p = {}", ab.srm.chi2, p_value(ab.srm.p)),
        ),
        (
            "training / held-out customers".into(),
            format!("{} / {}", u.train_rows, u.test_rows),
        ),
    ];
    if let Some(m) = u.mean_true_uplift {
        pairs.push(("mean true uplift (held out)".into(), format!("{m:+.4}")));
    }
    r.key_values(
        &format!("Uplift of the campaign in column `{}`", u.treatment),
        &pairs,
    );
    if ab.srm.mismatch {
        r.paragraph(format!(
            "Warning: the arms are not split 50/50 among the customers active at {} \
             (p = {}). The campaign ran before the cutoff and changed who is still \
             active, so the arms differ in more than the treatment; the uplift models \
             adjust for the features they see, with the training share as propensity.",
            u.cutoff,
            p_value(ab.srm.p)
        ));
    }

    let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
    let header: Vec<String> = [
        "model",
        "Qini coefficient",
        "AUUC",
        "Spearman with true uplift",
        "true uplift of top 10% / mean",
        "mean predicted uplift",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = u
        .learners
        .iter()
        .chain(&u.oracle)
        .map(|l| {
            vec![
                l.name.clone(),
                format!("{:.4}", l.qini_coefficient),
                fmt(l.auuc),
                fmt(l.truth.as_ref().map(|t| t.spearman)),
                fmt(l.truth.as_ref().map(|t| t.top_decile_true_uplift)),
                format!("{:.4}", l.mean_predicted_uplift),
            ]
        })
        .collect();
    r.table("Uplift models on the held-out customers", &header, &rows);

    let n = u.test_rows as f64;
    let mut qini: Vec<Series> = u
        .learners
        .iter()
        .chain(&u.oracle)
        .map(|l| {
            Series::new(
                l.name.clone(),
                l.qini_curve
                    .points()
                    .into_iter()
                    .map(|(k, v)| (k / n, v))
                    .collect(),
            )
        })
        .collect();
    if let Some(end) = u.learners.first().and_then(|l| l.qini_curve.value.last()) {
        qini.push(Series::new(
            "random targeting",
            vec![(0.0, 0.0), (1.0, *end)],
        ));
    }
    r.line_chart(
        "Qini curve: incremental outcomes when targeting the top share by predicted uplift",
        &LineChart {
            x_label: "share of held-out customers targeted".into(),
            y_label: "incremental outcomes (Qini)".into(),
            series: qini,
            diagonal: false,
            x_range: Some((0.0, 1.0)),
            y_range: None,
        },
    );

    let deciles = u
        .learners
        .iter()
        .chain(&u.oracle)
        .map(|l| {
            Series::new(
                l.name.clone(),
                l.deciles
                    .iter()
                    .map(|d| (d.decile as f64, d.uplift))
                    .collect(),
            )
        })
        .collect();
    r.line_chart(
        "Observed uplift by decile of predicted uplift (1 = highest)",
        &LineChart {
            x_label: "decile of predicted uplift".into(),
            y_label: "treated − control mean outcome".into(),
            series: deciles,
            diagonal: false,
            x_range: Some((1.0, 10.0)),
            y_range: None,
        },
    );

    let policy = u
        .learners
        .iter()
        .chain(&u.oracle)
        .map(|l| {
            Series::new(
                l.name.clone(),
                l.policy
                    .iter()
                    .map(|p| (p.fraction, p.gain_over_none))
                    .collect(),
            )
        })
        .collect();
    r.line_chart(
        "Policy value: mean outcome gained over treating no one, targeting the top share",
        &LineChart {
            x_label: "share of customers treated".into(),
            y_label: "gain per customer over treating no one".into(),
            series: policy,
            diagonal: false,
            x_range: Some((0.0, 1.0)),
            y_range: None,
        },
    );
}

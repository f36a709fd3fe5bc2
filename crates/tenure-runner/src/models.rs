//! The model families an experiment can name, built from `[[models]]` tables.

use std::ops::ControlFlow;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tenure_core::spec::{LinearModel, Model, Standardize};
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, PredictSurvival, Task};
use tenure_device::ResolvedDevice;
use tenure_gbdt::{GbdtConfig, GbdtParams, GbdtValidParams, Objective};
use tenure_neural::{DeepSurvValidParams, MlpValidParams, NeuralConfig, ZilnValidParams};
use tenure_stats::{
    BgNbdParams, BgNbdValidParams, CoxParams, CoxValidParams, GammaGammaParams,
    GammaGammaValidParams, HistoricalAverageParams, HistoricalAverageValidParams,
    KaplanMeierParams, KaplanMeierValidParams, LogisticRegressionParams,
    LogisticRegressionValidParams, RidgeRegressionParams, RidgeRegressionValidParams, Ties,
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
    (
        "mlp",
        Task::Churn,
        "multilayer perceptron on standardised features (burn; runs on --device)",
    ),
    (
        "deepsurv",
        Task::Survival,
        "DeepSurv: a network for the Cox log hazard ratio (burn; runs on --device)",
    ),
    ("historical_average", Task::Clv, "past spend rate x horizon"),
    (
        "gbdt",
        Task::Churn,
        "histogram gradient boosting, binary log loss",
    ),
    (
        "gbdt",
        Task::Survival,
        "histogram gradient boosting, Cox partial likelihood",
    ),
    (
        "gbdt",
        Task::Clv,
        "histogram gradient boosting, Tweedie (or L2) loss",
    ),
    (
        "bgnbd",
        Task::Clv,
        "BG/NBD expected purchases x past mean spend",
    ),
    (
        "gamma_gamma",
        Task::Clv,
        "BG/NBD expected purchases x Gamma-Gamma expected spend",
    ),
    (
        "ridge",
        Task::Clv,
        "L2-regularised linear regression on standardised features",
    ),
    (
        "ziln",
        Task::Clv,
        "zero-inflated lognormal network, expected spend (burn; runs on --device)",
    ),
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
    Gbdt(GbdtValidParams),
    BuyTillYouDie {
        bgnbd: BgNbdValidParams,
        gamma_gamma: Option<GammaGammaValidParams>,
        horizon_days: f64,
        /// Monthly rate: the forecast is then a discounted CLV over the
        /// horizon's months.
        discount_monthly: Option<f64>,
    },
    Ridge(RidgeRegressionValidParams),
    /// A burn network; `config` keeps the table to rebuild the parameters
    /// with the experiment's seed.
    Neural {
        config: Box<NeuralConfig>,
        params: Box<NeuralFamily>,
    },
}

/// The checked parameters of one of the three networks.
#[derive(Debug, Clone)]
pub enum NeuralFamily {
    Mlp(MlpValidParams),
    DeepSurv(DeepSurvValidParams),
    Ziln(ZilnValidParams),
}

impl NeuralFamily {
    fn build(
        kind: &str,
        config: &NeuralConfig,
        seed: u64,
    ) -> Result<Self, tenure_neural::NeuralError> {
        let cpu = ResolvedDevice::Cpu;
        Ok(match kind {
            "mlp" => NeuralFamily::Mlp(config.mlp(seed, cpu)?),
            "deepsurv" => NeuralFamily::DeepSurv(config.deepsurv(seed, cpu)?),
            "ziln" => NeuralFamily::Ziln(config.ziln(seed, cpu)?),
            _ => unreachable!("not a neural kind: {kind}"),
        })
    }
}

/// The seed neural models use when neither the model's table nor the
/// experiment gives one.
const DEFAULT_NEURAL_SEED: u64 = 42;

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
struct RidgeConfig {
    #[serde(default = "one")]
    l2: f64,
}

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
struct BuyTillYouDieConfig {
    /// Ridge on the log-parameters (lifetimes' `penalizer_coef`).
    #[serde(default)]
    l2: f64,
    /// Discount future spend month by month (gamma_gamma only); give one
    /// rate, monthly or annual.
    #[serde(default)]
    discount_rate_monthly: Option<f64>,
    #[serde(default)]
    discount_rate_annual: Option<f64>,
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
        let same_kind = || KINDS.iter().filter(|(k, _, _)| *k == cfg.kind);
        let Some(&(kind, serves, _)) = same_kind()
            .find(|(_, t, _)| *t == task)
            .or_else(|| same_kind().next())
        else {
            let mut known: Vec<&str> = KINDS.iter().map(|(k, _, _)| *k).collect();
            known.dedup();
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
            "bgnbd" | "gamma_gamma" => {
                let p: BuyTillYouDieConfig = parse_params(&cfg.params)?;
                let bgnbd = BgNbdParams::new().l2(p.l2).check().map_err(|e| bad(&e))?;
                let gamma_gamma = if kind == "gamma_gamma" {
                    Some(GammaGammaParams::new().check().map_err(|e| bad(&e))?)
                } else {
                    None
                };
                let discount_monthly = match (p.discount_rate_monthly, p.discount_rate_annual) {
                    (Some(_), Some(_)) => {
                        return Err((
                            "params".into(),
                            "give discount_rate_monthly or discount_rate_annual, not both".into(),
                        ));
                    }
                    (Some(m), None) => Some(m),
                    (None, Some(a)) => Some((1.0 + a).powf(1.0 / 12.0) - 1.0),
                    (None, None) => None,
                };
                if let Some(d) = discount_monthly {
                    if kind != "gamma_gamma" {
                        return Err((
                            "params".into(),
                            "discounting needs spend: use kind = \"gamma_gamma\"".into(),
                        ));
                    }
                    if !(d.is_finite() && d > -1.0) {
                        return Err(("params".into(), format!("discount rate {d} is not > -1")));
                    }
                    if !horizon_days.is_multiple_of(30) {
                        return Err((
                            "params".into(),
                            format!(
                                "a discounted CLV counts whole 30-day months: horizon_days \
                                 {horizon_days} is not a multiple of 30"
                            ),
                        ));
                    }
                }
                Family::BuyTillYouDie {
                    bgnbd,
                    gamma_gamma,
                    horizon_days: f64::from(horizon_days),
                    discount_monthly,
                }
            }
            "historical_average" => {
                let p: HistoricalAverageConfig = parse_params(&cfg.params)?;
                let valid = HistoricalAverageParams::new(f64::from(horizon_days))
                    .calibrate(p.calibrate)
                    .check()
                    .map_err(|e| bad(&e))?;
                Family::HistoricalAverage(valid)
            }
            "mlp" | "deepsurv" | "ziln" => {
                let config: NeuralConfig = parse_params(&cfg.params)?;
                let params =
                    NeuralFamily::build(kind, &config, DEFAULT_NEURAL_SEED).map_err(|e| bad(&e))?;
                Family::Neural {
                    config: Box::new(config),
                    params: Box::new(params),
                }
            }
            "ridge" => {
                let p: RidgeConfig = parse_params(&cfg.params)?;
                let valid = RidgeRegressionParams::new()
                    .l2(p.l2)
                    .check()
                    .map_err(|e| bad(&e))?;
                Family::Ridge(valid)
            }
            "gbdt" => Family::Gbdt(gbdt_params(&cfg.params, task)?),
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

    /// The experiment's seed for models whose table gives none.
    pub fn set_default_seed(&mut self, seed: u64) {
        if let Family::Neural { config, params } = &mut self.family
            && config.seed.is_none()
        {
            **params = NeuralFamily::build(self.kind, config, seed)
                .expect("parameters were checked; the seed cannot make them invalid");
        }
    }

    /// Whether this model runs on the resolved `--device` (the others run on
    /// the CPU whatever is asked): the networks, and the booster in a build
    /// with its GPU kernels.
    pub fn uses_device(&self) -> bool {
        const GPU_BOOSTER: bool = cfg!(any(feature = "wgpu", feature = "cuda"));
        matches!(self.family, Family::Neural { .. })
            || (GPU_BOOSTER && matches!(self.family, Family::Gbdt(_)))
    }

    /// Fits on `train` and scores `valid`, on the CPU.
    pub fn fit_predict(&self, train: &Dataset, valid: &Matrix) -> Result<Vec<f64>, String> {
        Ok(self
            .fit_predict_full(train, valid, &[], EarlyStop::Off)?
            .score)
    }

    /// [`Self::fit_predict_full_on`] on the CPU.
    pub fn fit_predict_full(
        &self,
        train: &Dataset,
        valid: &Matrix,
        survival_times: &[f64],
        stop: EarlyStop<'_>,
    ) -> Result<Prediction, String> {
        self.fit_predict_inner(
            train,
            valid,
            survival_times,
            stop,
            &ResolvedDevice::Cpu,
            None,
        )
    }

    /// Fits on `train` and scores `valid`; survival models also give
    /// `S(t | x)` at each of `survival_times` (none asked: none given).
    /// `stop` says whether validation labels may steer training (early
    /// stopping on CV folds) or how many rounds to train (the test fold).
    /// Models with GPU code ([`Self::uses_device`]) run on `device`.
    pub fn fit_predict_full_on(
        &self,
        train: &Dataset,
        valid: &Matrix,
        survival_times: &[f64],
        stop: EarlyStop<'_>,
        device: &ResolvedDevice,
    ) -> Result<Prediction, String> {
        self.fit_predict_inner(train, valid, survival_times, stop, device, None)
    }

    /// The most boosting rounds (or epochs) the model trains, for models
    /// trained in rounds; `None` for models fitted in one go.
    pub fn max_rounds(&self) -> Option<usize> {
        match &self.family {
            Family::Gbdt(p) => Some(p.num_iterations),
            Family::Neural { params, .. } => Some(match params.as_ref() {
                NeuralFamily::Mlp(p) => p.train().epochs,
                NeuralFamily::DeepSurv(p) => p.train().epochs,
                NeuralFamily::Ziln(p) => p.train().epochs,
            }),
            _ => None,
        }
    }

    /// [`ModelSpec::fit_predict_full`], watching training round by round
    /// (boosting rounds, network epochs) when `stop` is
    /// [`EarlyStop::OnValid`] and the model trains in rounds:
    /// `on_round` gets each round's 1-based number and the scores of those
    /// validation rows after it, and may end training (a search pruning a
    /// trial). Models fitted in one go never call it. An observer that
    /// never breaks changes nothing: the prediction is
    /// [`ModelSpec::fit_predict_full`]'s.
    pub fn fit_predict_observed(
        &self,
        train: &Dataset,
        valid: &Matrix,
        survival_times: &[f64],
        stop: EarlyStop<'_>,
        on_round: &mut OnRound<'_>,
    ) -> Result<Prediction, String> {
        self.fit_predict_inner(
            train,
            valid,
            survival_times,
            stop,
            &ResolvedDevice::Cpu,
            Some(on_round),
        )
    }

    fn fit_predict_inner(
        &self,
        train: &Dataset,
        valid: &Matrix,
        survival_times: &[f64],
        stop: EarlyStop<'_>,
        device: &ResolvedDevice,
        on_round: Option<&mut OnRound<'_>>,
    ) -> Result<Prediction, String> {
        if let Family::Gbdt(p) = &self.family {
            return fit_gbdt(p, train, valid, stop, on_round, device);
        }
        // `spec` describes the fitted model for export, when its family
        // exports ([`crate::export::EXPORTABLE_KINDS`]).
        fn go<M, E>(
            model: Result<M, E>,
            valid: &Matrix,
            spec: impl FnOnce(&M) -> Option<Model>,
        ) -> Result<Prediction, String>
        where
            M: Predict,
            E: std::fmt::Display,
            M::Error: std::fmt::Display,
        {
            let model = model.map_err(|e| e.to_string())?;
            Ok(Prediction {
                score: model.predict(valid).map_err(|e| e.to_string())?,
                survival: None,
                best_iteration: None,
                spec: spec(&model),
                baseline: None,
            })
        }
        fn go_survival<M, E>(
            model: Result<M, E>,
            valid: &Matrix,
            times: &[f64],
            spec: impl FnOnce(&M) -> Option<(Model, Option<Vec<f64>>)>,
        ) -> Result<Prediction, String>
        where
            M: PredictSurvival,
            E: std::fmt::Display,
            M::Error: std::fmt::Display,
        {
            let model = model.map_err(|e| e.to_string())?;
            let survival = if times.is_empty() {
                None
            } else {
                Some(
                    model
                        .predict_survival(valid, times)
                        .map_err(|e| e.to_string())?,
                )
            };
            let (spec, baseline) = spec(&model).unzip();
            Ok(Prediction {
                score: model.predict(valid).map_err(|e| e.to_string())?,
                survival,
                best_iteration: None,
                spec,
                baseline: baseline.flatten(),
            })
        }
        match &self.family {
            Family::Logistic(p) => go(p.fit(train), valid, |m| Some(Model::Linear(m.to_spec()))),
            Family::KaplanMeier(p) => go_survival(p.fit(train), valid, survival_times, |_| None),
            Family::Cox(p) => {
                // Cox takes complete inputs: impute and scale with the
                // training rows' statistics only.
                let scaler = Scaler::fit(train.x());
                let names = scaler
                    .keep
                    .iter()
                    .map(|&j| train.feature_names()[j].clone())
                    .collect();
                let scaled =
                    Dataset::new(scaler.transform(train.x()), names, train.target().clone())
                        .map_err(|e| e.to_string())?;
                go_survival(
                    p.fit(&scaled),
                    &scaler.transform(valid),
                    survival_times,
                    |m| {
                        // One stratum: one baseline, which the export carries.
                        let baseline = (m.n_strata() == 1).then(|| {
                            let (times, h) = m.baseline_cumulative_hazard();
                            survival_times
                                .iter()
                                .map(|&t| match times.partition_point(|&ti| ti <= t) {
                                    0 => 0.0,
                                    k => h[k - 1],
                                })
                                .collect()
                        });
                        Some((
                            Model::Linear(scaler.before(&m.to_spec(), train.feature_names())),
                            baseline,
                        ))
                    },
                )
            }
            Family::HistoricalAverage(p) => go(p.fit(train), valid, |_| None),
            Family::Ridge(p) => go(p.fit(train), valid, |_| None),
            Family::Gbdt(_) => unreachable!("gbdt is fitted by fit_gbdt"),
            Family::Neural { params, .. } => {
                // Tuning watches the validation rows epoch by epoch, as it
                // watches boosting rounds.
                let mut watch = match stop {
                    EarlyStop::OnValid(_) => on_round,
                    _ => None,
                };
                macro_rules! fit {
                    ($p:expr) => {{
                        let p = $p.on_device(device.clone());
                        match watch.as_deref_mut() {
                            Some(w) => p.fit_observed(train, valid, w),
                            None => p.fit(train),
                        }
                    }};
                }
                match params.as_ref() {
                    NeuralFamily::Mlp(p) => {
                        go(fit!(p), valid, |m| Some(Model::Network(m.to_spec())))
                    }
                    NeuralFamily::DeepSurv(p) => {
                        go_survival(fit!(p), valid, survival_times, |m| {
                            // `H₀` where `predict_survival` reads it, so that
                            // the export's curves are the run's.
                            let baseline =
                                survival_times.iter().map(|&t| m.baseline_at(t)).collect();
                            Some((Model::Network(m.to_spec()), Some(baseline)))
                        })
                    }
                    NeuralFamily::Ziln(p) => {
                        go(fit!(p), valid, |m| Some(Model::Network(m.to_spec())))
                    }
                }
            }
            Family::BuyTillYouDie {
                bgnbd,
                gamma_gamma,
                horizon_days,
                discount_monthly,
            } => Ok(Prediction {
                score: buy_till_you_die(
                    bgnbd,
                    gamma_gamma.as_ref(),
                    *horizon_days,
                    *discount_monthly,
                    train,
                    valid,
                )?,
                survival: None,
                best_iteration: None,
                spec: None,
                baseline: None,
            }),
        }
    }
}

/// A configured model is a base learner of the uplift models.
impl tenure_uplift::BaseLearner for ModelSpec {
    fn fit_predict(
        &self,
        train: &Dataset,
        x: &Matrix,
    ) -> Result<Vec<f64>, tenure_uplift::LearnerError> {
        ModelSpec::fit_predict(self, train, x).map_err(tenure_uplift::LearnerError)
    }
}

/// Watches a fit round by round: the 1-based round and the validation
/// rows' scores after it; [`ControlFlow::Break`] ends training. `Send`
/// because training runs on the model's own threads.
pub type OnRound<'a> = dyn FnMut(usize, &[f64]) -> ControlFlow<()> + Send + 'a;

/// How validation rows may steer a fit.
#[derive(Debug, Clone, Copy)]
pub enum EarlyStop<'a> {
    /// Stop early on these validation rows' metric (CV folds).
    OnValid(&'a Dataset),
    /// Train exactly this many rounds (the test fold).
    Rounds(usize),
    /// Train as configured.
    Off,
}

/// The `[[models]]` table of a `gbdt` model, by LightGBM's parameter names;
/// the objective follows the task (CLV: Tweedie unless `objective =
/// "regression"`).
fn gbdt_params(table: &toml::Table, task: Task) -> Result<GbdtValidParams, (String, String)> {
    let mut config: GbdtConfig = parse_params(table)?;
    let objective_given = table.contains_key("objective");
    let fits = match task {
        Task::Churn => (Objective::Binary, &[Objective::Binary][..]),
        Task::Survival => (Objective::Cox, &[Objective::Cox][..]),
        Task::Clv => (
            Objective::Tweedie,
            &[Objective::Tweedie, Objective::Regression][..],
        ),
    };
    if !objective_given {
        config.objective = fits.0;
    } else if !fits.1.contains(&config.objective) {
        return Err((
            "params.objective".into(),
            format!(
                "`{}` does not fit a {task} experiment (expected {})",
                config.objective.as_str(),
                fits.1
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    }
    GbdtParams::from(config).check().map_err(|e| match e {
        tenure_gbdt::GbdtError::Core(tenure_core::CoreError::InvalidParam { name, reason }) => {
            (format!("params.{name}"), reason)
        }
        other => ("params".into(), other.to_string()),
    })
}

fn fit_gbdt(
    p: &GbdtValidParams,
    train: &Dataset,
    valid: &Matrix,
    stop: EarlyStop<'_>,
    on_round: Option<&mut OnRound<'_>>,
    device: &ResolvedDevice,
) -> Result<Prediction, String> {
    let early = p.early_stopping_round > 0;
    let booster = fit_booster(p, train, stop, on_round, device)?;
    Ok(Prediction {
        score: booster.predict(valid).map_err(|e| e.to_string())?,
        survival: None,
        // Only a round early stopping kept is one for the test fold's refit.
        best_iteration: booster.best_iteration.filter(|_| early),
        spec: Some(Model::TreeEnsemble(booster.to_spec())),
        baseline: None,
    })
}

/// Trains a booster as `stop` allows: early stopping on validation rows, a
/// fixed number of rounds, or as configured; `on_round` watches each round
/// on the validation rows (tuning's pruner). On a GPU `device` the booster
/// sums quantised gradients there (`tenure_gbdt::gpu`).
pub(crate) fn fit_booster(
    p: &GbdtValidParams,
    train: &Dataset,
    stop: EarlyStop<'_>,
    on_round: Option<&mut OnRound<'_>>,
    device: &ResolvedDevice,
) -> Result<tenure_gbdt::Booster, String> {
    use tenure_gbdt::{TrainSet, train_on};
    let early = p.early_stopping_round > 0;
    let names = train.feature_names();
    let rows = TrainSet::from_dataset(train);
    let mut unwatched = |_: tenure_gbdt::Round<'_>| std::ops::ControlFlow::Continue(());
    match (stop, on_round) {
        // Without early stopping the validation rows are scored each round
        // for the observer only; the trees are those of a plain fit.
        (EarlyStop::OnValid(v), Some(watch)) => train_on(
            p,
            names,
            rows,
            Some(TrainSet::from_dataset(v)),
            &mut |r| watch(r.iteration, r.valid_pred),
            device,
        ),
        (EarlyStop::OnValid(v), None) if early => train_on(
            p,
            names,
            rows,
            Some(TrainSet::from_dataset(v)),
            &mut unwatched,
            device,
        ),
        (EarlyStop::Rounds(r), _) if early => {
            let mut config = (**p).clone();
            config.num_iterations = r.max(1);
            config.early_stopping_round = 0;
            let p = GbdtParams::from(config)
                .check()
                .map_err(|e| e.to_string())?;
            train_on(&p, names, rows, None, &mut unwatched, device)
        }
        _ => train_on(p, names, rows, None, &mut unwatched, device),
    }
    .map_err(|e| e.to_string())
}

/// A model's scores on the rows it was asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Churn probability, survival risk score or expected amount.
    pub score: Vec<f64>,
    /// Survival models: `survival[k][i]` = `S(times[k] | row i)`.
    pub survival: Option<Vec<Vec<f64>>>,
    /// Boosted models with early stopping: the round kept.
    pub best_iteration: Option<usize>,
    /// The fitted model as a plain specification, for the kinds that
    /// export to ONNX: it takes the same raw features and predicts `score`.
    pub spec: Option<Model>,
    /// Models whose `score` is a log hazard ratio with one baseline (Cox
    /// PH): `H₀` at each of the survival times asked, so that the export
    /// computes `survival` as `S(t | x) = exp(−H₀(t) · exp(score))`.
    pub baseline: Option<Vec<f64>>,
}

fn parse_params<T: DeserializeOwned>(table: &toml::Table) -> Result<T, (String, String)> {
    T::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| ("params".to_string(), e.message().trim().to_string()))
}

/// Column means and standard deviations of the training rows (missing values
/// ignored); transforming fills a missing value with the mean, i.e. 0, and
/// drops columns constant in training, which carry no information.
#[derive(Debug, Clone)]
pub(crate) struct Scaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
    pub(crate) keep: Vec<usize>,
}

impl Scaler {
    pub(crate) fn fit(x: &Matrix) -> Self {
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

    /// `inner` (a linear model on the kept, scaled columns) as one linear
    /// model on all raw columns `names`: the two standardisations merge
    /// (`((x - μ)/σ - a)/b = (x - (μ + aσ))/(σb)`), a missing value is
    /// imputed with `μ` as [`Scaler::transform`] does, and dropped columns
    /// get coefficient 0.
    fn before(&self, inner: &LinearModel, names: &[String]) -> LinearModel {
        let p = names.len();
        let mut pre = Standardize {
            impute: self.mean.clone(),
            mean: self.mean.clone(),
            scale: vec![1.0; p],
        };
        let mut coef = vec![0.0; p];
        for (k, &j) in self.keep.iter().enumerate() {
            let (a, b) = inner
                .preprocess
                .as_ref()
                .map_or((0.0, 1.0), |s| (s.mean[k], s.scale[k]));
            pre.mean[j] = self.mean[j] + a * self.scale[j];
            pre.scale[j] = self.scale[j] * b;
            coef[j] = inner.coef[k];
        }
        LinearModel {
            feature_names: names.to_vec(),
            preprocess: Some(pre),
            coef,
            intercept: inner.intercept,
            link: inner.link,
        }
    }

    pub(crate) fn transform(&self, x: &Matrix) -> Matrix {
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

/// BG/NBD (and Gamma-Gamma) on the snapshot's RFM features, in weeks.
///
/// Frequency = active days − 1, T = tenure, recency = tenure − days since
/// the last purchase: exact when entry is the first purchase (non-contractual
/// logs such as CDNOW); with a signup date, T counts from signup. Mean spend
/// is `monetary_mean_all`, which includes the first purchase.
fn buy_till_you_die(
    bgnbd: &BgNbdValidParams,
    gamma_gamma: Option<&GammaGammaValidParams>,
    horizon_days: f64,
    discount_monthly: Option<f64>,
    train: &Dataset,
    valid: &Matrix,
) -> Result<Vec<f64>, String> {
    let names = train.feature_names();
    let col = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| format!("needs the `{name}` feature"))
    };
    let (active, recency, tenure, spend) = (
        col("active_days_all")?,
        col("recency_days")?,
        col("tenure_days")?,
        col("monetary_mean_all")?,
    );
    let rfm = |row: &[f64]| {
        let t = row[tenure] / 7.0;
        let x = (row[active] - 1.0).max(0.0);
        let t_x = if x > 0.0 {
            ((row[tenure] - row[recency]) / 7.0).clamp(0.0, t)
        } else {
            0.0
        };
        (x, t_x, t, row[spend])
    };
    let rows: Vec<(f64, f64, f64, f64)> = train
        .x()
        .rows()
        .map(rfm)
        .filter(|&(_, _, t, _)| t > 0.0)
        .collect();
    let column = |f: fn(&(f64, f64, f64, f64)) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let model = bgnbd
        .fit(&column(|r| r.0), &column(|r| r.1), &column(|r| r.2))
        .map_err(|e| e.to_string())?;
    let mean_spend = {
        let known: Vec<f64> = rows.iter().map(|r| r.3).filter(|m| m.is_finite()).collect();
        known.iter().sum::<f64>() / known.len().max(1) as f64
    };
    let gg = match gamma_gamma {
        Some(p) => {
            let (x, m): (Vec<f64>, Vec<f64>) = rows
                .iter()
                .filter(|r| r.0 > 0.0 && r.3.is_finite() && r.3 > 0.0)
                .map(|r| (r.0, r.3))
                .unzip();
            Some(p.fit(&x, &m).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    valid
        .rows()
        .map(|row| {
            let (x, t_x, t, m) = rfm(row);
            if t <= 0.0 {
                return Ok(0.0);
            }
            if let (Some(d), Some(gg)) = (discount_monthly, &gg) {
                // Weeks are the summary's unit; a month is 30 days.
                let months = (horizon_days / 30.0).round() as usize;
                let spend = if x > 0.0 && m.is_finite() && m > 0.0 {
                    m
                } else {
                    gg.p * gg.v / (gg.q - 1.0)
                };
                return tenure_stats::customer_lifetime_value(
                    &model, gg, x, t_x, t, spend, months, d, 7.0,
                )
                .map_err(|e| e.to_string());
            }
            let purchases = model
                .expected_purchases(horizon_days / 7.0, x, t_x, t)
                .map_err(|e| e.to_string())?;
            let spend = match (&gg, m.is_finite() && m > 0.0) {
                (Some(gg), true) if x > 0.0 => {
                    gg.expected_average_spend(x, m).map_err(|e| e.to_string())?
                }
                (Some(gg), _) => gg.p * gg.v / (gg.q - 1.0),
                (None, true) => m,
                (None, false) => mean_spend,
            };
            Ok(purchases * spend)
        })
        .collect()
}

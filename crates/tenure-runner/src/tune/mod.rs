//! `tenure tune`: Bayesian search over one model's hyperparameters, scored
//! by the experiment's time-split cross-validation.
//!
//! Each trial injects the sampled values into the tuned model's `params`,
//! rebuilds it through [`ModelSpec::from_config`] (so every model kind is
//! tunable), fits it on each CV fold and reports intermediate values to the
//! pruner (below). Trials live in a SQLite study (`tenure_tune::Study`), so
//! a killed search resumes and several processes can share one; each trial
//! is also a child run (tag `mlflow.parentRunId`) of the study's run in the
//! tracking store. When the search ends, the best configuration is refitted
//! on all training data and scored on the held-out test cutoff, and the
//! study's run gets a report.
//!
//! # Pruner steps
//!
//! Pruners compare trials at equal steps, so a step must mean the same
//! amount of training in every trial of a study, whatever its
//! `num_iterations` (or epochs). Let `R` be the most rounds any
//! configuration of the space trains ([`TuneSpec::round_steps`]: the upper
//! end of `num_iterations` in the space, or its fixed value; 0 for models
//! fitted in one go, and for metrics that need survival curves):
//!
//! - steps `1..=R`: round `r` **of the first CV fold**, valued by the tuned
//!   metric on that fold's validation rows after `r` rounds. Most of what
//!   pruning saves is here: a hopeless trial stops in its first fold
//!   instead of after it. Trials with fewer rounds, or that early stopping
//!   ended, simply have no values at the later steps (as with Optuna's
//!   LightGBM callback, which prunes on the rounds of one validation set).
//! - step `R + k`: the running mean of the metric over folds `1..=k`, after
//!   fold `k` (`R + 1` is the first fold's final value, that of the round
//!   early stopping kept).
//!
//! Every value is the study's metric, so a trial's best value so far (the
//! median pruner) and the ranking of pruned trials by their last step (TPE)
//! compare like with like; `R` depends on the space only, which a study
//! pins, so steps keep their meaning across resumptions and workers. ASHA's
//! rungs (`min_resource · η^k`) therefore fall on first-fold rounds for
//! boosted models, and on folds for the others. Within the first fold a
//! trial is judged against the study as it stood when the fold began (one
//! read, not one per round), and its round values are written in one
//! transaction when the fold ends or the trial is pruned.

mod config;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use tenure_data::Fold;
use tenure_store::{LocalStore, RunStatus};
use tenure_tune::{
    Direction, Outcome, Params, Pruner, SamplerKind, Study, Trial, TrialHandle, TrialRecord,
    TrialState, best_trial, importance,
};

pub use config::{TuneConfig, TuneSpec, inject, task_metrics};

use crate::models::{EarlyStop, ModelSpec, OnRound};
use crate::pipeline::{FoldData, Prepared, fold_data, prepare, query_times, score, score_one};
use crate::progress::Progress;
use crate::{Experiment, Result, RunnerError};

/// What the command line adds to (or overrides in) the `[tune]` table.
#[derive(Debug, Clone, Default)]
pub struct TuneOptions {
    pub trials: Option<u64>,
    pub timeout: Option<Duration>,
    pub sampler: Option<SamplerKind>,
    pub pruner: Option<Pruner>,
    pub study: Option<String>,
    pub storage: Option<PathBuf>,
    pub tracking_dir: Option<PathBuf>,
    pub progress: bool,
    /// Print a line per finished trial on stderr.
    pub log_trials: bool,
}

/// Where a study lives and what it optimises, resolved from the experiment
/// and the options.
#[derive(Debug, Clone)]
pub struct TuneTarget {
    pub study: String,
    pub storage: PathBuf,
    pub store_dir: PathBuf,
    pub trials: u64,
    pub timeout: Option<Duration>,
    pub sampler: SamplerKind,
    pub pruner: Pruner,
}

impl TuneTarget {
    pub fn resolve(exp: &Experiment, opts: &TuneOptions) -> Result<Self> {
        let spec = tune_spec(exp)?;
        let store_dir = opts
            .tracking_dir
            .clone()
            .unwrap_or_else(|| exp.tracking_dir());
        let base = exp.path.parent().unwrap_or(std::path::Path::new("."));
        let storage = match (&opts.storage, &spec.config.storage) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) if p.is_absolute() => p.clone(),
            (None, Some(p)) => base.join(p),
            (None, None) => store_dir.join("tune.db"),
        };
        Ok(Self {
            study: opts
                .study
                .clone()
                .or_else(|| spec.config.study.clone())
                .unwrap_or_else(|| exp.name().to_string()),
            storage,
            store_dir,
            trials: opts.trials.unwrap_or(spec.config.trials),
            timeout: opts
                .timeout
                .or(spec.config.timeout_seconds.map(Duration::from_secs_f64)),
            sampler: opts.sampler.unwrap_or(spec.sampler),
            pruner: opts.pruner.clone().unwrap_or_else(|| spec.pruner.clone()),
        })
    }
}

fn tune_spec(exp: &Experiment) -> Result<&TuneSpec> {
    exp.tune.as_ref().ok_or_else(|| RunnerError::Config {
        path: exp.path.clone(),
        key: "tune".into(),
        reason:
            "the experiment has no [tune] table: add one naming the model, the metric and the space"
                .into(),
    })
}

/// The data every trial is scored on, loaded once per process.
#[derive(Debug)]
pub struct Objective<'a> {
    exp: &'a Experiment,
    spec: &'a TuneSpec,
    prepared: Prepared,
    cv: Vec<(String, FoldData)>,
    /// `R` of the step numbering (module docs).
    round_steps: u64,
}

impl<'a> Objective<'a> {
    pub fn load(exp: &'a Experiment, progress: &Progress) -> Result<Self> {
        let spec = tune_spec(exp)?;
        let prepared = prepare(exp, progress)?;
        crate::sanity::check(exp, &prepared)?;
        let folds: Vec<Fold> = prepared
            .plan
            .all_folds()
            .filter(|f| f.name != "test")
            .cloned()
            .collect();
        let cv = folds
            .iter()
            .map(|f| Ok((f.name.clone(), fold_data(exp, &prepared, f)?)))
            .collect::<Result<Vec<_>>>()?;
        let round_steps = spec.round_steps(
            &exp.file.models[spec.model_index],
            exp.task(),
            exp.file.labels.horizon_days,
        );
        Ok(Self {
            exp,
            spec,
            prepared,
            cv,
            round_steps,
        })
    }

    /// `R` of the step numbering: first-fold rounds come before folds.
    pub fn round_steps(&self) -> u64 {
        self.round_steps
    }

    fn model(&self, params: &Params) -> std::result::Result<ModelSpec, String> {
        let base = &self.exp.file.models[self.spec.model_index];
        let cfg = inject(base, params);
        ModelSpec::from_config(&cfg, self.exp.task(), self.exp.file.labels.horizon_days)
            .map_err(|(key, reason)| format!("{key}: {reason}"))
    }

    /// The metric of the model fitted on one fold's training rows (early
    /// stopping on the fold's validation rows, as `tenure run` does), and
    /// the boosting round kept, if any. `on_round` watches the training
    /// (and may end it: the result is then meaningless).
    fn fold_metric(
        &self,
        model: &ModelSpec,
        data: &FoldData,
        on_round: Option<&mut OnRound<'_>>,
    ) -> FoldResult {
        let times = query_times(&self.exp.survival_times_days);
        let stop = EarlyStop::OnValid(&data.valid);
        let pred = match on_round {
            Some(watch) => {
                model.fit_predict_observed(&data.train, data.valid.x(), &times, stop, watch)?
            }
            None => model.fit_predict_full(&data.train, data.valid.x(), &times, stop)?,
        };
        let scores = score(data, &pred, &times).map_err(|e| e.to_string())?;
        scores
            .into_iter()
            .find(|(m, _)| *m == self.spec.config.metric)
            .map(|(_, v)| (v, pred.best_iteration))
            .ok_or_else(|| {
                format!(
                    "metric `{}` is undefined on this fold",
                    self.spec.config.metric
                )
            })
    }
}

/// What one worker did.
#[derive(Debug, Clone, Default)]
pub struct WorkerSummary {
    pub trials_run: usize,
    pub parent_run_id: String,
}

/// Opens (or creates) the study and its tracking run; the run is created by
/// the first worker only.
fn open_study(
    exp: &Experiment,
    spec: &TuneSpec,
    target: &TuneTarget,
    store: &LocalStore,
) -> Result<(Study, String, String)> {
    let mut study = Study::open(
        &target.storage,
        &target.study,
        spec.direction,
        &spec.space,
        exp.file.seed,
    )
    .map_err(tune_error)?;
    let experiment_id = store.get_or_create_experiment(exp.name())?;
    let parent = study
        .attr_or_insert_with("parent_run_id", || -> Result<String> {
            let run_id = store.create_run(
                &experiment_id,
                &format!("tune-{}", target.study),
                &[
                    ("mlflow.source.name", &exp.path.display().to_string()),
                    ("tenure.version", env!("CARGO_PKG_VERSION")),
                    ("tenure.tune.study", &target.study),
                    ("tenure.tune.storage", &target.storage.display().to_string()),
                ],
            )?;
            let model = &exp.models[spec.model_index];
            for (k, v) in [
                ("tune.model", model.name.as_str()),
                ("tune.kind", model.kind),
                ("tune.metric", spec.config.metric.as_str()),
                ("tune.direction", spec.direction.as_str()),
                (
                    "tune.space",
                    &serde_json::to_string(&spec.space).unwrap_or_default(),
                ),
            ] {
                store.log_param(&run_id, k, v)?;
            }
            store.log_artifact_bytes(&run_id, "config.toml", exp.resolved_toml.as_bytes())?;
            Ok(run_id)
        })
        .map_err(tune_error)??;
    Ok((study, parent, experiment_id))
}

fn tune_error(e: tenure_tune::TuneError) -> RunnerError {
    RunnerError::Tune(e)
}

/// Runs trials until the study holds `target.trials` of them or the
/// timeout (counted from `started`) passes. Safe to run in several
/// processes at once.
pub fn run_worker(
    exp: &Experiment,
    target: &TuneTarget,
    objective: &Objective<'_>,
    started: Instant,
    log_trials: bool,
) -> Result<WorkerSummary> {
    let spec = objective.spec;
    let store = LocalStore::open(&target.store_dir)?;
    let (mut study, parent, experiment_id) = open_study(exp, spec, target, &store)?;
    store.end_run(&parent, RunStatus::Running)?;
    let mut sampler = target.sampler.build();
    let mut ran = 0;
    loop {
        if crate::interrupt::requested() {
            return Err(interrupted(&store, &parent, None));
        }
        if target.timeout.is_some_and(|t| started.elapsed() >= t) {
            break;
        }
        let Some(trial) = study
            .ask(sampler.as_mut(), Some(target.trials))
            .map_err(tune_error)?
        else {
            break;
        };
        if trial.reclaimed
            && let Some(old) = trial.attrs.get("run_id")
        {
            // The killed attempt's run: best effort, it may be gone.
            let _ = store.set_tag(old, "tenure.tune.state", "abandoned");
            let _ = store.end_run(old, RunStatus::Killed);
        }
        let child = store.create_run(
            &experiment_id,
            &format!("trial-{}", trial.number),
            &[
                ("mlflow.parentRunId", parent.as_str()),
                ("tenure.tune.study", target.study.as_str()),
                ("tenure.tune.trial", &trial.number.to_string()),
            ],
        )?;
        study
            .set_trial_attr(&trial, "run_id", &child)
            .map_err(tune_error)?;
        for (k, v) in &trial.params {
            store.log_param(&child, k, &v.to_string())?;
        }
        let (outcome, progressed) =
            match evaluate(objective, &study, &trial, &target.pruner, &store, &child) {
                Err(RunnerError::Interrupted) => {
                    return Err(interrupted(&store, &parent, Some(&child)));
                }
                other => other?,
            };
        let state = match &outcome {
            Outcome::Complete(v) => {
                store.log_metric(&child, &spec.config.metric, *v, 0)?;
                "complete"
            }
            Outcome::Pruned => "pruned",
            Outcome::Fail(m) => {
                store.set_tag(&child, "tenure.error", m)?;
                "fail"
            }
        };
        store.set_tag(&child, "tenure.tune.state", state)?;
        study.tell(&trial, outcome.clone()).map_err(tune_error)?;
        store.end_run(
            &child,
            if matches!(outcome, Outcome::Fail(_)) {
                RunStatus::Failed
            } else {
                RunStatus::Finished
            },
        )?;
        ran += 1;
        if log_trials {
            let value = match &outcome {
                Outcome::Complete(v) => format!("{} {v:.5}", spec.config.metric),
                Outcome::Pruned => match progressed.pruned_at_round {
                    Some(r) => format!("pruned at round {r} of the first fold"),
                    None => format!(
                        "pruned after {} folds at {:.5}",
                        progressed.folds.len(),
                        mean(&progressed.folds)
                    ),
                },
                Outcome::Fail(m) => format!("failed: {m}"),
            };
            let params: Vec<String> = trial
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            eprintln!("trial {:>3} · {value} · {}", trial.number, params.join(" "));
        }
    }
    Ok(WorkerSummary {
        trials_run: ran,
        parent_run_id: parent,
    })
}

/// Marks the trial's run (if one started) and the study's run KILLED. The
/// trial itself stays running in the study: its worker (this process) is
/// about to exit, and the next worker to ask reclaims it with the same
/// number and parameters, so the study resumes where it stopped.
fn interrupted(store: &LocalStore, parent: &str, child: Option<&str>) -> RunnerError {
    if let Some(child) = child {
        let _ = store.set_tag(child, "tenure.tune.state", "interrupted");
        let _ = store.end_run(child, RunStatus::Killed);
    }
    let _ = store.end_run(parent, RunStatus::Killed);
    RunnerError::Interrupted
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// How far a trial got.
#[derive(Debug, Clone, Default)]
struct Progressed {
    /// The metric of each finished fold.
    folds: Vec<f64>,
    /// The first fold's round at which the pruner stopped the trial.
    pruned_at_round: Option<u64>,
}

/// Scores one trial: the first fold round by round when the model trains in
/// rounds, then the running mean after each fold (steps: module docs).
fn evaluate(
    objective: &Objective<'_>,
    study: &Study,
    trial: &TrialHandle,
    pruner: &Pruner,
    store: &LocalStore,
    child: &str,
) -> Result<(Outcome, Progressed)> {
    let metric = &objective.spec.config.metric;
    let mut done = Progressed::default();
    let model = match objective.model(&trial.params) {
        Ok(m) => m,
        Err(e) => return Ok((Outcome::Fail(format!("building the model: {e}")), done)),
    };
    let round_steps = objective.round_steps;
    for (k, (name, data)) in objective.cv.iter().enumerate() {
        crate::interrupt::check()?;
        let fitted = if k == 0 && round_steps > 0 {
            let (fitted, rounds) =
                first_fold_by_round(objective, study, trial, pruner, &model, data)?;
            // An interrupt ends the fit early: its result must not count.
            crate::interrupt::check()?;
            if let Some(step) = rounds.pruned_at {
                store.log_metric(child, &format!("{metric}.round"), rounds.last, step as i64)?;
                done.pruned_at_round = Some(step);
                return Ok((Outcome::Pruned, done));
            }
            fitted
        } else {
            let fitted = objective.fold_metric(&model, data, None);
            // A fit stopped by Ctrl-C fails: the trial is interrupted, not
            // failed, and resumes later.
            crate::interrupt::check()?;
            fitted
        };
        let v = match fitted {
            Ok((v, rounds)) if v.is_finite() => {
                if let Some(r) = rounds {
                    study
                        .set_trial_attr(trial, &format!("best_round.{}", k + 1), &r.to_string())
                        .map_err(tune_error)?;
                }
                v
            }
            Ok((v, _)) => return Ok((Outcome::Fail(format!("{name}: {metric} is {v}")), done)),
            Err(e) => return Ok((Outcome::Fail(format!("{name}: {e}")), done)),
        };
        done.folds.push(v);
        store.log_metric(child, &format!("{metric}.fold"), v, k as i64)?;
        let step = round_steps + k as u64 + 1;
        study
            .report(trial, step, mean(&done.folds))
            .map_err(tune_error)?;
        if k + 1 < objective.cv.len()
            && study
                .should_prune(trial, step, pruner)
                .map_err(tune_error)?
        {
            return Ok((Outcome::Pruned, done));
        }
    }
    let value = mean(&done.folds);
    Ok((Outcome::Complete(value), done))
}

/// A fold's metric and the boosting round kept, or why there is none.
type FoldResult = std::result::Result<(f64, Option<usize>), String>;

/// The first fold's rounds as a trial saw them.
struct Rounds {
    /// The round at which the pruner stopped training.
    pruned_at: Option<u64>,
    /// The value of the last round scored.
    last: f64,
}

/// Fits the first fold, scoring each round with the tuned metric and asking
/// the pruner after each; the round values go to the study in one
/// transaction afterwards.
fn first_fold_by_round(
    objective: &Objective<'_>,
    study: &Study,
    trial: &TrialHandle,
    pruner: &Pruner,
    model: &ModelSpec,
    data: &FoldData,
) -> Result<(FoldResult, Rounds)> {
    let metric = objective.spec.config.metric.as_str();
    let direction = objective.spec.direction;
    // The study as it stands now: one read for the whole fold.
    let others = study.trials().map_err(tune_error)?;
    let mut me = Trial {
        number: trial.number,
        state: TrialState::Running,
        params: trial.params.clone(),
        value: None,
        intermediate: BTreeMap::new(),
    };
    let mut rounds = Rounds {
        pruned_at: None,
        last: f64::NAN,
    };
    let fitted = {
        let mut watch = |round: usize, pred: &[f64]| {
            // A round the metric is undefined on (one class in the
            // validation rows) is not reported; the fold's end decides.
            let Some(Ok(value)) = score_one(data, metric, pred) else {
                return std::ops::ControlFlow::Continue(());
            };
            let step = round as u64;
            me.intermediate.insert(step, value);
            rounds.last = value;
            // Ctrl-C: the fit ends here, the caller's next check reports it.
            if crate::interrupt::requested() {
                return std::ops::ControlFlow::Break(());
            }
            if pruner.should_prune(&me, step, &others, direction) {
                rounds.pruned_at = Some(step);
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        objective.fold_metric(model, data, Some(&mut watch))
    };
    study
        .report_all(trial, me.intermediate)
        .map_err(tune_error)?;
    Ok((fitted, rounds))
}

/// A finished (or interrupted) search, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct TuneOutcome {
    pub study: String,
    pub storage: PathBuf,
    pub experiment: String,
    /// The study's run in the tracking store; trials are its children.
    pub run_id: String,
    pub model: String,
    pub kind: String,
    pub metric: String,
    pub direction: Direction,
    pub sampler: String,
    pub pruner: String,
    /// `R` of the pruner's step numbering (module docs): the first fold's
    /// rounds are steps `1..=R`, fold `k`'s running mean step `R + k`.
    pub round_steps: u64,
    pub counts: BTreeMap<String, usize>,
    pub best: Option<BestTrial>,
    /// The best configuration refitted on everything before the test cutoff
    /// and scored there: every metric of the task.
    pub test: BTreeMap<String, f64>,
    /// PED-ANOVA importance, most important first.
    pub importance: Vec<(String, f64)>,
    pub report: PathBuf,
    /// The tuned model's config with the best values, ready to paste.
    pub best_config: String,
    pub trials: Vec<TrialSummary>,
    pub seconds: f64,
    /// Mean sampler time per proposed trial, in ms.
    pub sampler_ms_mean: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BestTrial {
    pub number: u64,
    pub value: f64,
    pub params: Params,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialSummary {
    pub number: u64,
    pub state: TrialState,
    pub value: Option<f64>,
    pub params: Params,
    /// Running CV mean after each fold.
    pub intermediate: Vec<f64>,
    /// The metric after each boosting round (or epoch) of the first fold,
    /// from round 1 on; empty for models fitted in one go.
    pub rounds: Vec<f64>,
    pub sampler: String,
    pub sampler_ms: f64,
    pub attempts: u32,
    pub run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Runs the search in this process (other processes may be working on the
/// same study), then refits the best configuration and writes the report.
pub fn tune(exp: &Experiment, opts: &TuneOptions) -> Result<TuneOutcome> {
    let started = Instant::now();
    let target = TuneTarget::resolve(exp, opts)?;
    let progress = Progress::new(opts.progress);
    let objective = Objective::load(exp, &progress)?;
    // The timeout bounds the search, not the loading of the data.
    run_worker(exp, &target, &objective, Instant::now(), opts.log_trials)?;
    finish(exp, &target, &objective, started)
}

/// Refits the best configuration, logs the summary to the study's run and
/// writes its report. Reads the study as it stands, so it can also be run
/// after other workers finished.
pub fn finish(
    exp: &Experiment,
    target: &TuneTarget,
    objective: &Objective<'_>,
    started: Instant,
) -> Result<TuneOutcome> {
    let spec = objective.spec;
    let store = LocalStore::open(&target.store_dir)?;
    let (study, parent, _) = open_study(exp, spec, target, &store)?;
    if crate::interrupt::requested() {
        return Err(interrupted(&store, &parent, None));
    }
    let records: Vec<TrialRecord> = study.records().map_err(tune_error)?;
    let trials: Vec<tenure_tune::Trial> = records.iter().map(|r| r.trial.clone()).collect();
    let best = best_trial(&trials, spec.direction).map(|t| BestTrial {
        number: t.number,
        value: t.value.unwrap_or(f64::NAN),
        params: t.params.clone(),
    });
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in &trials {
        *counts.entry(t.state.to_string()).or_default() += 1;
    }
    let importance = importance::ped_anova(&spec.space, &trials, spec.direction);
    let model_cfg = &exp.file.models[spec.model_index];
    let (test, best_config) = match &best {
        Some(b) => {
            let rounds: Vec<usize> = study
                .trial_attrs(b.number)
                .map_err(tune_error)?
                .iter()
                .filter(|(k, _)| k.starts_with("best_round."))
                .filter_map(|(_, v)| v.parse().ok())
                .collect();
            let test = refit_on_test(exp, objective, &b.params, &rounds)?;
            let cfg = inject(model_cfg, &b.params);
            let text =
                toml::to_string(&BTreeMap::from([("models", vec![cfg])])).unwrap_or_default();
            (test, text)
        }
        None => (BTreeMap::new(), String::new()),
    };
    let trial_summaries: Vec<TrialSummary> = records
        .iter()
        .map(|r| TrialSummary {
            number: r.trial.number,
            state: r.trial.state,
            value: r.trial.value,
            params: r.trial.params.clone(),
            intermediate: r
                .trial
                .intermediate
                .range(objective.round_steps + 1..)
                .map(|(_, v)| *v)
                .collect(),
            rounds: r
                .trial
                .intermediate
                .range(..=objective.round_steps)
                .map(|(_, v)| *v)
                .collect(),
            sampler: r.sampler.clone(),
            sampler_ms: r.sampler_ms,
            attempts: r.attempts,
            run_id: study
                .trial_attrs(r.trial.number)
                .ok()
                .and_then(|a| a.get("run_id").cloned()),
            message: r.message.clone(),
        })
        .collect();
    let proposed: Vec<f64> = records
        .iter()
        .filter(|r| r.sampler_ms > 0.0)
        .map(|r| r.sampler_ms)
        .collect();
    let model = &exp.models[spec.model_index];
    let mut out = TuneOutcome {
        study: target.study.clone(),
        storage: target.storage.clone(),
        experiment: exp.name().to_string(),
        run_id: parent.clone(),
        model: model.name.clone(),
        kind: model.kind.to_string(),
        metric: spec.config.metric.clone(),
        direction: spec.direction,
        sampler: target.sampler.to_string(),
        pruner: target.pruner.to_string(),
        round_steps: objective.round_steps,
        counts,
        best,
        test,
        importance,
        report: PathBuf::new(),
        best_config,
        trials: trial_summaries,
        seconds: started.elapsed().as_secs_f64(),
        sampler_ms_mean: mean(&proposed),
    };
    // Metrics and tags, not params: a resumed study may find a better trial.
    if let Some(b) = &out.best {
        let step = trials.len() as i64;
        store.log_metric(&parent, &format!("best.{}", out.metric), b.value, step)?;
        store.set_tag(&parent, "tenure.tune.best_trial", &b.number.to_string())?;
        if let Some(run) = out
            .trials
            .iter()
            .find(|t| t.number == b.number)
            .and_then(|t| t.run_id.as_ref())
        {
            store.set_tag(&parent, "tenure.tune.best_run", run)?;
        }
        for (k, v) in &b.params {
            store.set_tag(&parent, &format!("tenure.tune.best.{k}"), &v.to_string())?;
        }
        for (k, v) in &out.test {
            store.log_metric(&parent, &format!("test.{k}"), *v, step)?;
        }
        store.log_artifact_bytes(&parent, "best_config.toml", out.best_config.as_bytes())?;
    }
    store.log_artifact_bytes(
        &parent,
        "trials.json",
        serde_json::to_string_pretty(&out.trials)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    let html = report::render(exp, &out);
    out.report = store.log_artifact_bytes(&parent, "report.html", html.as_bytes())?;
    if crate::interrupt::requested() {
        return Err(interrupted(&store, &parent, None));
    }
    store.end_run(&parent, RunStatus::Finished)?;
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// Fits the configuration on all snapshots before the test cutoff and
/// scores the test cutoff with every metric of the task.
fn refit_on_test(
    exp: &Experiment,
    objective: &Objective<'_>,
    params: &Params,
    best_rounds: &[usize],
) -> Result<BTreeMap<String, f64>> {
    let model = objective
        .model(params)
        .map_err(|message| RunnerError::Model {
            model: objective.spec.config.model.clone(),
            message,
        })?;
    let Some(test_fold) = objective
        .prepared
        .plan
        .all_folds()
        .find(|f| f.name == "test")
    else {
        return Ok(BTreeMap::new());
    };
    let data = fold_data(exp, &objective.prepared, test_fold)?;
    let times = query_times(&exp.survival_times_days);
    // The test fold may not steer training: boosted models train for the
    // mean of the rounds early stopping kept on the CV folds.
    let stop = if best_rounds.is_empty() {
        EarlyStop::Off
    } else {
        EarlyStop::Rounds(
            (best_rounds.iter().sum::<usize>() as f64 / best_rounds.len() as f64).round() as usize,
        )
    };
    let pred = model
        .fit_predict_full(&data.train, data.valid.x(), &times, stop)
        .map_err(|message| RunnerError::Model {
            model: model.name.clone(),
            message: format!("refit on all training data: {message}"),
        })?;
    let scores = score(&data, &pred, &times).map_err(|source| RunnerError::Metrics {
        model: model.name.clone(),
        fold: "test".into(),
        source,
    })?;
    Ok(scores
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect())
}

//! Pruners: stop unpromising trials early from their intermediate values
//! (a running CV mean after each fold, a validation loss after each epoch
//! or boosting round).
//!
//! Steps are 1-based amounts of resource (folds done, epochs run), the same
//! for every trial of a study, so values at the same step compare.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use tenure_core::{CoreError, ParamGuard, ensure_param};

use crate::trial::{Direction, Trial, TrialState};
use crate::{Result, TuneError};

/// Which pruner, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub enum Pruner {
    /// Never prune.
    #[default]
    None,
    Median(MedianValidParams),
    Asha(AshaValidParams),
}

impl Pruner {
    pub const NAMES: &'static [&'static str] = &["none", "median", "asha"];

    pub fn name(&self) -> &'static str {
        match self {
            Pruner::None => "none",
            Pruner::Median(_) => "median",
            Pruner::Asha(_) => "asha",
        }
    }

    /// Whether `trial`, which just reported `trial.intermediate[step]`,
    /// should stop. `others` are the other trials of the study.
    pub fn should_prune(
        &self,
        trial: &Trial,
        step: u64,
        others: &[Trial],
        direction: Direction,
    ) -> bool {
        let Some(&value) = trial.intermediate.get(&step) else {
            return false;
        };
        if value.is_nan() {
            return !matches!(self, Pruner::None);
        }
        match self {
            Pruner::None => false,
            Pruner::Median(p) => median_prune(p, trial, step, others, direction),
            Pruner::Asha(p) => asha_prune(p, value, step, others, trial.number, direction),
        }
    }
}

impl FromStr for Pruner {
    type Err = TuneError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Pruner::None),
            "median" => Ok(Pruner::Median(MedianParams::new().check()?)),
            "asha" => Ok(Pruner::Asha(AshaParams::new().check()?)),
            other => Err(TuneError::UnknownPruner(other.to_string())),
        }
    }
}

impl fmt::Display for Pruner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Settings of the median pruner (Optuna's `MedianPruner`).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `n_startup_trials` | 5 | no pruning until this many trials completed |
/// | `n_warmup_steps` | 0 | no pruning at steps up to this |
/// | `n_min_trials` | 1 | completed trials that must have reported the step |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MedianParams(MedianValidParams);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MedianValidParams {
    n_startup_trials: usize,
    n_warmup_steps: u64,
    n_min_trials: usize,
}

impl Default for MedianParams {
    fn default() -> Self {
        Self::new()
    }
}

impl MedianParams {
    pub fn new() -> Self {
        Self(MedianValidParams {
            n_startup_trials: 5,
            n_warmup_steps: 0,
            n_min_trials: 1,
        })
    }

    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.0.n_startup_trials = n;
        self
    }

    pub fn n_warmup_steps(mut self, n: u64) -> Self {
        self.0.n_warmup_steps = n;
        self
    }

    pub fn n_min_trials(mut self, n: usize) -> Self {
        self.0.n_min_trials = n;
        self
    }
}

impl ParamGuard for MedianParams {
    type Checked = MedianValidParams;
    type Error = CoreError;

    fn check_ref(&self) -> std::result::Result<&Self::Checked, Self::Error> {
        ensure_param!(
            self.0.n_min_trials >= 1,
            "n_min_trials",
            "must be at least 1, got {}",
            self.0.n_min_trials
        );
        Ok(&self.0)
    }

    fn check(self) -> std::result::Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Prune when the trial's best value so far is worse than the median of
/// the completed trials' values at the same step.
fn median_prune(
    p: &MedianValidParams,
    trial: &Trial,
    step: u64,
    others: &[Trial],
    direction: Direction,
) -> bool {
    let completed: Vec<&Trial> = others
        .iter()
        .filter(|t| t.state == TrialState::Complete && t.number != trial.number)
        .collect();
    if completed.len() < p.n_startup_trials || step <= p.n_warmup_steps {
        return false;
    }
    let mut at_step: Vec<f64> = completed
        .iter()
        .filter_map(|t| t.intermediate.get(&step).copied())
        .filter(|v| v.is_finite())
        .collect();
    if at_step.len() < p.n_min_trials {
        return false;
    }
    at_step.sort_by(f64::total_cmp);
    let median = percentile(&at_step, 0.5);
    let best_so_far = trial
        .intermediate
        .values()
        .copied()
        .filter(|v| v.is_finite())
        .min_by(|a, b| direction.loss(*a).total_cmp(&direction.loss(*b)));
    match best_so_far {
        Some(best) => direction.loss(best) > direction.loss(median),
        None => true,
    }
}

/// Linear interpolation between order statistics (numpy's default).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Settings of asynchronous successive halving (Li et al. 2020; Optuna's
/// `SuccessiveHalvingPruner`).
///
/// Rung `r` sits at step `min_resource · η^(min_early_stopping_rate + r)`;
/// a trial reaching a rung continues only if its value there is in the top
/// `1/η` of all values recorded at that rung so far (the best one when fewer
/// than `η` trials got there).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `min_resource` | 1 | steps before the first rung |
/// | `reduction_factor` (η) | 3 | keep the top 1/η at each rung |
/// | `min_early_stopping_rate` | 0 | skip the first rungs |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AshaParams(AshaValidParams);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AshaValidParams {
    min_resource: u64,
    reduction_factor: u64,
    min_early_stopping_rate: u32,
}

impl Default for AshaParams {
    fn default() -> Self {
        Self::new()
    }
}

impl AshaParams {
    pub fn new() -> Self {
        Self(AshaValidParams {
            min_resource: 1,
            reduction_factor: 3,
            min_early_stopping_rate: 0,
        })
    }

    pub fn min_resource(mut self, n: u64) -> Self {
        self.0.min_resource = n;
        self
    }

    pub fn reduction_factor(mut self, eta: u64) -> Self {
        self.0.reduction_factor = eta;
        self
    }

    pub fn min_early_stopping_rate(mut self, s: u32) -> Self {
        self.0.min_early_stopping_rate = s;
        self
    }
}

impl ParamGuard for AshaParams {
    type Checked = AshaValidParams;
    type Error = CoreError;

    fn check_ref(&self) -> std::result::Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        ensure_param!(
            p.min_resource >= 1,
            "min_resource",
            "must be at least 1, got {}",
            p.min_resource
        );
        ensure_param!(
            p.reduction_factor >= 2,
            "reduction_factor",
            "must be at least 2, got {}",
            p.reduction_factor
        );
        Ok(p)
    }

    fn check(self) -> std::result::Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl AshaValidParams {
    /// The step of rung `r`, if it fits in a `u64`.
    pub fn rung_step(&self, r: u32) -> Option<u64> {
        self.reduction_factor
            .checked_pow(self.min_early_stopping_rate + r)
            .and_then(|f| f.checked_mul(self.min_resource))
    }
}

fn asha_prune(
    p: &AshaValidParams,
    value: f64,
    step: u64,
    others: &[Trial],
    number: u64,
    direction: Direction,
) -> bool {
    // Only a step that is a rung is a decision point.
    let is_rung = (0..64).map_while(|r| p.rung_step(r)).any(|s| s == step);
    if !is_rung {
        return false;
    }
    let mut competing: Vec<f64> = others
        .iter()
        .filter(|t| t.number != number)
        .filter_map(|t| t.intermediate.get(&step).copied())
        .filter(|v| v.is_finite())
        .map(|v| direction.loss(v))
        .collect();
    let own = direction.loss(value);
    competing.push(own);
    competing.sort_by(f64::total_cmp);
    let keep = (competing.len() as u64 / p.reduction_factor).max(1) as usize;
    own > competing[keep - 1]
}

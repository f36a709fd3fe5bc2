//! Tree-structured Parzen estimator, multivariate, as Optuna's default
//! sampler is since v5.0 (Watanabe 2023, "Tree-Structured Parzen Estimator:
//! Understanding Its Algorithm Components").
//!
//! After `n_startup_trials` random trials, each proposal splits the trials
//! into the best `γ(n) = min(⌈0.1·n⌉, 25)` ("below") and the rest
//! ("above"), fits a joint Parzen estimator `l(x)` to the first and `g(x)`
//! to the second (older trials down-weighted once there are more than 25),
//! draws `n_ei_candidates` points from `l` and keeps the one maximising
//! `l(x)/g(x)`. Running trials count as "above" (the constant liar), so
//! parallel workers do not propose the same point. Parameters that share the
//! same conditions are modelled jointly; a conditional group is fitted on
//! the trials where it was active.

use serde::Serialize;
use tenure_core::{CoreError, ParamGuard, ensure_param};

use super::{
    Rng, SampleContext, Sampler, Startup, finished_count, group_defs, observation, startup_params,
};
use crate::parzen::{ParzenEstimator, ParzenSettings};
use crate::space::{ParamDef, Params, SearchSpace};
use crate::trial::{Direction, Trial, TrialState};

/// Settings of [`TpeSampler`], as the user fills them.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `n_startup_trials` | 10 | random trials before the model is used |
/// | `n_ei_candidates` | 24 | draws from `l(x)` scored per proposal |
/// | `gamma_fraction`, `gamma_max` | 0.1, 25 | "below" holds `min(⌈fraction·n⌉, max)` trials |
/// | `prior_weight` | 1.0 | weight of the prior kernel |
/// | `multivariate` | true | one joint estimator per group instead of one per parameter |
/// | `constant_liar` | true | running trials count as bad |
/// | `startup` | Latin hypercube | how the startup trials are drawn |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TpeParams(TpeValidParams);

/// Checked settings of [`TpeSampler`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TpeValidParams {
    n_startup_trials: usize,
    n_ei_candidates: usize,
    gamma_fraction: f64,
    gamma_max: usize,
    prior_weight: f64,
    multivariate: bool,
    constant_liar: bool,
    startup: Startup,
}

impl Default for TpeParams {
    fn default() -> Self {
        Self::new()
    }
}

impl TpeParams {
    pub fn new() -> Self {
        Self(TpeValidParams {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            gamma_fraction: 0.1,
            gamma_max: 25,
            prior_weight: 1.0,
            multivariate: true,
            constant_liar: true,
            startup: Startup::default(),
        })
    }

    pub fn startup(mut self, design: Startup) -> Self {
        self.0.startup = design;
        self
    }

    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.0.n_startup_trials = n;
        self
    }

    pub fn n_ei_candidates(mut self, n: usize) -> Self {
        self.0.n_ei_candidates = n;
        self
    }

    pub fn gamma(mut self, fraction: f64, max: usize) -> Self {
        self.0.gamma_fraction = fraction;
        self.0.gamma_max = max;
        self
    }

    pub fn prior_weight(mut self, w: f64) -> Self {
        self.0.prior_weight = w;
        self
    }

    pub fn multivariate(mut self, on: bool) -> Self {
        self.0.multivariate = on;
        self
    }

    pub fn constant_liar(mut self, on: bool) -> Self {
        self.0.constant_liar = on;
        self
    }
}

impl ParamGuard for TpeParams {
    type Checked = TpeValidParams;
    type Error = CoreError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        ensure_param!(
            p.n_ei_candidates >= 1,
            "n_ei_candidates",
            "must be at least 1, got {}",
            p.n_ei_candidates
        );
        ensure_param!(
            p.gamma_fraction > 0.0 && p.gamma_fraction <= 1.0,
            "gamma_fraction",
            "must be in (0, 1], got {}",
            p.gamma_fraction
        );
        ensure_param!(
            p.gamma_max >= 1,
            "gamma_max",
            "must be at least 1, got {}",
            p.gamma_max
        );
        ensure_param!(
            p.prior_weight.is_finite() && p.prior_weight > 0.0,
            "prior_weight",
            "must be a positive number, got {}",
            p.prior_weight
        );
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl TpeValidParams {
    pub fn n_startup_trials(&self) -> usize {
        self.n_startup_trials
    }

    pub fn n_ei_candidates(&self) -> usize {
        self.n_ei_candidates
    }

    pub fn multivariate(&self) -> bool {
        self.multivariate
    }

    /// How many of `n` finished trials go into "below".
    pub fn gamma(&self, n: usize) -> usize {
        ((self.gamma_fraction * n as f64).ceil() as usize).min(self.gamma_max)
    }
}

/// Optuna's `default_gamma`: `min(⌈0.1·n⌉, 25)`.
pub fn default_gamma(n: usize) -> usize {
    TpeParams::new().0.gamma(n)
}

/// Optuna's `default_weights`: equal weights up to 25 observations, then a
/// linear ramp from `1/n` for the oldest to 1 for the 26th newest.
pub fn default_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp = n - 25;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| {
            let start = 1.0 / n as f64;
            if ramp == 1 {
                start
            } else {
                start + (1.0 - start) * i as f64 / (ramp - 1) as f64
            }
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

/// The TPE sampler.
#[derive(Debug, Clone)]
pub struct TpeSampler {
    params: TpeValidParams,
}

impl Default for TpeSampler {
    fn default() -> Self {
        Self::new(TpeParams::new().check().expect("defaults are valid"))
    }
}

impl TpeSampler {
    pub fn new(params: TpeValidParams) -> Self {
        Self { params }
    }

    fn settings(&self) -> ParzenSettings {
        ParzenSettings {
            prior_weight: self.params.prior_weight,
            ..ParzenSettings::default()
        }
    }

    /// Samples `defs` jointly from the trials that have all of them.
    fn sample_group(
        &self,
        defs: &[&ParamDef],
        direction: Direction,
        history: &[Trial],
        rng: &mut Rng,
        out: &mut Params,
    ) {
        let considered: Vec<&Trial> = history
            .iter()
            .filter(|t| match t.state {
                TrialState::Complete => t.is_complete(),
                TrialState::Pruned => true,
                TrialState::Running => self.params.constant_liar,
                TrialState::Fail => false,
            })
            .filter(|t| defs.iter().all(|d| t.params.contains_key(&d.name)))
            .collect();
        let n_finished = considered
            .iter()
            .filter(|t| t.state != TrialState::Running)
            .count();
        let (below, above) = split(&considered, self.params.gamma(n_finished), direction);
        let observations = |trials: &[&Trial]| -> Vec<Vec<f64>> {
            trials.iter().filter_map(|t| observation(t, defs)).collect()
        };
        let (obs_below, obs_above) = (observations(&below), observations(&above));
        let domains: Vec<_> = defs.iter().map(|d| d.distribution.domain()).collect();
        let settings = self.settings();
        let l = ParzenEstimator::new(
            &obs_below,
            &domains,
            Some(&default_weights(obs_below.len())),
            &settings,
        );
        let g = ParzenEstimator::new(
            &obs_above,
            &domains,
            Some(&default_weights(obs_above.len())),
            &settings,
        );
        let candidates = l.sample(rng, self.params.n_ei_candidates);
        let best = candidates
            .iter()
            .map(|c| l.log_pdf(c) - g.log_pdf(c))
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |acc, (i, v)| {
                    if v > acc.1 { (i, v) } else { acc }
                },
            )
            .0;
        for (d, &x) in defs.iter().zip(&candidates[best]) {
            out.insert(d.name.clone(), d.distribution.from_internal(x));
        }
    }
}

/// Splits trials into the best `n_below` and the rest, both in trial order:
/// complete trials by value first, then pruned ones by how far they got and
/// their last value; running trials always go above.
fn split<'a>(
    trials: &[&'a Trial],
    n_below: usize,
    direction: Direction,
) -> (Vec<&'a Trial>, Vec<&'a Trial>) {
    let mut complete: Vec<&Trial> = Vec::new();
    let mut pruned: Vec<&Trial> = Vec::new();
    let mut running: Vec<&Trial> = Vec::new();
    for &t in trials {
        match t.state {
            TrialState::Complete => complete.push(t),
            TrialState::Pruned => pruned.push(t),
            _ => running.push(t),
        }
    }
    complete.sort_by(|a, b| {
        let la = direction.loss(a.value.unwrap_or(f64::NAN));
        let lb = direction.loss(b.value.unwrap_or(f64::NAN));
        la.total_cmp(&lb)
    });
    let pruned_score = |t: &Trial| match t.intermediate.iter().next_back() {
        Some((&step, &v)) if v.is_finite() => (-(step as f64), direction.loss(v)),
        Some((&step, _)) => (-(step as f64), f64::INFINITY),
        None => (1.0, 0.0),
    };
    pruned.sort_by(|a, b| {
        let (sa, sb) = (pruned_score(a), pruned_score(b));
        sa.0.total_cmp(&sb.0).then(sa.1.total_cmp(&sb.1))
    });
    let n_complete_below = n_below.min(complete.len());
    let n_pruned_below = (n_below - n_complete_below).min(pruned.len());
    let mut below: Vec<&Trial> = complete[..n_complete_below].to_vec();
    below.extend_from_slice(&pruned[..n_pruned_below]);
    let mut above: Vec<&Trial> = complete[n_complete_below..].to_vec();
    above.extend_from_slice(&pruned[n_pruned_below..]);
    above.extend(running);
    below.sort_by_key(|t| t.number);
    above.sort_by_key(|t| t.number);
    (below, above)
}

impl Sampler for TpeSampler {
    fn name(&self) -> &'static str {
        "tpe"
    }

    fn sample(
        &mut self,
        space: &SearchSpace,
        direction: Direction,
        history: &[Trial],
        ctx: &SampleContext,
    ) -> Params {
        if finished_count(history) < self.params.n_startup_trials {
            return startup_params(
                space,
                ctx,
                self.params.n_startup_trials,
                self.params.startup,
            );
        }
        let rng = &mut ctx.rng();
        let mut out = Params::new();
        for group in space.groups() {
            let defs = group_defs(space, &group);
            // Members of a group share their conditions.
            if !space.is_active(defs[0], &out) {
                continue;
            }
            let mut modelled = Vec::new();
            for d in defs {
                match d.distribution.single() {
                    Some(v) => {
                        out.insert(d.name.clone(), v);
                    }
                    None => modelled.push(d),
                }
            }
            if modelled.is_empty() {
                continue;
            }
            if self.params.multivariate {
                self.sample_group(&modelled, direction, history, rng, &mut out);
            } else {
                for d in modelled {
                    self.sample_group(&[d], direction, history, rng, &mut out);
                }
            }
        }
        debug_assert!(space.check(&out).is_ok(), "{:?}", space.check(&out));
        out
    }
}

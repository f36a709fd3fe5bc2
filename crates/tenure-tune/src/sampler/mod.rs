//! Samplers: given the space and the trials so far, propose the next
//! configuration.
//!
//! A sampler sees every trial of the study, running ones included (TPE
//! treats them as bad guesses so that parallel workers spread out), and
//! draws its randomness from a generator seeded by the study's seed and the
//! trial's number, so a study's proposals do not depend on which worker
//! made them.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::space::{Distribution, Domain, ParamDef, ParamValue, Params, SearchSpace};
use crate::trial::{Direction, Trial};
use crate::{Result, TuneError};

mod auto;
pub mod gp;
mod random;
mod tpe;

pub use auto::{AUTO_GP_MAX_PARAMS, AUTO_GP_MAX_TRIALS, AutoSampler};
pub use gp::{GpParams, GpSampler, GpValidParams};
pub use random::RandomSampler;
pub use tpe::{TpeParams, TpeSampler, TpeValidParams, default_gamma, default_weights};

/// The generator samplers draw from.
pub type Rng = rand::rngs::Xoshiro256PlusPlus;

/// A generator for trial `number` of a study seeded with `seed`: the same
/// for every worker, different for every trial.
pub fn trial_rng(seed: u64, number: u64) -> Rng {
    Rng::seed_from_u64(splitmix(
        seed ^ splitmix(number.wrapping_add(0x9E37_79B9_7F4A_7C15)),
    ))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which trial of which study is being proposed: samplers derive all their
/// randomness from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleContext {
    /// The study's seed.
    pub seed: u64,
    /// The trial's number.
    pub number: u64,
}

impl SampleContext {
    pub fn new(seed: u64, number: u64) -> Self {
        Self { seed, number }
    }

    /// The trial's generator ([`trial_rng`]).
    pub fn rng(&self) -> Rng {
        trial_rng(self.seed, self.number)
    }
}

/// Proposes configurations.
pub trait Sampler: Send + fmt::Debug {
    fn name(&self) -> &'static str;

    /// The next configuration: a value for every active parameter and for
    /// no inactive one. `history` holds every other trial of the study.
    fn sample(
        &mut self,
        space: &SearchSpace,
        direction: Direction,
        history: &[Trial],
        ctx: &SampleContext,
    ) -> Params;
}

/// How the trials before a model takes over are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Startup {
    /// Independent uniform draws.
    Random,
    /// Each block of `n` startup trials is a Latin hypercube: every
    /// parameter's range is cut into `n` equal slices (in `ln x` for log
    /// scales) and each slice gets exactly one trial, so a few trials
    /// already cover every range evenly.
    #[default]
    LatinHypercube,
}

/// A startup configuration: trial `ctx.number` of blocks of `n`.
pub(crate) fn startup_params(
    space: &SearchSpace,
    ctx: &SampleContext,
    n: usize,
    design: Startup,
) -> Params {
    let mut rng = ctx.rng();
    if design == Startup::Random || n < 2 {
        return random_params(space, &mut rng);
    }
    let n64 = n as u64;
    let (block, slot) = (ctx.number / n64, (ctx.number % n64) as usize);
    let mut out = Params::new();
    for (d, def) in space.params().iter().enumerate() {
        if !space.is_active(def, &out) {
            continue;
        }
        let dist = &def.distribution;
        if let Some(v) = dist.single() {
            out.insert(def.name.clone(), v);
            continue;
        }
        // The same permutation for every trial of the block: derived from
        // the study's seed, not the trial's.
        let mut perm: Vec<usize> = (0..n).collect();
        let mut shared = trial_rng(
            ctx.seed ^ 0x1A7E_5EED_0000_0000,
            block.wrapping_mul(0x1_0000).wrapping_add(d as u64),
        );
        perm.shuffle(&mut shared);
        let x = (perm[slot] as f64 + rng.random::<f64>()) / n as f64;
        let domain = dist.domain();
        let value = match domain {
            Domain::Categorical { n: k } => {
                dist.from_internal(((x * k as f64).floor()).min(k as f64 - 1.0))
            }
            Domain::Numeric { .. } => {
                let (lo, hi) = domain.transformed_bounds();
                dist.from_internal(domain.untransform(lo + x * (hi - lo)))
            }
        };
        out.insert(def.name.clone(), value);
    }
    out
}

/// The samplers that can be chosen by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SamplerKind {
    /// The default, chosen by `tenure bench hpo` (see the README's table):
    /// the GP for small flat spaces in young studies, TPE otherwise
    /// ([`AutoSampler`]).
    #[default]
    Auto,
    /// Multivariate TPE.
    Tpe,
    /// Gaussian process with expected improvement, for low-dimensional
    /// continuous spaces.
    Gp,
    Random,
}

impl SamplerKind {
    pub const NAMES: &'static [&'static str] = &["auto", "tpe", "gp", "random"];

    pub fn as_str(self) -> &'static str {
        match self {
            SamplerKind::Auto => "auto",
            SamplerKind::Tpe => "tpe",
            SamplerKind::Gp => "gp",
            SamplerKind::Random => "random",
        }
    }

    /// A sampler of this kind with its default settings.
    pub fn build(self) -> Box<dyn Sampler> {
        match self {
            SamplerKind::Auto => Box::new(AutoSampler::default()),
            SamplerKind::Tpe => Box::new(TpeSampler::default()),
            SamplerKind::Gp => Box::new(GpSampler::default()),
            SamplerKind::Random => Box::new(RandomSampler),
        }
    }
}

impl FromStr for SamplerKind {
    type Err = TuneError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(SamplerKind::Auto),
            "tpe" => Ok(SamplerKind::Tpe),
            "gp" => Ok(SamplerKind::Gp),
            "random" => Ok(SamplerKind::Random),
            other => Err(TuneError::UnknownSampler(other.to_string())),
        }
    }
}

impl fmt::Display for SamplerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A uniform draw: uniform in the transformed coordinate (`ln x` for log
/// scales; each grid cell equally likely).
pub(crate) fn random_value(dist: &Distribution, rng: &mut Rng) -> ParamValue {
    if let Some(v) = dist.single() {
        return v;
    }
    let domain = dist.domain();
    match domain {
        Domain::Categorical { n } => dist.from_internal(rng.random_range(0..n) as f64),
        Domain::Numeric { .. } => {
            let (lo, hi) = domain.transformed_bounds();
            let y = lo + rng.random::<f64>() * (hi - lo);
            dist.from_internal(domain.untransform(y))
        }
    }
}

/// A configuration drawn uniformly, parameter by parameter, skipping
/// inactive ones.
pub fn random_params(space: &SearchSpace, rng: &mut Rng) -> Params {
    let mut out = Params::new();
    for def in space.params() {
        if space.is_active(def, &out) {
            out.insert(def.name.clone(), random_value(&def.distribution, rng));
        }
    }
    out
}

/// Trials that can inform a model: complete with a finite value, or pruned.
pub(crate) fn finished_count(history: &[Trial]) -> usize {
    history
        .iter()
        .filter(|t| t.is_complete() || t.state == crate::TrialState::Pruned)
        .count()
}

/// The parameter definitions of one group of the space.
pub(crate) fn group_defs<'a>(space: &'a SearchSpace, group: &[usize]) -> Vec<&'a ParamDef> {
    group.iter().map(|&i| &space.params()[i]).collect()
}

/// A trial's values of `defs` as sampler numbers, if it has all of them.
pub(crate) fn observation(trial: &Trial, defs: &[&ParamDef]) -> Option<Vec<f64>> {
    defs.iter()
        .map(|d| {
            trial
                .params
                .get(&d.name)
                .and_then(|v| d.distribution.to_internal(v))
        })
        .collect()
}

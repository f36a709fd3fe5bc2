//! Bayesian hyperparameter search for tenure's models.
//!
//! - [`SearchSpace`]: float (uniform or log, optionally on a grid), int
//!   (step or log) and categorical parameters, conditional on each other;
//!   parsed from config tables ([`ParamSpec`]) with errors naming the key.
//! - Samplers ([`SamplerKind`]): multivariate TPE, a Gaussian process with
//!   expected improvement, random search, and `auto` (the default: the GP
//!   for small flat spaces in young studies, TPE otherwise).
//! - Pruners ([`Pruner`]): median and asynchronous successive halving, fed
//!   by intermediate values.
//! - [`Study`]: trials persisted in SQLite; a killed search resumes without
//!   losing or repeating a trial, and several processes can share a study.
//! - [`importance::ped_anova`]: which parameters mattered.
//! - [`bench`]: standard test functions to compare samplers.
//!
//! ```
//! use tenure_tune::{Direction, Outcome, ParamDef, SamplerKind, SearchSpace, Study};
//!
//! let space = SearchSpace::new(vec![
//!     ParamDef::log_float("l2", 1e-3, 1e2),
//!     ParamDef::float("x", -2.0, 2.0),
//! ])?;
//! let dir = tempfile::tempdir()?;
//! let mut study = Study::open(&dir.path().join("tune.db"), "doc", Direction::Minimize, &space, 7)?;
//! let mut sampler = SamplerKind::Tpe.build();
//! while let Some(trial) = study.ask(sampler.as_mut(), Some(30))? {
//!     let l2 = trial.params["l2"].as_f64().unwrap();
//!     let x = trial.params["x"].as_f64().unwrap();
//!     study.tell(&trial, Outcome::Complete(l2.ln().powi(2) + x * x))?;
//! }
//! let best = tenure_tune::best_trial(&study.trials()?, Direction::Minimize).cloned().unwrap();
//! assert!(best.value.unwrap() < 2.0);
//! assert_eq!(study.trials()?.len(), 30);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bench;
mod error;
pub mod importance;
mod optim;
pub mod parzen;
mod pruner;
pub mod sampler;
mod space;
pub mod special;
mod storage;
mod trial;

pub use error::{Result, TuneError};
pub use pruner::{AshaParams, AshaValidParams, MedianParams, MedianValidParams, Pruner};
pub use sampler::gp::GaussianProcess;
pub use sampler::{
    AUTO_GP_MAX_PARAMS, AUTO_GP_MAX_TRIALS, AutoSampler, GpParams, GpSampler, RandomSampler,
    SampleContext, Sampler, SamplerKind, Startup, TpeParams, TpeSampler, random_params, trial_rng,
};
pub use space::{
    Condition, Distribution, Domain, OneOrMany, ParamDef, ParamSpec, ParamValue, Params,
    SearchSpace,
};
pub use storage::{Outcome, Study, TrialHandle, TrialRecord};
pub use trial::{Direction, Trial, TrialState, best_trial};

use super::{GpSampler, SampleContext, Sampler, TpeSampler};
use crate::space::{Params, SearchSpace};
use crate::trial::{Direction, Trial};

/// Above this many parameters a GP's length scales are poorly determined
/// by the trials a search can afford.
pub const AUTO_GP_MAX_PARAMS: usize = 10;
/// From this many trials on, TPE: the GP's cost grows with the cube of the
/// trials (tens of ms per proposal at 100) while its lead over TPE has
/// been made.
pub const AUTO_GP_MAX_TRIALS: usize = 100;

/// The default: the Gaussian process for spaces it models well (no
/// conditional parameters, at most [`AUTO_GP_MAX_PARAMS`] of them) while the
/// study is young, multivariate TPE otherwise. Chosen by `tenure bench hpo`
/// (see `scripts/bench_hpo_peers.sh`): the GP reaches good values in fewer
/// trials on every test function, TPE keeps the cost per trial flat.
#[derive(Debug, Clone, Default)]
pub struct AutoSampler {
    gp: GpSampler,
    tpe: TpeSampler,
}

impl AutoSampler {
    /// Whether the GP proposes the next trial.
    pub fn uses_gp(space: &SearchSpace, history: &[Trial]) -> bool {
        let varying = space
            .params()
            .iter()
            .filter(|p| p.distribution.single().is_none())
            .count();
        space.is_flat() && varying <= AUTO_GP_MAX_PARAMS && history.len() < AUTO_GP_MAX_TRIALS
    }
}

impl Sampler for AutoSampler {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn sample(
        &mut self,
        space: &SearchSpace,
        direction: Direction,
        history: &[Trial],
        ctx: &SampleContext,
    ) -> Params {
        if Self::uses_gp(space, history) {
            self.gp.sample(space, direction, history, ctx)
        } else {
            self.tpe.sample(space, direction, history, ctx)
        }
    }
}

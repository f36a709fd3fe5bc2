use super::{SampleContext, Sampler, random_params};
use crate::space::{Params, SearchSpace};
use crate::trial::{Direction, Trial};

/// Uniform random search: the baseline every other sampler must beat.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSampler;

impl Sampler for RandomSampler {
    fn name(&self) -> &'static str {
        "random"
    }

    fn sample(
        &mut self,
        space: &SearchSpace,
        _direction: Direction,
        _history: &[Trial],
        ctx: &SampleContext,
    ) -> Params {
        random_params(space, &mut ctx.rng())
    }
}

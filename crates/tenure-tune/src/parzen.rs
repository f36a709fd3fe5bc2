//! Parzen estimators: weighted mixtures of product kernels over a group of
//! parameters, as in Optuna's (multivariate) TPE.
//!
//! Each observation is a kernel: a truncated normal per numeric dimension
//! (in `ln x` for log scales; the mass of the grid cell for discrete ones)
//! and a smoothed one-hot distribution per categorical dimension. One more
//! kernel, the prior, is centred on the middle of each range with the width
//! of the range (uniform over the choices for categories).

use rand::RngExt;

use crate::sampler::Rng;
use crate::space::Domain;
use crate::special::{LN_SQRT_2PI, log_gauss_mass, truncnorm_ppf};

/// How kernels are shaped; Optuna's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParzenSettings {
    /// Weight of the prior kernel, relative to an observation's weight of 1.
    pub prior_weight: f64,
    /// Floor bandwidths at `range / min(100, 1 + kernels)`.
    pub magic_clip: bool,
    /// Let the outermost kernels' widths reach the bounds.
    pub consider_endpoints: bool,
}

impl Default for ParzenSettings {
    fn default() -> Self {
        Self {
            prior_weight: 1.0,
            magic_clip: true,
            consider_endpoints: false,
        }
    }
}

#[derive(Debug, Clone)]
enum DimKernels {
    Numeric {
        domain: Domain,
        /// Transformed bounds (half a step wider for grids).
        low: f64,
        high: f64,
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        /// `ln` of each kernel's mass inside `[low, high]`.
        log_norm: Vec<f64>,
    },
    Categorical {
        /// Per kernel, `ln` of the probability of each choice.
        log_probs: Vec<Vec<f64>>,
        probs: Vec<Vec<f64>>,
    },
}

/// A mixture of product kernels over one or more parameters.
#[derive(Debug, Clone)]
pub struct ParzenEstimator {
    log_weights: Vec<f64>,
    weights: Vec<f64>,
    dims: Vec<DimKernels>,
}

impl ParzenEstimator {
    /// `observations[i][d]` is observation `i`'s value of dimension `d`: the
    /// parameter's value for numbers (in its original scale), the choice
    /// index for categories. `obs_weights` (one per observation) default to
    /// 1; the prior kernel is appended with `settings.prior_weight`.
    pub fn new(
        observations: &[Vec<f64>],
        domains: &[Domain],
        obs_weights: Option<&[f64]>,
        settings: &ParzenSettings,
    ) -> Self {
        let n = observations.len();
        let mut weights: Vec<f64> = if n == 0 {
            vec![1.0]
        } else {
            let mut w = obs_weights.map_or_else(|| vec![1.0; n], <[f64]>::to_vec);
            w.push(settings.prior_weight);
            w
        };
        let total: f64 = weights.iter().sum();
        for w in &mut weights {
            *w /= total;
        }
        let dims = domains
            .iter()
            .enumerate()
            .map(|(d, domain)| {
                let column: Vec<f64> = observations.iter().map(|o| o[d]).collect();
                match *domain {
                    Domain::Categorical { n: n_choices } => {
                        categorical_kernels(&column, n_choices, settings)
                    }
                    Domain::Numeric { .. } => numeric_kernels(&column, *domain, settings),
                }
            })
            .collect();
        Self {
            log_weights: weights.iter().map(|w| w.ln()).collect(),
            weights,
            dims,
        }
    }

    pub fn n_kernels(&self) -> usize {
        self.weights.len()
    }

    /// Log density (log mass for discrete dimensions) at `x`, given like an
    /// observation. Log scales are measured in `ln x`, so ratios of two
    /// estimators over the same space are what is meaningful.
    pub fn log_pdf(&self, x: &[f64]) -> f64 {
        let mut per_kernel = self.log_weights.clone();
        for (dim, &xd) in self.dims.iter().zip(x) {
            match dim {
                DimKernels::Numeric {
                    domain,
                    mus,
                    sigmas,
                    log_norm,
                    ..
                } => match *domain {
                    Domain::Numeric {
                        step: Some(step), ..
                    } => {
                        let lo = domain.transform(xd - step / 2.0);
                        let hi = domain.transform(xd + step / 2.0);
                        for k in 0..per_kernel.len() {
                            per_kernel[k] += log_gauss_mass(
                                (lo - mus[k]) / sigmas[k],
                                (hi - mus[k]) / sigmas[k],
                            ) - log_norm[k];
                        }
                    }
                    _ => {
                        let y = domain.transform(xd);
                        for k in 0..per_kernel.len() {
                            let z = (y - mus[k]) / sigmas[k];
                            per_kernel[k] +=
                                -0.5 * z * z - LN_SQRT_2PI - sigmas[k].ln() - log_norm[k];
                        }
                    }
                },
                DimKernels::Categorical { log_probs, .. } => {
                    let c = xd as usize;
                    for k in 0..per_kernel.len() {
                        per_kernel[k] += log_probs[k][c];
                    }
                }
            }
        }
        log_sum_exp(&per_kernel)
    }

    /// Draws `n` points: a kernel by weight, then each dimension from it.
    pub fn sample(&self, rng: &mut Rng, n: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| {
                let k = pick(&self.weights, rng.random::<f64>());
                self.dims
                    .iter()
                    .map(|dim| match dim {
                        DimKernels::Numeric {
                            domain,
                            low,
                            high,
                            mus,
                            sigmas,
                            ..
                        } => {
                            let (mu, sigma) = (mus[k], sigmas[k]);
                            let z = truncnorm_ppf(
                                rng.random::<f64>(),
                                (low - mu) / sigma,
                                (high - mu) / sigma,
                            );
                            domain.untransform(mu + sigma * z)
                        }
                        DimKernels::Categorical { probs, .. } => {
                            pick(&probs[k], rng.random::<f64>()) as f64
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Index `i` with `sum(w[..i]) <= u < sum(w[..=i])` (weights sum to 1).
fn pick(weights: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        if u < acc {
            return i;
        }
    }
    weights.len() - 1
}

pub(crate) fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn categorical_kernels(column: &[f64], n_choices: usize, settings: &ParzenSettings) -> DimKernels {
    let probs: Vec<Vec<f64>> = if column.is_empty() {
        vec![vec![1.0 / n_choices as f64; n_choices]]
    } else {
        // Each observation spreads the prior weight over all choices and
        // adds 1 to its own; the prior kernel's row is uniform.
        let n_kernels = column.len() + 1;
        let base = settings.prior_weight / n_kernels as f64;
        let mut rows = vec![vec![base; n_choices]; n_kernels];
        for (row, &c) in rows.iter_mut().zip(column) {
            row[c as usize] += 1.0;
        }
        for row in &mut rows {
            let s: f64 = row.iter().sum();
            if s > 0.0 {
                row.iter_mut().for_each(|p| *p /= s);
            } else {
                row.iter_mut().for_each(|p| *p = 1.0 / n_choices as f64);
            }
        }
        rows
    };
    DimKernels::Categorical {
        log_probs: probs
            .iter()
            .map(|r| r.iter().map(|p| p.ln()).collect())
            .collect(),
        probs,
    }
}

/// Bandwidths by the distances to the neighbouring observations (with the
/// bounds as outer neighbours), clipped to `[range / min(100, 1 + kernels),
/// range]`; the prior kernel sits in the middle with the full range.
fn numeric_kernels(column: &[f64], domain: Domain, settings: &ParzenSettings) -> DimKernels {
    let (low, high) = domain.transformed_bounds();
    let range = high - low;
    let mut mus: Vec<f64> = column.iter().map(|&x| domain.transform(x)).collect();
    let n = mus.len();
    let mut sigmas = vec![0.0; n];
    if n > 0 {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| mus[a].total_cmp(&mus[b]));
        let mut sorted = Vec::with_capacity(n + 2);
        sorted.push(low);
        sorted.extend(order.iter().map(|&i| mus[i]));
        sorted.push(high);
        let mut sorted_sigmas: Vec<f64> = (1..=n)
            .map(|i| (sorted[i] - sorted[i - 1]).max(sorted[i + 1] - sorted[i]))
            .collect();
        if !settings.consider_endpoints && sorted.len() >= 4 {
            sorted_sigmas[0] = sorted[2] - sorted[1];
            sorted_sigmas[n - 1] = sorted[n] - sorted[n - 1];
        }
        let min_sigma = if settings.magic_clip {
            range / (1.0 + (n + 1) as f64).min(100.0)
        } else {
            1e-12
        };
        for (rank, &i) in order.iter().enumerate() {
            sigmas[i] = sorted_sigmas[rank].clamp(min_sigma, range);
        }
    }
    mus.push(0.5 * (low + high));
    sigmas.push(range);
    let log_norm = mus
        .iter()
        .zip(&sigmas)
        .map(|(&mu, &s)| log_gauss_mass((low - mu) / s, (high - mu) / s))
        .collect();
    DimKernels::Numeric {
        domain,
        low,
        high,
        mus,
        sigmas,
        log_norm,
    }
}

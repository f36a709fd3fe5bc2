//! Gaussian-process Bayesian optimisation for low-dimensional continuous
//! spaces (after Optuna's `GPSampler`).
//!
//! Inputs are scaled to `[0, 1]` (in `ln x` for log scales), objective
//! values standardised. The kernel is Matérn 5/2 with one length scale per
//! dimension (categories by Hamming distance), a signal scale and a noise
//! variance, fitted by maximising the marginal likelihood plus weak priors
//! with L-BFGS (warm-started from the previous trial's fit). The next point
//! maximises the log expected improvement: the best of many random points
//! and of the best trial so far seed local searches (projected L-BFGS on
//! the continuous coordinates, exhaustive over categories, grids rounded).
//! Running trials enter as pseudo-observations at the posterior mean, so
//! parallel workers do not propose the same point. Conditional parameters
//! are drawn at random.

use rand::RngExt;
use serde::Serialize;
use tenure_core::{CoreError, ParamGuard, ensure_param};

use super::{Rng, SampleContext, Sampler, Startup, random_params, random_value, startup_params};
use crate::optim::{
    LbfgsSettings, cholesky, cholesky_inverse, dot, minimize_box, solve_lower, solve_upper_t,
};
use crate::space::{Domain, ParamDef, Params, SearchSpace};
use crate::special::{log_expected_improvement, log_expected_improvement_grad};
use crate::trial::{Direction, Trial, TrialState};

/// Noise variance floor (on standardised objective values).
const MIN_NOISE: f64 = 1e-6;

/// Settings of [`GpSampler`], as the user fills them.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `n_startup_trials` | 5 | startup trials before the model is used |
/// | `n_candidates` | 1024 | random points scored before local search |
/// | `n_local_search` | 10 | local searches of the acquisition |
/// | `startup` | Latin hypercube | how the startup trials are drawn |
/// | `warp` | true | model `ln(loss − min + c)` when a Box–Cox fit prefers it |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpParams(GpValidParams);

/// Checked settings of [`GpSampler`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpValidParams {
    n_startup_trials: usize,
    n_candidates: usize,
    n_local_search: usize,
    startup: Startup,
    warp: bool,
}

impl Default for GpParams {
    fn default() -> Self {
        Self::new()
    }
}

impl GpParams {
    pub fn new() -> Self {
        Self(GpValidParams {
            n_startup_trials: 5,
            n_candidates: 1024,
            n_local_search: 10,
            startup: Startup::default(),
            warp: true,
        })
    }

    pub fn startup(mut self, design: Startup) -> Self {
        self.0.startup = design;
        self
    }

    pub fn warp(mut self, on: bool) -> Self {
        self.0.warp = on;
        self
    }

    pub fn n_startup_trials(mut self, n: usize) -> Self {
        self.0.n_startup_trials = n;
        self
    }

    pub fn n_candidates(mut self, n: usize) -> Self {
        self.0.n_candidates = n;
        self
    }

    pub fn n_local_search(mut self, n: usize) -> Self {
        self.0.n_local_search = n;
        self
    }
}

impl ParamGuard for GpParams {
    type Checked = GpValidParams;
    type Error = CoreError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        ensure_param!(
            p.n_candidates >= 1,
            "n_candidates",
            "must be at least 1, got {}",
            p.n_candidates
        );
        ensure_param!(
            p.n_local_search >= 1,
            "n_local_search",
            "must be at least 1, got {}",
            p.n_local_search
        );
        // Fewer than two points cannot fit a length scale.
        ensure_param!(
            p.n_startup_trials >= 2,
            "n_startup_trials",
            "must be at least 2, got {}",
            p.n_startup_trials
        );
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A Gaussian process regressor with a Matérn 5/2 ARD kernel.
#[derive(Debug, Clone)]
pub struct GaussianProcess {
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    is_categorical: Vec<bool>,
    inverse_squared_lengthscales: Vec<f64>,
    kernel_scale: f64,
    noise_var: f64,
    chol: Vec<f64>,
    /// `C⁻¹ y` with `C = K + noise·I`.
    alpha: Vec<f64>,
}

/// `(1 + √(5r²) + 5r²/3) exp(−√(5r²))` and its derivative in `r²`.
fn matern52(r2: f64) -> (f64, f64) {
    let s = (5.0 * r2).sqrt();
    let e = (-s).exp();
    ((1.0 + s + 5.0 / 3.0 * r2) * e, -5.0 / 6.0 * (1.0 + s) * e)
}

fn squared_distances(a: &[f64], b: &[f64], is_categorical: &[bool]) -> impl Iterator<Item = f64> {
    a.iter().zip(b).zip(is_categorical).map(|((x, y), &cat)| {
        if cat {
            if x == y { 0.0 } else { 1.0 }
        } else {
            (x - y) * (x - y)
        }
    })
}

impl GaussianProcess {
    /// A GP with the given kernel hyperparameters; `None` if the covariance
    /// cannot be factored.
    pub fn new(
        x: Vec<Vec<f64>>,
        y: Vec<f64>,
        is_categorical: Vec<bool>,
        inverse_squared_lengthscales: Vec<f64>,
        kernel_scale: f64,
        noise_var: f64,
    ) -> Option<Self> {
        let n = x.len();
        let mut gp = Self {
            x,
            y,
            is_categorical,
            inverse_squared_lengthscales,
            kernel_scale,
            noise_var,
            chol: Vec::new(),
            alpha: Vec::new(),
        };
        let mut c = gp.gram();
        for i in 0..n {
            c[i * n + i] += noise_var;
        }
        gp.chol = cholesky(&c, n)?;
        gp.alpha = solve_upper_t(&gp.chol, n, &solve_lower(&gp.chol, n, &gp.y));
        Some(gp)
    }

    /// Fits the kernel hyperparameters by maximum a posteriori (marginal
    /// likelihood plus weak priors), starting from `init` (as returned by
    /// [`GaussianProcess::raw_hyperparameters`]) when given.
    pub fn fit(
        x: Vec<Vec<f64>>,
        y: Vec<f64>,
        is_categorical: Vec<bool>,
        init: Option<&[f64]>,
    ) -> Self {
        let d = is_categorical.len();
        let start: Vec<f64> = match init {
            Some(v) if v.len() == d + 2 => v.to_vec(),
            _ => {
                let mut v = vec![0.0; d];
                v.push(0.0);
                v.push((1e-2f64).ln());
                v
            }
        };
        let lower: Vec<f64> = (0..d)
            .map(|_| (1e-4f64).ln())
            .chain([(1e-3f64).ln(), (1e-9f64).ln()])
            .collect();
        let upper: Vec<f64> = (0..d)
            .map(|_| (1e4f64).ln())
            .chain([(1e2f64).ln(), (1.0f64).ln()])
            .collect();
        let objective = |raw: &[f64]| neg_log_posterior(raw, &x, &y, &is_categorical);
        let (best, _) = minimize_box(
            objective,
            &start,
            &lower,
            &upper,
            LbfgsSettings {
                max_iter: 100,
                gtol: 1e-3,
                ..LbfgsSettings::default()
            },
        );
        let (ls, scale, noise) = unpack(&best, d);
        Self::new(
            x.clone(),
            y.clone(),
            is_categorical.clone(),
            ls,
            scale,
            noise,
        )
        .unwrap_or_else(|| {
            // A near-singular fit: fall back to a larger noise.
            Self::new(x, y, is_categorical, vec![1.0; d], 1.0, 1e-2)
                .expect("a unit kernel with noise 0.01 is positive definite")
        })
    }

    /// The hyperparameters in the coordinates [`GaussianProcess::fit`]
    /// optimises: `ln λ_d`, `ln scale`, `ln(noise − floor)`.
    pub fn raw_hyperparameters(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .inverse_squared_lengthscales
            .iter()
            .map(|l| l.ln())
            .collect();
        v.push(self.kernel_scale.ln());
        v.push((self.noise_var - MIN_NOISE).max(1e-12).ln());
        v
    }

    pub fn length_scales(&self) -> Vec<f64> {
        self.inverse_squared_lengthscales
            .iter()
            .map(|l| 1.0 / l.sqrt())
            .collect()
    }

    pub fn kernel_scale(&self) -> f64 {
        self.kernel_scale
    }

    pub fn noise_var(&self) -> f64 {
        self.noise_var
    }

    pub fn n_train(&self) -> usize {
        self.x.len()
    }

    /// The kernel `k(a, b)`.
    pub fn kernel(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = squared_distances(a, b, &self.is_categorical)
            .zip(&self.inverse_squared_lengthscales)
            .map(|(s, l)| s * l)
            .sum();
        self.kernel_scale * matern52(r2).0
    }

    fn gram(&self) -> Vec<f64> {
        let n = self.x.len();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = self.kernel(&self.x[i], &self.x[j]);
                k[i * n + j] = v;
                k[j * n + i] = v;
            }
        }
        k
    }

    /// Posterior mean and variance of the latent function at `x`.
    pub fn posterior(&self, x: &[f64]) -> (f64, f64) {
        let n = self.x.len();
        let kx: Vec<f64> = self.x.iter().map(|xi| self.kernel(x, xi)).collect();
        let mean = dot(&kx, &self.alpha);
        let v = solve_lower(&self.chol, n, &kx);
        let var = (self.kernel_scale - dot(&v, &v)).max(0.0);
        (mean, var)
    }

    /// Log marginal likelihood of the training values.
    pub fn log_marginal_likelihood(&self) -> f64 {
        let n = self.x.len();
        let log_det: f64 = (0..n).map(|i| self.chol[i * n + i].ln()).sum::<f64>() * 2.0;
        -0.5 * dot(&self.y, &self.alpha)
            - 0.5 * log_det
            - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
    }

    /// Log expected improvement over `best` at `x` and its gradient in the
    /// continuous coordinates (zero for categorical ones).
    fn log_ei_with_grad(&self, x: &[f64], best: f64) -> (f64, Vec<f64>) {
        let n = self.x.len();
        let d = x.len();
        let mut kx = vec![0.0; n];
        let mut dk = vec![0.0; n * d];
        for (i, xi) in self.x.iter().enumerate() {
            let r2: f64 = squared_distances(x, xi, &self.is_categorical)
                .zip(&self.inverse_squared_lengthscales)
                .map(|(s, l)| s * l)
                .sum();
            let (m, dm) = matern52(r2);
            kx[i] = self.kernel_scale * m;
            for j in 0..d {
                if !self.is_categorical[j] {
                    dk[i * d + j] = self.kernel_scale
                        * dm
                        * 2.0
                        * self.inverse_squared_lengthscales[j]
                        * (x[j] - xi[j]);
                }
            }
        }
        let mean = dot(&kx, &self.alpha);
        let v = solve_lower(&self.chol, n, &kx);
        let var = (self.kernel_scale - dot(&v, &v)).max(1e-12);
        let sd = var.sqrt();
        let cinv_k = solve_upper_t(&self.chol, n, &v);
        let value = log_expected_improvement(mean, sd, best);
        let (d_mean, d_sd) = log_expected_improvement_grad(mean, sd, best);
        let grad = (0..d)
            .map(|j| {
                if self.is_categorical[j] {
                    return 0.0;
                }
                let (mut dmu, mut dvar) = (0.0, 0.0);
                for i in 0..n {
                    dmu += self.alpha[i] * dk[i * d + j];
                    dvar -= 2.0 * cinv_k[i] * dk[i * d + j];
                }
                d_mean * dmu + d_sd * dvar / (2.0 * sd)
            })
            .collect();
        (value, grad)
    }

    fn log_ei(&self, x: &[f64], best: f64) -> f64 {
        let (mean, var) = self.posterior(x);
        log_expected_improvement(mean, var.max(1e-12).sqrt(), best)
    }
}

fn unpack(raw: &[f64], d: usize) -> (Vec<f64>, f64, f64) {
    (
        raw[..d].iter().map(|v| v.exp()).collect(),
        raw[d].exp(),
        raw[d + 1].exp() + MIN_NOISE,
    )
}

/// Negative log marginal likelihood minus the log prior, and its gradient
/// in the raw (log) hyperparameters. The priors (Optuna's) keep length
/// scales near the unit box and the noise small: `−Σ(0.1/λ + 0.1λ)` on the
/// inverse squared length scales, Gamma(2, 1) on the scale, Gamma(1.1, 30)
/// on the noise.
fn neg_log_posterior(
    raw: &[f64],
    x: &[Vec<f64>],
    y: &[f64],
    is_categorical: &[bool],
) -> (f64, Vec<f64>) {
    let d = is_categorical.len();
    let n = x.len();
    let (lambda, scale, noise) = unpack(raw, d);
    // Squared distances per dimension, shared by the kernel and its gradient.
    let mut sqd = vec![0.0; n * n * d];
    let mut m = vec![0.0; n * n];
    let mut dm = vec![0.0; n * n];
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut r2 = 0.0;
            for (k, s) in squared_distances(&x[i], &x[j], is_categorical).enumerate() {
                sqd[(i * n + j) * d + k] = s;
                sqd[(j * n + i) * d + k] = s;
                r2 += s * lambda[k];
            }
            let (mv, dmv) = matern52(r2);
            for (a, b) in [(i, j), (j, i)] {
                m[a * n + b] = mv;
                dm[a * n + b] = dmv;
                c[a * n + b] = scale * mv;
            }
        }
        c[i * n + i] += noise;
    }
    let bad = (f64::INFINITY, vec![0.0; d + 2]);
    let Some(l) = cholesky(&c, n) else {
        return bad;
    };
    let alpha = solve_upper_t(&l, n, &solve_lower(&l, n, y));
    let log_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum::<f64>() * 2.0;
    let mll = -0.5 * dot(y, &alpha) - 0.5 * log_det;
    let cinv = cholesky_inverse(&l, n);
    // dMLL/dθ = ½ tr(W ∂C/∂θ), W = ααᵀ − C⁻¹.
    let mut grad = vec![0.0; d + 2];
    let mut tr_w = 0.0;
    for i in 0..n {
        tr_w += alpha[i] * alpha[i] - cinv[i * n + i];
        for j in 0..n {
            let w = alpha[i] * alpha[j] - cinv[i * n + j];
            let base = w * scale * dm[i * n + j];
            let s = &sqd[(i * n + j) * d..(i * n + j + 1) * d];
            for k in 0..d {
                grad[k] += base * s[k];
            }
            grad[d] += w * scale * m[i * n + j];
        }
    }
    for k in 0..d {
        grad[k] *= 0.5 * lambda[k];
    }
    grad[d] *= 0.5;
    grad[d + 1] = 0.5 * tr_w * (noise - MIN_NOISE);
    let log_prior = -lambda.iter().map(|&l| 0.1 / l + 0.1 * l).sum::<f64>()
        + (scale.ln() - scale)
        + (0.1 * noise.ln() - 30.0 * noise);
    for k in 0..d {
        grad[k] += 0.1 / lambda[k] - 0.1 * lambda[k];
    }
    grad[d] += 1.0 - scale;
    grad[d + 1] += (0.1 / noise - 30.0) * (noise - MIN_NOISE);
    let value = -(mll + log_prior);
    if !value.is_finite() {
        return bad;
    }
    (value, grad.iter().map(|g| -g).collect())
}

/// The values the GP models (larger is better): the negated losses, or
/// `−ln(loss − min + c)` when that is the better Box–Cox fit (λ = 0 against
/// λ = 1 by profile likelihood, with `c` a tenth of the median excess over
/// the minimum). Losses spanning orders of magnitude (a badly misfit model's
/// loss can be 1000× a good one's) then become a scale on which the good
/// region is not flat; well-behaved losses stay as they are. The order of
/// trials is kept either way.
fn warp(losses: &[f64]) -> Vec<f64> {
    let n = losses.len() as f64;
    let min = losses.iter().copied().fold(f64::INFINITY, f64::min);
    let mut excess: Vec<f64> = losses.iter().map(|l| l - min).collect();
    excess.sort_by(f64::total_cmp);
    let median = excess[excess.len() / 2];
    let c = if median > 0.0 { 0.1 * median } else { 1.0 };
    let shifted: Vec<f64> = losses.iter().map(|l| l - min + c).collect();
    let logged: Vec<f64> = shifted.iter().map(|v| v.ln()).collect();
    let variance = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n
    };
    // Profile log-likelihoods of Box–Cox λ = 1 and λ = 0; the Jacobian of
    // the log is Σ −ln(shifted).
    let keep = -0.5 * n * variance(&shifted).max(1e-300).ln();
    let log = -0.5 * n * variance(&logged).max(1e-300).ln() - logged.iter().sum::<f64>();
    if log > keep {
        logged.iter().map(|v| -v).collect()
    } else {
        losses.iter().map(|l| -l).collect()
    }
}

/// The sampler's coordinates of a value: `[0, 1]` across the (transformed)
/// range for numbers, the choice index for categories.
fn normalize(domain: &Domain, x: f64) -> f64 {
    match domain {
        Domain::Numeric { .. } => {
            let (lo, hi) = domain.transformed_bounds();
            ((domain.transform(x) - lo) / (hi - lo)).clamp(0.0, 1.0)
        }
        Domain::Categorical { .. } => x,
    }
}

fn denormalize(domain: &Domain, t: f64) -> f64 {
    match domain {
        Domain::Numeric { .. } => {
            let (lo, hi) = domain.transformed_bounds();
            domain.untransform(lo + t.clamp(0.0, 1.0) * (hi - lo))
        }
        Domain::Categorical { n } => t.round().clamp(0.0, *n as f64 - 1.0),
    }
}

/// The GP sampler.
#[derive(Debug, Clone)]
pub struct GpSampler {
    params: GpValidParams,
    /// The last fit's hyperparameters: the next fit starts from them.
    warm: Option<Vec<f64>>,
}

impl Default for GpSampler {
    fn default() -> Self {
        Self::new(GpParams::new().check().expect("defaults are valid"))
    }
}

impl GpSampler {
    pub fn new(params: GpValidParams) -> Self {
        Self { params, warm: None }
    }

    /// Maximises the log EI from random points and the incumbent.
    fn maximize_acquisition(
        &self,
        gp: &GaussianProcess,
        domains: &[Domain],
        best: f64,
        incumbent: &[f64],
        rng: &mut Rng,
    ) -> Vec<f64> {
        let d = domains.len();
        let random_point = |rng: &mut Rng| -> Vec<f64> {
            domains
                .iter()
                .map(|dom| match dom {
                    Domain::Categorical { n } => rng.random_range(0..*n) as f64,
                    Domain::Numeric { .. } => normalize(dom, denormalize(dom, rng.random::<f64>())),
                })
                .collect()
        };
        let mut scored: Vec<(f64, Vec<f64>)> = (0..self.params.n_candidates)
            .map(|_| {
                let p = random_point(rng);
                (gp.log_ei(&p, best), p)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut starts: Vec<Vec<f64>> = vec![incumbent.to_vec()];
        starts.extend(
            scored
                .iter()
                .take(self.params.n_local_search.saturating_sub(1))
                .map(|(_, p)| p.clone()),
        );
        let mut best_point = scored[0].1.clone();
        let mut best_value = scored[0].0;
        for start in starts {
            let (p, v) = local_search(gp, domains, best, start);
            if v > best_value || !best_value.is_finite() {
                best_value = v;
                best_point = p;
            }
        }
        debug_assert_eq!(best_point.len(), d);
        best_point
    }
}

/// Alternates L-BFGS on the continuous coordinates (then rounding grids)
/// with exhaustive search over each category.
fn local_search(
    gp: &GaussianProcess,
    domains: &[Domain],
    best: f64,
    start: Vec<f64>,
) -> (Vec<f64>, f64) {
    let d = domains.len();
    let continuous: Vec<usize> = (0..d).filter(|&j| !domains[j].is_categorical()).collect();
    let mut x = start;
    let mut value = gp.log_ei(&x, best);
    for _ in 0..3 {
        let before = value;
        if !continuous.is_empty() {
            let x0: Vec<f64> = continuous.iter().map(|&j| x[j]).collect();
            let full = |sub: &[f64], x: &[f64]| -> Vec<f64> {
                let mut v = x.to_vec();
                for (k, &j) in continuous.iter().enumerate() {
                    v[j] = sub[k];
                }
                v
            };
            let base = x.clone();
            let (sub, _) = minimize_box(
                |sub: &[f64]| {
                    let (v, g) = gp.log_ei_with_grad(&full(sub, &base), best);
                    if !v.is_finite() {
                        return (f64::INFINITY, vec![0.0; sub.len()]);
                    }
                    (-v, continuous.iter().map(|&j| -g[j]).collect())
                },
                &x0,
                &vec![0.0; continuous.len()],
                &vec![1.0; continuous.len()],
                LbfgsSettings {
                    max_iter: 50,
                    gtol: 1e-4,
                    ..LbfgsSettings::default()
                },
            );
            let mut candidate = full(&sub, &base);
            for &j in &continuous {
                candidate[j] = normalize(&domains[j], denormalize(&domains[j], candidate[j]));
            }
            let v = gp.log_ei(&candidate, best);
            if v > value {
                x = candidate;
                value = v;
            }
        }
        for j in 0..d {
            if let Domain::Categorical { n } = domains[j] {
                for c in 0..n {
                    let mut candidate = x.clone();
                    candidate[j] = c as f64;
                    let v = gp.log_ei(&candidate, best);
                    if v > value {
                        x = candidate;
                        value = v;
                    }
                }
            }
        }
        if value <= before + 1e-9 {
            break;
        }
    }
    (x, value)
}

impl Sampler for GpSampler {
    fn name(&self) -> &'static str {
        "gp"
    }

    fn sample(
        &mut self,
        space: &SearchSpace,
        direction: Direction,
        history: &[Trial],
        ctx: &SampleContext,
    ) -> Params {
        let rng = &mut ctx.rng();
        // The GP models the unconditional parameters that vary.
        let modelled: Vec<&ParamDef> = space
            .params()
            .iter()
            .filter(|p| p.conditions.is_empty() && p.distribution.single().is_none())
            .collect();
        let observed = |t: &&Trial| {
            modelled.iter().all(|d| {
                t.params
                    .get(&d.name)
                    .is_some_and(|v| d.distribution.to_internal(v).is_some())
            })
        };
        // Pruned trials count with their last running value: left out, the
        // GP would propose the same hopeless point again and again.
        let complete: Vec<&Trial> = history
            .iter()
            .filter(|t| {
                t.is_complete()
                    || (t.state == TrialState::Pruned && t.value.is_some_and(f64::is_finite))
            })
            .filter(observed)
            .collect();
        if modelled.is_empty() || complete.len() < self.params.n_startup_trials {
            return startup_params(
                space,
                ctx,
                self.params.n_startup_trials,
                self.params.startup,
            );
        }
        let domains: Vec<Domain> = modelled.iter().map(|d| d.distribution.domain()).collect();
        let encode = |t: &Trial| -> Vec<f64> {
            modelled
                .iter()
                .zip(&domains)
                .map(|(d, dom)| {
                    let v = d
                        .distribution
                        .to_internal(&t.params[&d.name])
                        .unwrap_or(0.0);
                    normalize(dom, v)
                })
                .collect()
        };
        let x: Vec<Vec<f64>> = complete.iter().map(|t| encode(t)).collect();
        // Larger is better for the GP: the negated loss, standardised.
        let losses: Vec<f64> = complete
            .iter()
            .map(|t| direction.loss(t.value.unwrap_or(f64::NAN)))
            .collect();
        let raw_y: Vec<f64> = if self.params.warp {
            warp(&losses)
        } else {
            losses.iter().map(|l| -l).collect()
        };
        let mean = raw_y.iter().sum::<f64>() / raw_y.len() as f64;
        let sd =
            (raw_y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / raw_y.len() as f64).sqrt();
        let sd = if sd > 0.0 { sd } else { 1.0 };
        let y: Vec<f64> = raw_y.iter().map(|v| (v - mean) / sd).collect();
        let is_categorical: Vec<bool> = domains.iter().map(Domain::is_categorical).collect();
        let incumbent_index = (0..y.len())
            .max_by(|&a, &b| y[a].total_cmp(&y[b]))
            .unwrap_or(0);
        let incumbent = x[incumbent_index].clone();
        let best = y[incumbent_index];
        let gp = GaussianProcess::fit(x.clone(), y.clone(), is_categorical, self.warm.as_deref());
        self.warm = Some(gp.raw_hyperparameters());
        // Kriging believer: running trials as observations at the mean.
        let running: Vec<Vec<f64>> = history
            .iter()
            .filter(|t| t.state == TrialState::Running)
            .filter(observed)
            .map(encode)
            .collect();
        let gp = if running.is_empty() {
            gp
        } else {
            let mut xs = x;
            let mut ys = y;
            for r in running {
                ys.push(gp.posterior(&r).0);
                xs.push(r);
            }
            GaussianProcess::new(
                xs,
                ys,
                gp.is_categorical.clone(),
                gp.inverse_squared_lengthscales.clone(),
                gp.kernel_scale,
                gp.noise_var,
            )
            .unwrap_or(gp)
        };
        let point = self.maximize_acquisition(&gp, &domains, best, &incumbent, rng);
        let mut out = Params::new();
        for def in space.params() {
            if !space.is_active(def, &out) {
                continue;
            }
            let value = match modelled.iter().position(|m| m.name == def.name) {
                Some(k) => def
                    .distribution
                    .from_internal(denormalize(&domains[k], point[k])),
                None => random_value(&def.distribution, rng),
            };
            out.insert(def.name.clone(), value);
        }
        // On a grid the acquisition can settle on a point already tried:
        // a repeat teaches nothing, a random point does.
        if history.iter().any(|t| t.params == out) {
            return random_params(space, rng);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<Vec<f64>>, Vec<f64>, Vec<bool>) {
        let x: Vec<Vec<f64>> = (0..9)
            .map(|i| {
                let t = i as f64 / 8.0;
                vec![t, (t * 3.7).fract(), (i % 2) as f64]
            })
            .collect();
        let y = x
            .iter()
            .map(|p| (4.0 * p[0]).cos() + p[1] - 0.5 * p[2])
            .collect();
        (x, y, vec![false, false, true])
    }

    #[test]
    fn hyperparameter_gradient_matches_finite_differences() {
        let (x, y, cat) = data();
        let raw = [0.3, -0.4, 0.1, 0.2, (0.05f64).ln()];
        let (_, g) = neg_log_posterior(&raw, &x, &y, &cat);
        for k in 0..raw.len() {
            let h = 1e-6;
            let (mut up, mut down) = (raw.to_vec(), raw.to_vec());
            up[k] += h;
            down[k] -= h;
            let fd = (neg_log_posterior(&up, &x, &y, &cat).0
                - neg_log_posterior(&down, &x, &y, &cat).0)
                / (2.0 * h);
            assert!(
                (g[k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "component {k}: {} vs {fd}",
                g[k]
            );
        }
    }

    #[test]
    fn acquisition_gradient_matches_finite_differences() {
        let (x, y, cat) = data();
        let gp = GaussianProcess::new(x, y, cat, vec![3.0, 2.0, 1.0], 1.2, 1e-4).unwrap();
        for point in [[0.31, 0.77, 1.0], [0.9, 0.05, 0.0]] {
            let (_, g) = gp.log_ei_with_grad(&point, 1.0);
            for k in 0..2 {
                let h = 1e-6;
                let (mut up, mut down) = (point, point);
                up[k] += h;
                down[k] -= h;
                let fd = (gp.log_ei(&up, 1.0) - gp.log_ei(&down, 1.0)) / (2.0 * h);
                assert!(
                    (g[k] - fd).abs() < 1e-4 * fd.abs().max(1.0),
                    "{point:?} component {k}: {} vs {fd}",
                    g[k]
                );
            }
            assert_eq!(g[2], 0.0, "no gradient along a category");
        }
    }
}

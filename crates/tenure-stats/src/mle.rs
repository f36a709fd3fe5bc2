//! Maximum likelihood for the few-parameter customer-base models (BG/NBD,
//! Gamma-Gamma): damped Newton's method on the logarithms of the parameters,
//! which are all positive, with analytic derivatives supplied by the model.
//!
//! Working on `ln θ` keeps every iterate feasible without bounds and makes the
//! problem better conditioned (the CDNOW parameters span two orders of
//! magnitude). Where the Hessian is not positive definite, far from the
//! optimum, a growing ridge turns the step into a scaled gradient step, so the
//! method starts reliably from all-ones.

use crate::error::{StatsError, cannot_fit};
use crate::linalg::cholesky_solve;

/// A negative log-likelihood in the natural (positive) parameters.
pub(crate) trait Objective<const N: usize> {
    /// The value at `theta`, `+∞` (or NaN) where it cannot be evaluated.
    fn value(&self, theta: &[f64; N]) -> f64;

    /// The value, gradient and Hessian at `theta`.
    fn derivatives(&self, theta: &[f64; N]) -> (f64, [f64; N], [[f64; N]; N]);
}

/// A penalty `weight · Σ θⱼ²` on top of an objective (lifetimes'
/// `penalizer_coef` scaled by the number of rows, since lifetimes penalises
/// the MEAN negative log-likelihood).
pub(crate) struct Penalised<'a, O> {
    pub(crate) inner: &'a O,
    pub(crate) weight: f64,
}

impl<const N: usize, O: Objective<N>> Objective<N> for Penalised<'_, O> {
    fn value(&self, theta: &[f64; N]) -> f64 {
        self.inner.value(theta) + self.weight * theta.iter().map(|t| t * t).sum::<f64>()
    }

    fn derivatives(&self, theta: &[f64; N]) -> (f64, [f64; N], [[f64; N]; N]) {
        let (mut f, mut g, mut h) = self.inner.derivatives(theta);
        for j in 0..N {
            f += self.weight * theta[j] * theta[j];
            g[j] += 2.0 * self.weight * theta[j];
            h[j][j] += 2.0 * self.weight;
        }
        (f, g, h)
    }
}

/// Where the minimiser stopped.
#[derive(Debug, Clone)]
pub(crate) struct Optimum<const N: usize> {
    pub(crate) theta: [f64; N],
    /// Covariance of `theta`: the inverse Hessian of the objective; `None`
    /// when the Hessian is not positive definite there.
    pub(crate) covariance: Option<[[f64; N]; N]>,
    pub(crate) n_iter: usize,
}

/// Step halvings tried before concluding that no step lowers the objective.
const MAX_HALVINGS: usize = 60;
/// Largest change of any `ln θⱼ` in one step: a factor e³ ≈ 20, so that one
/// wild step from a poor start cannot overflow the special functions.
const MAX_LOG_STEP: f64 = 3.0;

/// Minimises `objective` over `θ > 0` from `start`.
pub(crate) fn minimise<const N: usize>(
    model: &'static str,
    objective: &impl Objective<N>,
    start: [f64; N],
    max_iter: usize,
    tol: f64,
) -> Result<Optimum<N>, StatsError> {
    let mut theta = start;
    let mut u = start.map(f64::ln);
    let mut f = objective.value(&theta);
    if !f.is_finite() {
        return Err(cannot_fit(
            model,
            "the log-likelihood is not finite at the starting point",
        ));
    }
    for n_iter in 0..max_iter {
        let (_, g_log, h_log) = log_derivatives(objective, &theta);
        if g_log.iter().any(|g| !g.is_finite()) {
            return Err(cannot_fit(
                model,
                format!("the gradient is not finite at {theta:?}"),
            ));
        }
        let mut step = newton_step(&h_log, &g_log);
        let longest = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        if longest > MAX_LOG_STEP {
            step = step.map(|s| s * MAX_LOG_STEP / longest);
        }
        let slope: f64 = step.iter().zip(&g_log).map(|(s, g)| s * g).sum();
        // Rounding makes the objective noisy at the optimum: a step that
        // raises it by less than this is still taken.
        let slack = 1e-13 * (1.0 + f.abs());
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let u_new: [f64; N] = std::array::from_fn(|j| u[j] + t * step[j]);
            let theta_new = u_new.map(f64::exp);
            let f_new = objective.value(&theta_new);
            if f_new.is_finite() && f_new <= f + 1e-4 * t * slope.min(0.0) + slack {
                accepted = Some((u_new, theta_new, f_new));
                break;
            }
            t *= 0.5;
        }
        let Some((u_new, theta_new, f_new)) = accepted else {
            // No step along a descent direction helps: the optimum to machine
            // precision, unless the gradient says otherwise.
            let scale = 1e-6 * (1.0 + f.abs());
            if g_log.iter().all(|g| g.abs() <= scale) {
                return Ok(finish(objective, theta, n_iter));
            }
            return Err(cannot_fit(
                model,
                format!("the line search failed at {theta:?} (gradient {g_log:?})"),
            ));
        };
        let change = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
        (u, theta, f) = (u_new, theta_new, f_new);
        if change <= tol {
            return Ok(finish(objective, theta, n_iter + 1));
        }
    }
    Err(cannot_fit(
        model,
        format!(
            "no convergence in {max_iter} Newton steps (parameters now {theta:?}); \
             the maximum-likelihood estimate may not exist for these data (a \
             parameter running to 0 or infinity): try a penalty l2 > 0"
        ),
    ))
}

/// Gradient and Hessian with respect to `u = ln θ`: by the chain rule
/// `∂f/∂uⱼ = θⱼ ∂f/∂θⱼ` and `∂²f/∂uᵢ∂uⱼ = θᵢθⱼ ∂²f/∂θᵢ∂θⱼ + [i = j] θⱼ ∂f/∂θⱼ`.
fn log_derivatives<const N: usize>(
    objective: &impl Objective<N>,
    theta: &[f64; N],
) -> (f64, [f64; N], [[f64; N]; N]) {
    let (f, g, h) = objective.derivatives(theta);
    let g_log: [f64; N] = std::array::from_fn(|j| theta[j] * g[j]);
    let mut h_log = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..N {
            h_log[i][j] = theta[i] * theta[j] * h[i][j];
        }
        h_log[i][i] += g_log[i];
    }
    (f, g_log, h_log)
}

/// Solves `H s = −g`, adding a growing ridge to `H` until it is positive
/// definite (a large ridge makes `s` a short gradient step).
fn newton_step<const N: usize>(h: &[[f64; N]; N], g: &[f64; N]) -> [f64; N] {
    let neg_g: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut flat: Vec<f64> = h.iter().flatten().copied().collect();
    if let Some(s) = cholesky_solve(&flat, &neg_g) {
        return std::array::from_fn(|j| s[j]);
    }
    let largest = (0..N).fold(0.0f64, |m, j| m.max(h[j][j].abs()));
    let mut ridge = 1e-8 * largest.max(1.0);
    for _ in 0..30 {
        for j in 0..N {
            flat[j * N + j] = h[j][j] + ridge;
        }
        if let Some(s) = cholesky_solve(&flat, &neg_g) {
            return std::array::from_fn(|j| s[j]);
        }
        ridge *= 10.0;
    }
    std::array::from_fn(|j| neg_g[j] / (1.0 + largest))
}

/// The covariance of `θ` by the delta method from the inverse Hessian in
/// `ln θ`: `Cov(θ) = D H⁻¹ D`, `D = diag(θ)`. At a stationary point this is
/// exactly the inverse of the Hessian in `θ` itself.
fn finish<const N: usize>(
    objective: &impl Objective<N>,
    theta: [f64; N],
    n_iter: usize,
) -> Optimum<N> {
    let (_, _, h_log) = log_derivatives(objective, &theta);
    let flat: Vec<f64> = h_log.iter().flatten().copied().collect();
    let mut covariance = Some([[0.0; N]; N]);
    for j in 0..N {
        let mut e = vec![0.0; N];
        e[j] = 1.0;
        match (cholesky_solve(&flat, &e), covariance.as_mut()) {
            (Some(col), Some(cov)) => {
                for i in 0..N {
                    cov[i][j] = theta[i] * theta[j] * col[i];
                }
            }
            _ => covariance = None,
        }
    }
    Optimum {
        theta,
        covariance,
        n_iter,
    }
}

/// `ψ′(x)`, the trigamma function, for `x > 0`: the recurrence
/// `ψ′(x) = ψ′(x + 1) + 1/x²` up to `x ≥ 10`, then the asymptotic series
/// (absolute error below 1e-15 there). statrs has no trigamma.
pub(crate) fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    // 1/x + 1/(2x²) + Σ B₂ₖ / x^(2k+1), Bernoulli numbers B₂ … B₁₂.
    let series = z
        * (1.0 / 6.0
            - z * (1.0 / 30.0
                - z * (1.0 / 42.0 - z * (1.0 / 30.0 - z * (5.0 / 66.0 - z * 691.0 / 2730.0)))));
    acc + 1.0 / x + 0.5 * z + series / x
}

/// Logistic function without overflow.
pub(crate) fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eᵗ)` without overflow.
pub(crate) fn softplus(eta: f64) -> f64 {
    if eta > 0.0 {
        eta + (-eta).exp().ln_1p()
    } else {
        eta.exp().ln_1p()
    }
}

/// The builder, check and getters of a model fitted by [`minimise`], whose
/// only settings are the solver's (`l2`, `max_iter`, `tol`; defaults 0, 100,
/// 1e-10). Both structs are declared by the model, with their docs.
macro_rules! newton_params {
    ($params:ident, $valid:ident) => {
        impl Default for $params {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $params {
            pub fn new() -> Self {
                Self($valid {
                    l2: 0.0,
                    max_iter: 100,
                    tol: 1e-10,
                })
            }

            pub fn l2(mut self, l2: f64) -> Self {
                self.0.l2 = l2;
                self
            }

            pub fn max_iter(mut self, max_iter: usize) -> Self {
                self.0.max_iter = max_iter;
                self
            }

            pub fn tol(mut self, tol: f64) -> Self {
                self.0.tol = tol;
                self
            }
        }

        impl tenure_core::ParamGuard for $params {
            type Checked = $valid;
            type Error = $crate::StatsError;

            fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
                let p = &self.0;
                $crate::check_solver(p.l2, p.max_iter, p.tol)?;
                Ok(p)
            }

            fn check(self) -> Result<Self::Checked, Self::Error> {
                self.check_ref()?;
                Ok(self.0)
            }
        }

        impl $valid {
            pub fn l2(&self) -> f64 {
                self.l2
            }

            pub fn max_iter(&self) -> usize {
                self.max_iter
            }

            pub fn tol(&self) -> f64 {
                self.tol
            }
        }
    };
}
pub(crate) use newton_params;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_matches_known_values() {
        // ψ′(1) = π²/6, ψ′(1/2) = π²/2, ψ′(x) − ψ′(x + 1) = 1/x².
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-14);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-13);
        for x in [0.01, 0.3, 2.5, 9.9, 40.0, 1e4] {
            let diff = trigamma(x) - trigamma(x + 1.0);
            assert!((diff - 1.0 / (x * x)).abs() <= 1e-12 * (1.0 / (x * x)).max(1.0));
        }
    }

    /// A smooth convex bowl in ln θ with its minimum at θ = (2, 0.1).
    struct Bowl;

    impl Objective<2> for Bowl {
        fn value(&self, t: &[f64; 2]) -> f64 {
            (t[0] / 2.0).ln().powi(2) + (t[1] / 0.1).ln().powi(4) + t[0] / 2.0
        }

        fn derivatives(&self, t: &[f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]) {
            let (a, b) = ((t[0] / 2.0).ln(), (t[1] / 0.1).ln());
            let g = [2.0 * a / t[0] + 0.5, 4.0 * b.powi(3) / t[1]];
            let h00 = (2.0 - 2.0 * a) / (t[0] * t[0]);
            let h11 = (12.0 * b * b - 4.0 * b.powi(3)) / (t[1] * t[1]);
            (self.value(t), g, [[h00, 0.0], [0.0, h11]])
        }
    }

    #[test]
    fn newton_on_logs_finds_an_interior_minimum() {
        let opt = minimise("bowl", &Bowl, [1.0, 1.0], 200, 1e-10).unwrap();
        // d/dθ₀: 2 ln(θ₀/2)/θ₀ + 1/2 = 0 has its root below 2.
        let g0 = 2.0 * (opt.theta[0] / 2.0).ln() / opt.theta[0] + 0.5;
        assert!(g0.abs() < 1e-9, "{opt:?}");
        assert!((opt.theta[1] - 0.1).abs() < 1e-2, "{opt:?}");
    }
}

//! The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005,
//! "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
//! Model", Marketing Science 24(2)).
//!
//! While alive, a customer buys as a Poisson process with rate `λ ~
//! Gamma(r, α)`; after each purchase she drops out for good with probability
//! `p ~ Beta(a, b)`. The data per customer are the number of repeat purchases
//! `x`, the time of the last one `t_x` and the age `T` (first purchase to the
//! end of calibration), all in one time unit.

use serde::{Deserialize, Serialize};
use statrs::function::gamma::{digamma, ln_gamma};
use tenure_core::CoreError;

use crate::error::{StatsError, cannot_fit, row_number};
use crate::mle::{Objective, Penalised, minimise, sigmoid, softplus, trigamma};

const MODEL: &str = "BG/NBD";

/// Hyperparameters of [`BgNbd`], as the user fills them.
///
/// | parameter | default | meaning |
/// |---|---|---|
/// | `l2` | 0 | penalty `l2 · (r² + α² + a² + b²)` on the MEAN negative log-likelihood: lifetimes' `penalizer_coef` |
/// | `max_iter` | 100 | Newton steps at most |
/// | `tol` | 1e-10 | converged once no `ln θ` moves by more than `tol` in a step |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BgNbdParams(BgNbdValidParams);

/// Checked hyperparameters of [`BgNbd`]; only [`BgNbdParams::check`] makes
/// them, and [`BgNbdValidParams::fit`] fits the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BgNbdValidParams {
    l2: f64,
    max_iter: usize,
    tol: f64,
}

crate::mle::newton_params!(BgNbdParams, BgNbdValidParams);

impl BgNbdValidParams {
    /// Maximum-likelihood fit on one RFM summary: `frequency` = repeat
    /// purchases `x` (whole numbers), `recency` = `t_x`, `t` = `T`, one entry
    /// per customer, all times in the same unit.
    ///
    /// Newton's method on `ln(r, α, a, b)` from all ones (lifetimes' start),
    /// with the analytic gradient and Hessian of paper eq. 6; customers with
    /// identical `(x, t_x, T)` are merged into one weighted row first.
    ///
    /// Where the likelihood has no interior maximum the fit either fails
    /// after `max_iter` steps with an error suggesting `l2 > 0` (a parameter
    /// running off to 0 or ∞, as with almost no repeat purchases), or, when
    /// the likelihood flattens out along a ridge (typically `a` and `b`
    /// growing together: the same drop-out probability for everyone), stops
    /// there with very large but finite values and
    /// [`BgNbd::standard_errors`] `None`. Small samples call for `l2 > 0`.
    pub fn fit(&self, frequency: &[f64], recency: &[f64], t: &[f64]) -> Result<BgNbd, StatsError> {
        let data = Summary::new(frequency, recency, t)?;
        let n = frequency.len() as f64;
        let objective = Penalised {
            inner: &data,
            weight: n * self.l2,
        };
        let opt = minimise(MODEL, &objective, [1.0; 4], self.max_iter, self.tol)?;
        let [r, alpha, a, b] = opt.theta;
        let log_likelihood = -data.value(&opt.theta);
        if !log_likelihood.is_finite() {
            return Err(cannot_fit(
                MODEL,
                "the log-likelihood at the optimum is not finite",
            ));
        }
        Ok(BgNbd {
            r,
            alpha,
            a,
            b,
            log_likelihood,
            covariance: opt.covariance,
            n_customers: frequency.len(),
            n_iter: opt.n_iter,
        })
    }
}

/// A fitted BG/NBD model.
///
/// ```
/// use tenure_core::ParamGuard;
/// use tenure_stats::{BgNbdParams, GammaGammaParams, customer_lifetime_value};
///
/// // Per customer, in weeks: repeat purchases, first-to-last purchase, age;
/// // and the mean spend per repeat purchase.
/// let x = [0., 1., 3., 0., 2., 5., 1., 0., 4., 2., 0., 6.];
/// let t_x = [0., 10., 30., 0., 20., 35., 3., 0., 12., 38., 0., 30.];
/// let t = [39., 39., 38., 20., 39., 36., 30., 10., 39., 39., 25., 31.];
/// let m = [0., 20., 35., 0., 15., 40., 22., 0., 18., 25., 0., 30.];
///
/// // With so few customers a small penalty keeps the estimates finite.
/// let bg = BgNbdParams::new().l2(0.001).check()?.fit(&x, &t_x, &t)?;
/// // Four purchases, the last 27 weeks ago: likely gone; the last a week ago: likely not.
/// assert!(bg.probability_alive(4.0, 12.0, 39.0)? < bg.probability_alive(4.0, 38.0, 39.0)?);
/// let next_year = bg.expected_purchases(52.0, 2.0, 38.0, 39.0)?;
///
/// let gg = GammaGammaParams::new().l2(0.01).check()?.fit(&x, &m)?;
/// let clv = customer_lifetime_value(&bg, &gg, 2.0, 38.0, 39.0, 25.0, 12, 0.01, 7.0)?;
/// assert!(next_year > 0.0 && clv > 0.0);
/// # Ok::<(), tenure_stats::StatsError>(())
/// ```
///
/// The parameters are public so that a model with published or externally
/// fitted values can be made from a fitted one; the fit statistics
/// (log-likelihood, covariance) then still describe the fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale (in the time unit of the data) of the gamma distribution of purchase rates.
    pub alpha: f64,
    /// First shape of the beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the beta distribution of drop-out probabilities.
    pub b: f64,
    log_likelihood: f64,
    covariance: Option<[[f64; 4]; 4]>,
    n_customers: usize,
    n_iter: usize,
}

impl BgNbd {
    /// The full log-likelihood `Σᵢ ln L(r, α, a, b | xᵢ, t_xᵢ, Tᵢ)` of paper
    /// eq. 6 at the fitted parameters, summed (not averaged) over customers
    /// and without the penalty.
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// Asymptotic standard errors of `[r, α, a, b]`: square roots of the
    /// diagonal of the inverse observed information (the analytic Hessian of
    /// the penalised negative log-likelihood at the optimum, in `ln θ`, mapped
    /// back by the delta method; lifetimes' `standard_errors_`). `None` when
    /// the Hessian is not positive definite.
    pub fn standard_errors(&self) -> Option<[f64; 4]> {
        self.covariance
            .map(|c| std::array::from_fn(|j| c[j][j].sqrt()))
    }

    /// The covariance matrix of `[r, α, a, b]` behind [`standard_errors`](Self::standard_errors).
    pub fn covariance(&self) -> Option<[[f64; 4]; 4]> {
        self.covariance
    }

    pub fn n_customers(&self) -> usize {
        self.n_customers
    }

    /// Newton steps taken by the fit.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// `E[X(t) | x, t_x, T]`: expected repeat purchases in the next
    /// `t_future` time units of a customer with history `(x, t_x, T)`, paper
    /// eq. 10.
    ///
    /// The Gauss hypergeometric function there is evaluated after Euler's
    /// transformation `₂F₁(A, B; C; z) = (1 − z)^(C−A−B) ₂F₁(C−A, C−B; C; z)`
    /// (lifetimes' fallback), which here turns `((α+T)/(α+T+t))^(r+x) ₂F₁(r+x,
    /// b+x; a+b+x−1; z)` into `(1 − z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z)`:
    /// series coefficients that stay small whatever `x`, so no overflow for
    /// heavy buyers and fast convergence for long horizons. When `a` or `b` is
    /// large (the drop-out probability nearly the same for everyone) those
    /// coefficients grow and cancel instead, and the printed series, whose
    /// terms are all positive, is summed. Needs `a ≠ 1` and `a + b + x − 1`
    /// not a pole (0, −1, …); the series converge for `z = t/(α+T+t) < 1`, and
    /// the evaluation gives up (an error) for horizons beyond about 10⁵ times
    /// the customer's age.
    pub fn expected_purchases(
        &self,
        t_future: f64,
        frequency: f64,
        recency: f64,
        t: f64,
    ) -> Result<f64, StatsError> {
        check_history(frequency, recency, t).map_err(|e| invalid_input(&e))?;
        check_horizon(t_future)?;
        let x = frequency;
        let unconditional = self.growth(t_future, x, self.alpha + t)?;
        let odds_dead = if x > 0.0 {
            self.log_odds_dead(x, recency, t).exp()
        } else {
            0.0
        };
        Ok(unconditional / (1.0 + odds_dead))
    }

    /// `P(alive | x, t_x, T)` (Hardie's note 021): 1 for a customer without
    /// repeat purchases, since in the BG/NBD model drop-out happens only right
    /// after a purchase.
    pub fn probability_alive(
        &self,
        frequency: f64,
        recency: f64,
        t: f64,
    ) -> Result<f64, StatsError> {
        check_history(frequency, recency, t).map_err(|e| invalid_input(&e))?;
        if frequency == 0.0 {
            return Ok(1.0);
        }
        Ok(sigmoid(-self.log_odds_dead(frequency, recency, t)))
    }

    /// `E[X(t)]`: expected repeat purchases within `t` of the first purchase
    /// for a new customer, paper eq. 9.
    pub fn expected_purchases_new_customer(&self, t: f64) -> Result<f64, StatsError> {
        check_horizon(t)?;
        self.growth(t, 0.0, self.alpha)
    }

    /// `ln[a/(b+x−1)] + (r+x) ln[(α+T)/(α+t_x)]`: the log odds that a customer
    /// with `x > 0` repeat purchases has dropped out.
    fn log_odds_dead(&self, x: f64, t_x: f64, t: f64) -> f64 {
        (self.a / (self.b + x - 1.0)).ln()
            + (self.r + x) * ((self.alpha + t) / (self.alpha + t_x)).ln()
    }

    /// `(a+b+x−1)/(a−1) · [1 − (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z)]`
    /// with `z = t/(scale + t)`: eq. 10's numerator (`scale = α + T`) and
    /// eq. 9 (`x = 0`, `scale = α`).
    fn growth(&self, t: f64, x: f64, scale: f64) -> Result<f64, StatsError> {
        let (r, a, b) = (self.r, self.a, self.b);
        if t == 0.0 {
            return Ok(0.0);
        }
        let c = a + b + x - 1.0;
        if c <= 0.0 && c.fract() == 0.0 {
            return Err(cannot_predict(format!(
                "a + b + x - 1 = {c} is a pole of the hypergeometric function"
            )));
        }
        if a == 1.0 {
            return Err(cannot_predict(
                "a = 1 exactly: eq. 10 is 0/0 there".to_string(),
            ));
        }
        let z = t / (scale + t);
        let euler = hyp2f1_tail(a + b - 1.0 - r, a - 1.0, c, z);
        // The Euler series has small coefficients unless a or b is large
        // (a nearly degenerate beta distribution): its terms then grow huge
        // and cancel, and the printed series, all of whose terms are positive
        // when c > 0, is the accurate one.
        let euler_accurate =
            matches!(&euler, Ok(s) if s.largest <= 1e6 * (1.0 + s.tail).abs().max(1.0));
        let bracket = if euler_accurate || c <= 0.0 {
            let tail = euler?.tail;
            if tail > -1.0 {
                // 1 − exp(u) as −expm1(u): exact for short horizons, where the
                // two terms of the bracket nearly cancel.
                -((a - 1.0) * (-z).ln_1p() + tail.ln_1p()).exp_m1()
            } else {
                // ₂F₁ ≤ 0 happens only for c < 0, far from that cancellation.
                1.0 - (1.0 - z).powf(a - 1.0) * (1.0 + tail)
            }
        } else {
            let tail = hyp2f1_tail(r + x, b + x, c, z)?.tail;
            -((r + x) * (-z).ln_1p() + tail.ln_1p()).exp_m1()
        };
        let value = c / (a - 1.0) * bracket;
        if !value.is_finite() {
            return Err(cannot_predict(format!(
                "the expectation is not finite at t = {t}"
            )));
        }
        Ok(value)
    }
}

/// A partial sum of the hypergeometric series.
struct Series {
    /// `₂F₁ − 1`; NaN when a term overflowed.
    tail: f64,
    /// The largest term in absolute value: a measure of cancellation.
    largest: f64,
}

/// `₂F₁(A, B; C; z) − 1` by its power series, for `0 ≤ z < 1` and `C` not a
/// pole.
///
/// Stops once the next terms cannot change the sum: after the ratio of
/// consecutive terms has fallen below 1, the remainder is at most
/// `|term| · q/(1 − q)` with `q` the larger of the current ratio and `z` (the
/// ratio tends to `z`). Stops at once, with a NaN sum, if a term overflows.
fn hyp2f1_tail(a: f64, b: f64, c: f64, z: f64) -> Result<Series, StatsError> {
    const MAX_TERMS: usize = 2_000_000;
    let mut term = 1.0f64;
    let mut sum = 0.0;
    let mut largest = 1.0f64;
    for k in 0..MAX_TERMS {
        let kf = k as f64;
        let ratio = (a + kf) * (b + kf) / ((c + kf) * (kf + 1.0)) * z;
        term *= ratio;
        sum += term;
        largest = largest.max(term.abs());
        if !term.is_finite() {
            return Ok(Series {
                tail: f64::NAN,
                largest: f64::INFINITY,
            });
        }
        let q = ratio.abs().max(z);
        let negligible = 1e-17 * (1.0 + sum).abs().max(f64::MIN_POSITIVE);
        if term == 0.0 || (q < 1.0 && term.abs() * q / (1.0 - q) <= negligible) {
            return Ok(Series { tail: sum, largest });
        }
    }
    Err(cannot_predict(format!(
        "the hypergeometric series did not converge in {MAX_TERMS} terms at z = {z}: \
         the horizon is too long relative to α + T"
    )))
}

fn check_horizon(t: f64) -> Result<(), StatsError> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(invalid_input(&format!(
            "the horizon {t} is not a finite non-negative number"
        )));
    }
    Ok(())
}

fn invalid_input(reason: &str) -> StatsError {
    CoreError::Shape(format!("{MODEL}: {reason}")).into()
}

fn cannot_predict(reason: String) -> StatsError {
    cannot_fit(MODEL, reason)
}

/// Why `(x, t_x, T)` is not a valid customer history, if it is not.
pub(crate) fn check_history(x: f64, t_x: f64, t: f64) -> Result<(), String> {
    if !x.is_finite() || x < 0.0 || x.fract() != 0.0 {
        return Err(format!("frequency {x} is not a whole number >= 0"));
    }
    if !t.is_finite() || t <= 0.0 {
        return Err(format!("T {t} is not a finite number > 0"));
    }
    if !t_x.is_finite() || t_x < 0.0 {
        return Err(format!("recency {t_x} is not a finite number >= 0"));
    }
    if t_x > t {
        return Err(format!("recency {t_x} > T {t}"));
    }
    if x == 0.0 && t_x != 0.0 {
        return Err(format!(
            "recency {t_x} is not 0 although frequency is 0 (no repeat purchase)"
        ));
    }
    Ok(())
}

/// The RFM summary with identical customers merged into weighted rows, and the
/// distinct frequencies (the gamma-function terms depend on `x` only).
struct Summary {
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    weight: Vec<f64>,
    distinct_x: Vec<f64>,
    /// Total weight of the rows with each distinct `x`.
    weight_x: Vec<f64>,
    n: f64,
}

impl Summary {
    fn new(frequency: &[f64], recency: &[f64], t: &[f64]) -> Result<Self, StatsError> {
        let n = frequency.len();
        if recency.len() != n || t.len() != n {
            return Err(CoreError::Shape(format!(
                "{MODEL}: frequency, recency and T have {n}, {} and {} entries",
                recency.len(),
                t.len()
            ))
            .into());
        }
        if n == 0 {
            return Err(cannot_fit(MODEL, "no customers"));
        }
        for i in 0..n {
            check_history(frequency[i], recency[i], t[i])
                .map_err(|e| cannot_fit(MODEL, format!("{e} at row {}", row_number(i))))?;
        }
        let mut rows: Vec<(u64, u64, u64)> = (0..n)
            .map(|i| (frequency[i].to_bits(), recency[i].to_bits(), t[i].to_bits()))
            .collect();
        // Non-negative floats order like their bit patterns.
        rows.sort_unstable();
        let mut s = Summary {
            x: Vec::new(),
            t_x: Vec::new(),
            t: Vec::new(),
            weight: Vec::new(),
            distinct_x: Vec::new(),
            weight_x: Vec::new(),
            n: n as f64,
        };
        for (k, row) in rows.iter().enumerate() {
            if k > 0 && rows[k - 1] == *row {
                *s.weight.last_mut().expect("a previous row") += 1.0;
            } else {
                s.x.push(f64::from_bits(row.0));
                s.t_x.push(f64::from_bits(row.1));
                s.t.push(f64::from_bits(row.2));
                s.weight.push(1.0);
            }
            let x = f64::from_bits(row.0);
            if s.distinct_x.last() == Some(&x) {
                *s.weight_x.last_mut().expect("a previous x") += 1.0;
            } else {
                s.distinct_x.push(x);
                s.weight_x.push(1.0);
            }
        }
        Ok(s)
    }
}

impl Objective<4> for Summary {
    /// `−Σ ln L`, paper eq. 6, written as `G(x) + r ln α − (r+x) ln(α+T) +
    /// [x > 0] softplus(D)` with `G` the gamma-function terms and `D` the log
    /// odds of having dropped out (`ln a − ln(b+x−1) − (r+x) ln[(α+t_x)/(α+T)]`).
    fn value(&self, theta: &[f64; 4]) -> f64 {
        let [r, alpha, a, b] = *theta;
        let base = ln_gamma(r) - ln_gamma(a + b) + ln_gamma(b);
        let mut ll = 0.0;
        for (&x, &w) in self.distinct_x.iter().zip(&self.weight_x) {
            if x > 0.0 {
                let g = ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x) - base;
                ll += w * g;
            }
        }
        ll += self.n * r * alpha.ln();
        let ln_a = a.ln();
        for i in 0..self.x.len() {
            let (x, w) = (self.x[i], self.weight[i]);
            let ln_t = (alpha + self.t[i]).ln();
            let mut row = -(r + x) * ln_t;
            if x > 0.0 {
                let d = ln_a - (b + x - 1.0).ln() - (r + x) * ((alpha + self.t_x[i]).ln() - ln_t);
                row += softplus(d);
            }
            ll += w * row;
        }
        -ll
    }

    fn derivatives(&self, theta: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let [r, alpha, a, b] = *theta;
        let mut g = [0.0; 4];
        let mut h = [[0.0; 4]; 4];
        // Gamma-function terms, per distinct x.
        let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
        let (tg_r, tg_ab, tg_b) = (trigamma(r), trigamma(a + b), trigamma(b));
        for (&x, &w) in self.distinct_x.iter().zip(&self.weight_x) {
            if x == 0.0 {
                continue;
            }
            let dabx = digamma(a + b + x);
            let tabx = trigamma(a + b + x);
            g[0] += w * (digamma(r + x) - dg_r);
            g[2] += w * (dg_ab - dabx);
            g[3] += w * (dg_ab + digamma(b + x) - dg_b - dabx);
            h[0][0] += w * (trigamma(r + x) - tg_r);
            h[2][2] += w * (tg_ab - tabx);
            h[2][3] += w * (tg_ab - tabx);
            h[3][3] += w * (tg_ab + trigamma(b + x) - tg_b - tabx);
        }
        g[0] += self.n * alpha.ln();
        g[1] += self.n * r / alpha;
        h[0][1] += self.n / alpha;
        h[1][1] -= self.n * r / (alpha * alpha);
        let ln_a = a.ln();
        for i in 0..self.x.len() {
            let (x, w) = (self.x[i], self.weight[i]);
            let at = alpha + self.t[i];
            let ln_t = at.ln();
            let inv_t = 1.0 / at;
            g[0] -= w * ln_t;
            g[1] -= w * (r + x) * inv_t;
            h[0][1] -= w * inv_t;
            h[1][1] += w * (r + x) * inv_t * inv_t;
            if x == 0.0 {
                continue;
            }
            let atx = alpha + self.t_x[i];
            let inv_tx = 1.0 / atx;
            let bx = 1.0 / (b + x - 1.0);
            let d_r = ln_t - atx.ln();
            let d = ln_a + bx.ln() + (r + x) * d_r;
            let (p, dp) = {
                let p = sigmoid(d);
                (p, p * (1.0 - p))
            };
            // ∇D and the non-zero entries of ∇²D.
            let d_alpha = -(r + x) * (inv_tx - inv_t);
            let grad_d = [d_r, d_alpha, 1.0 / a, -bx];
            let d_r_alpha = -(inv_tx - inv_t);
            let d_alpha_alpha = (r + x) * (inv_tx * inv_tx - inv_t * inv_t);
            for j in 0..4 {
                g[j] += w * p * grad_d[j];
                for k in j..4 {
                    h[j][k] += w * dp * grad_d[j] * grad_d[k];
                }
            }
            h[0][1] += w * p * d_r_alpha;
            h[1][1] += w * p * d_alpha_alpha;
            h[2][2] -= w * p / (a * a);
            h[3][3] += w * p * bx * bx;
        }
        let mut neg_h = [[0.0; 4]; 4];
        for j in 0..4 {
            for k in j..4 {
                neg_h[j][k] = -h[j][k];
                neg_h[k][j] = -h[j][k];
            }
        }
        (self.value(theta), g.map(|v| -v), neg_h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        let x = [0.0, 1.0, 2.0, 2.0, 5.0, 0.0, 3.0, 1.0];
        let tx = [0.0, 3.0, 10.0, 10.0, 30.0, 0.0, 12.5, 38.0];
        let t = [39.0, 20.0, 39.0, 39.0, 35.0, 39.0, 14.0, 38.0];
        Summary::new(&x, &tx, &t).unwrap()
    }

    #[test]
    fn analytic_derivatives_match_finite_differences() {
        let s = summary();
        let theta = [0.7, 3.0, 0.8, 2.5];
        let (f, g, h) = s.derivatives(&theta);
        assert!((f - s.value(&theta)).abs() < 1e-12);
        for j in 0..4 {
            let step = 1e-6 * theta[j];
            let mut up = theta;
            let mut down = theta;
            up[j] += step;
            down[j] -= step;
            let fd = (s.value(&up) - s.value(&down)) / (2.0 * step);
            assert!(
                (fd - g[j]).abs() < 1e-6 * g[j].abs().max(1.0),
                "g[{j}]: {fd} vs {}",
                g[j]
            );
            let (_, g_up, _) = s.derivatives(&up);
            let (_, g_down, _) = s.derivatives(&down);
            for k in 0..4 {
                let fd = (g_up[k] - g_down[k]) / (2.0 * step);
                assert!(
                    (fd - h[k][j]).abs() < 1e-5 * h[k][j].abs().max(1.0),
                    "h[{k}][{j}]: {fd} vs {}",
                    h[k][j]
                );
            }
        }
    }

    #[test]
    fn merging_duplicates_keeps_the_likelihood() {
        let s = summary();
        assert_eq!(s.x.len(), 6); // (0, 0, 39) twice, (2, 10, 39) twice
        let theta = [0.5, 2.0, 1.3, 0.9];
        let direct: f64 = (0..8)
            .map(|i| {
                let one = Summary::new(
                    &[[0.0, 1.0, 2.0, 2.0, 5.0, 0.0, 3.0, 1.0][i]],
                    &[[0.0, 3.0, 10.0, 10.0, 30.0, 0.0, 12.5, 38.0][i]],
                    &[[39.0, 20.0, 39.0, 39.0, 35.0, 39.0, 14.0, 38.0][i]],
                )
                .unwrap();
                one.value(&theta)
            })
            .sum();
        assert!((direct - s.value(&theta)).abs() < 1e-10 * direct.abs());
    }

    #[test]
    fn series_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z; ₂F₁(a, b; b; z) = (1 − z)^(−a).
        for z in [0.0f64, 0.1, 0.5, 0.9, 0.999] {
            let want = if z == 0.0 { 1.0 } else { -(-z).ln_1p() / z };
            let got = 1.0 + hyp2f1_tail(1.0, 1.0, 2.0, z).unwrap().tail;
            assert!((got - want).abs() < 1e-13 * want, "{z}: {got} vs {want}");
            let want = (1.0 - z).powf(-0.3);
            let got = 1.0 + hyp2f1_tail(0.3, 2.5, 2.5, z).unwrap().tail;
            assert!((got - want).abs() < 1e-12 * want, "{z}: {got} vs {want}");
        }
    }
}

//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005,
//! "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR
//! 42(4); Hardie's note 025), and the customer lifetime value it gives with a
//! BG/NBD model.
//!
//! A customer's transaction values are Gamma(p, ν) around her mean `p/ν`, and
//! `ν ~ Gamma(q, γ)` across customers. Only the average value `m` of her `x`
//! repeat transactions is modelled; the model assumes spend independent of
//! the purchase process (check the correlation of frequency and monetary value
//! before relying on it).

use serde::{Deserialize, Serialize};
use statrs::function::gamma::{digamma, ln_gamma};
use tenure_core::CoreError;

use crate::bgnbd::BgNbd;
use crate::error::{StatsError, cannot_fit, row_number};
use crate::mle::{Objective, Penalised, minimise, trigamma};

const MODEL: &str = "Gamma-Gamma";

/// Hyperparameters of [`GammaGamma`], as the user fills them.
///
/// | parameter | default | meaning |
/// |---|---|---|
/// | `l2` | 0 | penalty `l2 · (p² + q² + γ²)` on the MEAN negative log-likelihood: lifetimes' `penalizer_coef` |
/// | `max_iter` | 100 | Newton steps at most |
/// | `tol` | 1e-10 | converged once no `ln θ` moves by more than `tol` in a step |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GammaGammaParams(GammaGammaValidParams);

/// Checked hyperparameters of [`GammaGamma`]; only
/// [`GammaGammaParams::check`] makes them, and
/// [`GammaGammaValidParams::fit`] fits the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GammaGammaValidParams {
    l2: f64,
    max_iter: usize,
    tol: f64,
}

crate::mle::newton_params!(GammaGammaParams, GammaGammaValidParams);

impl GammaGammaValidParams {
    /// Maximum-likelihood fit on an RFM summary: `frequency` = repeat
    /// purchases `x`, `monetary_value` = mean spend `m` per repeat purchase.
    ///
    /// Only customers with `x > 0` carry information on spend and are used
    /// (their `m` must be > 0); the others are checked for finiteness and
    /// skipped, so a whole summary can be passed. Newton's method on
    /// `ln(p, q, γ)` from all ones with the analytic gradient and Hessian.
    pub fn fit(&self, frequency: &[f64], monetary_value: &[f64]) -> Result<GammaGamma, StatsError> {
        let n = frequency.len();
        if monetary_value.len() != n {
            return Err(CoreError::Shape(format!(
                "{MODEL}: frequency and monetary_value have {n} and {} entries",
                monetary_value.len()
            ))
            .into());
        }
        let mut data = Spend {
            x: Vec::new(),
            m: Vec::new(),
        };
        for (i, (&x, &m)) in frequency.iter().zip(monetary_value).enumerate() {
            if !(x.is_finite() && x >= 0.0) {
                return Err(cannot_fit(
                    MODEL,
                    format!(
                        "frequency {x} at row {} is not a finite number >= 0",
                        row_number(i)
                    ),
                ));
            }
            if !m.is_finite() {
                return Err(cannot_fit(
                    MODEL,
                    format!("monetary_value {m} at row {} is not finite", row_number(i)),
                ));
            }
            if x > 0.0 {
                if m <= 0.0 {
                    return Err(cannot_fit(
                        MODEL,
                        format!(
                            "monetary_value {m} at row {} is not > 0 for a customer with \
                             repeat purchases (the spend model is for positive amounts)",
                            row_number(i)
                        ),
                    ));
                }
                data.x.push(x);
                data.m.push(m);
            }
        }
        if data.x.is_empty() {
            return Err(cannot_fit(
                MODEL,
                "no customer with a repeat purchase (frequency > 0)",
            ));
        }
        let objective = Penalised {
            inner: &data,
            weight: data.x.len() as f64 * self.l2,
        };
        let opt = minimise(MODEL, &objective, [1.0; 3], self.max_iter, self.tol)?;
        let [p, q, v] = opt.theta;
        let log_likelihood = -data.value(&opt.theta);
        if !log_likelihood.is_finite() {
            return Err(cannot_fit(
                MODEL,
                "the log-likelihood at the optimum is not finite",
            ));
        }
        Ok(GammaGamma {
            p,
            q,
            v,
            log_likelihood,
            covariance: opt.covariance,
            n_customers: data.x.len(),
            n_iter: opt.n_iter,
        })
    }
}

/// A fitted Gamma-Gamma spend model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    /// Shape of the per-transaction spend distribution.
    pub p: f64,
    /// Shape of the gamma distribution of the spend scale `ν` across customers.
    pub q: f64,
    /// Rate `γ` of the gamma distribution of `ν` (lifetimes calls it `v`).
    pub v: f64,
    log_likelihood: f64,
    covariance: Option<[[f64; 3]; 3]>,
    n_customers: usize,
    n_iter: usize,
}

impl GammaGamma {
    /// `Σ ln f(mᵢ | xᵢ; p, q, γ)` over the customers used (those with repeat
    /// purchases), lifetimes' form of the density of the mean spend, without
    /// the penalty.
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// Asymptotic standard errors of `[p, q, γ]`, as for
    /// [`BgNbd::standard_errors`]. `None` when the Hessian is not positive
    /// definite.
    pub fn standard_errors(&self) -> Option<[f64; 3]> {
        self.covariance
            .map(|c| std::array::from_fn(|j| c[j][j].sqrt()))
    }

    pub fn covariance(&self) -> Option<[[f64; 3]; 3]> {
        self.covariance
    }

    /// Customers the fit used: those with `frequency > 0`.
    pub fn n_customers(&self) -> usize {
        self.n_customers
    }

    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// `E[M | x, m]`, the expected spend per transaction of a customer with
    /// `x` repeat purchases of mean value `m`: a weighted average of `m` and
    /// the population mean `pγ/(q − 1)` with weight `px/(px + q − 1)` on `m`
    /// (lifetimes' `conditional_expected_average_profit`). With `x = 0`, `m`
    /// is ignored and the population mean returned. Needs `q > 1` (else the
    /// population mean is infinite).
    pub fn expected_average_spend(
        &self,
        frequency: f64,
        monetary_value: f64,
    ) -> Result<f64, StatsError> {
        if !(frequency.is_finite() && frequency >= 0.0 && monetary_value.is_finite()) {
            return Err(CoreError::Shape(format!(
                "{MODEL}: frequency {frequency} / monetary_value {monetary_value} are not a \
                 finite frequency >= 0 and a finite amount"
            ))
            .into());
        }
        if self.q <= 1.0 {
            return Err(cannot_fit(
                MODEL,
                format!("q = {} <= 1: the population mean spend is infinite", self.q),
            ));
        }
        let population_mean = self.p * self.v / (self.q - 1.0);
        if frequency == 0.0 {
            return Ok(population_mean);
        }
        let px = self.p * frequency;
        let weight = px / (px + self.q - 1.0);
        Ok((1.0 - weight) * population_mean + weight * monetary_value)
    }
}

/// Discounted expected spend of one customer over the next `months` months,
/// as lifetimes' `customer_lifetime_value`:
/// `Σₖ₌₁..months (E[X(k·u)] − E[X((k−1)·u)]) · E[M] / (1 + d)ᵏ` with `E[X]`
/// the BG/NBD conditional expectation (eq. 10), `E[M]` the Gamma-Gamma
/// expected spend, `d` the monthly discount rate and `u` the months' length
/// in model time units.
///
/// A month is 30 days: `u = 30 / time_unit_days` (`time_unit_days` = 1 for a
/// summary in days, 7 in weeks). lifetimes uses 30 days for `freq="D"` but
/// 4.345 weeks for `freq="W"`; pass `time_unit_days = 30 / 4.345` to
/// reproduce the latter.
#[allow(clippy::too_many_arguments)]
pub fn customer_lifetime_value(
    bgnbd: &BgNbd,
    gg: &GammaGamma,
    frequency: f64,
    recency: f64,
    t: f64,
    monetary_value: f64,
    months: usize,
    discount_rate_monthly: f64,
    time_unit_days: f64,
) -> Result<f64, StatsError> {
    if !(discount_rate_monthly.is_finite() && discount_rate_monthly > -1.0) {
        return Err(CoreError::Shape(format!(
            "customer lifetime value: the discount rate {discount_rate_monthly} is not a \
             finite number > -1"
        ))
        .into());
    }
    if !(time_unit_days.is_finite() && time_unit_days > 0.0) {
        return Err(CoreError::Shape(format!(
            "customer lifetime value: time_unit_days {time_unit_days} is not a finite number > 0"
        ))
        .into());
    }
    let spend = gg.expected_average_spend(frequency, monetary_value)?;
    let month = 30.0 / time_unit_days;
    let mut clv = 0.0;
    let mut previous = 0.0;
    for k in 1..=months {
        let cumulative = bgnbd.expected_purchases(k as f64 * month, frequency, recency, t)?;
        clv += (cumulative - previous) * spend / (1.0 + discount_rate_monthly).powi(k as i32);
        previous = cumulative;
    }
    Ok(clv)
}

/// The repeat customers' frequencies and mean spends.
struct Spend {
    x: Vec<f64>,
    m: Vec<f64>,
}

impl Objective<3> for Spend {
    /// `−Σ [lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m + px ln x
    /// − (px+q) ln(xm+γ)]`.
    fn value(&self, theta: &[f64; 3]) -> f64 {
        let [p, q, v] = *theta;
        let (lg_q, ln_v) = (ln_gamma(q), v.ln());
        let mut ll = 0.0;
        for (&x, &m) in self.x.iter().zip(&self.m) {
            let px = p * x;
            ll += ln_gamma(px + q) - ln_gamma(px) - lg_q
                + q * ln_v
                + (px - 1.0) * m.ln()
                + px * x.ln()
                - (px + q) * (x * m + v).ln();
        }
        -ll
    }

    fn derivatives(&self, theta: &[f64; 3]) -> (f64, [f64; 3], [[f64; 3]; 3]) {
        let [p, q, v] = *theta;
        let (dg_q, tg_q, ln_v) = (digamma(q), trigamma(q), v.ln());
        let mut g = [0.0; 3];
        let mut h = [[0.0; 3]; 3];
        for (&x, &m) in self.x.iter().zip(&self.m) {
            let px = p * x;
            let s = x * m + v;
            let (d_sum, t_sum) = (digamma(px + q), trigamma(px + q));
            g[0] += x * (d_sum - digamma(px) + m.ln() + x.ln() - s.ln());
            g[1] += d_sum - dg_q + ln_v - s.ln();
            g[2] += q / v - (px + q) / s;
            h[0][0] += x * x * (t_sum - trigamma(px));
            h[0][1] += x * t_sum;
            h[0][2] -= x / s;
            h[1][1] += t_sum - tg_q;
            h[1][2] += 1.0 / v - 1.0 / s;
            h[2][2] += -q / (v * v) + (px + q) / (s * s);
        }
        let mut neg_h = [[0.0; 3]; 3];
        for j in 0..3 {
            for k in j..3 {
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

    #[test]
    fn analytic_derivatives_match_finite_differences() {
        let s = Spend {
            x: vec![1.0, 2.0, 7.0, 3.0],
            m: vec![20.0, 35.5, 12.0, 80.0],
        };
        let theta = [4.0, 2.5, 10.0];
        let (f, g, h) = s.derivatives(&theta);
        assert!((f - s.value(&theta)).abs() < 1e-12);
        for j in 0..3 {
            let step = 1e-6 * theta[j];
            let mut up = theta;
            let mut down = theta;
            up[j] += step;
            down[j] -= step;
            let fd = (s.value(&up) - s.value(&down)) / (2.0 * step);
            assert!((fd - g[j]).abs() < 1e-6 * g[j].abs().max(1.0), "g[{j}]");
            let (_, g_up, _) = s.derivatives(&up);
            let (_, g_down, _) = s.derivatives(&down);
            for k in 0..3 {
                let fd = (g_up[k] - g_down[k]) / (2.0 * step);
                assert!(
                    (fd - h[k][j]).abs() < 1e-5 * h[k][j].abs().max(1.0),
                    "h[{k}][{j}]"
                );
            }
        }
    }
}

//! The Breslow estimator of the baseline cumulative hazard, for any model
//! that scores survival risk as a log hazard ratio: Cox regression, and
//! boosted or neural models trained on the Cox partial likelihood, which
//! give a risk score but no survival curve of their own.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::error::{StatsError, cannot_fit, row_number, row_weights};

const MODEL: &str = "Breslow baseline";

/// `H₀(t) = Σ_{tᵢ ≤ t} dᵢ / Σ_{j at risk at tᵢ} wⱼ exp(ηⱼ)` over the distinct
/// durations of one stratum's rows, sorted by time (`eta` the log hazard
/// ratios): `(times, cumulative hazard)`, a right-continuous step function.
pub(crate) fn steps(time: &[f64], event: &[bool], w: &[f64], eta: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=time.len() {
        if i == time.len() || time[i] != time[start] {
            groups.push((start, i));
            start = i;
        }
    }
    let mut increments = vec![0.0; groups.len()];
    let mut risk = 0.0;
    for (g, &(start, end)) in groups.iter().enumerate().rev() {
        let mut deaths = 0.0;
        for i in start..end {
            risk += w[i] * eta[i].exp();
            if event[i] {
                deaths += w[i];
            }
        }
        increments[g] = deaths / risk;
    }
    let mut times = Vec::with_capacity(groups.len());
    let mut cumulative = Vec::with_capacity(groups.len());
    let mut total = 0.0;
    for (&(start, _), inc) in groups.iter().zip(increments) {
        total += inc;
        times.push(time[start]);
        cumulative.push(total);
    }
    (times, cumulative)
}

/// A baseline cumulative hazard fitted to training durations and a model's
/// log hazard ratios on the same rows, giving survival curves
/// `S(t | x) = exp(−H₀(t) · exp(η(x)))` for new rows from their scores.
///
/// Adding a constant to every score rescales `H₀` and leaves `S` unchanged,
/// so the score needs no centring. On a Cox model's own log partial hazards
/// it is that model's Breslow baseline.
///
/// ```
/// use tenure_stats::BreslowBaseline;
///
/// let time = [2.0, 3.0, 3.0, 5.0, 8.0];
/// let event = [true, true, false, true, false];
/// let eta = [0.5, 0.0, -0.2, 0.1, -0.5];
/// let base = BreslowBaseline::fit(&time, &event, &eta, None).unwrap();
/// assert_eq!(base.survival(0.0, 1.0), 1.0);
/// assert!(base.survival(1.0, 4.0) < base.survival(0.0, 4.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreslowBaseline {
    times: Vec<f64>,
    cumulative_hazard: Vec<f64>,
}

impl BreslowBaseline {
    /// Fits `H₀` to durations, events and log hazard ratios (and optional
    /// case weights). Errors name the row (counting from 1): a duration
    /// that is not finite and non-negative, a non-finite score; and data
    /// without an event.
    pub fn fit(
        time: &[f64],
        event: &[bool],
        log_risk: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<Self, StatsError> {
        let n = time.len();
        if event.len() != n || log_risk.len() != n {
            return Err(tenure_core::CoreError::Shape(format!(
                "{MODEL}: {n} durations, {} events and {} scores",
                event.len(),
                log_risk.len()
            ))
            .into());
        }
        if let Some(i) = time.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(cannot_fit(
                MODEL,
                format!(
                    "duration {} at row {} is not a finite non-negative number",
                    time[i],
                    row_number(i)
                ),
            ));
        }
        if let Some(i) = log_risk.iter().position(|v| !v.is_finite()) {
            return Err(cannot_fit(
                MODEL,
                format!(
                    "score {} at row {} is not finite",
                    log_risk[i],
                    row_number(i)
                ),
            ));
        }
        let w = row_weights(MODEL, weights, n)?;
        if !event.iter().zip(&w).any(|(&e, &w)| e && w > 0.0) {
            return Err(cannot_fit(MODEL, "every row is censored"));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| time[a].partial_cmp(&time[b]).unwrap_or(Ordering::Equal));
        let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let sorted_event: Vec<bool> = order.iter().map(|&i| event[i]).collect();
        let (times, cumulative_hazard) =
            steps(&pick(time), &sorted_event, &pick(&w), &pick(log_risk));
        Ok(Self {
            times,
            cumulative_hazard,
        })
    }

    /// Distinct training durations and `H₀` there.
    pub fn cumulative_hazard(&self) -> (&[f64], &[f64]) {
        (&self.times, &self.cumulative_hazard)
    }

    /// `H₀(t)`: 0 before the first duration.
    pub fn cumulative_hazard_at(&self, t: f64) -> f64 {
        let k = self.times.partition_point(|&ti| ti <= t);
        if k == 0 {
            0.0
        } else {
            self.cumulative_hazard[k - 1]
        }
    }

    /// `S(t | x)` of a row with log hazard ratio `log_risk`.
    pub fn survival(&self, log_risk: f64, t: f64) -> f64 {
        (-self.cumulative_hazard_at(t) * log_risk.exp()).exp()
    }

    /// `out[k][i]` = `S(times[k] | row i)`, the layout of
    /// [`PredictSurvival`](tenure_core::PredictSurvival).
    pub fn survival_matrix(&self, log_risk: &[f64], times: &[f64]) -> Vec<Vec<f64>> {
        times
            .iter()
            .map(|&t| {
                let h = self.cumulative_hazard_at(t);
                log_risk.iter().map(|&eta| (-h * eta.exp()).exp()).collect()
            })
            .collect()
    }
}

//! The Kaplan–Meier estimator: the survival baseline without covariates.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use tenure_core::{CoreError, Dataset, Fit, Matrix, ParamGuard, Predict, PredictSurvival, Target};

use crate::cox::{chi2_sf, normal_quantile};
use crate::error::{StatsError, cannot_fit, check_width, row_number, row_weights};
use crate::linalg::cholesky_solve;

const MODEL: &str = "Kaplan-Meier";
/// How close to 0.5 the survival must come to count as reaching it in
/// [`KaplanMeier::median`]: products such as `3/4 · 2/3` round to either side
/// of 0.5, which would otherwise move the median by a whole step.
const MEDIAN_SLACK: f64 = 1e-12;

/// Hyperparameters of [`KaplanMeier`]: the horizon (days after the cutoff) at
/// which [`Predict`] reads the curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeierParams(KaplanMeierValidParams);

/// Checked [`KaplanMeierParams`]; implements [`Fit`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeierValidParams {
    horizon_days: f64,
}

impl KaplanMeierParams {
    pub fn new(horizon_days: f64) -> Self {
        Self(KaplanMeierValidParams { horizon_days })
    }
}

impl KaplanMeierValidParams {
    pub fn horizon_days(&self) -> f64 {
        self.horizon_days
    }
}

impl ParamGuard for KaplanMeierParams {
    type Checked = KaplanMeierValidParams;
    type Error = StatsError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        crate::check_horizon(self.0.horizon_days)?;
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted Kaplan–Meier survival curve `S(t) = Π_{tᵢ ≤ t} (1 − dᵢ / nᵢ)`.
///
/// Subjects censored at an event time count as at risk at that time (the
/// usual convention, and lifelines'). Dataset weights, when present, weight
/// the counts `dᵢ` and `nᵢ`.
///
/// As a [`Predict`] model it has no covariates: every row gets the same risk
/// score, the baseline probability of an event by the horizon,
/// `1 − S(horizon_days)`. It ranks nobody (a concordance of 0.5) and is the
/// reference the covariate models must beat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeier {
    times: Vec<f64>,
    survival: Vec<f64>,
    at_risk: Vec<f64>,
    events: Vec<f64>,
    horizon_days: f64,
    n_features: usize,
}

impl KaplanMeier {
    /// Distinct event times, increasing (censoring-only times are left out:
    /// the curve does not step there).
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// `S(t)` just after each of [`times`](Self::times).
    pub fn survival(&self) -> &[f64] {
        &self.survival
    }

    /// (Weighted) number at risk just before each event time.
    pub fn at_risk(&self) -> &[f64] {
        &self.at_risk
    }

    /// (Weighted) number of events at each event time.
    pub fn events(&self) -> &[f64] {
        &self.events
    }

    pub fn horizon_days(&self) -> f64 {
        self.horizon_days
    }

    /// The right-continuous step function: 1 before the first event time,
    /// then the value after the last event time `<= t`.
    pub fn survival_at(&self, t: f64) -> f64 {
        if t.is_nan() {
            return f64::NAN;
        }
        let steps = self.times.partition_point(|&ti| ti <= t);
        if steps == 0 {
            1.0
        } else {
            self.survival[steps - 1]
        }
    }

    /// The first event time at which `S(t) <= 0.5` (lifelines' definition);
    /// `None` when the curve stays above one half.
    pub fn median(&self) -> Option<f64> {
        self.survival
            .iter()
            .position(|&s| s <= 0.5 + MEDIAN_SLACK)
            .map(|k| self.times[k])
    }

    /// Greenwood's variance of `S` at each of [`times`](Self::times):
    /// `S² · Σ_{tᵢ ≤ t} dᵢ / (nᵢ (nᵢ − dᵢ))`, with a step where everyone at
    /// risk dies contributing 0 (lifelines' convention).
    pub fn greenwood_variance(&self) -> Vec<f64> {
        self.greenwood_sums()
            .iter()
            .zip(&self.survival)
            .map(|(c, s)| s * s * c)
            .collect()
    }

    /// Pointwise `1 − alpha` confidence intervals `(lower, upper)` of `S` at
    /// each of [`times`](Self::times), by the exponential Greenwood formula
    /// (Kalbfleisch–Prentice: symmetric on `log(−log S)`), as lifelines'
    /// `KaplanMeierFitter.confidence_interval_`: bounds
    /// `exp(−exp(log(−log S) ± z · √c / log S))` with `c` the Greenwood sum.
    /// Where `S = 0` both bounds are 0. With weights, lifelines truncates the
    /// numbers at risk to integers here; this does not.
    pub fn confidence_interval(&self, alpha: f64) -> Result<Vec<(f64, f64)>, StatsError> {
        let z = normal_quantile(alpha)?;
        Ok(self
            .greenwood_sums()
            .iter()
            .zip(&self.survival)
            .map(|(&c, &s)| {
                let v = s.ln();
                if s <= 0.0 {
                    return (0.0, 0.0);
                }
                if v == 0.0 {
                    return (1.0, 1.0);
                }
                let half = z * c.sqrt() / v;
                let lower = (-((-v).ln() - half).exp()).exp();
                let upper = (-((-v).ln() + half).exp()).exp();
                (lower, upper)
            })
            .collect())
    }

    fn greenwood_sums(&self) -> Vec<f64> {
        let mut sum = 0.0;
        self.at_risk
            .iter()
            .zip(&self.events)
            .map(|(&n, &d)| {
                if n > d {
                    sum += d / (n * (n - d));
                }
                sum
            })
            .collect()
    }

    /// The risk score [`Predict`] gives every row: `1 − S(horizon_days)`.
    pub fn risk(&self) -> f64 {
        1.0 - self.survival_at(self.horizon_days)
    }
}

impl Predict for KaplanMeier {
    type Error = StatsError;

    /// The same baseline risk `1 − S(horizon_days)` for every row: the
    /// features are only checked for width, never read.
    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, StatsError> {
        check_width(self.n_features, x.n_cols())?;
        Ok(vec![self.risk(); x.n_rows()])
    }
}

impl PredictSurvival for KaplanMeier {
    /// The curve at each time, the same for every row.
    fn predict_survival(&self, x: &Matrix, times: &[f64]) -> Result<Vec<Vec<f64>>, StatsError> {
        check_width(self.n_features, x.n_cols())?;
        Ok(times
            .iter()
            .map(|&t| vec![self.survival_at(t); x.n_rows()])
            .collect())
    }
}

impl Fit for KaplanMeierValidParams {
    type Model = KaplanMeier;
    type Error = StatsError;

    fn fit(&self, data: &Dataset) -> Result<KaplanMeier, StatsError> {
        let Target::Survival { time, event } = data.target() else {
            return Err(CoreError::WrongTarget {
                model: MODEL,
                expected: "survival",
                got: data.target().kind(),
            }
            .into());
        };
        if let Some(i) = time.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(cannot_fit(
                MODEL,
                format!(
                    "time {} at row {} is not a finite non-negative number of days",
                    time[i],
                    row_number(i)
                ),
            ));
        }
        if time.is_empty() {
            return Err(cannot_fit(MODEL, "the dataset has no rows"));
        }
        let w = row_weights(MODEL, data.weights(), time.len())?;
        let mut curve = estimate(time, event, &w);
        curve.horizon_days = self.horizon_days;
        curve.n_features = data.n_features();
        Ok(curve)
    }
}

/// The product-limit estimate; `O(n log n)` for the sort.
fn estimate(time: &[f64], event: &[bool], w: &[f64]) -> KaplanMeier {
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_unstable_by(|&a, &b| time[a].partial_cmp(&time[b]).unwrap_or(Ordering::Equal));
    // At risk at t = total weight exiting at t or later. Summing from the end
    // rather than subtracting from the total keeps weighted counts free of
    // accumulated cancellation.
    let mut groups: Vec<(f64, f64, f64)> = Vec::new(); // (time, events, exits)
    for &i in &order {
        let d = if event[i] { w[i] } else { 0.0 };
        match groups.last_mut() {
            Some(g) if g.0 == time[i] => {
                g.1 += d;
                g.2 += w[i];
            }
            _ => groups.push((time[i], d, w[i])),
        }
    }
    let mut at_risk_by_group = vec![0.0; groups.len()];
    let mut later = 0.0;
    for (k, g) in groups.iter().enumerate().rev() {
        later += g.2;
        at_risk_by_group[k] = later;
    }
    let mut curve = KaplanMeier {
        times: Vec::new(),
        survival: Vec::new(),
        at_risk: Vec::new(),
        events: Vec::new(),
        horizon_days: 0.0,
        n_features: 0,
    };
    let mut s = 1.0;
    for (&(t, d, _), &n) in groups.iter().zip(&at_risk_by_group) {
        if d > 0.0 {
            s *= 1.0 - d / n;
            curve.times.push(t);
            curve.survival.push(s);
            curve.at_risk.push(n);
            curve.events.push(d);
        }
    }
    curve
}

/// The outcome of [`log_rank_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogRankResult {
    /// χ² with `df` degrees of freedom when the groups share one survival curve.
    pub statistic: f64,
    /// Number of groups − 1.
    pub df: usize,
    pub p_value: f64,
}

/// The log-rank test that `k ≥ 2` groups share one survival curve, as
/// lifelines' `multivariate_logrank_test` (and `logrank_test` for two
/// groups): observed minus expected events per group, summed over the
/// distinct event times, against their hypergeometric covariance; the
/// statistic uses the first `k − 1` groups (by increasing label).
pub fn log_rank_test(
    times: &[f64],
    events: &[bool],
    groups: &[usize],
) -> Result<LogRankResult, StatsError> {
    const TEST: &str = "log-rank test";
    let n = times.len();
    if events.len() != n || groups.len() != n {
        return Err(CoreError::Shape(format!(
            "{n} times, {} events and {} group labels",
            events.len(),
            groups.len()
        ))
        .into());
    }
    if let Some(i) = times.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(cannot_fit(
            TEST,
            format!(
                "time {} at row {} is not a finite non-negative number",
                times[i],
                row_number(i)
            ),
        ));
    }
    let mut labels = groups.to_vec();
    labels.sort_unstable();
    labels.dedup();
    let k = labels.len();
    if k < 2 {
        return Err(cannot_fit(TEST, "it needs at least two groups"));
    }
    let group: Vec<usize> = groups
        .iter()
        .map(|g| labels.binary_search(g).unwrap_or(0))
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| times[a].partial_cmp(&times[b]).unwrap_or(Ordering::Equal));

    let mut at_risk = vec![0.0; k];
    for &g in &group {
        at_risk[g] += 1.0;
    }
    let mut observed_minus_expected = vec![0.0; k];
    let mut cov = vec![0.0; k * k];
    let mut deaths = vec![0.0; k];
    let mut leaving = vec![0.0; k];
    let mut start = 0;
    while start < n {
        let t = times[order[start]];
        let mut end = start;
        deaths.fill(0.0);
        leaving.fill(0.0);
        while end < n && times[order[end]] == t {
            let i = order[end];
            leaving[group[i]] += 1.0;
            if events[i] {
                deaths[group[i]] += 1.0;
            }
            end += 1;
        }
        let d: f64 = deaths.iter().sum();
        let total: f64 = at_risk.iter().sum();
        if d > 0.0 {
            let factor = if total > 1.0 {
                (total - d) / (total - 1.0) * d / (total * total)
            } else {
                d / (total * total)
            };
            for g in 0..k {
                observed_minus_expected[g] += deaths[g] - at_risk[g] * d / total;
                for h in 0..k {
                    let delta = if g == h { total } else { 0.0 };
                    cov[g * k + h] += factor * at_risk[g] * (delta - at_risk[h]);
                }
            }
        }
        for (r, l) in at_risk.iter_mut().zip(&leaving) {
            *r -= l;
        }
        start = end;
    }
    let m = k - 1;
    let v: Vec<f64> = (0..m)
        .flat_map(|a| (0..m).map(move |b| (a, b)))
        .map(|(a, b)| cov[a * k + b])
        .collect();
    let u = &observed_minus_expected[..m];
    let solved = cholesky_solve(&v, u).ok_or_else(|| {
        cannot_fit(
            TEST,
            "the covariance of observed minus expected events is singular \
             (a group without events, or groups never at risk together)",
        )
    })?;
    let statistic: f64 = u.iter().zip(&solved).map(|(a, b)| a * b).sum();
    Ok(LogRankResult {
        statistic,
        df: m,
        p_value: chi2_sf(statistic, m as f64),
    })
}

//! Time-dependent survival metrics with inverse-probability-of-censoring
//! weights (IPCW), as scikit-survival defines them: cumulative/dynamic AUC
//! and the Brier score. The censoring distribution `G` is the Kaplan–Meier
//! estimate from the training sample; the metrics are computed on the test
//! sample.
//!
//! Matrices are passed per time point: `scores[k][i]` belongs to test
//! subject `i` at `times[k]` (the transpose of sksurv's `(n, n_times)`).

use std::cmp::Ordering;

use crate::censoring::{
    StepCurve, censoring_from_train, check_per_subject, check_survival, check_times,
};
use crate::error::{MetricsError, check_probabilities, ensure};
use crate::survival::SKSURV_TIED_TOL;

/// Risk scores for [`cumulative_dynamic_auc`]: one score per subject used at
/// every time, or one score vector per time point (e.g. `1 - S(t | x)`).
#[derive(Debug, Clone, Copy)]
pub enum RiskScores<'a> {
    /// The same score at every time.
    Static(&'a [f64]),
    /// `PerTime(scores)[k][i]`: subject `i`'s score at `times[k]`.
    PerTime(&'a [Vec<f64>]),
}

impl<'a> From<&'a [f64]> for RiskScores<'a> {
    fn from(risk: &'a [f64]) -> Self {
        Self::Static(risk)
    }
}

impl<'a> From<&'a Vec<f64>> for RiskScores<'a> {
    fn from(risk: &'a Vec<f64>) -> Self {
        Self::Static(risk)
    }
}

impl<'a, const N: usize> From<&'a [f64; N]> for RiskScores<'a> {
    fn from(risk: &'a [f64; N]) -> Self {
        Self::Static(risk)
    }
}

impl<'a> From<&'a [Vec<f64>]> for RiskScores<'a> {
    fn from(risk: &'a [Vec<f64>]) -> Self {
        Self::PerTime(risk)
    }
}

impl<'a> From<&'a Vec<Vec<f64>>> for RiskScores<'a> {
    fn from(risk: &'a Vec<Vec<f64>>) -> Self {
        Self::PerTime(risk)
    }
}

/// Cumulative/dynamic AUC at each of `times`, and its mean weighted by the
/// drop of the test Kaplan–Meier survival curve over `times` (a single time
/// gives its AUC). Matches scikit-survival's `cumulative_dynamic_auc`.
///
/// At time `t`, cases are the test subjects with an event at or before `t`,
/// weighted by `1 / G(t_i)`; controls are those still event-free after `t`.
/// The AUC is the area under the weighted ROC curve, risks within
/// [`SKSURV_TIED_TOL`] of their neighbour in sorted order forming one
/// threshold.
///
/// `times` must be strictly increasing, within `[min, max)` of the test
/// times, and have a case each; test event times must lie within the
/// training follow-up.
pub fn cumulative_dynamic_auc<'a>(
    train_time: &[f64],
    train_event: &[bool],
    test_time: &[f64],
    test_event: &[bool],
    risk: impl Into<RiskScores<'a>>,
    times: &[f64],
) -> Result<(Vec<f64>, f64), MetricsError> {
    const METRIC: &str = "cumulative_dynamic_auc";
    let cens = censoring_from_train(METRIC, train_time, train_event, test_time, test_event)?;
    let n = test_time.len();
    ensure!(
        !times.is_empty(),
        MetricsError::TooFew {
            metric: METRIC,
            what: "time points",
            needed: 1,
            got: 0,
        }
    );
    check_times(times, test_time)?;
    let risk = risk.into();
    match risk {
        RiskScores::Static(r) => check_per_subject("risk", r, n)?,
        RiskScores::PerTime(rs) => {
            ensure!(
                rs.len() == times.len(),
                MetricsError::LengthMismatch {
                    left_name: "times",
                    left: times.len(),
                    right_name: "risk",
                    right: rs.len(),
                }
            );
            for r in rs {
                check_per_subject("risk", r, n)?;
            }
        }
    }
    let mut ipcw = vec![0.0; n];
    for i in (0..n).filter(|&i| test_event[i]) {
        ipcw[i] = cens.ipcw(test_time[i])?;
    }

    let mut auc = Vec::with_capacity(times.len());
    for (k, &t) in times.iter().enumerate() {
        let r = match risk {
            RiskScores::Static(r) => r,
            RiskScores::PerTime(rs) => &rs[k],
        };
        auc.push(auc_at(test_time, test_event, &ipcw, r, t)?);
    }
    if auc.len() == 1 {
        return Ok((auc.clone(), auc[0]));
    }
    let km = StepCurve::survival(test_time, test_event);
    let (mut integral, mut previous) = (0.0, 1.0);
    for (&t, &a) in times.iter().zip(&auc) {
        // Times lie before the last test time, so the curve is known there.
        let s = km.at(t).unwrap_or(0.0);
        integral += a * (previous - s);
        previous = s;
    }
    let mean = integral / (1.0 - previous);
    Ok((auc, mean))
}

fn auc_at(
    time: &[f64],
    event: &[bool],
    ipcw: &[f64],
    risk: &[f64],
    t: f64,
) -> Result<f64, MetricsError> {
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| risk[b].partial_cmp(&risk[a]).unwrap_or(Ordering::Equal));
    let is_case = |i: usize| event[i] && time[i] <= t;
    let total_case: f64 = order
        .iter()
        .filter(|&&i| is_case(i))
        .map(|&i| ipcw[i])
        .sum();
    let controls = time.iter().filter(|&&ti| ti > t).count();
    if total_case <= 0.0 {
        return Err(MetricsError::NoCases { time: t });
    }

    let (mut cum_tp, mut cum_fp) = (0.0, 0usize);
    let (mut tpr, mut fpr) = (0.0, 0.0);
    let mut area = 0.0;
    for (k, &i) in order.iter().enumerate() {
        if is_case(i) {
            cum_tp += ipcw[i];
        } else if time[i] > t {
            cum_fp += 1;
        }
        // A threshold ends where the next risk is not tied with this one;
        // ties chain along the sorted order, as in sksurv.
        let run_continues = order
            .get(k + 1)
            .is_some_and(|&j| (risk[j] - risk[i]).abs() <= SKSURV_TIED_TOL);
        if !run_continues {
            let (new_tpr, new_fpr) = (cum_tp / total_case, cum_fp as f64 / controls as f64);
            area += (new_fpr - fpr) * (new_tpr + tpr) / 2.0;
            (tpr, fpr) = (new_tpr, new_fpr);
        }
    }
    Ok(area)
}

/// IPCW Brier score at one time `t` of predicted survival probabilities
/// `P(T > t | x_i)`, one per test subject (sksurv's `brier_score` at one
/// time): `mean(S_i² · 1{t_i ≤ t, event} / G(t_i) + (1 − S_i)² · 1{t_i > t} / G(t))`.
/// Subjects censored before `t` contribute zero; a zero `G` gives weight 0.
///
/// `t` must lie within `[min, max)` of the test times, and every test time
/// within the training follow-up.
pub fn brier_score_at(
    train_time: &[f64],
    train_event: &[bool],
    test_time: &[f64],
    test_event: &[bool],
    survival_prob_at_t: &[f64],
    t: f64,
) -> Result<f64, MetricsError> {
    let cens = censoring_from_train(
        "brier_score_at",
        train_time,
        train_event,
        test_time,
        test_event,
    )?;
    check_times(&[t], test_time)?;
    let g_y = censoring_at_all(&cens, test_time)?;
    brier_with(&cens, test_time, test_event, &g_y, survival_prob_at_t, t)
}

/// The IPCW Brier score integrated over `times` by the trapezoidal rule and
/// divided by `times[last] − times[0]` (sksurv's `integrated_brier_score`).
/// `survival_probs[k][i]` is test subject `i`'s predicted `P(T > times[k])`.
///
/// Needs at least two strictly increasing times within `[min, max)` of the
/// test times.
pub fn integrated_brier_score(
    train_time: &[f64],
    train_event: &[bool],
    test_time: &[f64],
    test_event: &[bool],
    survival_probs: &[Vec<f64>],
    times: &[f64],
) -> Result<f64, MetricsError> {
    const METRIC: &str = "integrated_brier_score";
    let cens = censoring_from_train(METRIC, train_time, train_event, test_time, test_event)?;
    ensure!(
        times.len() >= 2,
        MetricsError::TooFew {
            metric: METRIC,
            what: "time points",
            needed: 2,
            got: times.len(),
        }
    );
    ensure!(
        survival_probs.len() == times.len(),
        MetricsError::LengthMismatch {
            left_name: "times",
            left: times.len(),
            right_name: "survival_probs",
            right: survival_probs.len(),
        }
    );
    check_times(times, test_time)?;
    let g_y = censoring_at_all(&cens, test_time)?;
    let mut scores = Vec::with_capacity(times.len());
    for (probs, &t) in survival_probs.iter().zip(times) {
        scores.push(brier_with(&cens, test_time, test_event, &g_y, probs, t)?);
    }
    let area: f64 = (1..times.len())
        .map(|k| (times[k] - times[k - 1]) * (scores[k] + scores[k - 1]) / 2.0)
        .sum();
    Ok(area / (times[times.len() - 1] - times[0]))
}

/// Each subject's outcome "event by `t`" with the inverse-probability-of-
/// censoring weight the Brier score at `t` gives it ([`brier_score_at`]
/// with the sample as its own training sample): an event at or before `t`
/// is `Some((1.0, 1 / G(tᵢ)))`, a subject still at risk after `t` is
/// `Some((0.0, 1 / G(t)))`, and a subject censored at or before `t`, whose
/// outcome is unknown, is `None`. `G` is the sample's Kaplan–Meier censoring
/// curve; a zero `G` gives weight 0, as in sksurv.
///
/// Fitting a probability calibrator at a horizon on these weighted labels
/// makes it unbiased under independent censoring.
pub fn status_at(
    time: &[f64],
    event: &[bool],
    t: f64,
) -> Result<Vec<Option<(f64, f64)>>, MetricsError> {
    check_survival("status_at", "time", time, "event", event)?;
    crate::error::check_finite("t", &[t])?;
    let cens = StepCurve::censoring(time, event);
    let inverse = |g: f64| if g > 0.0 { 1.0 / g } else { 0.0 };
    let g_t = inverse(cens.at_or_last(t));
    Ok(time
        .iter()
        .zip(event)
        .map(|(&ti, &ei)| {
            if ei && ti <= t {
                Some((1.0, inverse(cens.at_or_last(ti))))
            } else if ti > t {
                Some((0.0, g_t))
            } else {
                None
            }
        })
        .collect())
}

/// `G` at every test time (sksurv evaluates it for censored subjects too, so
/// they must also lie within the training follow-up).
fn censoring_at_all(cens: &StepCurve, test_time: &[f64]) -> Result<Vec<f64>, MetricsError> {
    test_time.iter().map(|&t| cens.censoring_at(t)).collect()
}

fn brier_with(
    cens: &StepCurve,
    time: &[f64],
    event: &[bool],
    g_y: &[f64],
    prob: &[f64],
    t: f64,
) -> Result<f64, MetricsError> {
    check_per_subject("survival_prob", prob, time.len())?;
    check_probabilities(prob)?;
    let g_t = cens.censoring_at(t)?;
    // sksurv divides by G = +∞ where G = 0, turning the term into 0.
    let weighted = |x: f64, g: f64| if g == 0.0 { 0.0 } else { x / g };
    let total: f64 = (0..time.len())
        .map(|i| {
            if event[i] && time[i] <= t {
                weighted(prob[i].powi(2), g_y[i])
            } else if time[i] > t {
                weighted((1.0 - prob[i]).powi(2), g_t)
            } else {
                0.0
            }
        })
        .sum();
    Ok(total / time.len() as f64)
}

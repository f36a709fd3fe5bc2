//! Decision support: whom to target, given what a retention offer costs and
//! what it saves.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::error::{CalibrationError, check_binary, ensure};

/// What a decision is worth: targeting a customer who would have churned (a
/// true positive) gains `value_tp`; targeting one who would have stayed (a
/// false positive) costs `cost_fp`. Customers not targeted count 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    pub cost_fp: f64,
    pub value_tp: f64,
}

impl Costs {
    /// Both finite, `cost_fp >= 0`, `value_tp > 0`.
    pub fn new(cost_fp: f64, value_tp: f64) -> Result<Self, CalibrationError> {
        ensure!(
            cost_fp.is_finite() && cost_fp >= 0.0,
            CalibrationError::BadParameter {
                name: "cost_fp",
                value: cost_fp,
                reason: "the cost of a false positive must be a finite number >= 0",
            }
        );
        ensure!(
            value_tp.is_finite() && value_tp > 0.0,
            CalibrationError::BadParameter {
                name: "value_tp",
                value: value_tp,
                reason: "the value of a true positive must be a finite number > 0",
            }
        );
        Ok(Self { cost_fp, value_tp })
    }

    /// The threshold above which targeting pays in expectation when `p` is
    /// a calibrated probability: `p · value_tp > (1 − p) · cost_fp`, i.e.
    /// `p > cost_fp / (cost_fp + value_tp)`.
    pub fn bayes_threshold(&self) -> f64 {
        self.cost_fp / (self.cost_fp + self.value_tp)
    }
}

/// Targeting every customer whose prediction is at least `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfitPoint {
    pub threshold: f64,
    pub targeted: usize,
    /// `targeted / n`.
    pub fraction: f64,
    pub true_positives: usize,
    pub false_positives: usize,
    /// `value_tp · true_positives − cost_fp · false_positives`.
    pub profit: f64,
}

/// Rows sorted by decreasing prediction, ties in row order.
fn ranked(prob: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..prob.len()).collect();
    order.sort_by(|&a, &b| prob[b].partial_cmp(&prob[a]).unwrap_or(Ordering::Equal));
    order
}

/// The profit of targeting `p >= threshold`, for every distinct prediction
/// as the threshold, from the highest down (the first point targets the
/// rows with the highest prediction, the last targets everyone). Targeting
/// no one, profit 0, is the implicit alternative.
pub fn profit_curve(
    prob: &[f64],
    y: &[f64],
    costs: Costs,
) -> Result<Vec<ProfitPoint>, CalibrationError> {
    check_binary("a profit curve", prob, y)?;
    let order = ranked(prob);
    let n = prob.len();
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if y[i] == 1.0 {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| prob[j] != prob[i]);
        if last_of_tie {
            out.push(ProfitPoint {
                threshold: prob[i],
                targeted: k + 1,
                fraction: (k + 1) as f64 / n as f64,
                true_positives: tp,
                false_positives: fp,
                profit: costs.value_tp * tp as f64 - costs.cost_fp * fp as f64,
            });
        }
    }
    Ok(out)
}

/// The point of highest profit (the highest threshold among equals), or
/// `None` when no threshold beats targeting no one.
pub fn best_threshold(curve: &[ProfitPoint]) -> Option<ProfitPoint> {
    curve
        .iter()
        .filter(|p| p.profit > 0.0)
        .fold(None, |best: Option<ProfitPoint>, p| match best {
            Some(b) if b.profit >= p.profit => Some(b),
            _ => Some(*p),
        })
}

/// The realised result of targeting `p >= threshold` on a sample.
pub fn profit_at(
    prob: &[f64],
    y: &[f64],
    costs: Costs,
    threshold: f64,
) -> Result<ProfitPoint, CalibrationError> {
    check_binary("a profit", prob, y)?;
    let (mut tp, mut fp) = (0usize, 0usize);
    for (&p, &v) in prob.iter().zip(y) {
        if p >= threshold {
            if v == 1.0 {
                tp += 1;
            } else {
                fp += 1;
            }
        }
    }
    Ok(ProfitPoint {
        threshold,
        targeted: tp + fp,
        fraction: (tp + fp) as f64 / prob.len() as f64,
        true_positives: tp,
        false_positives: fp,
        profit: costs.value_tp * tp as f64 - costs.cost_fp * fp as f64,
    })
}

/// Precision and recall among the top `percent`% of customers by
/// prediction: the first `ceil(percent / 100 · n)` rows (at least one)
/// sorted by decreasing prediction, ties in row order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TopK {
    pub percent: f64,
    pub targeted: usize,
    pub precision: f64,
    pub recall: f64,
    /// `precision / base rate`.
    pub lift: f64,
}

pub fn top_k(prob: &[f64], y: &[f64], percents: &[f64]) -> Result<Vec<TopK>, CalibrationError> {
    check_binary("precision at the top k%", prob, y)?;
    if let Some(&bad) = percents.iter().find(|p| !(**p > 0.0 && **p <= 100.0)) {
        return Err(CalibrationError::BadParameter {
            name: "top_k_percent",
            value: bad,
            reason: "a share of customers must be in (0, 100]",
        });
    }
    let positives = y.iter().sum::<f64>();
    if positives == 0.0 {
        return Err(CalibrationError::SingleClass {
            what: "recall at the top k%",
            class: 0.0,
        });
    }
    let order = ranked(prob);
    let n = prob.len();
    let base = positives / n as f64;
    Ok(percents
        .iter()
        .map(|&percent| {
            // The small slack keeps 10% of 1000 at 100 rows despite rounding.
            let k = ((percent / 100.0 * n as f64) - 1e-9).ceil().max(1.0) as usize;
            let k = k.min(n);
            let hits: f64 = order[..k].iter().map(|&i| y[i]).sum();
            let precision = hits / k as f64;
            TopK {
                percent,
                targeted: k,
                precision,
                recall: hits / positives,
                lift: precision / base,
            }
        })
        .collect())
}

//! Customer-lifetime-value metrics: how well a predicted value ranks and
//! sizes customers' actual spend. Definitions follow Wang, Liu & Miao (2019),
//! "A Deep Probabilistic Model for Customer Lifetime Value Prediction" (the
//! ZILN paper): normalized Gini, Spearman correlation and decile MAPE.
//!
//! The ranking metrics ([`normalized_gini`], [`top_decile_lift`]) treat
//! customers with tied predictions as one block: the Lorenz curve is a
//! straight line across the block, which is the average over every order of
//! the tied customers. The results therefore never depend on row order, and
//! a constant prediction scores exactly as a random one is expected to
//! (Gini 0, lift 1).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::calibration::equal_groups;
use crate::classification::roc_auc;
use crate::error::{MetricsError, check_pair, ensure};

/// Actual spend must be non-negative with a positive total for the Lorenz
/// curve (cumulative share of spend) to be a share.
fn check_spend(metric: &'static str, actual: &[f64]) -> Result<f64, MetricsError> {
    if let Some(index) = actual.iter().position(|&v| v < 0.0) {
        return Err(MetricsError::Negative {
            name: "actual",
            index,
            value: actual[index],
        });
    }
    let total: f64 = actual.iter().sum();
    if total <= 0.0 {
        return Err(MetricsError::ZeroTotal { metric });
    }
    Ok(total)
}

/// Vertices of the Lorenz curve with customers in decreasing `key` order,
/// tied keys forming one segment: `(customers so far, spend so far)`,
/// from `(0, 0)` to `(n, total)`.
fn lorenz(actual: &[f64], key: &[f64]) -> Vec<(usize, f64)> {
    let mut order: Vec<usize> = (0..key.len()).collect();
    order.sort_unstable_by(|&a, &b| key[b].partial_cmp(&key[a]).unwrap_or(Ordering::Equal));
    let mut points = vec![(0, 0.0)];
    let (mut count, mut spend) = (0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        count += 1;
        spend += actual[i];
        if order.get(k + 1).is_none_or(|&j| key[j] != key[i]) {
            points.push((count, spend));
        }
    }
    points
}

/// Gini coefficient of a Lorenz curve: twice the area between it and the
/// diagonal, by the trapezoidal rule (exact for a piecewise-linear curve).
fn gini(points: &[(usize, f64)]) -> f64 {
    let (n, total) = points[points.len() - 1];
    let area: f64 = points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) as f64 * (w[0].1 + w[1].1))
        .sum::<f64>()
        / (2.0 * n as f64 * total);
    2.0 * area - 1.0
}

/// Normalized Gini: the Gini coefficient of the Lorenz curve of actual
/// spend ordered by prediction, divided by that of the perfect ordering (by
/// actual spend). 1 for a perfect ranking, 0 for a constant (or, on average,
/// random) one, −1 for the reversed ranking. Without tied predictions this
/// is the Kaggle "normalized Gini" used in the ZILN paper.
///
/// `actual` must be non-negative, not all zero and not constant.
pub fn normalized_gini(actual: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    const METRIC: &str = "normalized_gini";
    check_pair(METRIC, "actual", actual, "pred", pred)?;
    check_spend(METRIC, actual)?;
    let perfect = gini(&lorenz(actual, actual));
    if perfect <= 0.0 {
        return Err(MetricsError::Constant {
            metric: METRIC,
            name: "actual",
        });
    }
    Ok(gini(&lorenz(actual, pred)) / perfect)
}

/// Share of the total actual spend captured by the top 10% of customers by
/// prediction, divided by 0.10: 1 for a random ranking, up to 10.
///
/// The top 10% is exactly `n / 10` customers, read off the Lorenz curve: a
/// fractional customer counts in proportion, and a tie block straddling the
/// cut counts with its average spend. It can therefore differ slightly from
/// the top row of [`decile_chart`]. `actual` must be non-negative and not all
/// zero.
pub fn top_decile_lift(actual: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    const METRIC: &str = "top_decile_lift";
    check_pair(METRIC, "actual", actual, "pred", pred)?;
    check_spend(METRIC, actual)?;
    let points = lorenz(actual, pred);
    let (n, total) = points[points.len() - 1];
    let cut = n as f64 / 10.0;
    let k = points
        .iter()
        .position(|&(c, _)| c as f64 >= cut)
        .unwrap_or(points.len() - 1);
    let captured = if k == 0 {
        0.0
    } else {
        let ((c0, y0), (c1, y1)) = (points[k - 1], points[k]);
        y0 + (cut - c0 as f64) / (c1 - c0) as f64 * (y1 - y0)
    };
    Ok(captured / total / 0.10)
}

/// 1-based ranks, tied values sharing their average rank.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let mut rank = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let v = values[order[start]];
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| values[i] == v)
                .count();
        // Ranks start+1 ..= end share their mean.
        let shared = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            rank[i] = shared;
        }
        start = end;
    }
    rank
}

/// Spearman's rank correlation: Pearson's correlation of the average ranks
/// (ties share their mean rank), as `scipy.stats.spearmanr`. Undefined
/// ([`MetricsError::Constant`]) when either input is constant; [`evaluate`]
/// reports 0 for a constant prediction.
///
/// [`evaluate`]: crate::evaluate
pub fn spearman(actual: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    const METRIC: &str = "spearman";
    check_pair(METRIC, "actual", actual, "pred", pred)?;
    let (ra, rp) = (average_ranks(actual), average_ranks(pred));
    // Mean rank is (n + 1) / 2 whatever the ties.
    let mean = (actual.len() + 1) as f64 / 2.0;
    let (mut saa, mut spp, mut sap) = (0.0, 0.0, 0.0);
    for (a, p) in ra.iter().zip(&rp) {
        let (da, dp) = (a - mean, p - mean);
        saa += da * da;
        spp += dp * dp;
        sap += da * dp;
    }
    for (name, ss) in [("actual", saa), ("pred", spp)] {
        if ss <= 0.0 {
            return Err(MetricsError::Constant {
                metric: METRIC,
                name,
            });
        }
    }
    // Rounding could step just outside [-1, 1].
    Ok((sap / (saa * spp).sqrt()).clamp(-1.0, 1.0))
}

/// One tenth of the customers, by predicted value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// 1 = lowest predictions, 10 = highest.
    pub decile: usize,
    pub mean_predicted: f64,
    pub mean_actual: f64,
    /// Customers in the decile.
    pub n: usize,
}

/// Customers sorted by increasing prediction (ties by row order) and cut into
/// 10 contiguous groups whose sizes differ by at most one (the lowest
/// `n % 10` deciles get the extra customer, like `numpy.array_split`), with
/// each group's mean prediction and mean actual value. Needs 10 customers.
pub fn decile_chart(actual: &[f64], pred: &[f64]) -> Result<Vec<DecileRow>, MetricsError> {
    const METRIC: &str = "decile_chart";
    check_pair(METRIC, "actual", actual, "pred", pred)?;
    ensure!(
        actual.len() >= 10,
        MetricsError::TooFew {
            metric: METRIC,
            what: "rows",
            needed: 10,
            got: actual.len(),
        }
    );
    let mut order: Vec<usize> = (0..pred.len()).collect();
    order.sort_by(|&a, &b| pred[a].partial_cmp(&pred[b]).unwrap_or(Ordering::Equal));
    Ok(equal_groups(&order, 10)
        .enumerate()
        .map(|(k, group)| {
            let mean = |v: &[f64]| group.iter().map(|&i| v[i]).sum::<f64>() / group.len() as f64;
            DecileRow {
                decile: k + 1,
                mean_predicted: mean(pred),
                mean_actual: mean(actual),
                n: group.len(),
            }
        })
        .collect())
}

/// Decile-level MAPE of the ZILN paper: the mean over the 10 deciles of
/// [`decile_chart`] of `|mean_predicted − mean_actual| / |mean_actual|`. It
/// checks the predicted *amounts* per segment rather than per customer, whose
/// spend is too noisy to predict. Undefined when a decile's mean actual value
/// is zero.
pub fn decile_mape(actual: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    let chart = decile_chart(actual, pred)?;
    let mut total = 0.0;
    for row in &chart {
        ensure!(
            row.mean_actual != 0.0,
            MetricsError::ZeroDecileMean { decile: row.decile }
        );
        total += (row.mean_predicted - row.mean_actual).abs() / row.mean_actual.abs();
    }
    Ok(total / chart.len() as f64)
}

/// ROC AUC of the prediction for "the customer spends" (`actual > 0`):
/// how well the predicted value separates spenders from non-spenders.
pub fn zero_spend_auc(actual: &[f64], pred: &[f64]) -> Result<f64, MetricsError> {
    check_pair("zero_spend_auc", "actual", actual, "pred", pred)?;
    let spends: Vec<f64> = actual
        .iter()
        .map(|&a| f64::from(u8::from(a > 0.0)))
        .collect();
    roc_auc(&spends, pred).map_err(|e| match e {
        MetricsError::SingleClass { class, .. } => MetricsError::SingleClass {
            metric: "zero_spend_auc",
            class,
        },
        other => other,
    })
}

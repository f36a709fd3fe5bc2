//! Binary classification metrics, with scikit-learn's definitions.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, check_pair, check_probabilities, count_positives, ensure};

/// A group of rows sharing one score, taken in decreasing score order.
#[derive(Debug, Clone, Copy)]
struct ScoreGroup {
    threshold: f64,
    positives: usize,
    negatives: usize,
}

/// Sorts by decreasing score and groups tied scores, as sklearn's
/// `_binary_clf_curve` does: every curve below is a walk over these groups.
fn score_groups(y_true: &[f64], score: &[f64]) -> Vec<ScoreGroup> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    // Scores are checked finite, so `partial_cmp` never fails; it also keeps
    // -0.0 and 0.0 tied, which `total_cmp` would not.
    order.sort_unstable_by(|&a, &b| score[b].partial_cmp(&score[a]).unwrap_or(Ordering::Equal));
    let mut groups: Vec<ScoreGroup> = Vec::new();
    for i in order {
        let positive = y_true[i] == 1.0;
        match groups.last_mut() {
            Some(g) if g.threshold == score[i] => {
                g.positives += usize::from(positive);
                g.negatives += usize::from(!positive);
            }
            _ => groups.push(ScoreGroup {
                threshold: score[i],
                positives: usize::from(positive),
                negatives: usize::from(!positive),
            }),
        }
    }
    groups
}

/// Checks binary labels against scores and returns (positives, negatives).
fn check_binary(
    metric: &'static str,
    y_true: &[f64],
    score_name: &'static str,
    score: &[f64],
) -> Result<(usize, usize), MetricsError> {
    check_pair(metric, "y_true", y_true, score_name, score)?;
    let positives = count_positives(y_true)?;
    Ok((positives, y_true.len() - positives))
}

fn require_both_classes(
    metric: &'static str,
    positives: usize,
    negatives: usize,
) -> Result<(), MetricsError> {
    ensure!(
        positives > 0,
        MetricsError::SingleClass { metric, class: 0.0 }
    );
    ensure!(
        negatives > 0,
        MetricsError::SingleClass { metric, class: 1.0 }
    );
    Ok(())
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative, ties counting one half (Mann–Whitney U).
/// `O(n log n)`.
pub fn roc_auc(y_true: &[f64], score: &[f64]) -> Result<f64, MetricsError> {
    const METRIC: &str = "roc_auc";
    let (positives, negatives) = check_binary(METRIC, y_true, "score", score)?;
    require_both_classes(METRIC, positives, negatives)?;
    // Counting in half-units keeps the pair count an exact integer.
    let mut half_pairs: u128 = 0;
    let mut positives_above: u128 = 0;
    for g in score_groups(y_true, score) {
        let (p, n) = (g.positives as u128, g.negatives as u128);
        half_pairs += n * (2 * positives_above + p);
        positives_above += p;
    }
    Ok(half_pairs as f64 / 2.0 / (positives as f64 * negatives as f64))
}

/// Average precision as scikit-learn defines it: the step-wise sum
/// `Σ (R_k − R_{k−1}) P_k` over decreasing thresholds, with tied scores forming
/// one threshold (no interpolation). All-positive labels give 1.
pub fn average_precision(y_true: &[f64], score: &[f64]) -> Result<f64, MetricsError> {
    const METRIC: &str = "average_precision";
    let (positives, _) = check_binary(METRIC, y_true, "score", score)?;
    ensure!(positives > 0, MetricsError::NoPositives { metric: METRIC });
    let total = positives as f64;
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut ap = 0.0;
    for g in score_groups(y_true, score) {
        tp += g.positives;
        fp += g.negatives;
        if g.positives > 0 {
            ap += (g.positives as f64 / total) * (tp as f64 / (tp + fp) as f64);
        }
    }
    Ok(ap)
}

/// Probabilities are clipped to `[ε, 1 − ε]` with ε the `f64` machine epsilon,
/// as scikit-learn ≥ 1.5 does (older versions used 1e-15), so that a confident
/// mistake costs about 36 nats rather than infinity.
pub const LOG_LOSS_EPS: f64 = f64::EPSILON;

/// Mean binary cross-entropy (natural log), probabilities clipped by
/// [`LOG_LOSS_EPS`]. Labels of a single class are allowed.
pub fn log_loss(y_true: &[f64], prob: &[f64]) -> Result<f64, MetricsError> {
    check_binary("log_loss", y_true, "prob", prob)?;
    check_probabilities(prob)?;
    let clip = |p: f64| p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
    let total: f64 = y_true
        .iter()
        .zip(prob)
        .map(|(&y, &p)| {
            // Clip `1 - p` rather than take `1 - clip(p)`: it is what sklearn
            // computes, and it differs in the last bits.
            if y == 1.0 {
                -clip(p).ln()
            } else {
                -clip(1.0 - p).ln()
            }
        })
        .sum();
    Ok(total / y_true.len() as f64)
}

/// Mean squared difference between the label and the predicted probability.
pub fn brier_score(y_true: &[f64], prob: &[f64]) -> Result<f64, MetricsError> {
    check_binary("brier_score", y_true, "prob", prob)?;
    check_probabilities(prob)?;
    let total: f64 = y_true.iter().zip(prob).map(|(y, p)| (y - p).powi(2)).sum();
    Ok(total / y_true.len() as f64)
}

/// Receiver operating characteristic, one point per distinct score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rate at each threshold, non-decreasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True-positive rate at each threshold, non-decreasing from 0 to 1.
    pub tpr: Vec<f64>,
    /// Decreasing thresholds: a row is called positive when `score >= threshold`.
    /// The first is `+∞` (nobody called positive), as in scikit-learn ≥ 1.3.
    pub thresholds: Vec<f64>,
}

/// The ROC curve as scikit-learn's `roc_curve(drop_intermediate=False)`
/// returns it: starts at (0, 0) with threshold `+∞`, then one point per
/// distinct score in decreasing order.
pub fn roc_curve(y_true: &[f64], score: &[f64]) -> Result<RocCurve, MetricsError> {
    const METRIC: &str = "roc_curve";
    let (positives, negatives) = check_binary(METRIC, y_true, "score", score)?;
    require_both_classes(METRIC, positives, negatives)?;
    let groups = score_groups(y_true, score);
    let mut curve = RocCurve {
        fpr: Vec::with_capacity(groups.len() + 1),
        tpr: Vec::with_capacity(groups.len() + 1),
        thresholds: Vec::with_capacity(groups.len() + 1),
    };
    curve.fpr.push(0.0);
    curve.tpr.push(0.0);
    curve.thresholds.push(f64::INFINITY);
    let (mut tp, mut fp) = (0usize, 0usize);
    for g in groups {
        tp += g.positives;
        fp += g.negatives;
        curve.fpr.push(fp as f64 / negatives as f64);
        curve.tpr.push(tp as f64 / positives as f64);
        curve.thresholds.push(g.threshold);
    }
    Ok(curve)
}

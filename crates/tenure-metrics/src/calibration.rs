//! Calibration of predicted event probabilities at a horizon, against
//! Kaplan–Meier estimates within groups of similar predictions.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::censoring::{StepCurve, check_per_subject, check_survival};
use crate::error::{MetricsError, check_finite, check_probabilities, ensure};

/// One group of subjects with similar predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Mean predicted probability of an event by the horizon.
    pub mean_predicted: f64,
    /// Observed probability of an event by the horizon: `1 − S(h)`, with `S`
    /// the Kaplan–Meier curve of the bin's subjects.
    pub observed: f64,
    /// Number of subjects in the bin.
    pub n: usize,
}

/// Calibration table at `horizon`: subjects sorted by predicted event
/// probability (ties by row order) and split into `bins` contiguous groups
/// whose sizes differ by at most one (the first `n % bins` get the extra
/// subject, like `numpy.array_split`), in increasing prediction order.
/// Fewer than `bins` subjects give one bin per subject.
///
/// The observed rate uses the Kaplan–Meier estimate so that subjects
/// censored before the horizon count for the time they were followed. Past
/// a bin's last follow-up time the curve is carried forward flat, so a bin
/// censored entirely before the horizon reports its last estimate.
pub fn calibration_at_horizon(
    time: &[f64],
    event: &[bool],
    predicted_event_prob_at_h: &[f64],
    horizon: f64,
    bins: usize,
) -> Result<Vec<CalibrationBin>, MetricsError> {
    const METRIC: &str = "calibration_at_horizon";
    check_survival(METRIC, "time", time, "event", event)?;
    let pred = predicted_event_prob_at_h;
    check_per_subject("predicted_event_prob_at_h", pred, time.len())?;
    check_probabilities(pred)?;
    check_finite("horizon", &[horizon])?;
    ensure!(
        bins > 0,
        MetricsError::TooFew {
            metric: METRIC,
            what: "bins",
            needed: 1,
            got: 0,
        }
    );
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| pred[a].partial_cmp(&pred[b]).unwrap_or(Ordering::Equal));
    Ok(equal_groups(&order, bins)
        .map(|group| {
            let t: Vec<f64> = group.iter().map(|&i| time[i]).collect();
            let e: Vec<bool> = group.iter().map(|&i| event[i]).collect();
            let survival = StepCurve::survival(&t, &e).at_or_last(horizon);
            CalibrationBin {
                mean_predicted: group.iter().map(|&i| pred[i]).sum::<f64>() / group.len() as f64,
                observed: 1.0 - survival,
                n: group.len(),
            }
        })
        .collect())
}

/// `numpy.array_split(items, groups)` without its empty groups.
pub(crate) fn equal_groups<T>(items: &[T], groups: usize) -> impl Iterator<Item = &[T]> {
    let (base, extra) = (items.len() / groups, items.len() % groups);
    let mut start = 0;
    (0..groups).filter_map(move |g| {
        let len = base + usize::from(g < extra);
        let group = &items[start..start + len];
        start += len;
        (len > 0).then_some(group)
    })
}

//! The metrics the runner reports for each task.

use tenure_core::Target;

use crate::error::{MetricsError, ensure};
use crate::{
    RiskScores, average_precision, brier_score, brier_score_at, calibration_at_horizon,
    concordance_index, cumulative_dynamic_auc, decile_mape, integrated_brier_score, log_loss, mae,
    normalized_gini, rmse, roc_auc, spearman, top_decile_lift, zero_spend_auc,
};

/// Every metric [`evaluate`] can report and whether a larger value is better.
pub const METRICS: &[(&str, bool)] = &[
    ("auc", true),
    ("pr_auc", true),
    ("log_loss", false),
    ("brier", false),
    ("rmse", false),
    ("mae", false),
    ("gini", true),
    ("spearman", true),
    ("top_decile_lift", true),
    ("decile_mape", false),
    ("zero_spend_auc", true),
    ("c_index", true),
    // Reported by the runner, which has the training rows it needs.
    ("uno_c", true),
    // From predicted survival curves ([`evaluate_survival_curves`]).
    ("ibs", false),
    ("td_auc", true),
    ("brier_horizon", false),
    ("ece_horizon", false),
];

/// Whether a larger value of `metric` means a better model. Names that
/// [`evaluate`] does not produce are treated as losses (`false`).
pub fn higher_is_better(metric: &str) -> bool {
    METRICS
        .iter()
        .any(|&(name, higher)| name == metric && higher)
}

/// Task-aware evaluation used by the runner: metric names and values in a
/// stable order.
///
/// - `Binary` (prediction = churn probability): `auc`, `pr_auc`, `log_loss`, `brier`;
/// - `Continuous` (prediction = amount, e.g. CLV): `rmse`, `mae`, then the
///   CLV metrics `gini` ([`normalized_gini`]), `spearman`, `top_decile_lift`
///   and `decile_mape` — each only where it is defined for the data, so that
///   no value is NaN: `gini` and `top_decile_lift` need non-negative actual
///   values that are not all zero (`gini` also not all equal), `spearman`
///   non-constant actual values, `decile_mape` at least 10 rows and no
///   decile with a zero mean actual value. A constant prediction ranks no one,
///   and gets `gini` 0, `top_decile_lift` 1 and `spearman` 0 (where Spearman
///   itself is undefined);
/// - `Survival` (prediction = risk score, higher = sooner): `c_index`.
pub fn evaluate(
    target: &Target,
    prediction: &[f64],
) -> Result<Vec<(&'static str, f64)>, MetricsError> {
    ensure!(
        prediction.len() == target.len(),
        MetricsError::LengthMismatch {
            left_name: "target",
            left: target.len(),
            right_name: "prediction",
            right: prediction.len(),
        }
    );
    Ok(match target {
        Target::Binary(y) => vec![
            ("auc", roc_auc(y, prediction)?),
            ("pr_auc", average_precision(y, prediction)?),
            ("log_loss", log_loss(y, prediction)?),
            ("brier", brier_score(y, prediction)?),
        ],
        Target::Continuous(y) => {
            let mut scores = vec![("rmse", rmse(y, prediction)?), ("mae", mae(y, prediction)?)];
            // rmse and mae have checked lengths and finiteness: a CLV metric
            // can only fail for being undefined on this data, and is skipped.
            let rank_correlation = match spearman(y, prediction) {
                Err(MetricsError::Constant { name: "pred", .. }) => Ok(0.0),
                other => other,
            };
            let clv = [
                ("gini", normalized_gini(y, prediction)),
                ("spearman", rank_correlation),
                ("top_decile_lift", top_decile_lift(y, prediction)),
                ("decile_mape", decile_mape(y, prediction)),
                ("zero_spend_auc", zero_spend_auc(y, prediction)),
            ];
            scores.extend(
                clv.into_iter()
                    .filter_map(|(name, v)| Some((name, v.ok()?))),
            );
            scores
        }
        Target::Survival { time, event } => {
            vec![("c_index", concordance_index(time, event, prediction)?)]
        }
    })
}

/// Bins of [`calibration_at_horizon`] behind `ece_horizon`.
pub const HORIZON_CALIBRATION_BINS: usize = 10;

/// Metrics of predicted survival curves, `survival[k][i]` = `S(times[k] | xᵢ)`
/// for test subject `i`, with the censoring distribution from the training
/// sample (scikit-survival's conventions):
///
/// - `ibs`: [`integrated_brier_score`] over the usable times (needs two);
/// - `td_auc`: the mean [`cumulative_dynamic_auc`] of the risk `1 − S(t | x)`
///   over the usable times that have a case;
/// - `brier_horizon`: [`brier_score_at`] the last time, the horizon;
/// - `ece_horizon`: the calibration error at the horizon: the mean, weighted
///   by bin size, of `|predicted − observed|` over the
///   [`HORIZON_CALIBRATION_BINS`] bins of [`calibration_at_horizon`], the
///   observed rate being the Kaplan–Meier estimate within each bin.
///
/// A time is usable when it lies within `[min, max)` of the test times
/// (sksurv's rule); the others are left out, and a metric without the times
/// it needs is not reported, so that no value is NaN. The horizon metrics
/// need the last time to be usable.
pub fn evaluate_survival_curves(
    train_time: &[f64],
    train_event: &[bool],
    test_time: &[f64],
    test_event: &[bool],
    survival: &[Vec<f64>],
    times: &[f64],
) -> Result<Vec<(&'static str, f64)>, MetricsError> {
    ensure!(
        survival.len() == times.len(),
        MetricsError::LengthMismatch {
            left_name: "times",
            left: times.len(),
            right_name: "survival",
            right: survival.len(),
        }
    );
    let (min, max) = test_time
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &t| {
            (lo.min(t), hi.max(t))
        });
    let usable: Vec<usize> = (0..times.len())
        .filter(|&k| times[k] >= min && times[k] < max)
        .collect();
    let pick = |idx: &[usize]| -> (Vec<f64>, Vec<Vec<f64>>) {
        (
            idx.iter().map(|&k| times[k]).collect(),
            idx.iter().map(|&k| survival[k].clone()).collect(),
        )
    };
    let mut scores = Vec::new();
    if usable.len() >= 2 {
        let (t, s) = pick(&usable);
        let ibs = integrated_brier_score(train_time, train_event, test_time, test_event, &s, &t)?;
        scores.push(("ibs", ibs));
    }
    let with_case: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&k| {
            test_time
                .iter()
                .zip(test_event)
                .any(|(&ti, &ei)| ei && ti <= times[k])
        })
        .collect();
    if !with_case.is_empty() {
        let (t, s) = pick(&with_case);
        let risk: Vec<Vec<f64>> = s
            .iter()
            .map(|col| col.iter().map(|p| 1.0 - p).collect())
            .collect();
        let (_, mean) = cumulative_dynamic_auc(
            train_time,
            train_event,
            test_time,
            test_event,
            RiskScores::PerTime(&risk),
            &t,
        )?;
        scores.push(("td_auc", mean));
    }
    if let Some(last) = times.len().checked_sub(1).filter(|k| usable.contains(k)) {
        let (h, s) = (times[last], &survival[last]);
        let brier = brier_score_at(train_time, train_event, test_time, test_event, s, h)?;
        scores.push(("brier_horizon", brier));
        let event_prob: Vec<f64> = s.iter().map(|p| 1.0 - p).collect();
        let bins = calibration_at_horizon(
            test_time,
            test_event,
            &event_prob,
            h,
            HORIZON_CALIBRATION_BINS,
        )?;
        let n = test_time.len() as f64;
        let ece = bins
            .iter()
            .map(|b| b.n as f64 / n * (b.mean_predicted - b.observed).abs())
            .sum();
        scores.push(("ece_horizon", ece));
    }
    Ok(scores)
}

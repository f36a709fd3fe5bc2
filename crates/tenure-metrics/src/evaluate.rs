//! The metrics the runner reports for each task.

use tenure_core::Target;

use crate::error::{MetricsError, ensure};
use crate::{average_precision, brier_score, concordance_index, log_loss, mae, rmse, roc_auc};

/// Every metric [`evaluate`] can report and whether a larger value is better.
pub const METRICS: &[(&str, bool)] = &[
    ("auc", true),
    ("pr_auc", true),
    ("log_loss", false),
    ("brier", false),
    ("rmse", false),
    ("mae", false),
    ("c_index", true),
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
/// - `Continuous` (prediction = amount): `rmse`, `mae`;
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
        Target::Continuous(y) => vec![("rmse", rmse(y, prediction)?), ("mae", mae(y, prediction)?)],
        Target::Survival { time, event } => {
            vec![("c_index", concordance_index(time, event, prediction)?)]
        }
    })
}

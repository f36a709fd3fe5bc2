//! The metrics the runner reports for each task.

use tenure_core::Target;

use crate::error::{MetricsError, ensure};
use crate::{
    average_precision, brier_score, concordance_index, decile_mape, log_loss, mae, normalized_gini,
    rmse, roc_auc, spearman, top_decile_lift, zero_spend_auc,
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

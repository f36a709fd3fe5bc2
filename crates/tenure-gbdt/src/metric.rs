//! Validation metrics for early stopping and `tenure fit --eval`.

use serde::{Deserialize, Serialize};

use crate::{GbdtError, Objective};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalMetric {
    Auc,
    BinaryLogloss,
    Rmse,
    TweedieDeviance,
    /// Harrell's C of the raw score (log hazard ratio).
    Cindex,
}

/// What a metric is computed on.
#[derive(Debug, Clone, Copy)]
pub enum EvalLabels<'a> {
    Values(&'a [f64]),
    Survival { time: &'a [f64], event: &'a [bool] },
}

impl EvalMetric {
    pub fn parse(name: &str, objective: Objective) -> Result<Self, GbdtError> {
        let m = match name.trim() {
            "auc" => Self::Auc,
            "binary_logloss" | "logloss" => Self::BinaryLogloss,
            "rmse" | "l2" => Self::Rmse,
            "tweedie" | "tweedie_deviance" => Self::TweedieDeviance,
            "cindex" | "c_index" | "concordance" => Self::Cindex,
            other => {
                return Err(GbdtError::BadValue {
                    key: "metric".into(),
                    value: other.into(),
                    expected: "auc, binary_logloss, rmse, tweedie_deviance or cindex",
                });
            }
        };
        if !m.fits(objective) {
            return Err(GbdtError::BadValue {
                key: "metric".into(),
                value: name.into(),
                expected: "a metric of the objective's task",
            });
        }
        Ok(m)
    }

    fn fits(self, objective: Objective) -> bool {
        matches!(
            (self, objective),
            (Self::Auc | Self::BinaryLogloss, Objective::Binary)
                | (Self::Rmse, Objective::Regression | Objective::Tweedie)
                | (Self::TweedieDeviance, Objective::Tweedie)
                | (Self::Cindex, Objective::Cox)
        )
    }

    pub fn default_for(objective: Objective) -> Self {
        match objective {
            Objective::Binary => Self::BinaryLogloss,
            Objective::Regression => Self::Rmse,
            Objective::Tweedie => Self::TweedieDeviance,
            Objective::Cox => Self::Cindex,
        }
    }

    /// Every metric reported for an objective by `tenure fit --eval`.
    pub fn all_for(objective: Objective) -> &'static [EvalMetric] {
        match objective {
            Objective::Binary => &[Self::Auc, Self::BinaryLogloss],
            Objective::Regression => &[Self::Rmse],
            Objective::Tweedie => &[Self::TweedieDeviance, Self::Rmse],
            Objective::Cox => &[Self::Cindex],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Auc => "auc",
            Self::BinaryLogloss => "binary_logloss",
            Self::Rmse => "rmse",
            Self::TweedieDeviance => "tweedie_deviance",
            Self::Cindex => "cindex",
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(self, Self::Auc | Self::Cindex)
    }

    /// The metric of predictions (after the link; for Cox the log hazard
    /// ratio).
    pub fn compute(self, labels: EvalLabels<'_>, pred: &[f64], rho: f64) -> Result<f64, GbdtError> {
        let metric = |r: Result<f64, tenure_metrics::MetricsError>| r.map_err(GbdtError::Metric);
        match (self, labels) {
            (Self::Auc, EvalLabels::Values(y)) => metric(tenure_metrics::roc_auc(y, pred)),
            (Self::BinaryLogloss, EvalLabels::Values(y)) => {
                metric(tenure_metrics::log_loss(y, pred))
            }
            (Self::Rmse, EvalLabels::Values(y)) => metric(tenure_metrics::rmse(y, pred)),
            (Self::TweedieDeviance, EvalLabels::Values(y)) => Ok(tweedie_deviance(y, pred, rho)),
            (Self::Cindex, EvalLabels::Survival { time, event }) => {
                metric(tenure_metrics::concordance_index(time, event, pred))
            }
            _ => Err(GbdtError::LabelMismatch {
                metric: self.name(),
            }),
        }
    }
}

/// Mean Tweedie deviance for `1 < rho < 2`:
/// `2 [y^(2-p)/((1-p)(2-p)) - y mu^(1-p)/(1-p) + mu^(2-p)/(2-p)]`.
pub fn tweedie_deviance(y: &[f64], mu: &[f64], rho: f64) -> f64 {
    let n = y.len().max(1) as f64;
    y.iter()
        .zip(mu)
        .map(|(&y, &m)| {
            let m = m.max(1e-300);
            2.0 * (y.max(0.0).powf(2.0 - rho) / ((1.0 - rho) * (2.0 - rho))
                - y * m.powf(1.0 - rho) / (1.0 - rho)
                + m.powf(2.0 - rho) / (2.0 - rho))
        })
        .sum::<f64>()
        / n
}

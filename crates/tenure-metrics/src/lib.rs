//! Classification, regression and survival metrics for tenure's models.
//!
//! Every metric follows a reference definition and is tested against it:
//! scikit-learn for [`roc_auc`], [`average_precision`], [`log_loss`],
//! [`brier_score`], [`rmse`], [`mae`] and [`roc_curve`]; lifelines for
//! [`concordance_index`]. [`evaluate`] picks the metrics that fit a
//! [`Target`](tenure_core::Target) and is what the runner reports.
//!
//! Labels of binary metrics must be exactly `0.0` or `1.0`; every input must
//! be finite. Failures are a typed [`MetricsError`] that names the input and,
//! where one is at fault, the offending index.
//!
//! ```
//! use tenure_core::Target;
//! use tenure_metrics::{concordance_index, evaluate, higher_is_better, roc_auc};
//!
//! let y = [0.0, 0.0, 1.0, 1.0];
//! let p = [0.1, 0.4, 0.35, 0.8];
//! assert_eq!(roc_auc(&y, &p).unwrap(), 0.75);
//!
//! let scores = evaluate(&Target::Binary(y.to_vec()), &p).unwrap();
//! let names: Vec<&str> = scores.iter().map(|(name, _)| *name).collect();
//! assert_eq!(names, ["auc", "pr_auc", "log_loss", "brier"]);
//! assert!(higher_is_better("auc") && !higher_is_better("log_loss"));
//!
//! // Survival: a higher risk should mean an earlier event.
//! let time = [2.0, 5.0, 9.0];
//! let event = [true, true, false];
//! assert_eq!(concordance_index(&time, &event, &[3.0, 2.0, 1.0]).unwrap(), 1.0);
//! ```

mod classification;
mod error;
mod evaluate;
mod regression;
mod survival;

pub use classification::{
    LOG_LOSS_EPS, RocCurve, average_precision, brier_score, log_loss, roc_auc, roc_curve,
};
pub use error::MetricsError;
pub use evaluate::{METRICS, evaluate, higher_is_better};
pub use regression::{mae, rmse};
pub use survival::concordance_index;

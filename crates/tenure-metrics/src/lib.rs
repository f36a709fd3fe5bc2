//! Classification, regression and survival metrics for tenure's models.
//!
//! Every metric follows a reference definition and is tested against it:
//! scikit-learn for [`roc_auc`], [`average_precision`], [`log_loss`],
//! [`brier_score`], [`rmse`], [`mae`] and [`roc_curve`]; lifelines for
//! [`concordance_index`]; scikit-survival for the censoring-weighted survival
//! metrics [`uno_concordance`], [`cumulative_dynamic_auc`],
//! [`brier_score_at`] and [`integrated_brier_score`]. The CLV metrics
//! ([`normalized_gini`], [`spearman`], [`top_decile_lift`], [`decile_chart`],
//! [`decile_mape`], [`zero_spend_auc`]) follow the ZILN paper (Wang, Liu &
//! Miao 2019) and are tested against hand computations; so is
//! [`calibration_at_horizon`]. [`evaluate`] picks the metrics that fit a
//! [`Target`](tenure_core::Target) and is what the runner reports.
//!
//! A/B tests ([`ab_test`]: sample-ratio mismatch, Welch or two-proportion
//! effect, CUPED, lift, power) are tested against statsmodels and scipy;
//! uplift metrics ([`qini_curve`], [`qini_coefficient`], [`auuc`],
//! [`uplift_by_decile`]) against scikit-uplift.
//!
//! Labels of binary metrics must be exactly `0.0` or `1.0`; every input must
//! be finite. Failures are a typed [`MetricsError`] that names the input and,
//! where one is at fault, the offending index.
//!
//! ```
//! use tenure_core::Target;
//! use tenure_metrics::{
//!     concordance_index, evaluate, higher_is_better, normalized_gini, roc_auc, spearman,
//!     uno_concordance,
//! };
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
//!
//! // Uno's C weights pairs by the censoring distribution of a training sample.
//! let (train_time, train_event) = ([1.0, 4.0, 6.0, 10.0], [true, false, true, false]);
//! let c = uno_concordance(&train_time, &train_event, &time, &event, &[3.0, 2.0, 1.0], None);
//! assert_eq!(c.unwrap(), 1.0);
//!
//! // CLV: actual spend against predicted value.
//! let actual = [0.0, 5.0, 20.0, 100.0];
//! assert_eq!(normalized_gini(&actual, &[1.0, 2.0, 3.0, 4.0]).unwrap(), 1.0);
//! assert_eq!(spearman(&actual, &[1.0, 2.0, 3.0, 4.0]).unwrap(), 1.0);
//!
//! // A/B test: treated units convert more often.
//! use tenure_metrics::{AbOptions, OutcomeKind, ab_test};
//! let treated = [true, true, true, true, false, false, false, false];
//! let converted = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
//! let ab = ab_test(&treated, &converted, None, &AbOptions::default()).unwrap();
//! assert_eq!(ab.outcome_kind, OutcomeKind::Binary);
//! assert_eq!(ab.ate.estimate, 0.5);
//! assert!(!ab.srm.mismatch);
//! ```

mod ab;
mod calibration;
mod censoring;
mod classification;
mod clv;
mod error;
mod evaluate;
mod regression;
mod survival;
mod time_dependent;
mod uplift;

pub use ab::{
    AbOptions, AbReport, Cuped, Effect, GroupStats, Lift, OutcomeKind, PowerAnalysis, SRM_ALPHA,
    SrmTest, ab_test, cuped, normal_effect_size, normal_power, proportion_effect_size,
    relative_lift, sample_ratio_mismatch, two_proportion_test, welch_test, z_two_sided,
};
pub use calibration::{CalibrationBin, calibration_at_horizon};
pub use classification::{
    LOG_LOSS_EPS, RocCurve, average_precision, brier_score, log_loss, roc_auc, roc_curve,
};
pub use clv::{
    DecileRow, decile_chart, decile_mape, normalized_gini, spearman, top_decile_lift,
    zero_spend_auc,
};
pub use error::MetricsError;
pub use evaluate::{
    HORIZON_CALIBRATION_BINS, METRICS, evaluate, evaluate_survival_curves, higher_is_better,
};
pub use regression::{mae, rmse};
pub use survival::{SKSURV_TIED_TOL, concordance_index, uno_concordance};
pub use time_dependent::{
    RiskScores, brier_score_at, cumulative_dynamic_auc, integrated_brier_score, status_at,
};
pub use uplift::{
    PolicyValue, UpliftCurve, UpliftDecile, auuc, perfect_qini_curve, perfect_uplift_curve,
    policy_values, qini_coefficient, qini_curve, uplift_by_decile, uplift_curve,
};

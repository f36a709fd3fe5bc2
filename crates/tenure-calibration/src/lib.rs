//! Calibration of predicted probabilities, and the decisions they support.
//!
//! - Calibrators, fitted on out-of-fold predictions ([`fit()`],
//!   [`fit_survival`] for `1 − S(t | x)` at a horizon under censoring):
//!   Platt scaling ([`fit_platt`]), isotonic regression by
//!   pool-adjacent-violators ([`fit_isotonic`]) and temperature scaling on
//!   logits ([`fit_temperature`], or [`fit_temperature_logits`] on a neural
//!   network's raw logits). Each gives a plain
//!   [`Calibrator`](tenure_core::Calibrator) description that the runner
//!   stores with a model and an exporter can append to its graph.
//! - Measures ([`measure`]): expected and maximum calibration error over
//!   equal-width and equal-mass bins, the Brier score and its
//!   reliability/resolution/uncertainty decomposition, log loss,
//!   calibration slope and intercept, the Hosmer–Lemeshow test; the
//!   reliability diagram with Wilson 95% bands ([`reliability`]) and a
//!   histogram of predictions ([`histogram`]).
//! - Decisions: the profit curve and the profit-maximising threshold for a
//!   cost of a false positive and a value of a true positive
//!   ([`profit_curve`], [`best_threshold`], [`Costs::bayes_threshold`]), and
//!   precision and recall among the top k% ([`top_k`]).
//!
//! Binning, Brier score and log loss follow scikit-learn, and so do the
//! calibrators (Platt's smoothed targets, `IsotonicRegression`, two-class
//! temperature scaling); the tests compare with its outputs, recorded by
//! `scripts/reference/sklearn_calibration.py`.
//!
//! ```
//! use tenure_calibration::{Binning, Method, fit, measure, reliability};
//!
//! // An over-confident model: it says 0.9 where one in two churn...
//! let p = [0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1];
//! let y = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
//! let before = measure(&p, &y, 5)?;
//! assert!((before.ece_equal_width - 0.275).abs() < 1e-12);
//!
//! // ...so isotonic regression on out-of-fold rows pulls it back.
//! let iso = fit(Method::Isotonic, &p, &y, None)?.expect("a calibrator");
//! let calibrated = iso.apply_all(&p);
//! assert!((calibrated[0] - 0.5).abs() < 1e-12 && (calibrated[4] - 0.25).abs() < 1e-12);
//! let after = reliability(&calibrated, &y, 5, Binning::EqualWidth)?;
//! assert!(after.iter().all(|b| (b.observed - b.mean_predicted).abs() < 1e-12));
//! # Ok::<(), tenure_calibration::CalibrationError>(())
//! ```

mod decision;
mod error;
mod fit;
mod measures;
mod newton;

pub use decision::{Costs, ProfitPoint, TopK, best_threshold, profit_at, profit_curve, top_k};
pub use error::CalibrationError;
pub use fit::{
    Method, fit, fit_isotonic, fit_platt, fit_platt_logits, fit_survival, fit_temperature,
    fit_temperature_logits,
};
pub use measures::{
    Binning, BrierDecomposition, CalibrationErrors, HosmerLemeshow, Measures, ReliabilityBin,
    SlopeIntercept, bin_edges, brier_decomposition, calibration_errors,
    calibration_slope_intercept, histogram, hosmer_lemeshow, measure, reliability,
};

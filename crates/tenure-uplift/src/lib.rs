//! Uplift models: who should a campaign target? They estimate the
//! individual treatment effect `τ(x) = E[Y | x, treated] − E[Y | x, control]`
//! from a randomised experiment, with any tenure model as the base learner.
//!
//! | meta-learner | base models | uplift |
//! |---|---|---|
//! | [`TLearner`] (two models) | `μ₁` on treated rows, `μ₀` on control rows | `μ₁(x) − μ₀(x)` |
//! | [`XLearner`] (Künzel et al. 2019) | `μ₀, μ₁`, then effect regressions `τ₁` on `Y₁ − μ₀(X₁)` and `τ₀` on `μ₁(X₀) − Y₀` | `p·τ₀(x) + (1 − p)·τ₁(x)` |
//! | [`ClassTransformation`] (Jaskowski & Jaroszewicz 2012) | one classifier of `Z = 1{Y = W}` with the arms weighted equally | `2 P(Z = 1 | x) − 1` |
//!
//! `p` is the share of treated training rows, the propensity of a
//! randomised experiment. For a continuous outcome the class transformation
//! becomes the transformed-outcome regression `E[Y (W − p) / (p (1 − p)) | x]`.
//!
//! A base learner is anything that implements [`BaseLearner`]: every
//! tenure model family through [`Learner`] (checked parameters that
//! implement [`Fit`](tenure_core::Fit)), or the runner's configured models.
//! The class transformation needs a classifier that honours dataset
//! weights when the arms are unequal.
//!
//! ```
//! use tenure_core::{Matrix, ParamGuard, Target};
//! use tenure_stats::{LogisticRegressionParams, RidgeRegressionParams};
//! use tenure_uplift::{Learner, TLearner, UpliftData, UpliftLearner, XLearner};
//!
//! // Treatment raises the rate of a good outcome from 30% to 70%, but only
//! // where x > 0: ten customers per (x, arm) cell, 3 or 7 of them with y = 1.
//! let mut rows = Vec::new();
//! let (mut y, mut treated) = (Vec::new(), Vec::new());
//! for step in 0..20 {
//!     let x = f64::from(step) / 10.0 - 0.95;
//!     for w in [true, false] {
//!         let ones = if w && x > 0.0 { 7 } else { 3 };
//!         for k in 0..10 {
//!             rows.push(vec![x]);
//!             y.push(f64::from(u8::from(k < ones)));
//!             treated.push(w);
//!         }
//!     }
//! }
//! let x = Matrix::from_rows(&rows).unwrap();
//! let names = vec!["x".to_string()];
//! let outcome = Target::Binary(y);
//! let data = UpliftData::new(&x, &names, &outcome, &treated).unwrap();
//!
//! let logistic = Learner(LogisticRegressionParams::new().check().unwrap());
//! let ridge = Learner(RidgeRegressionParams::new().check().unwrap());
//! let test = Matrix::from_rows(&[vec![-0.8], vec![0.8]]).unwrap();
//! for model in [
//!     &TLearner::new(&logistic) as &dyn UpliftLearner,
//!     &XLearner::new(&logistic, &ridge),
//! ] {
//!     let uplift = model.fit_predict(&data, &test).unwrap();
//!     assert!(uplift[1] > uplift[0], "{}: {uplift:?}", model.name());
//! }
//! ```

mod error;
mod learners;

pub use error::UpliftError;
pub use learners::{
    BaseLearner, ClassTransformation, Learner, LearnerError, META_LEARNERS, TLearner, UpliftData,
    UpliftLearner, XLearner,
};

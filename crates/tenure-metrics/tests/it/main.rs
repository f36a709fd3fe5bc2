//! Integration tests of tenure-metrics: golden values from scikit-learn,
//! lifelines and scikit-survival, hand-worked CLV and calibration examples,
//! property tests against naive twins, error cases.

mod clv;
mod errors;
mod evaluate;
mod golden;
mod naive;
mod properties;
mod sksurv;
mod survival;

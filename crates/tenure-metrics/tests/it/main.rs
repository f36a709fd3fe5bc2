//! Integration tests of tenure-metrics: golden values from scikit-learn,
//! lifelines, scikit-survival, statsmodels and scikit-uplift, hand-worked CLV and calibration examples,
//! property tests against naive twins, error cases.

mod ab;
mod clv;
mod errors;
mod evaluate;
mod golden;
mod naive;
mod properties;
mod sksurv;
mod survival;
mod uplift;

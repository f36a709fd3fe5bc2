//! Integration tests of tenure-metrics: golden values from scikit-learn and
//! lifelines, property tests against naive twins, error cases.

mod errors;
mod evaluate;
mod golden;
mod naive;
mod properties;

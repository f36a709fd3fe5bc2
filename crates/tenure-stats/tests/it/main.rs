//! Integration tests of tenure-stats: golden agreement with scikit-learn and
//! lifelines, properties against naive definitions, error cases.

mod common;
mod golden;
mod historical;
mod kaplan_meier;
mod logistic;
mod params;

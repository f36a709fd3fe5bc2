//! Integration tests of tenure-stats: golden agreement with scikit-learn and
//! lifelines, properties against naive definitions, error cases.

mod bgnbd;
mod common;
mod cox;
mod gamma_gamma;
mod golden;
mod historical;
mod kaplan_meier;
mod logistic;
mod params;
mod ridge;

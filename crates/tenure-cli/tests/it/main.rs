//! End-to-end tests of the `tenure` binary: what a user types, what they see.

mod ab;
mod bad_input;
mod bench;
mod common;
mod export;
mod fit;
mod gbdt;
mod interrupt;
mod mlflow;
mod neural;
mod pathological;
mod registry;
mod report;
mod run;
mod tune;

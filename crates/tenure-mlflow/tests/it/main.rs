//! tenure-mlflow against a real `mlflow server` (see
//! `tenure_mlflow::testing`), and its error handling against small fake
//! servers that misbehave on purpose.

mod conformance;
mod errors;
mod fuzz;
mod server;

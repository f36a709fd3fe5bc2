//! tenure's tracking store and model registry on a real MLflow server,
//! through MLflow's REST API (there is no maintained Rust MLflow client).
//!
//! [`MlflowStore`] implements [`tenure_store::TrackingStore`] and
//! [`MlflowRegistry`] implements [`tenure_store::ModelRegistry`], so
//! `tenure run`, `tenure runs` and `tenure registry` behave the same on a
//! server as on the embedded local store. The client:
//!
//! - takes credentials from `MLFLOW_TRACKING_TOKEN` (bearer) or
//!   `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` (basic), and never
//!   prints them;
//! - retries connection failures, 429 and 5xx with exponential backoff;
//! - classifies failures ([`tenure_store::RemoteErrorKind`]): bad
//!   credentials, forbidden, not found, a server that is not MLflow;
//! - splits `log-batch` requests at the server's limits (1000 metrics, 100
//!   params, 100 tags) and spells NaN and infinities as MLflow expects;
//! - moves artifacts through the server's `mlflow-artifacts` proxy.
//!
//! ```
//! use tenure_mlflow::MlflowStore;
//! use tenure_store::{RemoteErrorKind, StoreError, TrackingStore};
//!
//! // Nothing listens on port 9 of the loopback: after its retries the
//! // client says the server is unavailable.
//! let client = tenure_mlflow::MlflowClient::new("http://127.0.0.1:9")?
//!     .with_retry(tenure_mlflow::RetryPolicy { max_retries: 1, ..Default::default() });
//! let store = MlflowStore::new(client);
//! match store.list_experiments() {
//!     Err(StoreError::Remote(e)) => assert_eq!(e.kind, RemoteErrorKind::Unavailable),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
#[doc(hidden)]
pub mod fuzz;
mod registry;
#[cfg(feature = "testing")]
pub mod testing;
mod tracking;

pub use client::{Auth, MlflowClient, RetryPolicy};
pub use registry::MlflowRegistry;
pub use tracking::{
    MAX_ENTITIES_PER_BATCH, MAX_METRICS_PER_BATCH, MAX_PARAMS_PER_BATCH, MAX_TAGS_PER_BATCH,
    MlflowStore,
};

/// Whether a tracking URI names an MLflow server (`http://`/`https://`)
/// rather than a local directory.
pub fn is_remote_uri(uri: &str) -> bool {
    let lower = uri.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

//! Local experiment tracking in MLflow's file-store layout.
//!
//! [`LocalStore`] writes experiments, runs, params, metrics, tags and
//! artifacts to a directory that MLflow's UI can browse directly
//! (`MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri <root>`):
//!
//! ```text
//! <root>/<experiment_id>/meta.yaml
//! <root>/<experiment_id>/<run_id>/meta.yaml
//! <root>/<experiment_id>/<run_id>/params/<key>     the value, no newline
//! <root>/<experiment_id>/<run_id>/metrics/<key>    "timestamp_ms value step" lines
//! <root>/<experiment_id>/<run_id>/tags/<key>
//! <root>/<experiment_id>/<run_id>/artifacts/...
//! ```
//!
//! Every file is replaced atomically (temporary file, fsync, rename), so a
//! reader never sees a torn write, and several processes may log to one store
//! at once: experiment creation is serialised by a lock file, and per-run
//! read-modify-write updates by a lock file in the run's folder.
//!
//! ```
//! use tenure_store::{LocalStore, RunStatus};
//!
//! let dir = tempfile::tempdir()?;
//! let store = LocalStore::open(dir.path().join("tenure-runs"))?;
//! let exp = store.get_or_create_experiment("churn-gbdt")?;
//! let run = store.create_run(&exp, "baseline", &[("dataset", "telco")])?;
//!
//! store.log_param(&run, "learning_rate", "0.05")?;
//! for (step, loss) in [0.69, 0.52, 0.47].into_iter().enumerate() {
//!     store.log_metric(&run, "train/logloss", loss, step as i64)?;
//! }
//! store.log_artifact_bytes(&run, "model/summary.txt", b"300 trees")?;
//! store.end_run(&run, RunStatus::Finished)?;
//!
//! let logged = store.get_run(&run)?;
//! assert_eq!(logged.info.status, RunStatus::Finished);
//! assert_eq!(logged.params["learning_rate"], "0.05");
//! assert_eq!(logged.metrics["train/logloss"].len(), 3);
//! assert_eq!(logged.latest_metric("train/logloss"), Some(0.47));
//! assert_eq!(logged.tags["mlflow.runName"], "baseline");
//! assert_eq!(logged.artifacts, ["model/summary.txt"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod fsutil;
#[doc(hidden)]
pub mod fuzz;
mod model;
pub mod registry;
mod store;
mod tracking;
mod validate;
mod yaml;

pub use error::{RemoteError, RemoteErrorKind, Result, StoreError};
pub use model::{Experiment, LifecycleStage, MetricPoint, Run, RunInfo, RunStatus};
pub use registry::{LocalRegistry, ModelRegistry};
pub use store::{DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, LocalStore, RUN_NAME_TAG};
pub use tracking::{Metric, TrackingStore};

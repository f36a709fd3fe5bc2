//! Shared vocabulary of tenure: what a task is, the dense dataset every model
//! trains on, the `Fit`/`Predict` traits all model families implement, and the
//! parameter-checking convention (`Params` → `ValidParams`).
//!
//! No heavy dependencies live here, so every other crate can depend on it and
//! still build in seconds.
//!
//! ```
//! use tenure_core::{Dataset, Matrix, Target, Task};
//!
//! let x = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, f64::NAN]]).unwrap();
//! let data = Dataset::new(
//!     x,
//!     vec!["recency_days".into(), "frequency_90d".into()],
//!     Target::Binary(vec![0.0, 1.0]),
//! )
//! .unwrap();
//! assert_eq!(data.task(), Task::Churn);
//! assert_eq!(data.n_rows(), 2);
//! assert!(data.x().get(1, 1).is_nan());
//! ```

pub mod calibrator;
mod dataset;
mod device;
mod error;
pub mod interrupt;
mod model;
pub mod spec;
pub mod spec_categories;
pub mod spec_network;
mod task;

pub use calibrator::Calibrator;
pub use dataset::{Dataset, Matrix, Target};
pub use device::DeviceRequest;
pub use error::{CoreError, Result};
pub use model::{Fit, ParamGuard, Predict, PredictSurvival};
pub use spec::{LinearModel, Link, TreeEnsemble};
pub use spec_network::{NetworkHead, NetworkSpec};
pub use task::Task;

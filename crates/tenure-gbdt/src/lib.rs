//! Histogram gradient boosting for churn, CLV and survival: binary log
//! loss, squared error, Tweedie (log link) and Cox partial likelihood.
//!
//! Features are quantile-binned once (at most 255 bins; missing values get
//! their own bin and every split learns where they go); trees grow leaf-wise
//! from gradient histograms, building the smaller child and subtracting for
//! the larger. Threads share the rows of large leaves in fixed blocks
//! added in a fixed order, so a model is bit-identical whatever the thread
//! count. A trained [`Booster`] converts
//! to the plain [`tenure_core::TreeEnsemble`] that the ONNX exporter reads,
//! and predicts exactly what that specification predicts.
//!
//! With the `gpu` feature (`cuda` for CUDA), [`train_on`] trains on a GPU
//! that `tenure-device` resolved: the binned matrix stays on the device,
//! every leaf's histogram is summed there from quantised gradients with
//! integer atomics (every objective's gradients are computed there too,
//! row weights included, in the integer arithmetic of [`fixed`] and
//! [`cox`] that the CPU's quantised mode shares; weighted Cox's on the
//! host), and each feature's thresholds or sets of levels are
//! shortlisted there for the host to score, with a bound that tells when
//! the list settles the split (`gpu`), so the trees are the CPU's with
//! `use_quantized_grad`, bit for bit.
//!
//! ```
//! use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Target};
//! use tenure_gbdt::{GbdtParams, Objective};
//!
//! // y = 1 when x0 > 0.5, with x1 as noise.
//! let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![(i % 100) as f64 / 100.0, (i % 7) as f64]).collect();
//! let y: Vec<f64> = rows.iter().map(|r| f64::from(r[0] > 0.5)).collect();
//! let data = Dataset::new(Matrix::from_rows(&rows).unwrap(), vec!["x0".into(), "x1".into()], Target::Binary(y)).unwrap();
//!
//! let model = GbdtParams::new()
//!     .with(|c| { c.objective = Objective::Binary; c.num_iterations = 20; c.min_data_in_leaf = 5; })
//!     .check().unwrap()
//!     .fit(&data).unwrap();
//! let p = model.predict(&Matrix::from_rows(&[vec![0.9, 3.0], vec![0.1, 3.0]]).unwrap()).unwrap();
//! assert!(p[0] > 0.9 && p[1] < 0.1);
//! // The exported specification predicts the same, bit for bit.
//! assert_eq!(model.to_spec().predict(&Matrix::from_rows(&[vec![0.9, 3.0]]).unwrap()).unwrap()[0], p[0]);
//! ```

pub mod bin;
mod booster;
pub mod cox;
mod error;
pub mod fixed;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod hist;
pub mod metric;
pub mod objective;
mod params;
pub mod split;
pub mod synthetic;
pub mod tree;

pub use booster::{
    Booster, DeviceTraffic, EvalRecord, ImportanceKind, OnRound, Round, TrainLabels, TrainSet,
    train, train_on, train_with,
};
pub use error::{GbdtError, Result};
pub use metric::EvalMetric;
pub use objective::Objective;
pub use params::{GbdtConfig, GbdtParams, GbdtValidParams, PARAM_NAMES};

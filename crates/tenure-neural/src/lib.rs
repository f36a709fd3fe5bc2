//! Neural churn, survival and CLV models on [burn], on any device.
//!
//! - [`MlpParams`] → [`MlpModel`]: a multilayer perceptron for churn
//!   (hidden layers, activation, dropout, batch or layer norm, embeddings of
//!   categorical codes, class weights). Predicts churn probabilities.
//! - [`DeepSurvParams`] → [`DeepSurvModel`]: DeepSurv (Katzman et al. 2018),
//!   a network for the log hazard ratio trained on the negative Cox partial
//!   log-likelihood (Breslow or Efron ties, over each mini-batch sorted by
//!   time); a Breslow baseline then gives `S(t | x)` at any time.
//! - [`ZilnParams`] → [`ZilnModel`]: the zero-inflated lognormal of Wang,
//!   Liu & Miao (2019) for customer lifetime value; predicts the expected
//!   spend, and quantiles.
//!
//! All three share one training loop (AdamW, cosine or constant learning
//! rate with warm-up, per-parameter gradient clipping, shuffled mini-batches,
//! early stopping on a held-out share with the best weights restored) and
//! one preprocessing fitted on the training rows (imputation,
//! standardisation, category indices), stored with the model. Each model
//! converts to a plain [`NetworkSpec`](tenure_core::NetworkSpec) whose
//! forward pass, in plain Rust, matches burn's.
//!
//! The device is a value: a [`ResolvedDevice`](tenure_device::ResolvedDevice)
//! from `tenure-device` (`Cpu` is the pure-Rust flex backend; `Wgpu` and
//! `Cuda` need the crate features of the same names). A seeded fit on the
//! CPU repeats exactly.
//!
//! ```
//! use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
//! use tenure_neural::{MlpParams, NetworkConfig, TrainConfig};
//!
//! // y = 1 when x0 + x1 > 0.
//! let rows: Vec<Vec<f64>> = (0..200)
//!     .map(|i| vec![(i % 20) as f64 / 10.0 - 1.0, ((i * 7) % 20) as f64 / 10.0 - 1.0])
//!     .collect();
//! let y = rows.iter().map(|r| f64::from(u8::from(r[0] + r[1] > 0.0))).collect();
//! let data = Dataset::new(Matrix::from_rows(&rows)?, vec!["a".into(), "b".into()], Target::Binary(y))?;
//! let model = MlpParams::new()
//!     .network(NetworkConfig { hidden: vec![8], dropout: 0.0, ..NetworkConfig::default() })
//!     .train(TrainConfig { epochs: 30, batch_size: 32, learning_rate: 0.02, ..TrainConfig::default() })
//!     .check()?
//!     .fit(&data)?;
//! let p = model.predict(&Matrix::from_rows(&[vec![0.9, 0.9], vec![-0.9, -0.9]])?)?;
//! assert!(p[0] > 0.5 && p[1] < 0.5);
//! // The plain specification predicts the same.
//! let spec = model.to_spec();
//! let q = spec.predict(&Matrix::from_rows(&[vec![0.9, 0.9], vec![-0.9, -0.9]])?)?;
//! assert!((p[0] - q[0]).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backend;
mod config;
mod error;
mod loss;
mod models;
mod net;
mod params;
mod preprocess;
mod train;

pub use backend::burn_device;
pub use config::NeuralConfig;
pub use error::{NeuralError, Result};
pub use loss::{CoxMeta, CoxTies, binary_cross_entropy, cox_negative_log_likelihood, ziln_loss};
pub use models::{
    DeepSurvModel, DeepSurvParams, DeepSurvValidParams, MlpModel, MlpParams, MlpValidParams,
    OnEpochScores, ZilnDistribution, ZilnModel, ZilnParams, ZilnValidParams, breslow_baseline,
};
pub use params::{
    ActivationKind, ClassWeight, ClassWeightPreset, LrSchedule, NetworkConfig, NeuralParams,
    NormKind, TrainConfig,
};
pub use preprocess::{CategoryIndex, Inputs, Preprocessor};
pub use train::TrainReport;

/// burn's device type, for callers that build one with [`burn_device`].
pub use burn::tensor::Device;

//! Hyperparameters shared by the three models: the network's shape and the
//! training loop. Both are plain serde structs with defaults, so an
//! experiment's `params = { ... }` table maps onto them directly.

use serde::{Deserialize, Serialize};
use tenure_device::ResolvedDevice;

use crate::error::{Result, ensure_param};

/// Nonlinearity of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationKind {
    #[default]
    Relu,
    /// Slope 0.01 below zero.
    LeakyRelu,
    Tanh,
    Sigmoid,
}

/// Normalisation after each hidden layer's dense part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    #[default]
    None,
    Batch,
    Layer,
}

/// How the learning rate moves over training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    Constant,
    /// Cosine decay from `learning_rate` to 1 % of it over all epochs.
    #[default]
    Cosine,
}

/// Shape of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Units of each hidden layer, input side first.
    pub hidden: Vec<usize>,
    pub activation: ActivationKind,
    /// Dropout probability after each hidden layer.
    pub dropout: f64,
    pub norm: NormKind,
    /// Feature columns holding integer category codes, embedded instead of
    /// standardised.
    pub categorical: Vec<String>,
    pub embedding_dim: usize,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            hidden: vec![64, 32],
            activation: ActivationKind::Relu,
            dropout: 0.1,
            norm: NormKind::None,
            categorical: Vec::new(),
            embedding_dim: 4,
        }
    }
}

/// The training loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Most passes over the training rows.
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    pub schedule: LrSchedule,
    /// Epochs of linear warm-up before the schedule starts.
    pub warmup_epochs: usize,
    /// Largest L2 norm of each parameter's gradient (burn clips per
    /// parameter tensor); `None` turns clipping off.
    pub grad_clip: Option<f64>,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Share of the training rows held out for early stopping; 0 trains for
    /// every epoch and keeps the last weights.
    pub validation_fraction: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 512,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            schedule: LrSchedule::Cosine,
            warmup_epochs: 0,
            grad_clip: Some(5.0),
            patience: 8,
            validation_fraction: 0.15,
            seed: 42,
        }
    }
}

impl NetworkConfig {
    pub(crate) fn check(&self) -> Result<()> {
        ensure_param!(
            self.hidden.iter().all(|&h| h > 0),
            "hidden",
            "every hidden layer needs at least one unit, got {:?}",
            self.hidden
        );
        ensure_param!(
            self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout),
            "dropout",
            "must be in [0, 1), got {}",
            self.dropout
        );
        ensure_param!(
            self.embedding_dim > 0,
            "embedding_dim",
            "must be at least 1"
        );
        Ok(())
    }
}

impl TrainConfig {
    pub(crate) fn check(&self) -> Result<()> {
        ensure_param!(self.epochs > 0, "epochs", "must be at least 1");
        ensure_param!(
            self.batch_size >= 2,
            "batch_size",
            "must be at least 2, got {}",
            self.batch_size
        );
        ensure_param!(
            self.learning_rate.is_finite() && self.learning_rate > 0.0,
            "learning_rate",
            "must be positive, got {}",
            self.learning_rate
        );
        ensure_param!(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            "weight_decay",
            "must be >= 0, got {}",
            self.weight_decay
        );
        if let Some(c) = self.grad_clip {
            ensure_param!(
                c.is_finite() && c > 0.0,
                "grad_clip",
                "must be positive, got {c}"
            );
        }
        ensure_param!(self.patience > 0, "patience", "must be at least 1");
        ensure_param!(
            self.validation_fraction.is_finite() && (0.0..=0.5).contains(&self.validation_fraction),
            "validation_fraction",
            "must be in [0, 0.5], got {}",
            self.validation_fraction
        );
        Ok(())
    }

    /// Learning rate at `epoch` (0-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        let lr = self.learning_rate;
        if epoch < self.warmup_epochs {
            return lr * (epoch + 1) as f64 / (self.warmup_epochs + 1) as f64;
        }
        match self.schedule {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine => {
                let span = self.epochs.saturating_sub(self.warmup_epochs).max(1) as f64;
                let t = (epoch - self.warmup_epochs) as f64 / span;
                let floor = 0.01 * lr;
                floor + (lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// Everything a fit needs besides the data: network, training loop and the
/// device it runs on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NeuralParams {
    pub network: NetworkConfig,
    pub train: TrainConfig,
    pub device: ResolvedDevice,
}

impl NeuralParams {
    pub(crate) fn check(&self) -> Result<()> {
        self.network.check()?;
        self.train.check()
    }
}

/// Weighting of the churn classes in the MLP's loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", untagged)]
pub enum ClassWeight {
    /// `none` or `balanced`.
    Preset(ClassWeightPreset),
    /// Weight of a positive (churned) row; negatives weigh 1.
    Positive(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeightPreset {
    #[default]
    None,
    /// Each class weighs in total as much as the other.
    Balanced,
}

impl Default for ClassWeight {
    fn default() -> Self {
        ClassWeight::Preset(ClassWeightPreset::None)
    }
}

impl ClassWeight {
    pub(crate) fn check(&self) -> Result<()> {
        if let ClassWeight::Positive(w) = self {
            ensure_param!(
                w.is_finite() && *w > 0.0,
                "class_weight",
                "a positive-class weight must be positive, got {w}"
            );
        }
        Ok(())
    }

    /// `(weight of negatives, weight of positives)` for labels `y`.
    pub fn weights(&self, y: &[f64]) -> (f64, f64) {
        match self {
            ClassWeight::Preset(ClassWeightPreset::None) => (1.0, 1.0),
            ClassWeight::Positive(w) => (1.0, *w),
            ClassWeight::Preset(ClassWeightPreset::Balanced) => {
                let n = y.len() as f64;
                let pos = y.iter().filter(|&&v| v > 0.5).count() as f64;
                let neg = n - pos;
                if pos == 0.0 || neg == 0.0 {
                    (1.0, 1.0)
                } else {
                    (n / (2.0 * neg), n / (2.0 * pos))
                }
            }
        }
    }
}

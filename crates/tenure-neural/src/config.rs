//! One flat table of keys for all three models, as an experiment's
//! `params = { ... }` gives them; each key absent takes its default.

use serde::Deserialize;
use tenure_core::ParamGuard;
use tenure_device::ResolvedDevice;

use crate::loss::CoxTies;
use crate::models::{
    DeepSurvParams, DeepSurvValidParams, MlpParams, MlpValidParams, ZilnParams, ZilnValidParams,
};
use crate::params::{
    ActivationKind, ClassWeight, LrSchedule, NetworkConfig, NormKind, TrainConfig,
};
use crate::{NeuralError, Result};

/// Every key a neural model accepts; unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuralConfig {
    pub hidden: Option<Vec<usize>>,
    pub activation: Option<ActivationKind>,
    pub dropout: Option<f64>,
    pub norm: Option<NormKind>,
    pub categorical: Option<Vec<String>>,
    pub embedding_dim: Option<usize>,
    pub epochs: Option<usize>,
    pub batch_size: Option<usize>,
    pub learning_rate: Option<f64>,
    pub weight_decay: Option<f64>,
    pub schedule: Option<LrSchedule>,
    pub warmup_epochs: Option<usize>,
    /// 0 turns clipping off.
    pub grad_clip: Option<f64>,
    pub patience: Option<usize>,
    pub validation_fraction: Option<f64>,
    pub seed: Option<u64>,
    /// MLP only: `"none"`, `"balanced"` or the weight of a churned row.
    pub class_weight: Option<ClassWeight>,
    /// DeepSurv only: `"efron"` or `"breslow"`.
    pub ties: Option<CoxTies>,
}

impl NeuralConfig {
    pub fn network(&self) -> NetworkConfig {
        let d = NetworkConfig::default();
        NetworkConfig {
            hidden: self.hidden.clone().unwrap_or(d.hidden),
            activation: self.activation.unwrap_or(d.activation),
            dropout: self.dropout.unwrap_or(d.dropout),
            norm: self.norm.unwrap_or(d.norm),
            categorical: self.categorical.clone().unwrap_or(d.categorical),
            embedding_dim: self.embedding_dim.unwrap_or(d.embedding_dim),
        }
    }

    /// The training loop; `default_seed` when the table gives none.
    pub fn train(&self, default_seed: u64) -> TrainConfig {
        let d = TrainConfig::default();
        TrainConfig {
            epochs: self.epochs.unwrap_or(d.epochs),
            batch_size: self.batch_size.unwrap_or(d.batch_size),
            learning_rate: self.learning_rate.unwrap_or(d.learning_rate),
            weight_decay: self.weight_decay.unwrap_or(d.weight_decay),
            schedule: self.schedule.unwrap_or(d.schedule),
            warmup_epochs: self.warmup_epochs.unwrap_or(d.warmup_epochs),
            grad_clip: match self.grad_clip {
                Some(0.0) => None,
                Some(c) => Some(c),
                None => d.grad_clip,
            },
            patience: self.patience.unwrap_or(d.patience),
            validation_fraction: self.validation_fraction.unwrap_or(d.validation_fraction),
            seed: self.seed.unwrap_or(default_seed),
        }
    }

    fn only_for(&self, model: &'static str) -> Result<()> {
        let stray = match model {
            "mlp" => self.ties.map(|_| "ties"),
            "deepsurv" => self.class_weight.map(|_| "class_weight"),
            _ => self
                .ties
                .map(|_| "ties")
                .or(self.class_weight.map(|_| "class_weight")),
        };
        match stray {
            Some(key) => Err(NeuralError::InvalidParam {
                name: key,
                reason: format!("`{key}` does not apply to {model}"),
            }),
            None => Ok(()),
        }
    }

    pub fn mlp(&self, seed: u64, device: ResolvedDevice) -> Result<MlpValidParams> {
        self.only_for("mlp")?;
        MlpParams::new()
            .network(self.network())
            .train(self.train(seed))
            .device(device)
            .class_weight(self.class_weight.unwrap_or_default())
            .check()
    }

    pub fn deepsurv(&self, seed: u64, device: ResolvedDevice) -> Result<DeepSurvValidParams> {
        self.only_for("deepsurv")?;
        DeepSurvParams::new()
            .network(self.network())
            .train(self.train(seed))
            .device(device)
            .ties(self.ties.unwrap_or_default())
            .check()
    }

    pub fn ziln(&self, seed: u64, device: ResolvedDevice) -> Result<ZilnValidParams> {
        self.only_for("ziln")?;
        ZilnParams::new()
            .network(self.network())
            .train(self.train(seed))
            .device(device)
            .check()
    }
}

//! Plain description of a trained feed-forward network (MLP, DeepSurv,
//! ZILN), for exporters and for checking them.
//!
//! A [`NetworkSpec`] takes raw feature rows, as the model did: numeric
//! columns are transformed (`asinh`, clamped), imputed and standardised by a [`Standardize`], categorical
//! columns are looked up in embedding tables, and the concatenation
//! `[standardised numeric..., embedding vectors...]` goes through the hidden
//! layers (dense → optional norm → activation) and one output layer, whose
//! values a [`NetworkHead`] turns into a prediction. Weights are `f32`, as
//! trained; the forward pass computes in `f64`.

use serde::{Deserialize, Serialize};

use crate::spec::Standardize;
use crate::{CoreError, Matrix, Result};

/// Element-wise nonlinearity after a hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Activation {
    Identity,
    Relu,
    /// `x` for `x >= 0`, `slope * x` below.
    LeakyRelu {
        slope: f64,
    },
    Tanh,
    Sigmoid,
}

impl Activation {
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Identity => x,
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu { slope } => {
                if x >= 0.0 {
                    x
                } else {
                    slope * x
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => sigmoid(x),
        }
    }
}

/// A fully connected layer: `y_j = bias_j + sum_i x_i weight[i * n_out + j]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    pub n_in: usize,
    pub n_out: usize,
    /// Row-major `n_in x n_out` (input-major, as burn and ONNX `Gemm` with
    /// an untransposed `B` store it).
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Dense {
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut y: Vec<f64> = self.bias.iter().map(|&b| f64::from(b)).collect();
        for (i, &xi) in x.iter().enumerate() {
            let row = &self.weight[i * self.n_out..(i + 1) * self.n_out];
            for (yj, &w) in y.iter_mut().zip(row) {
                *yj += xi * f64::from(w);
            }
        }
        y
    }

    fn check(&self, what: &str) -> Result<()> {
        if self.weight.len() != self.n_in * self.n_out || self.bias.len() != self.n_out {
            return Err(CoreError::Shape(format!(
                "{what}: {} weights and {} biases for a {} x {} layer",
                self.weight.len(),
                self.bias.len(),
                self.n_in,
                self.n_out
            )));
        }
        Ok(())
    }
}

/// Normalisation between a hidden layer's dense part and its activation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Norm {
    /// Inference-time batch norm: `(x - mean) / sqrt(var + epsilon) * gamma + beta`
    /// with the running statistics of training.
    Batch {
        mean: Vec<f32>,
        var: Vec<f32>,
        gamma: Vec<f32>,
        beta: Vec<f32>,
        epsilon: f64,
    },
    /// Layer norm over the layer's units (biased variance).
    Layer {
        gamma: Vec<f32>,
        beta: Vec<f32>,
        epsilon: f64,
    },
}

impl Norm {
    pub fn apply(&self, x: &mut [f64]) {
        match self {
            Norm::Batch {
                mean,
                var,
                gamma,
                beta,
                epsilon,
            } => {
                for (j, v) in x.iter_mut().enumerate() {
                    let z = (*v - f64::from(mean[j])) / (f64::from(var[j]) + epsilon).sqrt();
                    *v = z * f64::from(gamma[j]) + f64::from(beta[j]);
                }
            }
            Norm::Layer {
                gamma,
                beta,
                epsilon,
            } => {
                let n = x.len() as f64;
                let m = x.iter().sum::<f64>() / n;
                let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
                let sd = (var + epsilon).sqrt();
                for (j, v) in x.iter_mut().enumerate() {
                    *v = (*v - m) / sd * f64::from(gamma[j]) + f64::from(beta[j]);
                }
            }
        }
    }

    fn width(&self) -> usize {
        match self {
            Norm::Batch { gamma, .. } | Norm::Layer { gamma, .. } => gamma.len(),
        }
    }
}

/// Dense, then norm, then activation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenLayer {
    pub dense: Dense,
    pub norm: Option<Norm>,
    pub activation: Activation,
}

/// A categorical column read as an index into an embedding table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingSpec {
    /// Column of the raw feature matrix.
    pub feature: u32,
    /// Category codes seen in training, sorted; code `levels[k]` reads row
    /// `k + 1` of the table. Row 0 serves missing and unseen codes.
    pub levels: Vec<f64>,
    pub dim: usize,
    /// Row-major `(levels.len() + 1) x dim`.
    pub table: Vec<f32>,
}

impl EmbeddingSpec {
    /// Row of the table a raw value reads.
    pub fn index(&self, x: f64) -> usize {
        if x.is_nan() {
            return 0;
        }
        match self.levels.binary_search_by(|l| l.total_cmp(&x)) {
            Ok(k) => k + 1,
            Err(_) => 0,
        }
    }
}

/// What the output layer's values mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NetworkHead {
    /// One output, the logit of the churn probability.
    Logistic,
    /// One output, the log hazard ratio (DeepSurv). The Breslow baseline
    /// cumulative hazard gives `S(t | x) = exp(-H0(t) exp(output))`.
    CoxLogHazard {
        times: Vec<f64>,
        cumulative_hazard: Vec<f64>,
    },
    /// Three outputs (ZILN): the logit of P(spend > 0), the lognormal `mu`,
    /// and the raw scale; `sigma = max(softplus(raw), ZILN_MIN_SIGMA)`. The prediction is the
    /// expected spend `p * exp(mu + sigma^2 / 2)`.
    ZeroInflatedLognormal,
}

impl NetworkHead {
    pub fn n_outputs(&self) -> usize {
        match self {
            NetworkHead::Logistic | NetworkHead::CoxLogHazard { .. } => 1,
            NetworkHead::ZeroInflatedLognormal => 3,
        }
    }

    /// The prediction from the output layer's values: a probability, a log
    /// hazard ratio (risk score) or an expected spend.
    pub fn predict(&self, out: &[f64]) -> f64 {
        match self {
            NetworkHead::Logistic => sigmoid(out[0]),
            NetworkHead::CoxLogHazard { .. } => out[0],
            NetworkHead::ZeroInflatedLognormal => {
                let (p, mu, sigma) = ziln_params(out);
                p * (mu + sigma * sigma / 2.0).exp()
            }
        }
    }
}

/// Smallest ZILN scale, as in the authors' implementation (`sqrt(1e-7)`):
/// training floors `sigma` here, so prediction (and the ONNX export) does.
pub const ZILN_MIN_SIGMA: f64 = 3.162_277_7e-4;

/// `(P(spend > 0), mu, sigma)` from a ZILN output triple.
pub fn ziln_params(out: &[f64]) -> (f64, f64, f64) {
    // Not `f64::max`, which would turn a NaN scale into the floor.
    let sigma = softplus(out[2]);
    let sigma = if sigma < ZILN_MIN_SIGMA {
        ZILN_MIN_SIGMA
    } else {
        sigma
    };
    (sigmoid(out[0]), out[1], sigma)
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `x` clamped into `[lo, hi]`; a missing value (`NaN`) stays missing.
pub fn clamp_to(x: f64, [lo, hi]: [f64; 2]) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// `ln(1 + e^x)`, without overflow for large `x`.
pub fn softplus(x: f64) -> f64 {
    if x > 20.0 { x } else { x.exp().ln_1p() }
}

/// A trained feed-forward network on raw features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    pub feature_names: Vec<String>,
    /// Raw columns read as numbers, in the order they enter the network.
    pub numeric: Vec<u32>,
    /// Imputation and scaling of the `numeric` columns (indexed like them).
    pub standardize: Standardize,
    /// Numeric columns go through `asinh` first (heavy-tailed counts and
    /// amounts); `standardize` and `clamp` are in those units.
    #[serde(default)]
    pub asinh: bool,
    /// The training range `[min, max]` of each `numeric` column: inputs are
    /// clamped into it before standardising, so the network is never
    /// evaluated where it never trained (a ZILN scale extrapolated to an
    /// outlier makes `exp(mu + sigma^2 / 2)` explode). Empty: no clamp.
    #[serde(default)]
    pub clamp: Vec<[f64; 2]>,
    pub embeddings: Vec<EmbeddingSpec>,
    pub hidden: Vec<HiddenLayer>,
    pub output: Dense,
    pub head: NetworkHead,
}

impl NetworkSpec {
    /// Checks that every piece fits the next.
    pub fn validate(&self) -> Result<()> {
        let p = self.feature_names.len();
        let bad_col = self
            .numeric
            .iter()
            .chain(self.embeddings.iter().map(|e| &e.feature))
            .find(|&&j| j as usize >= p);
        if let Some(j) = bad_col {
            return Err(CoreError::Shape(format!(
                "column {j} is out of range for {p} features"
            )));
        }
        let k = self.numeric.len();
        let s = &self.standardize;
        if s.mean.len() != k || s.scale.len() != k || s.impute.len() != k {
            return Err(CoreError::Shape(format!(
                "standardisation of {} columns for {k} numeric features",
                s.mean.len()
            )));
        }
        if !self.clamp.is_empty() && self.clamp.len() != k {
            return Err(CoreError::Shape(format!(
                "input ranges of {} columns for {k} numeric features",
                self.clamp.len()
            )));
        }
        if let Some(j) = self
            .clamp
            .iter()
            .position(|&[lo, hi]| lo.is_nan() || hi.is_nan() || lo > hi)
        {
            return Err(CoreError::Shape(format!(
                "input range of numeric column {j} is empty or not a number"
            )));
        }
        let mut width = k;
        for e in &self.embeddings {
            if e.table.len() != (e.levels.len() + 1) * e.dim {
                return Err(CoreError::Shape(format!(
                    "embedding of column {}: {} values for {} levels (+1) x {}",
                    e.feature,
                    e.table.len(),
                    e.levels.len(),
                    e.dim
                )));
            }
            width += e.dim;
        }
        for (l, layer) in self.hidden.iter().enumerate() {
            layer.dense.check(&format!("hidden layer {l}"))?;
            if layer.dense.n_in != width {
                return Err(CoreError::Shape(format!(
                    "hidden layer {l} takes {} inputs, gets {width}",
                    layer.dense.n_in
                )));
            }
            if let Some(norm) = &layer.norm
                && norm.width() != layer.dense.n_out
            {
                return Err(CoreError::Shape(format!(
                    "hidden layer {l}: norm of {} units after {} units",
                    norm.width(),
                    layer.dense.n_out
                )));
            }
            width = layer.dense.n_out;
        }
        self.output.check("output layer")?;
        if self.output.n_in != width || self.output.n_out != self.head.n_outputs() {
            return Err(CoreError::Shape(format!(
                "output layer is {} x {}, expected {width} x {}",
                self.output.n_in,
                self.output.n_out,
                self.head.n_outputs()
            )));
        }
        Ok(())
    }

    /// The network's input vector for one raw row.
    pub fn input(&self, row: &[f64]) -> Vec<f64> {
        let mut z: Vec<f64> = self
            .numeric
            .iter()
            .enumerate()
            .map(|(k, &j)| {
                let x = row[j as usize];
                let x = if self.asinh { x.asinh() } else { x };
                let x = self.clamp.get(k).map_or(x, |&r| clamp_to(x, r));
                self.standardize.apply(k, x)
            })
            .collect();
        for e in &self.embeddings {
            let i = e.index(row[e.feature as usize]);
            z.extend(
                e.table[i * e.dim..(i + 1) * e.dim]
                    .iter()
                    .map(|&v| f64::from(v)),
            );
        }
        z
    }

    /// The output layer's values for one raw row.
    pub fn forward_row(&self, row: &[f64]) -> Vec<f64> {
        let mut h = self.input(row);
        for layer in &self.hidden {
            h = layer.dense.forward(&h);
            if let Some(norm) = &layer.norm {
                norm.apply(&mut h);
            }
            for v in &mut h {
                *v = layer.activation.apply(*v);
            }
        }
        self.output.forward(&h)
    }

    /// Output layer values, one vector per row.
    pub fn forward(&self, x: &Matrix) -> Result<Vec<Vec<f64>>> {
        self.check_width(x)?;
        Ok(x.rows().map(|r| self.forward_row(r)).collect())
    }

    /// Predictions through the head, one per row.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        self.check_width(x)?;
        Ok(x.rows()
            .map(|r| self.head.predict(&self.forward_row(r)))
            .collect())
    }

    fn check_width(&self, x: &Matrix) -> Result<()> {
        if x.n_cols() != self.feature_names.len() {
            return Err(CoreError::Shape(format!(
                "the network takes {} features, the matrix has {}",
                self.feature_names.len(),
                x.n_cols()
            )));
        }
        Ok(())
    }
}

//! The feed-forward network all three models share, as a burn module, and
//! its conversion to a plain [`NetworkSpec`].

use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::RngExt;
use rand::rngs::StdRng;
use tenure_core::spec_network::{
    Activation, Dense, EmbeddingSpec, HiddenLayer, NetworkHead, NetworkSpec, Norm,
};

use crate::params::{ActivationKind, NetworkConfig, NormKind};
use crate::preprocess::Preprocessor;

const NORM_EPSILON: f64 = 1e-5;
const LEAKY_SLOPE: f64 = 0.01;

/// Hidden layers (dense → norm → activation → dropout) and an output layer.
#[derive(Module, Debug)]
pub struct Net {
    embedding: Option<Embedding>,
    layers: Vec<Linear>,
    batch_norms: Vec<BatchNorm>,
    layer_norms: Vec<LayerNorm>,
    output: Linear,
    #[module(skip)]
    activation: ActivationKind,
    #[module(skip)]
    n_numeric: usize,
    #[module(skip)]
    n_categorical: usize,
    #[module(skip)]
    embedding_dim: usize,
}

/// Uniform numbers on the device, drawn once per fit: dropout masks are
/// windows of it at offsets from the training loop's own generator, so a
/// seeded fit repeats exactly (burn's device generator is process-global)
/// and no mask crosses from host to device per batch.
#[derive(Debug)]
pub struct DropoutPool {
    pub(crate) uniform: Tensor<1>,
    pub(crate) len: usize,
    pub(crate) prob: f64,
}

impl DropoutPool {
    pub fn new(prob: f64, len: usize, rng: &mut StdRng, device: &Device) -> Self {
        let values: Vec<f32> = (0..len).map(|_| rng.random::<f32>()).collect();
        Self {
            uniform: Tensor::from_data(TensorData::new(values, [len]), device),
            len,
            prob,
        }
    }

    fn mask(&self, rows: usize, cols: usize, rng: &mut StdRng) -> Tensor<2> {
        let need = rows * cols;
        let start = if self.len > need {
            rng.random_range(0..=self.len - need)
        } else {
            0
        };
        self.uniform
            .clone()
            .slice(start..start + need)
            .reshape([rows, cols])
            .greater_equal_elem(self.prob)
            .float()
            .mul_scalar(1.0 / (1.0 - self.prob))
    }
}

/// Kaiming-uniform weights (PyTorch's default for linear layers) from our
/// generator, so that initialisation does not depend on burn's global one.
fn linear(n_in: usize, n_out: usize, bias: bool, rng: &mut StdRng, device: &Device) -> Linear {
    let bound = 1.0 / (n_in.max(1) as f32).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-bound..bound)).collect() };
    let weight = Tensor::<2>::from_data(TensorData::new(draw(n_in * n_out), [n_in, n_out]), device);
    let bias = bias.then(|| {
        Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(draw(n_out), [n_out]),
            device,
        ))
    });
    Linear {
        weight: Param::from_tensor(weight),
        bias,
    }
}

impl Net {
    /// A fresh network for `pre`'s inputs and `n_out` outputs.
    pub fn init(
        cfg: &NetworkConfig,
        pre: &Preprocessor,
        n_out: usize,
        output_bias: bool,
        rng: &mut StdRng,
        device: &Device,
    ) -> Self {
        let n_numeric = pre.numeric.len();
        let n_categorical = pre.categories.len();
        let embedding = (n_categorical > 0).then(|| {
            let rows = pre.n_embeddings();
            let d = cfg.embedding_dim;
            let values: Vec<f32> = (0..rows * d)
                .map(|_| {
                    // N(0, 1) as burn's embedding initialiser, by Box-Muller.
                    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
                    let u2: f32 = rng.random();
                    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
                })
                .collect();
            Embedding {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(values, [rows, d]),
                    device,
                )),
            }
        });
        let mut width = n_numeric + n_categorical * cfg.embedding_dim;
        let mut layers = Vec::new();
        let mut batch_norms = Vec::new();
        let mut layer_norms = Vec::new();
        for &h in &cfg.hidden {
            layers.push(linear(width, h, true, rng, device));
            match cfg.norm {
                NormKind::None => {}
                NormKind::Batch => batch_norms.push(
                    BatchNormConfig::new(h)
                        .with_epsilon(NORM_EPSILON)
                        .init(device),
                ),
                NormKind::Layer => layer_norms.push(
                    LayerNormConfig::new(h)
                        .with_epsilon(NORM_EPSILON)
                        .init(device),
                ),
            }
            width = h;
        }
        let output = linear(width, n_out, output_bias, rng, device);
        Self {
            embedding,
            layers,
            batch_norms,
            layer_norms,
            output,
            activation: cfg.activation,
            n_numeric,
            n_categorical,
            embedding_dim: cfg.embedding_dim,
        }
    }

    /// Output layer values `[rows, n_out]`. With `dropout`, masks are drawn
    /// (training); without, the network is deterministic.
    pub fn forward(
        &self,
        numeric: Option<Tensor<2>>,
        categories: Option<Tensor<2, Int>>,
        mut dropout: Option<(&DropoutPool, &mut StdRng)>,
    ) -> Tensor<2> {
        let embedded = match (&self.embedding, categories) {
            (Some(emb), Some(cats)) => {
                let [rows, c] = cats.dims();
                Some(emb.forward(cats).reshape([rows, c * self.embedding_dim]))
            }
            _ => None,
        };
        let mut h = match (numeric, embedded) {
            (Some(x), Some(e)) => Tensor::cat(vec![x, e], 1),
            (Some(x), None) => x,
            (None, Some(e)) => e,
            (None, None) => unreachable!("a network has numeric or categorical inputs"),
        };
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if let Some(bn) = self.batch_norms.get(l) {
                h = bn.forward(h);
            }
            if let Some(ln) = self.layer_norms.get(l) {
                h = ln.forward(h);
            }
            h = match self.activation {
                ActivationKind::Relu => activation::relu(h),
                ActivationKind::LeakyRelu => activation::leaky_relu(h, LEAKY_SLOPE),
                ActivationKind::Tanh => activation::tanh(h),
                ActivationKind::Sigmoid => activation::sigmoid(h),
            };
            if let Some((pool, rng)) = dropout.as_mut()
                && pool.prob > 0.0
            {
                let [rows, cols] = h.dims();
                h = h * pool.mask(rows, cols, rng);
            }
        }
        self.output.forward(h)
    }

    /// Units of the widest hidden layer (dropout masks are this wide at most).
    pub fn widest_layer(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weight.shape().dims::<2>()[1])
            .max()
            .unwrap_or(1)
    }

    pub fn n_numeric(&self) -> usize {
        self.n_numeric
    }

    pub fn n_categorical(&self) -> usize {
        self.n_categorical
    }

    /// The plain description of this network with `pre` in front and `head`
    /// behind.
    pub fn to_spec(
        &self,
        pre: &Preprocessor,
        feature_names: &[String],
        head: NetworkHead,
    ) -> NetworkSpec {
        let activation = match self.activation {
            ActivationKind::Relu => Activation::Relu,
            ActivationKind::LeakyRelu => Activation::LeakyRelu { slope: LEAKY_SLOPE },
            ActivationKind::Tanh => Activation::Tanh,
            ActivationKind::Sigmoid => Activation::Sigmoid,
        };
        let table = self.embedding.as_ref().map(|e| values(e.weight.val()));
        let embeddings = pre
            .categories
            .iter()
            .map(|c| {
                let d = self.embedding_dim;
                let rows = c.levels.len() + 1;
                let t = table
                    .as_ref()
                    .expect("categorical columns have an embedding");
                EmbeddingSpec {
                    feature: c.column as u32,
                    levels: c.levels.clone(),
                    dim: d,
                    table: t[c.offset * d..(c.offset + rows) * d].to_vec(),
                }
            })
            .collect();
        let hidden = self
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let norm = if let Some(bn) = self.batch_norms.get(l) {
                    Some(Norm::Batch {
                        mean: values(bn.running_mean.value()),
                        var: values(bn.running_var.value()),
                        gamma: values(bn.gamma.val()),
                        beta: values(bn.beta.val()),
                        epsilon: bn.epsilon,
                    })
                } else {
                    self.layer_norms.get(l).map(|ln| Norm::Layer {
                        gamma: values(ln.gamma.val()),
                        beta: ln.beta.as_ref().map_or_else(
                            || vec![0.0; ln.gamma.shape().dims::<1>()[0]],
                            |b| values(b.val()),
                        ),
                        epsilon: NORM_EPSILON,
                    })
                };
                HiddenLayer {
                    dense: dense(layer),
                    norm,
                    activation,
                }
            })
            .collect();
        NetworkSpec {
            feature_names: feature_names.to_vec(),
            numeric: pre.numeric.iter().map(|&j| j as u32).collect(),
            standardize: pre.standardize.clone(),
            asinh: true,
            clamp: pre.clamp.clone(),
            embeddings,
            hidden,
            output: dense(&self.output),
            head,
        }
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

fn dense(layer: &Linear) -> Dense {
    let [n_in, n_out] = layer.weight.shape().dims();
    Dense {
        n_in,
        n_out,
        weight: values(layer.weight.val()),
        bias: layer
            .bias
            .as_ref()
            .map_or_else(|| vec![0.0; n_out], |b| values(b.val())),
    }
}

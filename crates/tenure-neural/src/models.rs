//! The three models: parameters (`Params` → `ValidParams` → `Fit`) and the
//! fitted networks (`Predict`, `to_spec`).

use std::ops::ControlFlow;

use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use statrs::distribution::{ContinuousCDF, Normal};
use tenure_core::spec_network::{NetworkHead, NetworkSpec, ziln_params};
use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
use tenure_device::ResolvedDevice;

use crate::backend::burn_device;
use crate::loss::CoxTies;
use crate::net::Net;
use crate::params::{ClassWeight, NetworkConfig, NeuralParams, TrainConfig};
use crate::preprocess::Preprocessor;
use crate::train::{OnEpoch, Targets, TrainReport, forward_all, train};
use crate::{NeuralError, Result};

/// A trained network with its preprocessing, on the device it trained on.
#[derive(Debug)]
struct Trained {
    net: Net,
    pre: Preprocessor,
    feature_names: Vec<String>,
    device: Device,
    resolved: ResolvedDevice,
    report: TrainReport,
}

/// Watches a fit epoch by epoch: the 1-based epoch and the predictions of
/// the watched rows after it (what [`Predict::predict`] would give);
/// [`ControlFlow::Break`] ends training, keeping the best weights so far.
pub type OnEpochScores<'a> = dyn FnMut(usize, &[f64]) -> ControlFlow<()> + 'a;

/// Rows to score after every epoch, how a model turns its outputs into
/// predictions, and who is told.
struct Watch<'w, 'a> {
    x: &'w Matrix,
    score: fn(&[f64]) -> f64,
    on_epoch: &'w mut OnEpochScores<'a>,
}

impl Trained {
    fn fit(
        params: &NeuralParams,
        data: &Dataset,
        targets: Targets,
        n_out: usize,
        output_bias: bool,
        watch: Option<Watch<'_, '_>>,
    ) -> Result<Self> {
        let device = burn_device(&params.device)?;
        let mut rng = StdRng::seed_from_u64(params.train.seed);
        let pre = Preprocessor::fit(data.x(), data.feature_names(), &params.network.categorical)?;
        if pre.numeric.is_empty() && pre.categories.is_empty() {
            return Err(NeuralError::CannotTrain {
                model: "network",
                reason: "the dataset has no feature columns".into(),
            });
        }
        let inputs = pre.transform(data.x())?;
        let net = Net::init(
            &params.network,
            &pre,
            n_out,
            output_bias,
            &mut rng,
            &device.clone().autodiff(),
        );
        let mut observer = match watch {
            Some(w) => {
                let watched = pre.transform(w.x)?;
                let device = device.clone();
                Some(move |epoch: usize, net: &Net| {
                    let scores: Vec<f64> = forward_all(net, &watched, &device)
                        .chunks_exact(n_out)
                        .map(|o| (w.score)(&o.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()))
                        .collect();
                    (w.on_epoch)(epoch, &scores)
                })
            }
            None => None,
        };
        let (net, report) = train(
            net,
            &inputs,
            &targets,
            &params.train,
            params.network.dropout,
            &device,
            &mut rng,
            observer.as_mut().map(|f| f as &mut OnEpoch<'_>),
        )?;
        Ok(Self {
            net,
            pre,
            feature_names: data.feature_names().to_vec(),
            device,
            resolved: params.device.clone(),
            report,
        })
    }

    /// Output layer values, `n_out` per row.
    fn outputs(&self, x: &Matrix) -> Result<Vec<f32>> {
        let inputs = self.pre.transform(x)?;
        Ok(forward_all(&self.net, &inputs, &self.device))
    }

    fn spec(&self, head: NetworkHead) -> NetworkSpec {
        self.net.to_spec(&self.pre, &self.feature_names, head)
    }
}

fn wrong_target(model: &'static str, expected: &'static str, data: &Dataset) -> NeuralError {
    NeuralError::WrongTarget {
        model,
        expected,
        got: data.target().kind(),
    }
}

macro_rules! neural_params {
    ($params:ident, $valid:ident, $doc:literal $(, $extra:ident: $extra_ty:ty)*) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $params($valid);

        /// Checked parameters; only [`ParamGuard::check`] makes them.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $valid {
            neural: NeuralParams,
            $($extra: $extra_ty,)*
        }

        impl $params {
            pub fn new() -> Self {
                Self::default()
            }
            pub fn network(mut self, network: NetworkConfig) -> Self {
                self.0.neural.network = network;
                self
            }
            pub fn train(mut self, train: TrainConfig) -> Self {
                self.0.neural.train = train;
                self
            }
            /// Where to train and predict (see `tenure_device::resolve`).
            pub fn device(mut self, device: ResolvedDevice) -> Self {
                self.0.neural.device = device;
                self
            }
            $(pub fn $extra(mut self, value: $extra_ty) -> Self {
                self.0.$extra = value;
                self
            })*
        }

        impl $valid {
            pub fn network(&self) -> &NetworkConfig {
                &self.neural.network
            }
            pub fn train(&self) -> &TrainConfig {
                &self.neural.train
            }
            pub fn device(&self) -> &ResolvedDevice {
                &self.neural.device
            }
            /// The same parameters on another device (a device never makes
            /// parameters invalid).
            pub fn on_device(&self, device: ResolvedDevice) -> Self {
                let mut p = self.clone();
                p.neural.device = device;
                p
            }
            $(pub fn $extra(&self) -> &$extra_ty {
                &self.$extra
            })*
        }

        impl ParamGuard for $params {
            type Checked = $valid;
            type Error = NeuralError;

            fn check_ref(&self) -> Result<&$valid> {
                self.0.neural.check()?;
                self.0.check_extra()?;
                Ok(&self.0)
            }

            fn check(self) -> Result<$valid> {
                self.check_ref()?;
                Ok(self.0)
            }
        }
    };
}

neural_params!(
    MlpParams,
    MlpValidParams,
    "Hyperparameters of the MLP churn classifier.",
    class_weight: ClassWeight
);
neural_params!(
    DeepSurvParams,
    DeepSurvValidParams,
    "Hyperparameters of DeepSurv (Katzman et al. 2018).",
    ties: CoxTies
);
neural_params!(
    ZilnParams,
    ZilnValidParams,
    "Hyperparameters of the ZILN CLV model (Wang, Liu & Miao 2019)."
);

impl MlpValidParams {
    fn check_extra(&self) -> Result<()> {
        self.class_weight.check()
    }
}

impl DeepSurvValidParams {
    fn check_extra(&self) -> Result<()> {
        Ok(())
    }
}

impl ZilnValidParams {
    fn check_extra(&self) -> Result<()> {
        Ok(())
    }
}

/// `Fit` through the model's `fit_watched`, and `fit_observed`: the same
/// fit, telling `on_epoch` after every epoch the predictions (`$what`,
/// from the outputs by `$score`) of `valid`'s rows; it may end training (a
/// search pruning a trial). An observer that never breaks changes nothing.
macro_rules! observable_fit {
    ($params:ident, $model:ident, $what:literal, $score:expr) => {
        impl Fit for $params {
            type Model = $model;
            type Error = NeuralError;

            fn fit(&self, data: &Dataset) -> Result<$model> {
                self.fit_watched(data, None)
            }
        }

        impl $params {
            #[doc = concat!("[`Fit::fit`], calling `on_epoch` after every epoch with the predictions (", $what, ") of `valid`'s rows; it may end training.")]
            pub fn fit_observed(
                &self,
                data: &Dataset,
                valid: &Matrix,
                on_epoch: &mut OnEpochScores<'_>,
            ) -> Result<$model> {
                let watch = Watch {
                    x: valid,
                    score: $score,
                    on_epoch,
                };
                self.fit_watched(data, Some(watch))
            }
        }
    };
}

/// A fitted MLP churn classifier; predictions are churn probabilities.
#[derive(Debug)]
pub struct MlpModel(Trained);

observable_fit!(MlpValidParams, MlpModel, "churn probabilities", |o| {
    NetworkHead::Logistic.predict(o)
});

impl MlpValidParams {
    fn fit_watched(&self, data: &Dataset, watch: Option<Watch<'_, '_>>) -> Result<MlpModel> {
        let Target::Binary(y) = data.target() else {
            return Err(wrong_target("mlp", "binary", data));
        };
        let (w0, w1) = self.class_weight.weights(y);
        let weight = y
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let row = data.weights().map_or(1.0, |w| w[i]);
                row * if v > 0.5 { w1 } else { w0 }
            })
            .collect();
        let targets = Targets::Binary {
            y: y.clone(),
            weight,
        };
        Ok(MlpModel(Trained::fit(
            &self.neural,
            data,
            targets,
            1,
            true,
            watch,
        )?))
    }
}

impl Predict for MlpModel {
    type Error = NeuralError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        let head = NetworkHead::Logistic;
        Ok(self
            .0
            .outputs(x)?
            .iter()
            .map(|&s| head.predict(&[f64::from(s)]))
            .collect())
    }
}

/// A fitted DeepSurv network; predictions are log hazard ratios (higher =
/// event sooner).
#[derive(Debug)]
pub struct DeepSurvModel {
    trained: Trained,
    /// Distinct training event times and the Breslow cumulative hazard there.
    times: Vec<f64>,
    cumulative_hazard: Vec<f64>,
}

observable_fit!(
    DeepSurvValidParams,
    DeepSurvModel,
    "log hazard ratios",
    |o| o[0]
);

impl DeepSurvValidParams {
    fn fit_watched(&self, data: &Dataset, watch: Option<Watch<'_, '_>>) -> Result<DeepSurvModel> {
        let Target::Survival { time, event } = data.target() else {
            return Err(wrong_target("deepsurv", "survival", data));
        };
        if data.weights().is_some() {
            return Err(NeuralError::CannotTrain {
                model: "deepsurv",
                reason: "row weights are not supported by the partial likelihood".into(),
            });
        }
        if !event.iter().any(|&e| e) {
            return Err(NeuralError::CannotTrain {
                model: "deepsurv",
                reason: "no events among the training rows".into(),
            });
        }
        let targets = Targets::Cox {
            time: time.clone(),
            event: event.clone(),
            ties: self.ties,
        };
        // A bias would cancel out of the partial likelihood.
        let trained = Trained::fit(&self.neural, data, targets, 1, false, watch)?;
        let eta: Vec<f64> = trained
            .outputs(data.x())?
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let (times, cumulative_hazard) = breslow_baseline(time, event, &eta);
        Ok(DeepSurvModel {
            trained,
            times,
            cumulative_hazard,
        })
    }
}

/// Breslow's estimator of the baseline cumulative hazard:
/// `H0(t) = sum over event times s <= t of d(s) / sum_{j at risk at s} exp(eta_j)`.
pub fn breslow_baseline(time: &[f64], event: &[bool], eta: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[b].total_cmp(&time[a]));
    let shift = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Walk from the longest time down, growing the risk set.
    let mut risk = 0.0;
    let mut steps: Vec<(f64, f64)> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let t = time[order[i]];
        let mut d = 0usize;
        let mut j = i;
        while j < order.len() && time[order[j]] == t {
            risk += (eta[order[j]] - shift).exp();
            d += usize::from(event[order[j]]);
            j += 1;
        }
        if d > 0 {
            steps.push((t, d as f64 / risk * (-shift).exp()));
        }
        i = j;
    }
    steps.reverse();
    let mut cum = 0.0;
    steps
        .into_iter()
        .map(|(t, h)| {
            cum += h;
            (t, cum)
        })
        .unzip()
}

impl tenure_core::PredictSurvival for DeepSurvModel {
    /// `out[k][i]`: row `i`'s survival at `times[k]`, the trait's layout
    /// (transposed from [`DeepSurvModel::survival_function`]'s).
    fn predict_survival(&self, x: &Matrix, times: &[f64]) -> Result<Vec<Vec<f64>>> {
        let risk: Vec<f64> = self.predict(x)?.iter().map(|e| e.exp()).collect();
        Ok(times
            .iter()
            .map(|&t| {
                let h0 = self.baseline_at(t);
                risk.iter().map(|r| (-h0 * r).exp()).collect()
            })
            .collect())
    }
}

impl DeepSurvModel {
    /// `S(t | x)` for every row (outer) and time (inner).
    pub fn survival_function(&self, x: &Matrix, times: &[f64]) -> Result<Vec<Vec<f64>>> {
        let eta = self.predict(x)?;
        Ok(eta
            .iter()
            .map(|&e| {
                times
                    .iter()
                    .map(|&t| (-self.baseline_at(t) * e.exp()).exp())
                    .collect()
            })
            .collect())
    }

    /// Breslow cumulative baseline hazard at `t`.
    pub fn baseline_at(&self, t: f64) -> f64 {
        let k = self.times.partition_point(|&s| s <= t);
        if k == 0 {
            0.0
        } else {
            self.cumulative_hazard[k - 1]
        }
    }

    pub fn baseline(&self) -> (&[f64], &[f64]) {
        (&self.times, &self.cumulative_hazard)
    }

    pub fn report(&self) -> &TrainReport {
        &self.trained.report
    }

    pub fn device(&self) -> &ResolvedDevice {
        &self.trained.resolved
    }

    pub fn to_spec(&self) -> NetworkSpec {
        self.trained.spec(NetworkHead::CoxLogHazard {
            times: self.times.clone(),
            cumulative_hazard: self.cumulative_hazard.clone(),
        })
    }
}

impl Predict for DeepSurvModel {
    type Error = NeuralError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        Ok(self
            .trained
            .outputs(x)?
            .iter()
            .map(|&v| f64::from(v))
            .collect())
    }
}

impl MlpModel {
    pub fn report(&self) -> &TrainReport {
        &self.0.report
    }

    pub fn device(&self) -> &ResolvedDevice {
        &self.0.resolved
    }

    pub fn to_spec(&self) -> NetworkSpec {
        self.0.spec(NetworkHead::Logistic)
    }
}

/// A fitted ZILN network; predictions are expected amounts.
#[derive(Debug)]
pub struct ZilnModel(Trained);

observable_fit!(ZilnValidParams, ZilnModel, "expected amounts", |o| {
    NetworkHead::ZeroInflatedLognormal.predict(o)
});

impl ZilnValidParams {
    fn fit_watched(&self, data: &Dataset, watch: Option<Watch<'_, '_>>) -> Result<ZilnModel> {
        let Target::Continuous(y) = data.target() else {
            return Err(wrong_target("ziln", "continuous", data));
        };
        if let Some(r) = y.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(NeuralError::CannotTrain {
                model: "ziln",
                reason: format!("target row {r} is {}, expected an amount >= 0", y[r]),
            });
        }
        let weight = data
            .weights()
            .map_or_else(|| vec![1.0; y.len()], <[f64]>::to_vec);
        let targets = Targets::Ziln {
            y: y.clone(),
            weight,
        };
        Ok(ZilnModel(Trained::fit(
            &self.neural,
            data,
            targets,
            3,
            true,
            watch,
        )?))
    }
}

/// One row's zero-inflated lognormal: `P(spend > 0)`, then `ln spend ~ N(mu, sigma²)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZilnDistribution {
    pub p_positive: f64,
    pub mu: f64,
    pub sigma: f64,
}

impl ZilnDistribution {
    pub fn mean(&self) -> f64 {
        self.p_positive * (self.mu + self.sigma * self.sigma / 2.0).exp()
    }

    /// The `q`-quantile: 0 while `q` is within the mass at zero, else the
    /// lognormal quantile of the remaining probability.
    pub fn quantile(&self, q: f64) -> f64 {
        let zero = 1.0 - self.p_positive;
        if q <= zero {
            return 0.0;
        }
        let u = ((q - zero) / self.p_positive).clamp(1e-12, 1.0 - 1e-12);
        let z = Normal::standard().inverse_cdf(u);
        (self.mu + self.sigma * z).exp()
    }
}

impl ZilnModel {
    pub fn distributions(&self, x: &Matrix) -> Result<Vec<ZilnDistribution>> {
        Ok(self
            .0
            .outputs(x)?
            .chunks_exact(3)
            .map(|o| {
                let (p_positive, mu, sigma) =
                    ziln_params(&[f64::from(o[0]), f64::from(o[1]), f64::from(o[2])]);
                ZilnDistribution {
                    p_positive,
                    mu,
                    sigma,
                }
            })
            .collect())
    }

    /// Quantiles `qs` of every row's spend (outer: rows).
    pub fn quantiles(&self, x: &Matrix, qs: &[f64]) -> Result<Vec<Vec<f64>>> {
        Ok(self
            .distributions(x)?
            .iter()
            .map(|d| qs.iter().map(|&q| d.quantile(q)).collect())
            .collect())
    }

    pub fn report(&self) -> &TrainReport {
        &self.0.report
    }

    pub fn device(&self) -> &ResolvedDevice {
        &self.0.resolved
    }

    pub fn to_spec(&self) -> NetworkSpec {
        self.0.spec(NetworkHead::ZeroInflatedLognormal)
    }
}

impl Predict for ZilnModel {
    type Error = NeuralError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        let head = NetworkHead::ZeroInflatedLognormal;
        Ok(self
            .0
            .outputs(x)?
            .chunks_exact(3)
            .map(|o| head.predict(&[f64::from(o[0]), f64::from(o[1]), f64::from(o[2])]))
            .collect())
    }
}

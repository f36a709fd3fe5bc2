//! The three training objectives, on device tensors.
//!
//! Each has a host-side helper taking plain slices ([`cox_negative_log_likelihood`],
//! [`ziln_loss`], [`binary_cross_entropy`]) that runs the same tensor code,
//! for tests and for users who want the loss of given predictions.

use burn::tensor::activation::softplus;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Tie handling in the Cox partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoxTies {
    /// Every tied event sees the full risk set.
    Breslow,
    /// Tied events remove a growing share of their own risk (Efron 1977).
    #[default]
    Efron,
}

/// Per-row bookkeeping of a batch sorted by time, longest first: the risk
/// set of row `i` is the prefix `0..risk_end[i]` (everyone with a time at
/// least `t_i`), and its tie group starts at `group_start[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxMeta {
    pub risk_end: Vec<i64>,
    pub group_start: Vec<i64>,
    pub event: Vec<f32>,
    /// Efron's `l / d` for the `l`-th of `d` tied events; 0 under Breslow.
    pub efron: Vec<f32>,
    pub n_events: usize,
}

impl CoxMeta {
    /// `times` must be sorted in decreasing order.
    pub fn new(times: &[f64], events: &[bool], ties: CoxTies) -> Self {
        let n = times.len();
        debug_assert!(times.windows(2).all(|w| w[0] >= w[1]));
        let mut meta = CoxMeta {
            risk_end: vec![0; n],
            group_start: vec![0; n],
            event: events.iter().map(|&e| f32::from(u8::from(e))).collect(),
            efron: vec![0.0; n],
            n_events: events.iter().filter(|&&e| e).count(),
        };
        let mut start = 0;
        while start < n {
            let mut end = start;
            while end < n && times[end] == times[start] {
                end += 1;
            }
            let d = events[start..end].iter().filter(|&&e| e).count();
            let mut l = 0;
            for (i, &is_event) in events.iter().enumerate().take(end).skip(start) {
                meta.risk_end[i] = end as i64;
                meta.group_start[i] = start as i64;
                if is_event {
                    if ties == CoxTies::Efron {
                        meta.efron[i] = l as f32 / d as f32;
                    }
                    l += 1;
                }
            }
            start = end;
        }
        meta
    }

    pub(crate) fn upload(&self, device: &Device) -> CoxTensors {
        let n = self.event.len();
        CoxTensors {
            risk_end: Tensor::from_data(TensorData::new(self.risk_end.clone(), [n]), device),
            group_start: Tensor::from_data(TensorData::new(self.group_start.clone(), [n]), device),
            event: Tensor::from_data(TensorData::new(self.event.clone(), [n]), device),
            efron: Tensor::from_data(TensorData::new(self.efron.clone(), [n]), device),
        }
    }
}

/// [`CoxMeta`] on a device.
#[derive(Debug, Clone)]
pub(crate) struct CoxTensors {
    pub risk_end: Tensor<1, Int>,
    pub group_start: Tensor<1, Int>,
    pub event: Tensor<1>,
    pub efron: Tensor<1>,
}

impl CoxTensors {
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        Self {
            risk_end: self.risk_end.clone().slice(range.clone()),
            group_start: self.group_start.clone().slice(range.clone()),
            event: self.event.clone().slice(range.clone()),
            efron: self.efron.clone().slice(range),
        }
    }
}

/// Negative Cox partial log-likelihood of log hazards `eta` (rows sorted by
/// time, longest first), divided by `n_events`.
///
/// With `w = exp(eta - max eta)`, prefix sums give each row's risk-set sum
/// `R_i` and the sum `S_i` over its tied events; an event contributes
/// `eta_i - max - ln(R_i - f_i S_i)` with Efron's fraction `f_i` (0 for
/// Breslow). Subtracting the maximum keeps `exp` in range.
pub(crate) fn cox_loss(eta: Tensor<1>, meta: &CoxTensors, n_events: f64) -> Tensor<1> {
    let device = eta.device();
    let m = eta.clone().max().detach();
    let w = (eta.clone() - m.clone()).exp();
    let zero = Tensor::<1>::zeros([1], &device);
    let risk = Tensor::cat(vec![zero.clone(), w.clone().cumsum(0)], 0);
    let tied = Tensor::cat(vec![zero, (w * meta.event.clone()).cumsum(0)], 0);
    let r = risk.select(0, meta.risk_end.clone());
    let s =
        tied.clone().select(0, meta.risk_end.clone()) - tied.select(0, meta.group_start.clone());
    let denom = (r - s * meta.efron.clone()).clamp_min(f32::MIN_POSITIVE);
    let ll = (eta - m - denom.log()) * meta.event.clone();
    ll.sum().neg().div_scalar(n_events.max(1.0))
}

/// The negative Cox partial log-likelihood (a sum over events, not a mean)
/// of log hazards `eta` for survival data in any order, computed with the
/// training loss's tensor code on `device`.
pub fn cox_negative_log_likelihood(
    eta: &[f64],
    time: &[f64],
    event: &[bool],
    ties: CoxTies,
    device: &Device,
) -> f64 {
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[b].total_cmp(&time[a]));
    let t: Vec<f64> = order.iter().map(|&i| time[i]).collect();
    let e: Vec<bool> = order.iter().map(|&i| event[i]).collect();
    let meta = CoxMeta::new(&t, &e, ties);
    let eta_sorted: Vec<f32> = order.iter().map(|&i| eta[i] as f32).collect();
    let eta = Tensor::<1>::from_data(TensorData::new(eta_sorted, [t.len()]), device);
    let loss = cox_loss(eta, &meta.upload(device), 1.0);
    f64::from(loss.into_scalar::<f32>())
}

/// Smallest ZILN scale: shared with prediction, so the two agree.
pub(crate) use tenure_core::spec_network::ZILN_MIN_SIGMA;

/// Wang, Liu & Miao (2019)'s zero-inflated lognormal loss of outputs
/// `[logit, mu, raw scale]` per row: the cross-entropy of "any spend" plus,
/// for spenders, the lognormal negative log density of the amount, each a
/// weighted mean over rows.
pub(crate) fn ziln_loss_tensor(
    out: Tensor<2>,
    positive: Tensor<1>,
    log_y: Tensor<1>,
    weight: Tensor<1>,
    weight_sum: f64,
) -> Tensor<1> {
    let [n, _] = out.dims();
    let logit = out.clone().slice([0..n, 0..1]).reshape([n]);
    let mu = out.clone().slice([0..n, 1..2]).reshape([n]);
    let sigma = softplus(out.slice([0..n, 2..3]).reshape([n]), 1.0).clamp_min(ZILN_MIN_SIGMA);
    let bce = softplus(logit.clone(), 1.0) - positive.clone() * logit;
    let z = (log_y.clone() - mu) / sigma.clone();
    let nll = (log_y + sigma.log() + z.powi_scalar(2).mul_scalar(0.5))
        .add_scalar(0.5 * (2.0 * std::f64::consts::PI).ln())
        * positive;
    ((bce + nll) * weight).sum().div_scalar(weight_sum)
}

/// Host-side inputs of the ZILN loss for amounts `y` (`y > 0` is a spender).
pub(crate) fn ziln_targets(y: &[f64]) -> (Vec<f32>, Vec<f32>) {
    let positive = y.iter().map(|&v| f32::from(u8::from(v > 0.0))).collect();
    let log_y = y
        .iter()
        .map(|&v| if v > 0.0 { v.ln() as f32 } else { 0.0 })
        .collect();
    (positive, log_y)
}

/// The mean ZILN loss of output triples `[logit, mu, raw scale]` for amounts
/// `y`, computed with the training loss's tensor code on `device`.
pub fn ziln_loss(outputs: &[[f64; 3]], y: &[f64], device: &Device) -> f64 {
    let n = y.len();
    let flat: Vec<f32> = outputs.iter().flatten().map(|&v| v as f32).collect();
    let (positive, log_y) = ziln_targets(y);
    let loss = ziln_loss_tensor(
        Tensor::from_data(TensorData::new(flat, [n, 3]), device),
        Tensor::from_data(TensorData::new(positive, [n]), device),
        Tensor::from_data(TensorData::new(log_y, [n]), device),
        Tensor::ones([n], device),
        n as f64,
    );
    f64::from(loss.into_scalar::<f32>())
}

/// Weighted binary cross-entropy of logits: `softplus(s) - y s` per row.
pub(crate) fn bce_tensor(
    logit: Tensor<1>,
    y: Tensor<1>,
    weight: Tensor<1>,
    weight_sum: f64,
) -> Tensor<1> {
    ((softplus(logit.clone(), 1.0) - y * logit) * weight)
        .sum()
        .div_scalar(weight_sum)
}

/// The mean binary cross-entropy of logits for 0/1 labels, on `device`.
pub fn binary_cross_entropy(logits: &[f64], y: &[f64], device: &Device) -> f64 {
    let n = y.len();
    let to = |v: &[f64]| {
        Tensor::<1>::from_data(
            TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<_>>(), [n]),
            device,
        )
    };
    let loss = bce_tensor(to(logits), to(y), Tensor::ones([n], device), n as f64);
    f64::from(loss.into_scalar::<f32>())
}

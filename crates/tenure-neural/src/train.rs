//! The one training loop of the three models: AdamW, a learning-rate
//! schedule, gradient clipping, shuffled mini-batches, early stopping on a
//! held-out share of the training rows with the best weights restored.
//!
//! The fold's rows go to the device once, before the first epoch; a batch
//! is a `select` of device rows by an index window. Per epoch only the
//! shuffled order (and, for DeepSurv, the batches' risk-set bookkeeping)
//! crosses to the device. Every random draw (split, order, initial weights,
//! dropout) comes from one seeded generator, so a fit on the CPU repeats bit
//! for bit.

use std::ops::ControlFlow;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::loss::{
    CoxMeta, CoxTensors, CoxTies, bce_tensor, cox_loss, ziln_loss_tensor, ziln_targets,
};
use crate::net::{DropoutPool, Net};
use crate::params::TrainConfig;
use crate::preprocess::Inputs;
use crate::{NeuralError, Result};

/// Rows per forward pass when scoring.
pub(crate) const PREDICT_CHUNK: usize = 65_536;

/// What the network is trained to predict.
#[derive(Debug, Clone)]
pub(crate) enum Targets {
    /// 0/1 labels and row weights (class weights folded in).
    Binary { y: Vec<f64>, weight: Vec<f64> },
    /// Amounts (0 = no spend) and row weights.
    Ziln { y: Vec<f64>, weight: Vec<f64> },
    Cox {
        time: Vec<f64>,
        event: Vec<bool>,
        ties: CoxTies,
    },
}

/// How training went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub epochs_run: usize,
    /// Epoch (1-based) whose weights were kept.
    pub best_epoch: usize,
    pub train_loss: Vec<f64>,
    /// Empty without a validation share.
    pub valid_loss: Vec<f64>,
    pub train_rows: usize,
    pub valid_rows: usize,
}

/// Device-resident inputs and targets of the fold.
struct DeviceData {
    numeric: Option<Tensor<2>>,
    categories: Option<Tensor<2, Int>>,
    /// Binary: labels; ZILN: "any spend" indicators.
    a: Option<Tensor<1>>,
    /// ZILN: log amounts.
    b: Option<Tensor<1>>,
    weight: Option<Tensor<1>>,
}

fn upload_f32(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn upload_index(v: &[usize], device: &Device) -> Tensor<1, Int> {
    let ints: Vec<i64> = v.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(ints, [v.len()]), device)
}

impl DeviceData {
    fn upload(
        inputs: &Inputs,
        n_numeric: usize,
        n_cat: usize,
        targets: &Targets,
        device: &Device,
    ) -> Self {
        let n = inputs.n_rows;
        let numeric = (n_numeric > 0).then(|| {
            Tensor::from_data(
                TensorData::new(inputs.numeric.clone(), [n, n_numeric]),
                device,
            )
        });
        let categories = (n_cat > 0).then(|| {
            Tensor::from_data(
                TensorData::new(inputs.categories.clone(), [n, n_cat]),
                device,
            )
        });
        let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let (a, b, weight) = match targets {
            Targets::Binary { y, weight } => (
                Some(upload_f32(to32(y), device)),
                None,
                Some(upload_f32(to32(weight), device)),
            ),
            Targets::Ziln { y, weight } => {
                let (pos, log_y) = ziln_targets(y);
                (
                    Some(upload_f32(pos, device)),
                    Some(upload_f32(log_y, device)),
                    Some(upload_f32(to32(weight), device)),
                )
            }
            Targets::Cox { .. } => (None, None, None),
        };
        Self {
            numeric,
            categories,
            a,
            b,
            weight,
        }
    }

    fn rows(&self, idx: &Tensor<1, Int>) -> (Option<Tensor<2>>, Option<Tensor<2, Int>>) {
        (
            self.numeric
                .as_ref()
                .map(|x| x.clone().select(0, idx.clone())),
            self.categories
                .as_ref()
                .map(|c| c.clone().select(0, idx.clone())),
        )
    }
}

/// Loss of the rows `rows` (fold indices) with network outputs `out`.
/// `cox` holds the rows' risk-set bookkeeping, in the same order.
#[allow(clippy::too_many_arguments)]
fn loss_of(
    targets: &Targets,
    data: &DeviceData,
    out: Tensor<2>,
    rows: &[usize],
    idx: &Tensor<1, Int>,
    cox: Option<(&CoxTensors, usize)>,
) -> Option<Tensor<1>> {
    let n = rows.len();
    let pick = |t: &Option<Tensor<1>>| t.as_ref().expect("uploaded").clone().select(0, idx.clone());
    match targets {
        Targets::Binary { weight, .. } => {
            let w_sum: f64 = rows.iter().map(|&i| weight[i]).sum();
            Some(bce_tensor(
                out.reshape([n]),
                pick(&data.a),
                pick(&data.weight),
                w_sum,
            ))
        }
        Targets::Ziln { weight, .. } => {
            let w_sum: f64 = rows.iter().map(|&i| weight[i]).sum();
            Some(ziln_loss_tensor(
                out,
                pick(&data.a),
                pick(&data.b),
                pick(&data.weight),
                w_sum,
            ))
        }
        Targets::Cox { .. } => {
            let (meta, n_events) = cox.expect("cox bookkeeping");
            // A batch without events says nothing about the ranking.
            (n_events > 0).then(|| cox_loss(out.reshape([n]), meta, n_events as f64))
        }
    }
}

/// Sorts each batch of `order` by time, longest first, and returns the
/// bookkeeping of every batch laid end to end, plus each batch's events.
fn arrange_cox(
    order: &mut [usize],
    batches: &[std::ops::Range<usize>],
    time: &[f64],
    event: &[bool],
    ties: CoxTies,
) -> (CoxMeta, Vec<usize>) {
    let mut all = CoxMeta {
        risk_end: Vec::with_capacity(order.len()),
        group_start: Vec::with_capacity(order.len()),
        event: Vec::with_capacity(order.len()),
        efron: Vec::with_capacity(order.len()),
        n_events: 0,
    };
    let mut events = Vec::with_capacity(batches.len());
    for r in batches {
        let chunk = &mut order[r.clone()];
        chunk.sort_by(|&a, &b| time[b].total_cmp(&time[a]));
        let t: Vec<f64> = chunk.iter().map(|&i| time[i]).collect();
        let e: Vec<bool> = chunk.iter().map(|&i| event[i]).collect();
        let m = CoxMeta::new(&t, &e, ties);
        events.push(m.n_events);
        all.n_events += m.n_events;
        all.risk_end.extend(m.risk_end);
        all.group_start.extend(m.group_start);
        all.event.extend(m.event);
        all.efron.extend(m.efron);
    }
    (all, events)
}

fn batches(n: usize, size: usize) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> =
        (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect();
    // A one-row batch has no batch statistics and no ranking: fold it into
    // the previous one.
    if out.len() > 1 && out.last().is_some_and(|r| r.len() < 2) {
        let last = out.pop().expect("non-empty");
        out.last_mut().expect("non-empty").end = last.end;
    }
    out
}

/// Watches training epoch by epoch: the 1-based epoch and the network after
/// it, in inference mode; [`ControlFlow::Break`] ends training.
pub(crate) type OnEpoch<'a> = dyn FnMut(usize, &Net) -> ControlFlow<()> + 'a;

/// Trains `net` on the fold's rows; returns the weights of the best
/// validation epoch (or the last, without validation) in inference mode.
/// An observer that ends training early leaves the best weights so far.
#[allow(clippy::too_many_arguments)]
pub(crate) fn train(
    mut net: Net,
    inputs: &Inputs,
    targets: &Targets,
    cfg: &TrainConfig,
    dropout: f64,
    device: &Device,
    rng: &mut StdRng,
    mut on_epoch: Option<&mut OnEpoch<'_>>,
) -> Result<(Net, TrainReport)> {
    let n = inputs.n_rows;
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(rng);
    let n_valid = (n as f64 * cfg.validation_fraction).round() as usize;
    let n_valid = if n_valid >= 2 && n - n_valid >= 2 {
        n_valid
    } else {
        0
    };
    let valid_rows: Vec<usize> = rows[..n_valid].to_vec();
    let mut train_rows: Vec<usize> = rows[n_valid..].to_vec();
    train_rows.sort_unstable();
    if train_rows.len() < 2 {
        return Err(NeuralError::CannotTrain {
            model: "network",
            reason: format!("{n} rows are too few to train on"),
        });
    }

    let data = DeviceData::upload(
        inputs,
        net.n_numeric(),
        net.n_categorical(),
        targets,
        device,
    );
    let valid =
        (!valid_rows.is_empty()).then(|| ValidSet::new(&valid_rows, targets, &data, device));
    let widest = net_width(&net);
    let pool = DropoutPool::new(
        dropout,
        (cfg.batch_size.min(train_rows.len()) * widest * 4).max(1 << 16),
        rng,
        device,
    );

    let train_device = device.clone().autodiff();
    net = net.fork(&train_device);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay as f32)
        .with_grad_clipping(
            cfg.grad_clip
                .map(|c| GradientClippingConfig::Norm(c as f32)),
        )
        .init();

    let mut report = TrainReport {
        epochs_run: 0,
        best_epoch: 0,
        train_loss: Vec::new(),
        valid_loss: Vec::new(),
        train_rows: train_rows.len(),
        valid_rows: valid_rows.len(),
    };
    let mut best: Option<(f64, Net)> = None;
    let mut since_best = 0;
    for epoch in 0..cfg.epochs {
        let lr = cfg.learning_rate_at(epoch);
        let mut order = train_rows.clone();
        order.shuffle(rng);
        let ranges = batches(order.len(), cfg.batch_size);
        let cox = match targets {
            Targets::Cox { time, event, ties } => {
                let (meta, per_batch) = arrange_cox(&mut order, &ranges, time, event, *ties);
                Some((meta.upload(device), per_batch))
            }
            _ => None,
        };
        let order_t = upload_index(&order, device);
        let mut total = Tensor::<1>::zeros([1], device);
        let mut weight = 0usize;
        for (b, r) in ranges.iter().enumerate() {
            if tenure_core::interrupt::requested() {
                return Err(NeuralError::Interrupted);
            }
            let idx = order_t.clone().slice(r.clone());
            let (x, c) = data.rows(&idx);
            let out = net.forward(x, c, Some((&pool, rng)));
            let cox_b = cox.as_ref().map(|(m, e)| (m.slice(r.clone()), e[b]));
            let Some(loss) = loss_of(
                targets,
                &data,
                out,
                &order[r.clone()],
                &idx,
                cox_b.as_ref().map(|(m, e)| (m, *e)),
            ) else {
                continue;
            };
            total = total
                + loss
                    .clone()
                    .detach()
                    .without_autodiff()
                    .mul_scalar(r.len() as f64);
            weight += r.len();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(lr, net, grads);
        }
        let train_loss = f64::from(total.into_scalar::<f32>()) / weight.max(1) as f64;
        report.epochs_run = epoch + 1;
        report.train_loss.push(train_loss);
        if !train_loss.is_finite() {
            return Err(NeuralError::Diverged {
                epoch: epoch + 1,
                loss: train_loss,
            });
        }
        // One inference-mode copy per epoch serves the observer and the
        // validation loss alike.
        if on_epoch.is_none() && valid.is_none() {
            continue;
        }
        let snapshot = net.valid();
        let observed = match on_epoch.as_deref_mut() {
            Some(watch) => watch(epoch + 1, &snapshot),
            None => ControlFlow::Continue(()),
        };
        if let Some(valid) = &valid {
            let v = valid.loss(&snapshot, targets, &data);
            report.valid_loss.push(v);
            if best.as_ref().is_none_or(|(b, _)| v < *b) {
                best = Some((v, snapshot));
                report.best_epoch = epoch + 1;
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= cfg.patience {
                    break;
                }
            }
        }
        if observed.is_break() {
            break;
        }
    }
    let net = match best {
        Some((_, net)) => net,
        None => {
            report.best_epoch = report.epochs_run;
            net.valid()
        }
    };
    Ok((net, report))
}

/// The held-out rows, on the device once.
struct ValidSet {
    rows: Vec<usize>,
    idx: Tensor<1, Int>,
    cox: Option<(CoxTensors, usize)>,
}

impl ValidSet {
    fn new(rows: &[usize], targets: &Targets, _data: &DeviceData, device: &Device) -> Self {
        let mut rows = rows.to_vec();
        let cox = match targets {
            Targets::Cox { time, event, ties } => {
                rows.sort_by(|&a, &b| time[b].total_cmp(&time[a]));
                let t: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
                let e: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
                let meta = CoxMeta::new(&t, &e, *ties);
                Some((meta.upload(device), meta.n_events))
            }
            _ => None,
        };
        Self {
            idx: upload_index(&rows, device),
            rows,
            cox,
        }
    }

    fn loss(&self, net: &Net, targets: &Targets, data: &DeviceData) -> f64 {
        let (x, c) = data.rows(&self.idx);
        let out = net.forward(x, c, None);
        match loss_of(
            targets,
            data,
            out,
            &self.rows,
            &self.idx,
            self.cox.as_ref().map(|(m, e)| (m, *e)),
        ) {
            Some(l) => f64::from(l.into_scalar::<f32>()),
            // No event among the held-out rows: nothing to compare epochs by.
            None => f64::INFINITY,
        }
    }
}

fn net_width(net: &Net) -> usize {
    net.widest_layer()
}

/// Output layer values for rows, scored in chunks on `device`.
pub(crate) fn forward_all(net: &Net, inputs: &Inputs, device: &Device) -> Vec<f32> {
    let n = inputs.n_rows;
    let k = net.n_numeric();
    let c = net.n_categorical();
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + PREDICT_CHUNK).min(n);
        let rows = end - start;
        let x = (k > 0).then(|| {
            Tensor::<2>::from_data(
                TensorData::new(inputs.numeric[start * k..end * k].to_vec(), [rows, k]),
                device,
            )
        });
        let cats = (c > 0).then(|| {
            Tensor::<2, Int>::from_data(
                TensorData::new(inputs.categories[start * c..end * c].to_vec(), [rows, c]),
                device,
            )
        });
        let y = net.forward(x, cats, None);
        out.extend(y.into_data().iter::<f32>());
        start = end;
    }
    out
}

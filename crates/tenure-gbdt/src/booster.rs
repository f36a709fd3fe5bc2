//! The boosting loop and the trained model.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tenure_core::spec::{Condition, Node, Tree, TreeEnsemble};
use tenure_core::{Dataset, Fit, Matrix, Predict, Target};
use tenure_device::ResolvedDevice;

use crate::bin::{BinMapper, BinnedData, fit_mappers};
use crate::fixed::{FixedGradients, RoundGradients, SCORE_LIMIT};
use crate::hist::{Entry, Packed, pack};
use crate::metric::{EvalLabels, EvalMetric};
use crate::objective::{Labels, Loss, Objective};
use crate::params::GbdtValidParams;
use crate::split::{SplitRule, leaf_output};
use crate::tree::{BinTree, Grower, Quantized};
use crate::{GbdtError, Result};

/// Labels for training or evaluation, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum TrainLabels<'a> {
    /// 0/1 for binary; amounts for regression and Tweedie.
    Values(&'a [f64]),
    Survival {
        time: &'a [f64],
        event: &'a [bool],
    },
}

impl<'a> TrainLabels<'a> {
    pub fn from_target(t: &'a Target) -> Self {
        match t {
            Target::Binary(y) | Target::Continuous(y) => TrainLabels::Values(y),
            Target::Survival { time, event } => TrainLabels::Survival { time, event },
        }
    }

    fn len(&self) -> usize {
        match self {
            TrainLabels::Values(y) => y.len(),
            TrainLabels::Survival { time, .. } => time.len(),
        }
    }

    fn eval(&self) -> EvalLabels<'a> {
        match *self {
            TrainLabels::Values(y) => EvalLabels::Values(y),
            TrainLabels::Survival { time, event } => EvalLabels::Survival { time, event },
        }
    }
}

/// Rows to train on (or to validate on): features, labels, optional weights.
#[derive(Debug, Clone, Copy)]
pub struct TrainSet<'a> {
    pub x: &'a Matrix,
    pub labels: TrainLabels<'a>,
    pub weights: Option<&'a [f64]>,
}

impl<'a> TrainSet<'a> {
    pub fn from_dataset(d: &'a Dataset) -> Self {
        Self {
            x: d.x(),
            labels: TrainLabels::from_target(d.target()),
            weights: d.weights(),
        }
    }
}

/// A node of the real-valued trees used for prediction: the same tests as
/// [`tenure_core::spec::Tree`], laid out flat for speed.
#[derive(Debug, Clone, PartialEq)]
struct FastNode {
    feature: u32,
    threshold: f32,
    /// Index into `cat_sets`, or `u32::MAX` for a numeric split.
    cat: u32,
    missing_left: bool,
    left: i32,
    right: i32,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct FastTree {
    nodes: Vec<FastNode>,
    leaves: Vec<f64>,
    cat_sets: Vec<Vec<u32>>,
}

impl FastTree {
    #[inline]
    fn value(&self, row: &[f64]) -> f64 {
        if self.nodes.is_empty() {
            return self.leaves[0];
        }
        let mut n = 0i32;
        loop {
            let node = &self.nodes[n as usize];
            let x = row[node.feature as usize];
            let left = if x.is_nan() {
                node.missing_left
            } else if node.cat == u32::MAX {
                (x as f32) <= node.threshold
            } else {
                let x = x as f32;
                x >= 0.0
                    && x.fract() == 0.0
                    && self.cat_sets[node.cat as usize]
                        .binary_search(&(x as u32))
                        .is_ok()
            };
            n = if left { node.left } else { node.right };
            if n < 0 {
                return self.leaves[!n as usize];
            }
        }
    }
}

/// What an observer of [`train_with`] sees after each boosting round that
/// was scored on the validation set.
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    /// 1-based: the number of trees grown so far.
    pub iteration: usize,
    /// The booster's validation metric ([`Booster::eval_metric`]) now.
    pub value: f64,
    /// The validation rows' predictions now, on [`Booster::predict`]'s
    /// scale (probability, amount or risk score), so the caller can score
    /// them with a metric of its own.
    pub valid_pred: &'a [f64],
}

/// The observer [`train_with`] calls after each round. `Send` because the
/// boosting loop runs inside the booster's own thread pool.
pub type OnRound<'a> = dyn FnMut(Round<'_>) -> ControlFlow<()> + Send + 'a;

/// One round's validation metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    pub iteration: usize,
    pub value: f64,
}

/// What a GPU training moved between the host and the device, counted as
/// it happens. Each read is a wait for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DeviceTraffic {
    /// Bytes sent when the training started: the binned matrix and the
    /// buffers it keeps there.
    pub uploaded_at_start: u64,
    /// Bytes sent after that, over all rounds: quantised gradients (when
    /// the host computes them), bags, split masks, grown trees and leaf
    /// blocks (when the device keeps the training scores).
    pub uploaded_in_rounds: u64,
    /// Bytes read back (histograms or split shortlists, gradient maxima,
    /// leaf totals), and in how many reads.
    pub read_back: u64,
    pub reads: u64,
    pub rounds: u64,
}

/// A trained gradient-boosted ensemble.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Booster {
    feature_names: Vec<String>,
    mappers: Vec<BinMapper>,
    objective: Objective,
    tweedie_variance_power: f64,
    base_score: f64,
    trees: Vec<BinTree>,
    params: GbdtValidParams,
    /// The validation metric per round (empty without a validation set).
    pub eval_metric: Option<EvalMetric>,
    pub eval_history: Vec<EvalRecord>,
    /// 1-based round with the best validation metric (early stopping keeps
    /// the trees up to it).
    pub best_iteration: Option<usize>,
    pub train_seconds: f64,
    /// Bytes the training held on the GPU (none on the CPU).
    #[serde(skip)]
    pub device_bytes: Option<usize>,
    /// What the training moved to and from the GPU (none on the CPU).
    #[serde(skip)]
    pub device_traffic: Option<DeviceTraffic>,
    #[serde(skip)]
    fast: Vec<FastTree>,
}

/// How feature importance is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportanceKind {
    /// Total loss reduction of the splits on the feature.
    Gain,
    /// Number of splits on the feature.
    Split,
}

impl Fit for GbdtValidParams {
    type Model = Booster;
    type Error = GbdtError;

    fn fit(&self, data: &Dataset) -> Result<Booster> {
        train(
            self,
            data.feature_names(),
            TrainSet::from_dataset(data),
            None,
        )
    }
}

impl GbdtValidParams {
    /// Fits with a validation set for early stopping and the eval history.
    pub fn fit_with_valid(&self, data: &Dataset, valid: &Dataset) -> Result<Booster> {
        train(
            self,
            data.feature_names(),
            TrainSet::from_dataset(data),
            Some(TrainSet::from_dataset(valid)),
        )
    }

    /// [`GbdtValidParams::fit_with_valid`], calling `on_round` after each
    /// round (see [`train_with`]); the validation set is scored every round
    /// even when early stopping is off.
    pub fn fit_with_valid_observed(
        &self,
        data: &Dataset,
        valid: &Dataset,
        on_round: &mut OnRound<'_>,
    ) -> Result<Booster> {
        train_with(
            self,
            data.feature_names(),
            TrainSet::from_dataset(data),
            Some(TrainSet::from_dataset(valid)),
            on_round,
        )
    }
}

impl Predict for Booster {
    type Error = GbdtError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        Booster::predict(self, x)
    }
}

/// Row weights, if any: one a row, each finite and at least 0 (a negative
/// weight would turn its row's loss into a gain to maximise).
fn check_weights(weights: Option<&[f64]>, n: usize, what: &str) -> Result<()> {
    let Some(w) = weights else {
        return Ok(());
    };
    if w.len() != n {
        return Err(GbdtError::Shape(format!(
            "{what} data: {} weights for {n} rows",
            w.len()
        )));
    }
    if let Some(i) = w.iter().position(|&v| !v.is_finite() || v < 0.0) {
        return Err(GbdtError::BadLabel {
            set: what.to_string(),
            row: i + 1,
            reason: format!("weights must be finite and >= 0, got {}", w[i]),
        });
    }
    if w.iter().all(|&v| v == 0.0) {
        return Err(GbdtError::Shape(format!(
            "{what} data: every weight is 0, so no row counts"
        )));
    }
    Ok(())
}

fn check_labels(objective: Objective, labels: &TrainLabels<'_>, what: &str) -> Result<()> {
    let bad = |row: usize, reason: String| {
        Err(GbdtError::BadLabel {
            set: what.to_string(),
            row: row + 1,
            reason,
        })
    };
    match (objective, labels) {
        (Objective::Binary, TrainLabels::Values(y)) => {
            if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
                return bad(i, format!("binary labels must be 0 or 1, got {}", y[i]));
            }
        }
        (Objective::Regression, TrainLabels::Values(y)) => {
            if let Some(i) = y.iter().position(|v| !v.is_finite()) {
                return bad(i, format!("labels must be finite, got {}", y[i]));
            }
        }
        (Objective::Tweedie, TrainLabels::Values(y)) => {
            if let Some(i) = y.iter().position(|&v| !v.is_finite() || v < 0.0) {
                return bad(
                    i,
                    format!("Tweedie labels must be finite and >= 0, got {}", y[i]),
                );
            }
        }
        (Objective::Cox, TrainLabels::Survival { time, event }) => {
            if let Some(i) = time.iter().position(|&t| !t.is_finite() || t < 0.0) {
                return bad(
                    i,
                    format!("durations must be finite and >= 0, got {}", time[i]),
                );
            }
            if !event.iter().any(|&e| e) && what == "training" {
                return Err(GbdtError::BadLabel {
                    set: what.into(),
                    row: 0,
                    reason: "every row is censored: the Cox objective needs events".into(),
                });
            }
        }
        (o, _) => {
            return Err(GbdtError::ObjectiveMismatch {
                objective: o.as_str(),
                expected: if o == Objective::Cox {
                    "durations and events"
                } else {
                    "a label column"
                },
            });
        }
    }
    Ok(())
}

/// SplitMix64: a seeded hash for bagging and feature sampling that gives
/// the same draws whatever the thread count.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(z: u64) -> f64 {
    (mix(z) >> 11) as f64 / (1u64 << 53) as f64
}

/// Trains a booster. `names` label the feature columns.
pub fn train(
    params: &GbdtValidParams,
    names: &[String],
    train: TrainSet<'_>,
    valid: Option<TrainSet<'_>>,
) -> Result<Booster> {
    train_with(params, names, train, valid, &mut |_| {
        ControlFlow::Continue(())
    })
}

/// [`train`], calling `on_round` after each round once the round's
/// validation metric is known (never without a validation set). Returning
/// [`ControlFlow::Break`] ends training there, as early stopping would: the
/// booster keeps the trees grown so far, or with `early_stopping_round` set
/// those up to the best round so far. This is how a hyperparameter search
/// prunes a trial between rounds; the observer only reads, so a run that
/// never breaks trains exactly the booster [`train`] does.
pub fn train_with(
    params: &GbdtValidParams,
    names: &[String],
    train: TrainSet<'_>,
    valid: Option<TrainSet<'_>>,
    on_round: &mut OnRound<'_>,
) -> Result<Booster> {
    train_on(params, names, train, valid, on_round, &ResolvedDevice::Cpu)
}

/// [`train_with`] on a device: the CPU, or a GPU that `tenure-device`
/// resolved (`--device`). On a GPU, gradients are always quantised
/// (`use_quantized_grad`, whatever the parameters say), histograms are
/// summed there ([`crate::gpu`]), and gradients (but weighted Cox's) are
/// computed there in integers ([`crate::fixed`], [`crate::cox`]); the trees are the quantised CPU
/// booster's, bit for bit (see [`crate::gpu`] for how its shortlists of
/// splits are proven or fall back to the full scan).
pub fn train_on(
    params: &GbdtValidParams,
    names: &[String],
    train: TrainSet<'_>,
    valid: Option<TrainSet<'_>>,
    on_round: &mut OnRound<'_>,
    device: &ResolvedDevice,
) -> Result<Booster> {
    let gpu = gpu_device(device)?;
    let started = Instant::now();
    let threads = if params.num_threads == 0 {
        rayon::current_num_threads()
    } else {
        params.num_threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| GbdtError::Threads(e.to_string()))?;
    let mut booster =
        pool.install(|| train_inner(params, names, train, valid, threads, on_round, gpu.as_ref()))?;
    booster.train_seconds = started.elapsed().as_secs_f64();
    Ok(booster)
}

#[cfg(feature = "gpu")]
type GpuDevice = crate::gpu::GpuDevice;
/// Stands in for the GPU device in a build without the `gpu` feature.
#[cfg(not(feature = "gpu"))]
#[derive(Debug)]
enum GpuDevice {}

fn gpu_device(device: &ResolvedDevice) -> Result<Option<GpuDevice>> {
    match device {
        ResolvedDevice::Cpu => Ok(None),
        #[cfg(feature = "gpu")]
        gpu => Ok(Some(crate::gpu::GpuDevice::new(gpu)?)),
        #[cfg(not(feature = "gpu"))]
        _ => Err(GbdtError::Device(
            "this build has no GPU booster: build tenure-gbdt with its `gpu` feature".into(),
        )),
    }
}

fn train_inner(
    params: &GbdtValidParams,
    names: &[String],
    train: TrainSet<'_>,
    valid: Option<TrainSet<'_>>,
    threads: usize,
    on_round: &mut OnRound<'_>,
    gpu: Option<&GpuDevice>,
) -> Result<Booster> {
    let (n, f) = (train.x.n_rows(), train.x.n_cols());
    if n == 0 {
        return Err(GbdtError::Empty);
    }
    if names.len() != f || train.labels.len() != n {
        return Err(GbdtError::Shape(format!(
            "{n} rows x {f} features, {} names, {} labels",
            names.len(),
            train.labels.len()
        )));
    }
    check_labels(params.objective, &train.labels, "training")?;
    check_weights(train.weights, n, "training")?;
    if let Some(v) = &valid {
        if v.x.n_cols() != f {
            return Err(GbdtError::Shape(format!(
                "validation set has {} features, training {f}",
                v.x.n_cols()
            )));
        }
        check_labels(params.objective, &v.labels, "validation")?;
    }
    let categorical = categorical_mask(&params.categorical_feature, names)?;

    let mappers = fit_mappers(
        train.x,
        names,
        &categorical,
        params.max_bin,
        params.min_data_per_group,
        params.bin_construct_sample_cnt,
    )?;
    let data = BinnedData::new(train.x, &mappers);

    let weights = row_weights(params, &train);
    let labels = match train.labels {
        TrainLabels::Values(y) => Labels::Values(y),
        TrainLabels::Survival { time, event } => Labels::survival(time, event),
    };
    let loss = Loss {
        objective: params.objective,
        labels,
        weights,
        rho: params.tweedie_variance_power,
    };
    // The GPU adds integers only.
    let quantized = params.use_quantized_grad || gpu.is_some();
    // Gradients are then integers on both sides (Cox's without row
    // weights, which would enter its risk-set sums).
    let fixed = match train.labels {
        TrainLabels::Values(y) if quantized => FixedGradients::new(
            params.objective,
            y,
            loss.weights.as_deref(),
            params.tweedie_variance_power,
        ),
        TrainLabels::Survival { time, event } if quantized && loss.weights.is_none() => {
            FixedGradients::cox(time, event)
        }
        _ => None,
    };
    let base_score = match &fixed {
        // On the score grid, so that the model predicts what it trained on.
        Some(fx) => fx.value(fx.to_score(loss.init_score())),
        None => loss.init_score(),
    };
    let mut score = if fixed.is_some() {
        Vec::new()
    } else {
        vec![base_score; n]
    };
    let mut score_fx: Vec<i32> = match &fixed {
        Some(fx) if gpu.is_none() => vec![fx.to_score(base_score); n],
        _ => Vec::new(),
    };
    let mut gh: Vec<Entry> = if fixed.is_some() {
        Vec::new()
    } else {
        vec![[0.0; 2]; n]
    };
    let device_gradients = fixed.is_some() && gpu.is_some();
    let mut packed: Vec<Packed> = if quantized && !device_gradients {
        vec![0; n]
    } else {
        Vec::new()
    };
    if quantized && (n as u64) * (params.grad_quant_bins() as u64) >= 1 << 31 {
        return Err(GbdtError::Core(tenure_core::CoreError::InvalidParam {
            name: "num_grad_quant_bins",
            reason: format!(
                "{} levels x {n} rows overflow the 32-bit quantised sums: use fewer levels",
                params.grad_quant_bins()
            ),
        }));
    }

    let metric = match (&valid, params.metric.as_str()) {
        (None, _) => None,
        (Some(_), "") => Some(EvalMetric::default_for(params.objective)),
        (Some(_), m) => Some(EvalMetric::parse(m, params.objective)?),
    };
    let valid_data = valid.as_ref().map(|v| BinnedData::new(v.x, &mappers));
    let mut valid_score = valid.as_ref().map(|v| vec![base_score; v.x.n_rows()]);
    let link = params.objective.link();

    let mut grower = Grower::new(f);
    #[cfg(feature = "gpu")]
    if let Some(device) = gpu {
        let mut histograms = crate::gpu::GpuHistograms::new(device, &data)?;
        // Each leaf that may split keeps a histogram there (2 KiB a
        // feature) and the device shortlists its splits: past the pool,
        // histograms come back instead.
        let kept = (data.n_features * 2 * 256 * 4) as f64 * params.num_leaves as f64;
        let pool = if params.gpu_histogram_pool_size < 0.0 {
            1024.0
        } else {
            params.gpu_histogram_pool_size
        };
        if kept <= pool * (1 << 20) as f64 {
            let features: Vec<crate::gpu::SearchFeature> = mappers.iter().map(Into::into).collect();
            histograms.enable_search(&features);
        }
        if let Some(fx) = &fixed {
            histograms.enable_gradients(fx, fx.to_score(base_score));
        }
        grower.gpu = Some(histograms);
    }
    let mut trees: Vec<BinTree> = Vec::with_capacity(params.num_iterations);
    let mut history = Vec::new();
    let mut best: Option<(usize, f64)> = None;
    let bagging = params.bagging_freq > 0 && params.bagging_fraction < 1.0;
    let mut bag: Vec<u32> = (0..n as u32).collect();
    let mut indices: Vec<u32> = Vec::with_capacity(n);

    for it in 0..params.num_iterations {
        if tenure_core::interrupt::requested() {
            return Err(GbdtError::Interrupted);
        }
        if fixed.is_none() {
            loss.gradients(&score, &mut gh);
        }
        if bagging && it % params.bagging_freq == 0 {
            let round = (it / params.bagging_freq) as u64;
            let key = mix(params.seed ^ mix(round));
            // With integer gradients, a 32-bit rule, which the GPU draws
            // alike.
            let mut bag_rule = fixed
                .as_ref()
                .map(|_| crate::fixed::bag_rule(key, params.bagging_fraction));
            bag = (0..n as u32)
                .into_par_iter()
                .filter(|&i| match bag_rule {
                    Some(rule) => crate::fixed::in_bag(rule, i),
                    None => unit(key ^ u64::from(i)) < params.bagging_fraction,
                })
                .collect();
            if bag.is_empty() {
                bag.push((mix(key) % n as u64) as u32);
                bag_rule = None;
            }
            grower.gpu_bag_rule(bag_rule);
        }
        indices.clear();
        indices.extend_from_slice(&bag);
        let features = sample_features(f, params.feature_fraction, params.seed, it);

        let mut round = RoundGradients::default();
        let scale = match &fixed {
            Some(fx) => {
                let key = (mix(params.seed ^ 0xF1_CED ^ mix(it as u64)) >> 32) as u32;
                let (levels, stochastic) = (params.grad_quant_bins(), params.stochastic_rounding);
                let (scale, this_round) = match grower.gpu_gradients(fx, levels, stochastic, key) {
                    Some((scale, units)) => (scale, RoundGradients::new(units)),
                    None => fx.quantize(&score_fx, levels, stochastic, key, &mut packed),
                };
                round = this_round;
                Some(scale)
            }
            None => {
                let scale = quantized.then(|| quantize(&gh, &mut packed, params, it));
                #[cfg(feature = "gpu")]
                if let Some(g) = &mut grower.gpu {
                    g.set_gradients(&packed);
                }
                scale
            }
        };
        let quant = scale.map(|scale| Quantized {
            packed: &packed,
            scale,
            // Integer gradients' leaf values are renewed below.
            renew: fixed.is_none(),
        });
        let grown = grower.grow(
            &data,
            &mappers,
            &gh,
            quant,
            &mut indices,
            &features,
            params,
            threads,
        );
        if grown.tree.nodes.is_empty() && it > 0 {
            // No leaf can be split any more: further rounds add nothing.
            break;
        }
        let mut tree = grown.tree;
        if let Some(fx) = &fixed {
            // Leaf values from the exact integer gradient sums, on the
            // score grid so that training scores stay integers.
            let sums = match grower.gpu_leaf_sums(&grown.leaf_ranges) {
                Some(sums) => sums,
                None => grown
                    .leaf_ranges
                    .iter()
                    .map(|&(lo, hi)| fx.sums(&score_fx, &indices[lo..hi], &round))
                    .collect(),
            };
            let (gu, hu) = FixedGradients::unit_values(round.units);
            let values: Vec<i32> = sums
                .iter()
                .map(|&(g, h)| {
                    let (g, h) = (g as f64 * gu, h as f64 * hu);
                    fx.to_score(leaf_output(g, h, params) * params.learning_rate)
                })
                .collect();
            tree.leaf_values = values.iter().map(|&v| fx.value(v)).collect();
            if !grower.gpu_add_tree(&tree, &values) {
                let add = |s: &mut i32, v: i32| *s = (*s + v).clamp(-SCORE_LIMIT, SCORE_LIMIT);
                if bagging {
                    score_fx.par_iter_mut().enumerate().for_each(|(i, s)| {
                        add(s, values[tree.leaf(|j| data.rows[i * f + j])]);
                    });
                } else {
                    for (leaf, &(lo, hi)) in grown.leaf_ranges.iter().enumerate() {
                        for &i in &indices[lo..hi] {
                            add(&mut score_fx[i as usize], values[leaf]);
                        }
                    }
                }
            }
        } else if bagging {
            score.par_iter_mut().enumerate().for_each(|(i, s)| {
                *s += tree.leaf_values[tree.leaf(|j| data.rows[i * f + j])];
            });
        } else {
            for (leaf, &(lo, hi)) in grown.leaf_ranges.iter().enumerate() {
                let v = tree.leaf_values[leaf];
                for &i in &indices[lo..hi] {
                    score[i as usize] += v;
                }
            }
        }
        if let (Some(vd), Some(vs), Some(v), Some(m)) =
            (&valid_data, &mut valid_score, &valid, metric)
        {
            vs.par_iter_mut().enumerate().for_each(|(i, s)| {
                *s += tree.leaf_values[tree.leaf(|j| vd.rows[i * f + j])];
            });
            let pred: Vec<f64> = vs.iter().map(|&s| link.apply(s)).collect();
            let value = m.compute(v.labels.eval(), &pred, params.tweedie_variance_power)?;
            history.push(EvalRecord {
                iteration: it + 1,
                value,
            });
            let improved = best.is_none_or(|(_, b)| {
                if m.higher_is_better() {
                    value > b
                } else {
                    value < b
                }
            });
            if improved {
                best = Some((it + 1, value));
            }
            trees.push(tree);
            let observed = on_round(Round {
                iteration: it + 1,
                value,
                valid_pred: &pred,
            });
            if observed.is_break() {
                break;
            }
            if params.early_stopping_round > 0
                && let Some((bi, _)) = best
                && it + 1 - bi >= params.early_stopping_round
            {
                break;
            }
        } else {
            trees.push(tree);
        }
    }
    let best_iteration = best.map(|(i, _)| i);
    if params.early_stopping_round > 0
        && let Some(bi) = best_iteration
    {
        trees.truncate(bi);
    }
    let mut booster = Booster {
        feature_names: names.to_vec(),
        mappers,
        objective: params.objective,
        tweedie_variance_power: params.tweedie_variance_power,
        base_score,
        trees,
        params: params.clone(),
        eval_metric: metric,
        eval_history: history,
        best_iteration,
        train_seconds: 0.0,
        #[cfg(feature = "gpu")]
        device_bytes: grower.gpu.as_ref().map(|g| g.device_bytes()),
        #[cfg(not(feature = "gpu"))]
        device_bytes: None,
        #[cfg(feature = "gpu")]
        device_traffic: grower.gpu.as_ref().map(|g| g.traffic()),
        #[cfg(not(feature = "gpu"))]
        device_traffic: None,
        fast: Vec::new(),
    };
    booster.build_fast();
    Ok(booster)
}

fn categorical_mask(wanted: &[String], names: &[String]) -> Result<Vec<bool>> {
    let mut mask = vec![false; names.len()];
    for w in wanted {
        let j = names
            .iter()
            .position(|n| n == w)
            .or_else(|| w.parse::<usize>().ok().filter(|&j| j < names.len()))
            .ok_or_else(|| GbdtError::UnknownFeature { name: w.clone() })?;
        mask[j] = true;
    }
    Ok(mask)
}

fn row_weights(params: &GbdtValidParams, train: &TrainSet<'_>) -> Option<Vec<f64>> {
    let spw = params.scale_pos_weight;
    let positive_scaled = params.objective == Objective::Binary && spw != 1.0;
    if train.weights.is_none() && !positive_scaled {
        return None;
    }
    let n = train.x.n_rows();
    Some(
        (0..n)
            .map(|i| {
                let w = train.weights.map_or(1.0, |w| w[i]);
                match train.labels {
                    TrainLabels::Values(y) if positive_scaled && y[i] == 1.0 => w * spw,
                    _ => w,
                }
            })
            .collect(),
    )
}

/// Quantises one round's gradients to `num_grad_quant_bins` levels (the
/// gradient symmetric around 0, the hessian from 0) and returns the scales
/// of one level. The rounding noise of each row is seeded by the round and
/// the row, so it does not depend on the thread count.
fn quantize(
    gh: &[Entry],
    packed: &mut [Packed],
    params: &GbdtValidParams,
    round: usize,
) -> (f64, f64) {
    let (gmax, hmax) = gh
        .par_iter()
        .map(|e| (e[0].abs(), e[1]))
        .reduce(|| (0.0, 0.0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    let levels = params.grad_quant_bins() as f64;
    let gs = if gmax > 0.0 {
        gmax / (levels / 2.0)
    } else {
        1.0
    };
    let hs = if hmax > 0.0 { hmax / levels } else { 1.0 };
    let key = mix(params.seed ^ 0xA11CE ^ mix(round as u64));
    let stochastic = params.stochastic_rounding;
    packed.par_iter_mut().enumerate().for_each(|(i, p)| {
        let (ug, uh) = if stochastic {
            let z = mix(key ^ i as u64);
            (
                (z >> 40) as f64 / (1u64 << 24) as f64,
                (z & 0xFF_FFFF) as f64 / (1u64 << 24) as f64,
            )
        } else {
            (0.5, 0.5)
        };
        let g = (gh[i][0] / gs + ug).floor() as i32;
        let h = (gh[i][1] / hs + uh).floor().max(0.0) as u32;
        *p = pack(g, h);
    });
    (gs, hs)
}

/// The features one tree may split on: all, or a seeded sample.
fn sample_features(f: usize, fraction: f64, seed: u64, iteration: usize) -> Vec<usize> {
    if fraction >= 1.0 {
        return (0..f).collect();
    }
    let k = ((fraction * f as f64).round() as usize).clamp(1, f);
    let key = mix(seed.wrapping_add(0x5EED) ^ mix(iteration as u64));
    let mut order: Vec<(u64, usize)> = (0..f).map(|j| (mix(key ^ j as u64), j)).collect();
    order.sort_unstable();
    let mut chosen: Vec<usize> = order[..k].iter().map(|&(_, j)| j).collect();
    chosen.sort_unstable();
    chosen
}

impl Booster {
    fn build_fast(&mut self) {
        self.fast = self.trees.iter().map(|t| self.fast_tree(t)).collect();
    }

    fn fast_tree(&self, t: &BinTree) -> FastTree {
        let mut cat_sets = Vec::new();
        let nodes = t
            .nodes
            .iter()
            .map(|n| {
                let (threshold, cat) = match &n.rule {
                    SplitRule::Le { bin: b } => {
                        (self.mappers[n.feature as usize].threshold(*b), u32::MAX)
                    }
                    SplitRule::In { mask } => {
                        cat_sets.push(self.left_codes(n.feature as usize, mask));
                        (f32::NAN, (cat_sets.len() - 1) as u32)
                    }
                };
                FastNode {
                    feature: n.feature,
                    threshold,
                    cat,
                    missing_left: n.missing_left,
                    left: n.left,
                    right: n.right,
                }
            })
            .collect();
        FastTree {
            nodes,
            leaves: t.leaf_values.clone(),
            cat_sets,
        }
    }

    /// Sorted category codes whose bins are in the mask.
    fn left_codes(&self, feature: usize, mask: &[u64; 4]) -> Vec<u32> {
        let m = &self.mappers[feature];
        let mut codes: Vec<u32> = (1..=255u8)
            .filter(|&b| mask[(b >> 6) as usize] >> (b & 63) & 1 == 1)
            .filter_map(|b| m.code(b))
            .collect();
        codes.sort_unstable();
        codes
    }

    pub fn objective(&self) -> Objective {
        self.objective
    }

    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    pub fn num_trees(&self) -> usize {
        self.trees.len()
    }

    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    pub fn params(&self) -> &GbdtValidParams {
        &self.params
    }

    fn check_width(&self, x: &Matrix) -> Result<()> {
        if x.n_cols() != self.feature_names.len() {
            return Err(GbdtError::Shape(format!(
                "the model takes {} features, the table has {}",
                self.feature_names.len(),
                x.n_cols()
            )));
        }
        Ok(())
    }

    /// Raw scores (before the link): log-odds, value, log of the Tweedie
    /// mean, or log hazard ratio.
    pub fn predict_raw(&self, x: &Matrix) -> Result<Vec<f64>> {
        self.check_width(x)?;
        let mut out = vec![0.0; x.n_rows()];
        let f = x.n_cols().max(1);
        out.par_chunks_mut(1024).enumerate().for_each(|(c, chunk)| {
            let base = c * 1024;
            for (k, o) in chunk.iter_mut().enumerate() {
                let start = (base + k) * f;
                let row = &x.as_slice()[start..start + x.n_cols()];
                *o = self.base_score + self.fast.iter().map(|t| t.value(row)).sum::<f64>();
            }
        });
        Ok(out)
    }

    /// Predictions after the link: probabilities (binary), values
    /// (regression, Tweedie) or log hazard ratios (Cox).
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        let link = self.objective.link();
        let mut out = self.predict_raw(x)?;
        for v in &mut out {
            *v = link.apply(*v);
        }
        Ok(out)
    }

    /// Importance per feature, in feature order.
    pub fn feature_importance(&self, kind: ImportanceKind) -> Vec<(String, f64)> {
        let mut imp = vec![0.0; self.feature_names.len()];
        for t in &self.trees {
            for n in &t.nodes {
                imp[n.feature as usize] += match kind {
                    ImportanceKind::Gain => n.gain,
                    ImportanceKind::Split => 1.0,
                };
            }
        }
        self.feature_names.iter().cloned().zip(imp).collect()
    }

    /// The plain tree specification the ONNX exporter consumes; it
    /// predicts exactly what the booster predicts.
    pub fn to_spec(&self) -> TreeEnsemble {
        let trees = self
            .trees
            .iter()
            .map(|t| {
                let mut nodes = Vec::with_capacity(2 * t.nodes.len() + 1);
                self.emit(t, if t.nodes.is_empty() { -1 } else { 0 }, &mut nodes);
                Tree { nodes }
            })
            .collect();
        TreeEnsemble {
            feature_names: self.feature_names.clone(),
            categorical: (0..self.mappers.len() as u32)
                .filter(|&j| self.mappers[j as usize].is_categorical())
                .collect(),
            base_score: self.base_score,
            link: self.objective.link(),
            trees,
        }
    }

    /// Writes node `n` (negative: leaf `!n`) in preorder; returns its index.
    fn emit(&self, t: &BinTree, n: i32, out: &mut Vec<Node>) -> u32 {
        let ix = out.len() as u32;
        if n < 0 {
            out.push(Node::Leaf {
                value: t.leaf_values[!n as usize],
            });
            return ix;
        }
        let node = &t.nodes[n as usize];
        let condition = match &node.rule {
            SplitRule::Le { bin: b } => Condition::Le {
                threshold: self.mappers[node.feature as usize].threshold(*b),
            },
            SplitRule::In { mask } => Condition::In {
                left: self.left_codes(node.feature as usize, mask),
            },
        };
        out.push(Node::Leaf { value: 0.0 });
        let left = self.emit(t, node.left, out);
        let right = self.emit(t, node.right, out);
        out[ix as usize] = Node::Split {
            feature: node.feature,
            condition,
            missing_left: node.missing_left,
            left,
            right,
        };
        ix
    }

    /// Saves as JSON, atomically (temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |e: std::io::Error| GbdtError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|s| s.to_str()).unwrap_or("model"),
            std::process::id()
        ));
        let bytes = serde_json::to_vec(self).map_err(|e| GbdtError::Format(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| GbdtError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let mut b: Booster = serde_json::from_slice(&bytes).map_err(|e| {
            GbdtError::Format(format!(
                "{} is not a tenure gbdt model: {e}",
                path.display()
            ))
        })?;
        b.build_fast();
        Ok(b)
    }
}

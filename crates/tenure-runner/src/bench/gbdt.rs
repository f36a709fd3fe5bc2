//! `tenure bench gbdt`: the booster alone on dense synthetic data of a
//! given size (`tenure_gbdt::synthetic`, the peers benchmark's recipe):
//! churn labels (binary, scored by AUC) or survival times (Cox, scored by
//! Harrell's C-index).

use std::time::Instant;

use serde::Serialize;
use tenure_core::{Dataset, Matrix, ParamGuard, Target};
use tenure_gbdt::{GbdtParams, Objective, synthetic};

use super::spread::Spread;
use crate::{Result, RunnerError};

/// Sizes and settings of one booster benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct GbdtBench {
    pub rows: usize,
    pub features: usize,
    pub rounds: usize,
    pub num_leaves: usize,
    pub learning_rate: f64,
    /// 0: all cores.
    pub threads: usize,
    /// Rows of the held-out set the AUC and throughput are measured on.
    pub test_rows: usize,
    pub repeat: usize,
    pub seed: u64,
    /// Where to train (`--device`): on a GPU the booster sums quantised
    /// gradients there.
    #[serde(skip)]
    pub device: tenure_core::DeviceRequest,
    /// Quantised gradients on the CPU too (`use_quantized_grad`), the CPU
    /// twin of the GPU path.
    pub quantized: bool,
    /// The last this many features as category codes
    /// ([`categorical_codes`]), trained as categorical features.
    pub categorical: usize,
    /// Churn labels or survival times.
    pub objective: BenchObjective,
}

/// What the benchmark's table holds and the booster fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchObjective {
    /// Churn labels ([`synthetic::binary`]), scored by AUC.
    #[default]
    Binary,
    /// Survival times ([`synthetic::survival`]), scored by the C-index.
    Cox,
}

impl std::str::FromStr for BenchObjective {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "binary" => Ok(Self::Binary),
            "cox" => Ok(Self::Cox),
            _ => Err(format!(
                "the benchmark's objective is binary or cox, not {s}"
            )),
        }
    }
}

impl BenchObjective {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Cox => "cox",
        }
    }

    fn objective(self) -> Objective {
        match self {
            Self::Binary => Objective::Binary,
            Self::Cox => Objective::Cox,
        }
    }

    /// `n` rows of `f` features and their labels.
    fn draw(self, n: usize, f: usize, seed: u64) -> (Matrix, Target) {
        match self {
            Self::Binary => {
                let (x, y) = synthetic::binary(n, f, seed);
                (x, Target::Binary(y))
            }
            Self::Cox => {
                let (x, time, event) = synthetic::survival(n, f, seed);
                (x, Target::Survival { time, event })
            }
        }
    }
}

impl Default for GbdtBench {
    fn default() -> Self {
        Self {
            rows: 100_000,
            features: 50,
            rounds: 100,
            num_leaves: 255,
            learning_rate: 0.1,
            threads: 0,
            test_rows: 100_000,
            repeat: 1,
            seed: 1,
            device: tenure_core::DeviceRequest::Cpu,
            quantized: false,
            categorical: 0,
            objective: BenchObjective::Binary,
        }
    }
}

/// What one booster benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct GbdtBenchResult {
    #[serde(flatten)]
    pub settings: GbdtBench,
    /// Seconds per training (binning included), over `repeat` trainings.
    pub train_seconds: Spread,
    /// CPU seconds (all threads) per training; `None` without `/proc`.
    pub train_cpu_seconds: Option<Spread>,
    /// Seconds per prediction of the test rows.
    pub predict_seconds: Spread,
    pub predict_rows_per_second: f64,
    pub num_trees: usize,
    /// Binary: the held-out AUC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_auc: Option<f64>,
    /// Cox: the held-out C-index of the predicted log hazard ratios.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_cindex: Option<f64>,
    /// Peak resident memory of the process, MiB (the data included).
    pub peak_rss_mb: Option<f64>,
    /// `cpu`, `wgpu` or `cuda`, and the device's name.
    pub device: String,
    pub device_name: String,
    /// Bytes the training held on the GPU.
    pub device_bytes: Option<usize>,
    /// What the training moved to and from the GPU.
    pub device_traffic: Option<tenure_gbdt::DeviceTraffic>,
}

/// `x` with the features `cats` turned into category codes: a value in
/// `[-1, 1)` falls in one of 32 equal bins, and the bins get their codes
/// in a scrambled order, so a code's size says nothing of the value and
/// only a categorical split can use the feature well.
pub fn categorical_codes(x: Matrix, cats: std::ops::Range<usize>) -> Matrix {
    if cats.is_empty() {
        return x;
    }
    let (n, f) = (x.n_rows(), x.n_cols());
    let mut cells = x.as_slice().to_vec();
    for row in cells.chunks_mut(f) {
        for v in &mut row[cats.clone()] {
            let bin = ((*v + 1.0) * 16.0).floor().clamp(0.0, 31.0) as u64;
            // An odd multiplier permutes 0..32 modulo 32.
            *v = ((bin * 13 + 7) % 32) as f64;
        }
    }
    Matrix::new(cells, n, f).expect("the same shape")
}

/// Trains and times the booster; data are generated before the clock
/// starts.
pub fn run(b: &GbdtBench) -> Result<GbdtBenchResult> {
    let bad = |message: String| RunnerError::Model {
        model: "gbdt".into(),
        message,
    };
    if b.categorical > b.features {
        return Err(bad(format!(
            "categorical features ({}) must be at most the features ({})",
            b.categorical, b.features
        )));
    }
    if b.rows < 2 || b.features == 0 || b.rounds == 0 || b.test_rows == 0 || b.repeat == 0 {
        return Err(bad(format!(
            "rows ({}) must be at least 2 and features ({}), rounds ({}), test rows ({}) and \
             repeat ({}) at least 1",
            b.rows, b.features, b.rounds, b.test_rows, b.repeat
        )));
    }
    let cats = b.features - b.categorical..b.features;
    let (x, target) = b.objective.draw(b.rows, b.features, b.seed);
    let (xt, test_target) = b
        .objective
        .draw(b.test_rows, b.features, b.seed.wrapping_add(1));
    let x = categorical_codes(x, cats.clone());
    let xt = categorical_codes(xt, cats.clone());
    let names = synthetic::feature_names(b.features);
    let categorical_feature = names[cats].to_vec();
    let data = Dataset::new(x, names, target)?;
    let params = GbdtParams::new()
        .with(|c| {
            c.objective = b.objective.objective();
            c.num_iterations = b.rounds;
            c.num_leaves = b.num_leaves;
            c.learning_rate = b.learning_rate;
            c.num_threads = b.threads;
            c.use_quantized_grad = b.quantized;
            c.categorical_feature = categorical_feature;
        })
        .check()
        .map_err(|e| bad(e.to_string()))?;
    let device = tenure_device::resolve_here(b.device)?.device;
    super::memory::reset_peak_rss();
    let (mut train_s, mut train_cpu, mut predict_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..b.repeat {
        let cpu = crate::output::CpuTimer::start();
        let t0 = Instant::now();
        let booster = tenure_gbdt::train_on(
            &params,
            data.feature_names(),
            tenure_gbdt::TrainSet::from_dataset(&data),
            None,
            &mut |_| std::ops::ControlFlow::Continue(()),
            &device,
        )
        .map_err(|e| bad(e.to_string()))?;
        train_s.push(t0.elapsed().as_secs_f64());
        train_cpu.extend(cpu.elapsed());
        let t0 = Instant::now();
        let pred = booster.predict(&xt).map_err(|e| bad(e.to_string()))?;
        predict_s.push(t0.elapsed().as_secs_f64());
        last = Some((
            booster.num_trees(),
            booster.device_bytes,
            booster.device_traffic,
            pred,
        ));
    }
    let (num_trees, device_bytes, device_traffic, pred) = last.expect("repeat >= 1");
    let score = match &test_target {
        Target::Binary(y) => tenure_metrics::roc_auc(y, &pred),
        Target::Survival { time, event } => tenure_metrics::concordance_index(time, event, &pred),
        _ => unreachable!("the tables are binary or survival"),
    }
    .map_err(|e| bad(e.to_string()))?;
    let (test_auc, test_cindex) = match b.objective {
        BenchObjective::Cox => (None, Some(score)),
        BenchObjective::Binary => (Some(score), None),
    };
    let predict_seconds = Spread::of(&predict_s).ok_or_else(|| bad("no timing".into()))?;
    Ok(GbdtBenchResult {
        settings: b.clone(),
        train_seconds: Spread::of(&train_s).ok_or_else(|| bad("no timing".into()))?,
        train_cpu_seconds: Spread::of(&train_cpu).filter(|_| train_cpu.len() == b.repeat),
        predict_rows_per_second: b.test_rows as f64 / predict_seconds.median,
        predict_seconds,
        num_trees,
        test_auc,
        test_cindex,
        peak_rss_mb: crate::output::peak_rss_mb(),
        device: device.kind().to_string(),
        device_name: device.to_string(),
        device_bytes,
        device_traffic,
    })
}

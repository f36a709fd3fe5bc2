//! Hyperparameters, named as LightGBM names them so that configurations
//! carry over.

use serde::{Deserialize, Serialize};
use tenure_core::{ParamGuard, ensure_param};

use crate::{GbdtError, Objective};

/// The hyperparameters as plain data (TOML tables, JSON), by LightGBM's
/// names. Wrap them in [`GbdtParams`] to check and train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtConfig {
    pub objective: Objective,
    pub num_iterations: usize,
    pub learning_rate: f64,
    pub num_leaves: usize,
    /// `<= 0`: unlimited.
    pub max_depth: i64,
    pub max_bin: usize,
    pub min_data_in_leaf: usize,
    pub min_sum_hessian_in_leaf: f64,
    pub lambda_l1: f64,
    pub lambda_l2: f64,
    pub min_gain_to_split: f64,
    pub max_delta_step: f64,
    pub feature_fraction: f64,
    pub bagging_fraction: f64,
    /// Resample the bag every this many iterations (0: no bagging).
    pub bagging_freq: usize,
    /// Weight of positive rows (binary objective).
    pub scale_pos_weight: f64,
    pub tweedie_variance_power: f64,
    /// Stop when the validation metric has not improved for this many
    /// rounds (0: never).
    pub early_stopping_round: usize,
    /// Validation metric for early stopping; empty: the objective's default.
    pub metric: String,
    /// Feature names (or indices) read as integer category codes.
    pub categorical_feature: Vec<String>,
    pub max_cat_threshold: usize,
    pub max_cat_to_onehot: usize,
    pub cat_smooth: f64,
    pub cat_l2: f64,
    pub min_data_per_group: usize,
    /// Rows sampled to find bin boundaries.
    pub bin_construct_sample_cnt: usize,
    pub seed: u64,
    /// 0: all cores. Results do not depend on it.
    pub num_threads: usize,
    /// Histograms over integer-quantised gradients (one integer add per
    /// row and feature; exact and order-free); leaf values still come from
    /// the exact gradients.
    pub use_quantized_grad: bool,
    /// Quantisation levels of the gradient (the hessian gets as many); 0
    /// picks them: LightGBM's 4, or 16 for Cox, whose gradients are
    /// heavy-tailed (a high-risk row's is many times a typical row's), so
    /// that 4 levels cost C-index (see [`GbdtConfig::grad_quant_bins`]).
    pub num_grad_quant_bins: usize,
    /// Unbiased stochastic rounding (seeded) instead of round-to-nearest.
    pub stochastic_rounding: bool,
    /// MB of leaf histograms a GPU keeps to search splits there (2 KiB a
    /// feature a leaf); past it the histograms come back and the host
    /// searches. Negative: 1024. The trees are the same either way. Not
    /// LightGBM's `histogram_pool_size`, a CPU cache whose negative value
    /// means no limit.
    pub gpu_histogram_pool_size: f64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        Self {
            objective: Objective::Binary,
            num_iterations: 100,
            learning_rate: 0.1,
            num_leaves: 31,
            max_depth: -1,
            max_bin: 255,
            min_data_in_leaf: 20,
            min_sum_hessian_in_leaf: 1e-3,
            lambda_l1: 0.0,
            lambda_l2: 0.0,
            min_gain_to_split: 0.0,
            max_delta_step: 0.0,
            feature_fraction: 1.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            scale_pos_weight: 1.0,
            tweedie_variance_power: 1.5,
            early_stopping_round: 0,
            metric: String::new(),
            categorical_feature: Vec::new(),
            max_cat_threshold: 32,
            max_cat_to_onehot: 4,
            cat_smooth: 10.0,
            cat_l2: 10.0,
            min_data_per_group: 100,
            bin_construct_sample_cnt: 200_000,
            seed: 0,
            num_threads: 0,
            use_quantized_grad: false,
            num_grad_quant_bins: 0,
            stochastic_rounding: true,
            gpu_histogram_pool_size: -1.0,
        }
    }
}

/// What the user fills in; [`ParamGuard::check`] turns it into
/// [`GbdtValidParams`], the only type training accepts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GbdtParams(GbdtValidParams);

/// Checked parameters: the only way to train. Read the values through
/// `Deref` to [`GbdtConfig`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GbdtValidParams(GbdtConfig);

impl std::ops::Deref for GbdtValidParams {
    type Target = GbdtConfig;
    fn deref(&self) -> &GbdtConfig {
        &self.0
    }
}

impl From<GbdtConfig> for GbdtParams {
    fn from(config: GbdtConfig) -> Self {
        Self(GbdtValidParams(config))
    }
}

impl GbdtParams {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn config(&self) -> &GbdtConfig {
        &self.0.0
    }

    /// Changes the values directly, e.g. `p.with(|c| c.num_leaves = 63)`.
    pub fn with(mut self, f: impl FnOnce(&mut GbdtConfig)) -> Self {
        f(&mut self.0.0);
        self
    }

    /// Sets one parameter from text (`--param KEY=VALUE`), by LightGBM's name.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), GbdtError> {
        self.0.0.set(key, value)
    }
}

/// Every parameter name [`GbdtParams::set`] accepts.
pub const PARAM_NAMES: &[&str] = &[
    "objective",
    "num_iterations",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "max_bin",
    "min_data_in_leaf",
    "min_sum_hessian_in_leaf",
    "lambda_l1",
    "lambda_l2",
    "min_gain_to_split",
    "max_delta_step",
    "feature_fraction",
    "bagging_fraction",
    "bagging_freq",
    "scale_pos_weight",
    "tweedie_variance_power",
    "early_stopping_round",
    "metric",
    "categorical_feature",
    "max_cat_threshold",
    "max_cat_to_onehot",
    "cat_smooth",
    "cat_l2",
    "min_data_per_group",
    "bin_construct_sample_cnt",
    "seed",
    "num_threads",
    "use_quantized_grad",
    "num_grad_quant_bins",
    "stochastic_rounding",
    "gpu_histogram_pool_size",
];

impl GbdtConfig {
    /// The gradient quantisation levels a training uses: the parameter,
    /// or when it is 0, 16 for Cox and 4 otherwise. On 100,000 synthetic
    /// survival rows (`tenure bench gbdt --objective cox`, 100 rounds), 4
    /// levels lost 0.009 of held-out C-index to the unquantised booster, 16
    /// lost 0.0004; the levels cost no time (a row's pair is 16 bits
    /// either way).
    pub fn grad_quant_bins(&self) -> usize {
        match (self.num_grad_quant_bins, self.objective) {
            (0, Objective::Cox) => 16,
            (0, _) => 4,
            (bins, _) => bins,
        }
    }

    /// Sets one parameter from text (`--param KEY=VALUE`), by LightGBM's name.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), GbdtError> {
        fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, GbdtError> {
            value.trim().parse().map_err(|_| GbdtError::BadValue {
                key: key.to_string(),
                value: value.to_string(),
                expected: std::any::type_name::<T>(),
            })
        }
        match key {
            "objective" => {
                self.objective = value.parse().map_err(|e: String| GbdtError::BadValue {
                    key: key.into(),
                    value: value.into(),
                    expected: if e.is_empty() {
                        "an objective"
                    } else {
                        "binary, regression, tweedie or cox"
                    },
                })?
            }
            "num_iterations" => self.num_iterations = parse(key, value)?,
            "learning_rate" => self.learning_rate = parse(key, value)?,
            "num_leaves" => self.num_leaves = parse(key, value)?,
            "max_depth" => self.max_depth = parse(key, value)?,
            "max_bin" => self.max_bin = parse(key, value)?,
            "min_data_in_leaf" => self.min_data_in_leaf = parse(key, value)?,
            "min_sum_hessian_in_leaf" => self.min_sum_hessian_in_leaf = parse(key, value)?,
            "lambda_l1" => self.lambda_l1 = parse(key, value)?,
            "lambda_l2" => self.lambda_l2 = parse(key, value)?,
            "min_gain_to_split" => self.min_gain_to_split = parse(key, value)?,
            "max_delta_step" => self.max_delta_step = parse(key, value)?,
            "feature_fraction" => self.feature_fraction = parse(key, value)?,
            "bagging_fraction" => self.bagging_fraction = parse(key, value)?,
            "bagging_freq" => self.bagging_freq = parse(key, value)?,
            "scale_pos_weight" => self.scale_pos_weight = parse(key, value)?,
            "tweedie_variance_power" => self.tweedie_variance_power = parse(key, value)?,
            "early_stopping_round" => self.early_stopping_round = parse(key, value)?,
            "metric" => self.metric = value.trim().to_string(),
            "categorical_feature" => {
                self.categorical_feature = value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "max_cat_threshold" => self.max_cat_threshold = parse(key, value)?,
            "max_cat_to_onehot" => self.max_cat_to_onehot = parse(key, value)?,
            "cat_smooth" => self.cat_smooth = parse(key, value)?,
            "cat_l2" => self.cat_l2 = parse(key, value)?,
            "min_data_per_group" => self.min_data_per_group = parse(key, value)?,
            "bin_construct_sample_cnt" => self.bin_construct_sample_cnt = parse(key, value)?,
            "seed" => self.seed = parse(key, value)?,
            "num_threads" => self.num_threads = parse(key, value)?,
            "use_quantized_grad" => self.use_quantized_grad = parse(key, value)?,
            "num_grad_quant_bins" => self.num_grad_quant_bins = parse(key, value)?,
            "stochastic_rounding" => self.stochastic_rounding = parse(key, value)?,
            "gpu_histogram_pool_size" => self.gpu_histogram_pool_size = parse(key, value)?,
            other => {
                return Err(GbdtError::UnknownParam {
                    key: other.to_string(),
                    known: PARAM_NAMES.join(", "),
                });
            }
        }
        Ok(())
    }
}

impl ParamGuard for GbdtParams {
    type Checked = GbdtValidParams;
    type Error = GbdtError;

    fn check(self) -> Result<GbdtValidParams, GbdtError> {
        self.check_ref()?;
        Ok(self.0)
    }

    fn check_ref(&self) -> Result<&GbdtValidParams, GbdtError> {
        let p = self.config();
        ensure_param!(
            p.num_iterations >= 1,
            "num_iterations",
            "must be at least 1, got {}",
            p.num_iterations
        );
        ensure_param!(
            p.learning_rate.is_finite() && p.learning_rate > 0.0,
            "learning_rate",
            "must be a positive number, got {}",
            p.learning_rate
        );
        ensure_param!(
            (2..=131_072).contains(&p.num_leaves),
            "num_leaves",
            "must be between 2 and 131072, got {}",
            p.num_leaves
        );
        ensure_param!(
            (2..=255).contains(&p.max_bin),
            "max_bin",
            "must be between 2 and 255, got {}",
            p.max_bin
        );
        ensure_param!(
            p.min_data_in_leaf >= 1,
            "min_data_in_leaf",
            "must be at least 1, got 0"
        );
        ensure_param!(
            p.min_sum_hessian_in_leaf >= 0.0,
            "min_sum_hessian_in_leaf",
            "must be >= 0, got {}",
            p.min_sum_hessian_in_leaf
        );
        ensure_param!(
            p.lambda_l1 >= 0.0,
            "lambda_l1",
            "must be >= 0, got {}",
            p.lambda_l1
        );
        ensure_param!(
            p.lambda_l2 >= 0.0,
            "lambda_l2",
            "must be >= 0, got {}",
            p.lambda_l2
        );
        ensure_param!(
            p.min_gain_to_split >= 0.0,
            "min_gain_to_split",
            "must be >= 0, got {}",
            p.min_gain_to_split
        );
        ensure_param!(
            p.max_delta_step >= 0.0,
            "max_delta_step",
            "must be >= 0, got {}",
            p.max_delta_step
        );
        ensure_param!(
            p.feature_fraction > 0.0 && p.feature_fraction <= 1.0,
            "feature_fraction",
            "must be in (0, 1], got {}",
            p.feature_fraction
        );
        ensure_param!(
            p.bagging_fraction > 0.0 && p.bagging_fraction <= 1.0,
            "bagging_fraction",
            "must be in (0, 1], got {}",
            p.bagging_fraction
        );
        ensure_param!(
            p.scale_pos_weight.is_finite() && p.scale_pos_weight > 0.0,
            "scale_pos_weight",
            "must be positive, got {}",
            p.scale_pos_weight
        );
        ensure_param!(
            p.tweedie_variance_power > 1.0 && p.tweedie_variance_power < 2.0,
            "tweedie_variance_power",
            "must be in (1, 2), got {}",
            p.tweedie_variance_power
        );
        ensure_param!(
            p.max_cat_threshold >= 1,
            "max_cat_threshold",
            "must be at least 1, got 0"
        );
        ensure_param!(
            p.cat_smooth >= 0.0,
            "cat_smooth",
            "must be >= 0, got {}",
            p.cat_smooth
        );
        ensure_param!(p.cat_l2 >= 0.0, "cat_l2", "must be >= 0, got {}", p.cat_l2);
        ensure_param!(
            p.bin_construct_sample_cnt >= 1,
            "bin_construct_sample_cnt",
            "must be at least 1, got 0"
        );
        ensure_param!(
            p.num_grad_quant_bins == 0 || (2..=126).contains(&p.num_grad_quant_bins),
            "num_grad_quant_bins",
            "must be between 2 and 126 (or 0: picked by the objective), got {}",
            p.num_grad_quant_bins
        );
        ensure_param!(
            !p.gpu_histogram_pool_size.is_nan(),
            "gpu_histogram_pool_size",
            "must be a number of MB, got NaN"
        );
        if !p.metric.is_empty() {
            crate::metric::EvalMetric::parse(&p.metric, p.objective)?;
        }
        Ok(&self.0)
    }
}

//! Plain, framework-free descriptions of trained models.
//!
//! A trained model converts into one of these, and the ONNX exporter reads
//! nothing else: it never depends on a training crate. Each specification
//! also predicts by itself, so an exporter's output can be checked against
//! the model that produced it.
//!
//! Feature values cross every boundary as `f32`, as ONNX graphs take them:
//! the specifications compare `x as f32` with `f32` thresholds, so a model,
//! its specification and an ONNX runtime route every row the same way.

use serde::{Deserialize, Serialize};

use crate::{Calibrator, CoreError, Matrix, Result, Task};

/// How the raw score (sum of trees, or linear predictor) becomes a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    /// The raw score itself (regression, Cox log hazard ratio).
    Identity,
    /// `1 / (1 + exp(-s))`: a probability (binary classification).
    Sigmoid,
    /// `exp(s)`: log-link models (Tweedie spend, Cox hazard ratio).
    Exp,
}

impl Link {
    pub fn apply(self, s: f64) -> f64 {
        match self {
            Link::Identity => s,
            Link::Sigmoid => 1.0 / (1.0 + (-s).exp()),
            Link::Exp => s.exp(),
        }
    }
}

/// What a split tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Left when `x <= threshold` (compared in `f32`).
    Le { threshold: f32 },
    /// Left when the integer category code `x` is one of `left`; codes
    /// never seen in training (and negative or fractional values) go right.
    In { left: Vec<u32> },
}

/// One node of a tree, stored in a flat vector; children are indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    Split {
        feature: u32,
        condition: Condition,
        /// Where a missing (`NaN`) value goes.
        missing_left: bool,
        left: u32,
        right: u32,
    },
    Leaf {
        value: f64,
    },
}

/// A binary tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf value the row lands in.
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            match &self.nodes[i] {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    condition,
                    missing_left,
                    left,
                    right,
                } => {
                    let x = row[*feature as usize];
                    let go_left = if x.is_nan() {
                        *missing_left
                    } else {
                        condition.goes_left(x as f32)
                    };
                    i = if go_left { *left } else { *right } as usize;
                }
            }
        }
    }
}

impl Condition {
    pub fn goes_left(&self, x: f32) -> bool {
        match self {
            Condition::Le { threshold } => x <= *threshold,
            Condition::In { left } => {
                x >= 0.0 && x.fract() == 0.0 && left.binary_search(&(x as u32)).is_ok()
            }
        }
    }
}

/// An additive tree ensemble: `link(base_score + sum of trees)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    pub feature_names: Vec<String>,
    /// Indices of features read as integer category codes.
    pub categorical: Vec<u32>,
    pub base_score: f64,
    pub link: Link,
    pub trees: Vec<Tree>,
}

impl TreeEnsemble {
    /// Raw scores (before the link), one per row.
    pub fn predict_raw(&self, x: &Matrix) -> Result<Vec<f64>> {
        check_width(x, self.feature_names.len())?;
        Ok(x.rows()
            .map(|row| self.base_score + self.trees.iter().map(|t| t.predict_row(row)).sum::<f64>())
            .collect())
    }

    /// Predictions after the link, one per row.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        let mut out = self.predict_raw(x)?;
        for v in &mut out {
            *v = self.link.apply(*v);
        }
        Ok(out)
    }
}

/// Per-feature preprocessing applied to raw inputs before a linear or
/// neural model: impute a missing value, then standardise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardize {
    /// Replaces `NaN` (in raw units).
    pub impute: Vec<f64>,
    pub mean: Vec<f64>,
    /// Divides after centring; never zero.
    pub scale: Vec<f64>,
}

impl Standardize {
    pub fn apply(&self, j: usize, x: f64) -> f64 {
        let x = if x.is_nan() { self.impute[j] } else { x };
        (x - self.mean[j]) / self.scale[j]
    }
}

/// A linear predictor on (optionally standardised) raw features:
/// `link(intercept + sum_j coef_j * z_j)`. Logistic regression uses the
/// sigmoid link; Cox PH the identity (log hazard ratio) or exp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub feature_names: Vec<String>,
    pub preprocess: Option<Standardize>,
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub link: Link,
}

impl LinearModel {
    /// Linear predictors (before the link), one per row.
    pub fn predict_raw(&self, x: &Matrix) -> Result<Vec<f64>> {
        check_width(x, self.feature_names.len())?;
        Ok(x.rows()
            .map(|row| {
                row.iter()
                    .zip(&self.coef)
                    .enumerate()
                    .fold(self.intercept, |acc, (j, (&v, &c))| {
                        let z = match &self.preprocess {
                            Some(p) => p.apply(j, v),
                            None => v,
                        };
                        acc + c * z
                    })
            })
            .collect())
    }

    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        let mut out = self.predict_raw(x)?;
        for v in &mut out {
            *v = self.link.apply(*v);
        }
        Ok(out)
    }
}

/// Any exportable model: what `spec.json` holds and exporters read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Model {
    TreeEnsemble(TreeEnsemble),
    Linear(LinearModel),
    /// A feed-forward network (MLP, DeepSurv, ZILN).
    Network(crate::NetworkSpec),
}

impl Model {
    /// Input columns, in order.
    pub fn feature_names(&self) -> &[String] {
        match self {
            Model::TreeEnsemble(m) => &m.feature_names,
            Model::Linear(m) => &m.feature_names,
            Model::Network(m) => &m.feature_names,
        }
    }

    pub fn link(&self) -> Link {
        match self {
            Model::TreeEnsemble(m) => m.link,
            Model::Linear(m) => m.link,
            // The raw score of a network: the logit, the log hazard ratio,
            // the log of the expected spend.
            Model::Network(m) => match m.head {
                crate::NetworkHead::Logistic => Link::Sigmoid,
                crate::NetworkHead::CoxLogHazard { .. } => Link::Identity,
                crate::NetworkHead::ZeroInflatedLognormal => Link::Exp,
            },
        }
    }

    /// Scores before the link, one per row.
    pub fn predict_raw(&self, x: &Matrix) -> Result<Vec<f64>> {
        match self {
            Model::TreeEnsemble(m) => m.predict_raw(x),
            Model::Linear(m) => m.predict_raw(x),
            Model::Network(m) => Ok(m
                .forward(x)?
                .iter()
                .map(|out| match m.head {
                    crate::NetworkHead::ZeroInflatedLognormal => m.head.predict(out).ln(),
                    _ => out[0],
                })
                .collect()),
        }
    }

    /// Predictions after the link, one per row.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        match self {
            Model::TreeEnsemble(m) => m.predict(x),
            Model::Linear(m) => m.predict(x),
            Model::Network(m) => m.predict(x),
        }
    }
}

/// What a trained model is, for the people and systems that deploy it; an
/// exporter writes it into the file's metadata and the model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model's name in its experiment (`[[models]] name`).
    pub name: String,
    /// Its family (`logistic`, `cox`, `gbdt`...).
    pub kind: String,
    pub version: String,
    pub task: Task,
    /// The prediction horizon, where the task has one.
    pub horizon_days: Option<f64>,
    /// Rows the model was trained on.
    pub training_rows: usize,
    /// A digest of the training data (features, names, target, weights),
    /// e.g. `sha256:…`: equal digests mean the same training data.
    pub training_fingerprint: String,
    /// The tenure release that trained it.
    pub tenure_version: String,
    /// The tracking run that produced it, if any.
    pub run_id: Option<String>,
}

/// A model's specification with its description: the content of
/// `spec.json`, from which an export can be redone at any time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSpec {
    /// [`SavedSpec::FORMAT`]; readers refuse what they do not know.
    pub format: String,
    pub info: ModelInfo,
    pub model: Model,
    /// Maps the model's probability to a calibrated one (fitted on
    /// out-of-fold predictions); absent when the model was not calibrated.
    /// Older files without the key read as uncalibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrator: Option<Calibrator>,
    /// Survival models whose raw score is a log hazard ratio: `S(t | x)` at
    /// fixed times from the baseline cumulative hazard there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survival: Option<SurvivalCurves>,
    /// Features computed from raw categorical columns (one-hot indicators,
    /// target encodings, category codes): an export takes those columns'
    /// levels as strings and computes the features itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<crate::spec_categories::CategoricalInputs>,
}

/// Survival probabilities at fixed times from a log hazard ratio `η`:
/// `S(t_k | x) = exp(−H₀(t_k) · exp(η))` (Breslow), then, where a
/// calibrator was fitted for that time, `1 − c(1 − S)`: the calibrator maps
/// the probability of the event by `t_k`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurvivalCurves {
    /// The times, in days after the cutoff (as configured).
    pub days: Vec<f64>,
    /// The baseline cumulative hazard `H₀` at each time (at the instant
    /// just before the configured day, where the runner asks).
    pub cumulative_hazard: Vec<f64>,
    /// Per time: the calibrator of `1 − S(t_k | x)`, or none. Empty when
    /// uncalibrated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calibrators: Vec<Option<Calibrator>>,
}

impl SurvivalCurves {
    /// `out[k][i]` = `S(days[k] | row i)` for log hazard ratios `eta`, the
    /// layout of [`PredictSurvival`](crate::PredictSurvival).
    pub fn predict(&self, eta: &[f64]) -> Vec<Vec<f64>> {
        self.cumulative_hazard
            .iter()
            .enumerate()
            .map(|(k, &h)| {
                let calibrator = self.calibrators.get(k).and_then(Option::as_ref);
                eta.iter()
                    .map(|&e| {
                        let s = (-h * e.exp()).exp();
                        match calibrator {
                            Some(c) => 1.0 - c.apply(1.0 - s),
                            None => s,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

impl SavedSpec {
    pub const FORMAT: &'static str = "tenure.spec/1";

    pub fn new(info: ModelInfo, model: Model) -> Self {
        Self {
            format: Self::FORMAT.to_string(),
            info,
            model,
            calibrator: None,
            survival: None,
            categories: None,
        }
    }

    /// The same specification reading `categories`' features from raw
    /// categorical columns.
    pub fn with_categories(
        mut self,
        categories: Option<crate::spec_categories::CategoricalInputs>,
    ) -> Self {
        self.categories = categories;
        self
    }

    /// The same specification with survival probabilities at fixed times.
    pub fn with_survival(mut self, survival: Option<SurvivalCurves>) -> Self {
        self.survival = survival;
        self
    }

    /// `S(t | x)` at the spec's times (`out[k][i]`), as the exported graph's
    /// `survival` output computes it; `None` without survival curves.
    pub fn predict_survival(&self, x: &Matrix) -> Result<Option<Vec<Vec<f64>>>> {
        match &self.survival {
            None => Ok(None),
            Some(curves) => Ok(Some(curves.predict(&self.model.predict_raw(x)?))),
        }
    }

    /// The same specification with `calibrator` applied after the model.
    pub fn with_calibrator(mut self, calibrator: Option<Calibrator>) -> Self {
        self.calibrator = calibrator;
        self
    }

    /// What the exported model predicts: the model's predictions, mapped by
    /// the calibrator when there is one.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f64>> {
        let p = self.model.predict(x)?;
        Ok(match &self.calibrator {
            Some(c) => c.apply_all(&p),
            None => p,
        })
    }
}

fn check_width(x: &Matrix, n: usize) -> Result<()> {
    if x.n_cols() != n {
        return Err(CoreError::Shape(format!(
            "the model takes {n} features, the matrix has {}",
            x.n_cols()
        )));
    }
    Ok(())
}

//! Raw features → network inputs, fitted on the training rows only.
//!
//! Numeric columns: each value goes through `asinh` (customer features are
//! counts and amounts with heavy right tails: `asinh` is about `ln 2x` far
//! out and about `x` near zero, and keeps the sign), is clamped into its
//! training range, a missing value becomes the training mean, then the
//! column is centred and divided by its training standard deviation (1 for
//! a constant column). Without the first two steps a ZILN network fitted
//! to a few extreme spenders gave others expected values of 10^8. Categorical columns: each training code gets an
//! index from 1; missing and unseen codes share index 0. The fitted state is
//! part of the model and of its [`NetworkSpec`](tenure_core::NetworkSpec),
//! so an exported model takes raw features.

use serde::{Deserialize, Serialize};
use tenure_core::Matrix;
use tenure_core::spec::Standardize;

use crate::{NeuralError, Result};

/// One categorical column's vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryIndex {
    pub column: usize,
    /// Codes seen in training, sorted; `levels[k]` has index `k + 1`.
    pub levels: Vec<f64>,
    /// Where this column's rows start in the shared embedding table.
    pub offset: usize,
}

impl CategoryIndex {
    pub fn index(&self, x: f64) -> usize {
        if x.is_nan() {
            return 0;
        }
        self.levels
            .binary_search_by(|l| l.total_cmp(&x))
            .map_or(0, |k| k + 1)
    }
}

/// The fitted preprocessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub n_features: usize,
    /// Columns standardised, in input order.
    pub numeric: Vec<usize>,
    pub standardize: Standardize,
    /// Training `[min, max]` of each numeric column after `asinh`; inputs
    /// are clamped into it (see [`tenure_core::NetworkSpec::clamp`]).
    pub clamp: Vec<[f64; 2]>,
    pub categories: Vec<CategoryIndex>,
}

/// Network inputs of some rows, row-major, ready to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub n_rows: usize,
    pub numeric: Vec<f32>,
    /// Indices into the shared embedding table (column offsets included).
    pub categories: Vec<i64>,
}

impl Preprocessor {
    /// Fits on training rows. `categorical` names columns of integer codes.
    pub fn fit(x: &Matrix, names: &[String], categorical: &[String]) -> Result<Self> {
        let mut cat_cols = Vec::with_capacity(categorical.len());
        for c in categorical {
            let j = names
                .iter()
                .position(|n| n == c)
                .ok_or_else(|| NeuralError::UnknownCategorical(c.clone()))?;
            cat_cols.push(j);
        }
        let numeric: Vec<usize> = (0..x.n_cols()).filter(|j| !cat_cols.contains(j)).collect();
        let (mut impute, mut mean, mut scale) = (Vec::new(), Vec::new(), Vec::new());
        let mut clamp = Vec::with_capacity(numeric.len());
        for &j in &numeric {
            let mut n = 0usize;
            let mut sum = 0.0;
            for (r, v) in x.column(j).map(f64::asinh).enumerate() {
                if v.is_infinite() {
                    return Err(NeuralError::BadFeature {
                        column: names[j].clone(),
                        row: r,
                        reason: format!("{v} is not a finite number"),
                    });
                }
                if !v.is_nan() {
                    n += 1;
                    sum += v;
                }
            }
            let m = if n > 0 { sum / n as f64 } else { 0.0 };
            let (lo, hi) = x
                .column(j)
                .map(f64::asinh)
                .filter(|v| !v.is_nan())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            // An all-missing column is imputed to its (zero) mean.
            clamp.push(if n > 0 { [lo, hi] } else { [m, m] });
            let ss: f64 = x
                .column(j)
                .map(f64::asinh)
                .filter(|v| !v.is_nan())
                .map(|v| (v - m).powi(2))
                .sum();
            let sd = if n > 0 { (ss / n as f64).sqrt() } else { 0.0 };
            impute.push(m);
            mean.push(m);
            // A constant column carries nothing; dividing by 1 keeps it at 0.
            scale.push(if sd > 1e-12 && sd.is_finite() {
                sd
            } else {
                1.0
            });
        }
        let mut categories = Vec::with_capacity(cat_cols.len());
        let mut offset = 0;
        for &j in &cat_cols {
            let mut levels: Vec<f64> = Vec::new();
            for (r, v) in x.column(j).enumerate() {
                if v.is_nan() {
                    continue;
                }
                if !(v.is_finite() && v.fract() == 0.0) {
                    return Err(NeuralError::BadFeature {
                        column: names[j].clone(),
                        row: r,
                        reason: format!("{v} is not an integer category code"),
                    });
                }
                levels.push(v);
            }
            levels.sort_by(f64::total_cmp);
            levels.dedup();
            let n_levels = levels.len();
            categories.push(CategoryIndex {
                column: j,
                levels,
                offset,
            });
            offset += n_levels + 1;
        }
        Ok(Self {
            n_features: x.n_cols(),
            numeric,
            standardize: Standardize {
                impute,
                mean,
                scale,
            },
            clamp,
            categories,
        })
    }

    /// Rows of the shared embedding table.
    pub fn n_embeddings(&self) -> usize {
        self.categories.iter().map(|c| c.levels.len() + 1).sum()
    }

    pub fn transform(&self, x: &Matrix) -> Result<Inputs> {
        if x.n_cols() != self.n_features {
            return Err(tenure_core::CoreError::Shape(format!(
                "the model takes {} features, the matrix has {}",
                self.n_features,
                x.n_cols()
            ))
            .into());
        }
        let n = x.n_rows();
        let mut numeric = Vec::with_capacity(n * self.numeric.len());
        let mut categories = Vec::with_capacity(n * self.categories.len());
        for row in x.rows() {
            for (k, &j) in self.numeric.iter().enumerate() {
                let x = tenure_core::spec_network::clamp_to(row[j].asinh(), self.clamp[k]);
                numeric.push(self.standardize.apply(k, x) as f32);
            }
            for c in &self.categories {
                categories.push((c.offset + c.index(row[c.column])) as i64);
            }
        }
        Ok(Inputs {
            n_rows: n,
            numeric,
            categories,
        })
    }
}

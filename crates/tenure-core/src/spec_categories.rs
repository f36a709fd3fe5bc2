//! Feature columns that a deployed model computes from raw categorical
//! columns, so that a scoring pipeline feeds a customer's `plan = "premium"`
//! rather than tenure's encoding of it (a one-hot indicator, a target
//! encoding, a category code).
//!
//! Every such feature is a lookup: level → value, with one value for any
//! level the model never saw (missing included). That covers every encoding
//! tenure builds, and an exporter writes it as one table lookup per column.
//!
//! ```
//! use tenure_core::Matrix;
//! use tenure_core::spec_categories::{CategoricalInputs, DerivedFeature};
//!
//! // Features: [recency_days, attr_plan=basic, attr_plan=premium].
//! let inputs = CategoricalInputs {
//!     columns: vec!["plan".into()],
//!     derived: ["basic", "premium"]
//!         .iter()
//!         .enumerate()
//!         .map(|(k, level)| DerivedFeature {
//!             feature: 1 + k as u32,
//!             column: 0,
//!             levels: vec![level.to_string()],
//!             values: vec![1.0],
//!             unseen: 0.0,
//!         })
//!         .collect(),
//! };
//! inputs.validate(3).unwrap();
//! assert_eq!(inputs.numeric_features(3), [0]);
//! let numeric = Matrix::from_rows(&[vec![12.0], vec![3.0]]).unwrap();
//! let x = inputs.encode(&numeric, &[vec!["premium"], vec!["gold"]]).unwrap();
//! assert_eq!(x.row(0), [12.0, 0.0, 1.0]);
//! assert_eq!(x.row(1), [3.0, 0.0, 0.0]); // an unseen level
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{CoreError, Matrix, Result};

/// The raw categorical columns a model reads, and the features they give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalInputs {
    /// Names of the raw columns (as in the customers table), in the order
    /// an exported graph's `categories` input takes them.
    pub columns: Vec<String>,
    /// One entry per feature computed from a raw column.
    pub derived: Vec<DerivedFeature>,
}

/// One model feature as a lookup on one raw column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivedFeature {
    /// Index of the feature among the model's features.
    pub feature: u32,
    /// Index of the raw column in [`CategoricalInputs::columns`].
    pub column: u32,
    /// Levels with a value of their own; `values[k]` is `levels[k]`'s.
    pub levels: Vec<String>,
    pub values: Vec<f64>,
    /// The value of any other level, and of a missing one (empty string).
    pub unseen: f64,
}

impl CategoricalInputs {
    /// Checks the description against a model of `n_features` features:
    /// indices in range, each feature derived at most once, levels unique
    /// and non-empty (the empty string means missing), finite values, and
    /// at least one feature left for the numeric input.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        let bad = |reason: String| Err(CoreError::Shape(format!("categorical inputs: {reason}")));
        if self.columns.is_empty() || self.derived.is_empty() {
            return bad("no raw column or no derived feature".into());
        }
        let mut seen_columns = std::collections::BTreeSet::new();
        for c in &self.columns {
            if c.is_empty() || !seen_columns.insert(c.as_str()) {
                return bad(format!("column name `{c}` is empty or repeated"));
            }
        }
        let mut used = vec![false; self.columns.len()];
        let mut derived = vec![false; n_features];
        for d in &self.derived {
            let f = d.feature as usize;
            if f >= n_features || derived[f] {
                return bad(format!(
                    "feature {f} is out of range ({n_features} features) or derived twice"
                ));
            }
            derived[f] = true;
            let Some(u) = used.get_mut(d.column as usize) else {
                return bad(format!(
                    "feature {f} reads column {} of {}",
                    d.column,
                    self.columns.len()
                ));
            };
            *u = true;
            if d.levels.len() != d.values.len() {
                return bad(format!(
                    "feature {f} has {} levels and {} values",
                    d.levels.len(),
                    d.values.len()
                ));
            }
            let mut seen = std::collections::BTreeSet::new();
            for l in &d.levels {
                if l.is_empty() || !seen.insert(l.as_str()) {
                    return bad(format!("feature {f}: level `{l}` is empty or repeated"));
                }
            }
            if !d.values.iter().chain([&d.unseen]).all(|v| v.is_finite()) {
                return bad(format!("feature {f} maps a level to a non-finite value"));
            }
        }
        if let Some(k) = used.iter().position(|u| !u) {
            return bad(format!("column `{}` gives no feature", self.columns[k]));
        }
        if derived.iter().all(|&d| d) {
            return bad("every feature is derived; a numeric input needs one column".into());
        }
        Ok(())
    }

    /// The model's features that are fed as numbers, in order: the columns
    /// of the numeric input.
    pub fn numeric_features(&self, n_features: usize) -> Vec<usize> {
        let mut derived = vec![false; n_features];
        for d in &self.derived {
            if let Some(x) = derived.get_mut(d.feature as usize) {
                *x = true;
            }
        }
        (0..n_features).filter(|&j| !derived[j]).collect()
    }

    /// The model's full feature matrix from its numeric columns and one
    /// row of raw levels per customer (`categories[i][c]` for
    /// `columns[c]`), as an exported graph computes it.
    pub fn encode<S: AsRef<str>>(&self, numeric: &Matrix, categories: &[Vec<S>]) -> Result<Matrix> {
        let n_features = numeric.n_cols() + self.derived.len();
        self.validate(n_features)?;
        let numeric_cols = self.numeric_features(n_features);
        if numeric_cols.len() != numeric.n_cols() || categories.len() != numeric.n_rows() {
            return Err(CoreError::Shape(format!(
                "categorical inputs: {} numeric columns and {} rows of levels for {} rows",
                numeric.n_cols(),
                categories.len(),
                numeric.n_rows()
            )));
        }
        // One hash map per feature: a lookup per row, not a scan of levels.
        let tables: Vec<HashMap<&str, f64>> = self
            .derived
            .iter()
            .map(|d| {
                d.levels
                    .iter()
                    .zip(&d.values)
                    .map(|(l, &v)| (l.as_str(), f64::from(v as f32)))
                    .collect()
            })
            .collect();
        let mut out = Matrix::zeros(numeric.n_rows(), n_features);
        for (i, levels) in categories.iter().enumerate() {
            if levels.len() != self.columns.len() {
                return Err(CoreError::Shape(format!(
                    "categorical inputs: row {i} has {} levels for {} columns",
                    levels.len(),
                    self.columns.len()
                )));
            }
            for (k, &j) in numeric_cols.iter().enumerate() {
                out.set(i, j, numeric.get(i, k));
            }
            for (d, table) in self.derived.iter().zip(&tables) {
                let level = levels[d.column as usize].as_ref();
                let v = table
                    .get(level)
                    .copied()
                    .unwrap_or(f64::from(d.unseen as f32));
                out.set(i, d.feature as usize, v);
            }
        }
        Ok(out)
    }
}

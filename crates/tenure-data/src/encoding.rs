//! Out-of-fold target encoding for categorical attributes with many levels.
//!
//! A level's encoding is its smoothed mean label,
//! `(sum_y + smoothing * prior) / (count + smoothing)`, where `prior` is the
//! mean label of the training rows. Encoding training rows with encoders that
//! saw their own labels would leak them into the features; [`TargetEncoder::fit_transform_oof`]
//! encodes each training row with an encoder fitted on the other folds only.
//!
//! ```
//! use tenure_data::encoding::TargetEncoder;
//!
//! let codes = [Some(0), Some(0), Some(1), None];
//! let y = [1.0, 1.0, 0.0, 0.0];
//! let enc = TargetEncoder::fit(&codes, 3, &y, 2.0).unwrap();
//! assert_eq!(enc.prior(), 0.5);
//! // (2 + 2 * 0.5) / (2 + 2) for level 0; level 2 was never seen.
//! assert_eq!(enc.transform(&[Some(0), Some(2), None]), [0.75, 0.5, 0.5]);
//! ```

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tenure_core::{CoreError, ensure_param};

use crate::Result;

/// Smoothed mean label per level of one categorical attribute.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetEncoder {
    prior: f64,
    smoothing: f64,
    /// Encoding per level; levels without training rows hold the prior.
    values: Vec<f64>,
}

impl TargetEncoder {
    /// Fits on rows with level `codes` (`None` = missing) and labels `y`.
    pub fn fit(codes: &[Option<u32>], n_levels: usize, y: &[f64], smoothing: f64) -> Result<Self> {
        check_inputs(codes, n_levels, y, smoothing)?;
        if y.is_empty() {
            return Err(CoreError::CannotFit {
                model: "target encoder",
                reason: "no training rows".into(),
            }
            .into());
        }
        Ok(Self::fit_rows(codes, n_levels, y, smoothing, 0..y.len()))
    }

    /// Fits on the given rows only; inputs already checked, `rows` non-empty.
    fn fit_rows(
        codes: &[Option<u32>],
        n_levels: usize,
        y: &[f64],
        smoothing: f64,
        rows: impl Iterator<Item = usize>,
    ) -> Self {
        let mut sum = vec![0.0; n_levels];
        let mut count = vec![0usize; n_levels];
        let mut total = 0.0;
        let mut n = 0usize;
        for i in rows {
            total += y[i];
            n += 1;
            if let Some(c) = codes[i] {
                sum[c as usize] += y[i];
                count[c as usize] += 1;
            }
        }
        let prior = total / n as f64;
        let values = sum
            .iter()
            .zip(&count)
            .map(|(&s, &k)| {
                if k == 0 {
                    prior
                } else {
                    (s + smoothing * prior) / (k as f64 + smoothing)
                }
            })
            .collect();
        Self {
            prior,
            smoothing,
            values,
        }
    }

    /// Mean label of the training rows: the encoding of unseen and missing levels.
    pub fn prior(&self) -> f64 {
        self.prior
    }

    pub fn smoothing(&self) -> f64 {
        self.smoothing
    }

    pub fn n_levels(&self) -> usize {
        self.values.len()
    }

    /// The encoding of each level, indexed by code.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub fn transform(&self, codes: &[Option<u32>]) -> Vec<f64> {
        codes
            .iter()
            .map(|c| {
                c.and_then(|c| self.values.get(c as usize).copied())
                    .unwrap_or(self.prior)
            })
            .collect()
    }

    /// Out-of-fold values for the training rows themselves (each row encoded
    /// by an encoder fitted on the other folds; rows assigned to folds by a
    /// shuffle seeded with `seed`), and the encoder fitted on all rows for new
    /// rows.
    pub fn fit_transform_oof(
        codes: &[Option<u32>],
        n_levels: usize,
        y: &[f64],
        folds: usize,
        smoothing: f64,
        seed: u64,
    ) -> Result<(Self, Vec<f64>)> {
        check_inputs(codes, n_levels, y, smoothing)?;
        ensure_param!(
            folds >= 2,
            "folds",
            "out-of-fold encoding needs at least 2 folds, got {folds}"
        );
        if y.len() < folds {
            return Err(CoreError::CannotFit {
                model: "target encoder",
                reason: format!(
                    "{} rows cannot fill {folds} folds; every fold needs a row",
                    y.len()
                ),
            }
            .into());
        }
        let mut order: Vec<usize> = (0..y.len()).collect();
        order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
        let mut fold_of = vec![0usize; y.len()];
        for (pos, &i) in order.iter().enumerate() {
            fold_of[i] = pos % folds;
        }
        let mut oof = vec![0.0; y.len()];
        for f in 0..folds {
            // Fitting the complement directly (not all-rows minus this fold)
            // keeps a row's value independent of its own label bit for bit.
            let rest = (0..y.len()).filter(|&i| fold_of[i] != f);
            let enc = Self::fit_rows(codes, n_levels, y, smoothing, rest);
            for i in (0..y.len()).filter(|&i| fold_of[i] == f) {
                oof[i] = codes[i]
                    .map(|c| enc.values[c as usize])
                    .unwrap_or(enc.prior);
            }
        }
        let full = Self::fit_rows(codes, n_levels, y, smoothing, 0..y.len());
        Ok((full, oof))
    }
}

fn check_inputs(codes: &[Option<u32>], n_levels: usize, y: &[f64], smoothing: f64) -> Result<()> {
    if codes.len() != y.len() {
        return Err(CoreError::Shape(format!(
            "{} level codes for {} labels",
            codes.len(),
            y.len()
        ))
        .into());
    }
    ensure_param!(
        smoothing >= 0.0 && smoothing.is_finite(),
        "smoothing",
        "must be a finite number >= 0, got {smoothing}"
    );
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::CannotFit {
            model: "target encoder",
            reason: format!("label of row {i} is {}, expected a finite number", y[i]),
        }
        .into());
    }
    if let Some((i, c)) = codes
        .iter()
        .enumerate()
        .find_map(|(i, c)| c.filter(|&c| c as usize >= n_levels).map(|c| (i, c)))
    {
        return Err(CoreError::Shape(format!(
            "row {i} has level code {c}, but there are only {n_levels} levels"
        ))
        .into());
    }
    Ok(())
}

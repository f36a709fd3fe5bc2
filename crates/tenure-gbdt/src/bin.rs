//! Quantile binning: every feature becomes at most 256 small integers.
//!
//! Bin 0 holds missing values; value bins start at 1. A numeric bin `b`
//! holds the values `x` (as `f32`) with `uppers[b - 2] < x <= uppers[b - 1]`,
//! so a split "bins `1..=b` go left" is exactly the test `x <= uppers[b - 1]`
//! on raw values: the booster, its tree specification and an ONNX runtime
//! route every row the same way.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tenure_core::Matrix;

use crate::{GbdtError, Result};

pub const MISSING_BIN: u8 = 0;

/// How one feature's raw values map to bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinMapper {
    /// `uppers[i]` is the inclusive upper bound of bin `i + 1`; the last
    /// bin, `uppers.len() + 1`, has no upper bound.
    Numeric { uppers: Vec<f32> },
    /// `codes[i]` is the category code of bin `i + 1`, most frequent first;
    /// bin `codes.len() + 1` holds every other code (rare or unseen), which
    /// never goes left in a split.
    Categorical {
        codes: Vec<u32>,
        sorted: Vec<(u32, u8)>,
    },
}

impl BinMapper {
    /// Number of bins including the missing bin.
    pub fn n_bins(&self) -> usize {
        match self {
            BinMapper::Numeric { uppers } => uppers.len() + 2,
            BinMapper::Categorical { codes, .. } => codes.len() + 2,
        }
    }

    pub fn is_categorical(&self) -> bool {
        matches!(self, BinMapper::Categorical { .. })
    }

    /// The bin of a raw value. Categorical values must be non-negative
    /// integers; anything else is treated as an unseen category.
    pub fn bin(&self, x: f64) -> u8 {
        if x.is_nan() {
            return MISSING_BIN;
        }
        match self {
            BinMapper::Numeric { uppers } => {
                let x = x as f32;
                // First bin whose upper bound is >= x, else the last.
                (uppers.partition_point(|&u| u < x) + 1) as u8
            }
            BinMapper::Categorical { codes, sorted } => {
                let other = (codes.len() + 1) as u8;
                match category_code(x) {
                    Some(c) => sorted
                        .binary_search_by_key(&c, |&(code, _)| code)
                        .map_or(other, |i| sorted[i].1),
                    None => other,
                }
            }
        }
    }

    /// Raw threshold of the numeric split "bins `1..=b` go left".
    pub fn threshold(&self, b: u8) -> f32 {
        match self {
            BinMapper::Numeric { uppers } => uppers[b as usize - 1],
            BinMapper::Categorical { .. } => unreachable!("categorical features have no threshold"),
        }
    }

    /// Category code of a value bin of a categorical feature.
    pub fn code(&self, b: u8) -> Option<u32> {
        match self {
            BinMapper::Categorical { codes, .. } => {
                codes.get((b as usize).checked_sub(1)?).copied()
            }
            BinMapper::Numeric { .. } => None,
        }
    }

    /// Bins for the non-missing values of one feature. At most `max_bin`
    /// value bins; a value frequent enough to fill a bin gets its own.
    pub fn numeric(values: &mut [f32], max_bin: usize) -> Self {
        values.sort_unstable_by(f32::total_cmp);
        let mut distinct: Vec<(f32, usize)> = Vec::new();
        for &v in values.iter() {
            match distinct.last_mut() {
                Some((last, n)) if *last == v => *n += 1,
                _ => distinct.push((v, 1)),
            }
        }
        let mut uppers = Vec::new();
        if distinct.len() <= max_bin {
            for w in distinct.windows(2) {
                uppers.push(midpoint(w[0].0, w[1].0));
            }
        } else {
            // Greedy equal-mass cuts; the target is recomputed as bins are
            // used so that heavy values do not starve the tail.
            let mut remaining = values.len();
            let mut bins_left = max_bin;
            let mut acc = 0usize;
            for (i, &(v, n)) in distinct.iter().enumerate() {
                acc += n;
                let target = remaining.div_ceil(bins_left);
                let last = i + 1 == distinct.len();
                if !last && bins_left > 1 {
                    let next = distinct[i + 1].1;
                    // Cut when this bin is full, or when adding the next
                    // value would overshoot the target by more than this
                    // cut undershoots it.
                    if acc >= target || (acc + next > target && target - acc < acc + next - target)
                    {
                        uppers.push(midpoint(v, distinct[i + 1].0));
                        remaining -= acc;
                        bins_left -= 1;
                        acc = 0;
                    }
                }
            }
        }
        BinMapper::Numeric { uppers }
    }

    /// Bins for a categorical feature: the `max_bin - 1` most frequent codes
    /// seen at least `min_count` times each get a bin.
    pub fn categorical(
        feature: &str,
        column: impl Iterator<Item = f64>,
        max_bin: usize,
        min_count: usize,
    ) -> Result<Self> {
        let mut counts: std::collections::BTreeMap<u32, usize> = Default::default();
        for (row, x) in column.enumerate() {
            if x.is_nan() {
                continue;
            }
            let code = category_code(x).ok_or_else(|| GbdtError::BadCategory {
                feature: feature.to_string(),
                row: row + 1,
                value: x,
            })?;
            *counts.entry(code).or_default() += 1;
        }
        let mut by_freq: Vec<(u32, usize)> = counts
            .into_iter()
            .filter(|&(_, n)| n >= min_count)
            .collect();
        by_freq.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        by_freq.truncate(max_bin.min(254) - 1);
        let codes: Vec<u32> = by_freq.iter().map(|&(c, _)| c).collect();
        let mut sorted: Vec<(u32, u8)> = codes
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, (i + 1) as u8))
            .collect();
        sorted.sort_unstable();
        Ok(BinMapper::Categorical { codes, sorted })
    }
}

fn category_code(x: f64) -> Option<u32> {
    (x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64).then_some(x as u32)
}

/// A threshold between two distinct `f32` values `a < b`: `a <= t < b`.
fn midpoint(a: f32, b: f32) -> f32 {
    let m = ((a as f64 + b as f64) / 2.0) as f32;
    if m >= b || m < a { a } else { m }
}

/// A feature matrix turned into bins, in both layouts: rows (all features
/// of a row in one cache line, for histograms over a leaf's rows) and
/// columns (one feature's bins, for partitioning a leaf after a split).
#[derive(Debug, Clone)]
pub struct BinnedData {
    pub n_rows: usize,
    pub n_features: usize,
    pub rows: Vec<u8>,
    pub cols: Vec<u8>,
}

impl BinnedData {
    pub fn new(x: &Matrix, mappers: &[BinMapper]) -> Self {
        let (n, f) = (x.n_rows(), x.n_cols());
        let mut cols = vec![0u8; n * f];
        cols.par_chunks_mut(n.max(1))
            .zip(mappers.par_iter())
            .enumerate()
            .for_each(|(j, (col, m))| {
                for (i, b) in col.iter_mut().enumerate() {
                    *b = m.bin(x.get(i, j));
                }
            });
        let mut rows = vec![0u8; n * f];
        if f > 0 {
            rows.par_chunks_mut(f).enumerate().for_each(|(i, row)| {
                for (j, b) in row.iter_mut().enumerate() {
                    *b = cols[j * n + i];
                }
            });
        }
        Self {
            n_rows: n,
            n_features: f,
            rows,
            cols,
        }
    }

    pub fn col(&self, j: usize) -> &[u8] {
        &self.cols[j * self.n_rows..(j + 1) * self.n_rows]
    }

    pub fn row(&self, i: usize) -> &[u8] {
        &self.rows[i * self.n_features..(i + 1) * self.n_features]
    }
}

/// Fits one mapper per feature on (a deterministic sample of) the rows.
pub fn fit_mappers(
    x: &Matrix,
    names: &[String],
    categorical: &[bool],
    max_bin: usize,
    min_data_per_group: usize,
    sample_rows: usize,
) -> Result<Vec<BinMapper>> {
    let n = x.n_rows();
    // Evenly spaced rows: deterministic and cheap, and time-ordered data
    // keep their spread.
    let sample: Vec<usize> = if n <= sample_rows {
        (0..n).collect()
    } else {
        (0..sample_rows).map(|k| k * n / sample_rows).collect()
    };
    (0..x.n_cols())
        .into_par_iter()
        .map(|j| {
            if categorical[j] {
                BinMapper::categorical(&names[j], x.column(j), max_bin, min_data_per_group)
            } else {
                let mut values: Vec<f32> = sample
                    .iter()
                    .map(|&i| x.get(i, j))
                    .filter(|v| !v.is_nan())
                    .map(|v| v as f32)
                    .collect();
                Ok(BinMapper::numeric(&mut values, max_bin))
            }
        })
        .collect()
}

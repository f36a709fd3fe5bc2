//! Column scaling fitted on training data and stored in the model.

use serde::{Deserialize, Serialize};
use tenure_core::Matrix;

use crate::error::{StatsError, row_number};

/// Per-column `(x − shift) / scale`, with a missing value (NaN) replaced by the
/// training mean before scaling.
///
/// Mean and standard deviation (population, as scikit-learn's `StandardScaler`)
/// are computed on the non-missing values. A column whose non-missing values
/// are all equal gets scale 1: it carries no information, and dividing by a
/// rounding-error deviation would blow it up. An all-missing column gets
/// mean 0 and scale 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Standardizer {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    /// `mean` when centring, else 0 (scaling only).
    pub shift: Vec<f64>,
}

impl Standardizer {
    pub fn fit(x: &Matrix, names: &[String], center: bool) -> Result<Self, StatsError> {
        let p = x.n_cols();
        let mut count = vec![0usize; p];
        let mut sum = vec![0.0; p];
        let mut min = vec![f64::INFINITY; p];
        let mut max = vec![f64::NEG_INFINITY; p];
        for (r, row) in x.rows().enumerate() {
            let acc = count.iter_mut().zip(&mut sum).zip(&mut min).zip(&mut max);
            for ((((c, s), lo), hi), &v) in acc.zip(row) {
                if v.is_nan() {
                    continue;
                }
                *c += 1;
                *s += v;
                *lo = lo.min(v);
                *hi = hi.max(v);
            }
            // Checked per row rather than per value: infinities are rare, and
            // a branch in the loop above would slow every fit.
            if let Some(j) = row.iter().position(|v| v.is_infinite()) {
                return Err(infinite(names, j, r));
            }
        }
        let mean: Vec<f64> = (0..p)
            .map(|j| match count[j] {
                0 => 0.0,
                // The value itself, not a rounded sum / n: then a constant
                // column standardises to exact zeros and its coefficient
                // stays exactly 0.
                _ if min[j] == max[j] => min[j],
                c => sum[j] / c as f64,
            })
            .collect();
        // Two passes: the textbook one-pass formula cancels catastrophically
        // on columns such as timestamps with a small spread.
        let mut sq = vec![0.0; p];
        for row in x.rows() {
            for ((q, m), &v) in sq.iter_mut().zip(&mean).zip(row) {
                if !v.is_nan() {
                    *q += (v - m) * (v - m);
                }
            }
        }
        let scale = (0..p)
            .map(|j| {
                if count[j] == 0 || min[j] == max[j] {
                    1.0
                } else {
                    (sq[j] / count[j] as f64).sqrt()
                }
            })
            .collect();
        let shift = if center { mean.clone() } else { vec![0.0; p] };
        Ok(Self { mean, scale, shift })
    }

    /// Writes the scaled row number `r` into `out`; an infinite value is an
    /// error naming its feature (from `names`) and row.
    pub fn transform_row(
        &self,
        row: &[f64],
        r: usize,
        names: &[String],
        out: &mut [f64],
    ) -> Result<(), StatsError> {
        for (j, (&v, o)) in row.iter().zip(out.iter_mut()).enumerate() {
            let v = if v.is_nan() { self.mean[j] } else { v };
            if v.is_infinite() {
                return Err(infinite(names, j, r));
            }
            *o = (v - self.shift[j]) / self.scale[j];
        }
        Ok(())
    }
}

fn infinite(names: &[String], j: usize, r: usize) -> StatsError {
    StatsError::InfiniteFeature {
        feature: names[j].clone(),
        row: row_number(r),
    }
}

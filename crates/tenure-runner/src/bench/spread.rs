//! Repeated timings summarised by their median and spread: one timing on a
//! shared machine is noise, the median of several is a measurement.

use serde::{Deserialize, Serialize};

/// The median, quartiles and extremes of repeated measurements, with the
/// samples themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// First and third quartiles (linear interpolation between order
    /// statistics, NumPy's default).
    pub q1: f64,
    pub q3: f64,
    pub samples: Vec<f64>,
}

impl Spread {
    /// `None` for no samples or a non-finite one.
    pub fn of(samples: &[f64]) -> Option<Self> {
        if samples.is_empty() || samples.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            median: quantile(&sorted, 0.5),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            q1: quantile(&sorted, 0.25),
            q3: quantile(&sorted, 0.75),
            samples: samples.to_vec(),
        })
    }

    /// Interquartile range relative to the median: how much to trust a
    /// difference of this size.
    pub fn relative_iqr(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.q3 - self.q1) / self.median.abs()
        }
    }
}

/// The `q` quantile of sorted, non-empty values: position `q (n - 1)`,
/// interpolated between its neighbours.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_quartiles_and_extremes_of_odd_and_even_counts() {
        // Unsorted on purpose: the samples keep their order, the summary does not.
        let s = Spread::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            (s.median, s.min, s.max, s.q1, s.q3),
            (3.0, 1.0, 5.0, 2.0, 4.0)
        );
        assert_eq!(s.samples, vec![5.0, 1.0, 4.0, 2.0, 3.0]);
        // numpy.percentile([1, 2, 3, 10], [25, 50, 75]) = 1.75, 2.5, 4.75
        let s = Spread::of(&[10.0, 2.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (1.75, 2.5, 4.75));
        assert_eq!((s.min, s.max), (1.0, 10.0));
        assert!((s.relative_iqr() - 3.0 / 2.5).abs() < 1e-12);
        let one = Spread::of(&[0.25]).unwrap();
        assert_eq!(
            (one.median, one.q1, one.q3, one.min, one.max),
            (0.25, 0.25, 0.25, 0.25, 0.25)
        );
    }

    #[test]
    fn no_summary_of_nothing_or_of_a_non_finite_sample() {
        assert!(Spread::of(&[]).is_none());
        assert!(Spread::of(&[1.0, f64::NAN]).is_none());
        assert!(Spread::of(&[f64::INFINITY]).is_none());
    }
}

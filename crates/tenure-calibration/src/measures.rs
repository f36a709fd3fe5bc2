//! How well predicted probabilities match outcomes: reliability bins,
//! expected and maximum calibration error, the Brier score's decomposition,
//! calibration slope and intercept, the Hosmer–Lemeshow test.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use tenure_core::calibrator::logit;

use crate::error::{CalibrationError, check_binary, ensure};
use crate::newton::Problem;

/// The 97.5% standard normal quantile: 95% two-sided intervals.
const Z_95: f64 = 1.959_963_984_540_054;

/// How probabilities are grouped into bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// `bins` intervals of equal width over `[0, 1]` (scikit-learn's
    /// `calibration_curve(strategy="uniform")`).
    EqualWidth,
    /// Edges at the `k / bins` percentiles of the predictions, so bins hold
    /// about equally many rows (`strategy="quantile"`).
    EqualMass,
}

/// One non-empty bin of a reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Bin edges: the bin holds predictions in `(lower, upper]` (the first
    /// bin also holds `lower`).
    pub lower: f64,
    pub upper: f64,
    pub n: usize,
    pub mean_predicted: f64,
    /// Fraction of positive outcomes.
    pub observed: f64,
    /// Wilson score 95% interval of `observed`.
    pub observed_low: f64,
    pub observed_high: f64,
}

/// Bin edges as scikit-learn's `calibration_curve` computes them:
/// `numpy.linspace(0, 1, bins + 1)` or the `numpy.percentile` of the
/// predictions at those fractions (linear interpolation).
pub fn bin_edges(prob: &[f64], bins: usize, binning: Binning) -> Vec<f64> {
    let step = 1.0 / bins as f64;
    let fractions = (0..=bins).map(|i| if i == bins { 1.0 } else { i as f64 * step });
    match binning {
        Binning::EqualWidth => fractions.collect(),
        Binning::EqualMass => {
            let mut sorted = prob.to_vec();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
            fractions.map(|q| percentile(&sorted, q * 100.0)).collect()
        }
    }
}

/// `numpy.percentile(sorted, q)` with the default linear method, computed
/// in the same order of operations so that edges equal numpy's bit for bit
/// (a prediction equal to an edge must land in the same bin).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n as f64 - 1.0) * (q / 100.0);
    if virtual_index >= n as f64 - 1.0 {
        return sorted[n - 1];
    }
    if virtual_index < 0.0 {
        return sorted[0];
    }
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    let (a, b) = (sorted[previous as usize], sorted[previous as usize + 1]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// The bin of each prediction: `numpy.searchsorted(edges[1:-1], p)`, i.e.
/// the number of inner edges strictly below `p`.
fn bin_ids(prob: &[f64], edges: &[f64]) -> Vec<usize> {
    let inner = &edges[1..edges.len() - 1];
    prob.iter()
        .map(|&p| inner.partition_point(|&e| e < p))
        .collect()
}

fn check_bins(bins: usize) -> Result<(), CalibrationError> {
    ensure!(
        bins >= 1,
        CalibrationError::BadParameter {
            name: "bins",
            value: bins as f64,
            reason: "needs at least one bin",
        }
    );
    Ok(())
}

/// The reliability diagram: for each non-empty bin, the mean prediction and
/// the observed rate with its Wilson 95% interval. The mean predictions and
/// observed rates equal scikit-learn's `calibration_curve`
/// (`prob_pred`, `prob_true`).
pub fn reliability(
    prob: &[f64],
    y: &[f64],
    bins: usize,
    binning: Binning,
) -> Result<Vec<ReliabilityBin>, CalibrationError> {
    check_binary("a reliability diagram", prob, y)?;
    check_bins(bins)?;
    let edges = bin_edges(prob, bins, binning);
    let ids = bin_ids(prob, &edges);
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for ((&b, &p), &v) in ids.iter().zip(prob).zip(y) {
        sum_p[b] += p;
        sum_y[b] += v;
        count[b] += 1;
    }
    Ok((0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let n = count[b] as f64;
            let observed = sum_y[b] / n;
            let (observed_low, observed_high) = wilson(observed, n);
            ReliabilityBin {
                lower: edges[b],
                upper: edges[b + 1],
                n: count[b],
                mean_predicted: sum_p[b] / n,
                observed,
                observed_low,
                observed_high,
            }
        })
        .collect())
}

/// Wilson score interval of a proportion `p` out of `n`.
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z_95 * Z_95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Expected calibration error (the mean of `|observed − mean predicted|`
/// over the bins, weighted by their share of rows) and maximum calibration
/// error (the largest gap of a non-empty bin).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationErrors {
    pub ece: f64,
    pub mce: f64,
}

/// [`CalibrationErrors`] of a reliability diagram.
pub fn calibration_errors(bins: &[ReliabilityBin]) -> CalibrationErrors {
    let total: usize = bins.iter().map(|b| b.n).sum();
    let gap = |b: &ReliabilityBin| (b.observed - b.mean_predicted).abs();
    CalibrationErrors {
        ece: bins
            .iter()
            .map(|b| b.n as f64 / total.max(1) as f64 * gap(b))
            .sum(),
        mce: bins.iter().map(gap).fold(0.0, f64::max),
    }
}

/// Murphy's decomposition of the Brier score over bins:
/// `brier ≈ reliability − resolution + uncertainty`, with
/// `reliability = Σ nₖ/N (p̄ₖ − ōₖ)²` (lower is better calibrated),
/// `resolution = Σ nₖ/N (ōₖ − ō)²` (higher separates better) and
/// `uncertainty = ō (1 − ō)` (of the outcomes alone). `within_bin` is what
/// the three leave over: the spread of predictions inside bins (zero when
/// each bin holds one predicted value), so the parts add up to `brier`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BrierDecomposition {
    pub brier: f64,
    pub reliability: f64,
    pub resolution: f64,
    pub uncertainty: f64,
    pub within_bin: f64,
}

/// [`BrierDecomposition`] over equal-width bins.
pub fn brier_decomposition(
    prob: &[f64],
    y: &[f64],
    bins: usize,
) -> Result<BrierDecomposition, CalibrationError> {
    let diagram = reliability(prob, y, bins, Binning::EqualWidth)?;
    let n = prob.len() as f64;
    let base = y.iter().sum::<f64>() / n;
    let brier = tenure_metrics::brier_score(y, prob)?;
    let share = |b: &ReliabilityBin| b.n as f64 / n;
    let reliability = diagram
        .iter()
        .map(|b| share(b) * (b.mean_predicted - b.observed).powi(2))
        .sum();
    let resolution = diagram
        .iter()
        .map(|b| share(b) * (b.observed - base).powi(2))
        .sum();
    let uncertainty = base * (1.0 - base);
    Ok(BrierDecomposition {
        brier,
        reliability,
        resolution,
        uncertainty,
        within_bin: brier - (reliability - resolution + uncertainty),
    })
}

/// Calibration slope and intercept (Cox 1958; Van Calster et al. 2016):
/// `slope` is `b` of the logistic regression `y ~ sigmoid(a + b · logit(p))`
/// (1 when the spread is right, below 1 for over-confident predictions);
/// `intercept` is `a` of `y ~ sigmoid(a + logit(p))` with the slope fixed
/// at 1 (calibration-in-the-large: 0 when the mean is right, positive when
/// predictions are too low).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlopeIntercept {
    pub slope: f64,
    pub intercept: f64,
}

pub fn calibration_slope_intercept(
    prob: &[f64],
    y: &[f64],
) -> Result<SlopeIntercept, CalibrationError> {
    const WHAT: &str = "the calibration slope";
    check_binary(WHAT, prob, y)?;
    let positives = y.iter().sum::<f64>();
    if positives == 0.0 || positives == y.len() as f64 {
        return Err(CalibrationError::SingleClass {
            what: WHAT,
            class: y[0],
        });
    }
    let z: Vec<f64> = prob.iter().map(|&p| logit(p)).collect();
    let ones = vec![1.0; y.len()];
    let intercept = Problem {
        what: "the calibration intercept",
        target: y,
        weight: &ones,
        offset: Some(&z),
        columns: vec![&ones],
    }
    .solve(vec![0.0])?[0];
    if z.iter().all(|&v| v == z[0]) {
        return Err(CalibrationError::Undefined {
            what: WHAT,
            reason: "every prediction is the same".into(),
        });
    }
    let fit = Problem {
        what: WHAT,
        target: y,
        weight: &ones,
        offset: None,
        columns: vec![&ones, &z],
    }
    .solve(vec![0.0, 1.0])?;
    Ok(SlopeIntercept {
        slope: fit[1],
        intercept,
    })
}

/// The Hosmer–Lemeshow goodness-of-fit test: rows sorted by prediction
/// (ties in row order) and split into `groups` groups of sizes differing by
/// at most one (`numpy.array_split`); the statistic
/// `Σₖ (O₁ₖ − E₁ₖ)² / E₁ₖ + (O₀ₖ − E₀ₖ)² / E₀ₖ` over observed and expected
/// positives (1) and negatives (0) is χ² with `groups − 2` degrees of
/// freedom under good calibration. A cell expecting nothing adds 0 when it
/// observes nothing (predictions of exactly 0 or 1, as isotonic
/// calibration gives) and makes the statistic infinite otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HosmerLemeshow {
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
}

pub fn hosmer_lemeshow(
    prob: &[f64],
    y: &[f64],
    groups: usize,
) -> Result<HosmerLemeshow, CalibrationError> {
    const WHAT: &str = "the Hosmer-Lemeshow test";
    check_binary(WHAT, prob, y)?;
    ensure!(
        groups >= 3,
        CalibrationError::BadParameter {
            name: "groups",
            value: groups as f64,
            reason: "the Hosmer-Lemeshow test needs at least 3 groups (df = groups - 2)",
        }
    );
    ensure!(
        prob.len() >= groups,
        CalibrationError::Undefined {
            what: WHAT,
            reason: format!("{} rows cannot fill {groups} groups", prob.len()),
        }
    );
    let mut order: Vec<usize> = (0..prob.len()).collect();
    order.sort_by(|&a, &b| prob[a].partial_cmp(&prob[b]).unwrap_or(Ordering::Equal));
    let (base, extra) = (prob.len() / groups, prob.len() % groups);
    let mut start = 0;
    let mut statistic = 0.0;
    for g in 0..groups {
        let len = base + usize::from(g < extra);
        let group = &order[start..start + len];
        start += len;
        let observed: f64 = group.iter().map(|&i| y[i]).sum();
        let expected: f64 = group.iter().map(|&i| prob[i]).sum();
        let n = len as f64;
        statistic += cell(observed, expected) + cell(n - observed, n - expected);
    }
    let df = groups - 2;
    let p_value = if statistic.is_infinite() {
        0.0
    } else {
        ChiSquared::new(df as f64)
            .map(|d| d.sf(statistic))
            .unwrap_or(f64::NAN)
    };
    Ok(HosmerLemeshow {
        statistic,
        df,
        p_value,
    })
}

/// One cell of the Hosmer–Lemeshow table: `(O − E)² / E`.
fn cell(observed: f64, expected: f64) -> f64 {
    if expected > 0.0 {
        (observed - expected).powi(2) / expected
    } else if observed == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Counts of predictions in `bins` equal-width bins over `[0, 1]` (the
/// same bins as [`Binning::EqualWidth`]): `(lower, upper, count)`.
pub fn histogram(prob: &[f64], bins: usize) -> Result<Vec<(f64, f64, usize)>, CalibrationError> {
    check_bins(bins)?;
    crate::error::check_probabilities("prob", prob)?;
    let edges = bin_edges(prob, bins, Binning::EqualWidth);
    let mut count = vec![0usize; bins];
    for b in bin_ids(prob, &edges) {
        count[b] += 1;
    }
    Ok((0..bins)
        .map(|b| (edges[b], edges[b + 1], count[b]))
        .collect())
}

/// Every measure of one set of predictions, as the calibration report shows
/// them before and after calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    pub n: usize,
    /// Share of positive outcomes.
    pub base_rate: f64,
    pub mean_predicted: f64,
    pub ece_equal_width: f64,
    pub mce_equal_width: f64,
    pub ece_equal_mass: f64,
    pub mce_equal_mass: f64,
    pub brier: BrierDecomposition,
    pub log_loss: f64,
    pub slope: f64,
    pub intercept: f64,
    pub hosmer_lemeshow: HosmerLemeshow,
}

/// Every [`Measures`] field, with `bins` bins for the calibration errors,
/// the Brier decomposition and the Hosmer–Lemeshow groups.
pub fn measure(prob: &[f64], y: &[f64], bins: usize) -> Result<Measures, CalibrationError> {
    let width = calibration_errors(&reliability(prob, y, bins, Binning::EqualWidth)?);
    let mass = calibration_errors(&reliability(prob, y, bins, Binning::EqualMass)?);
    let si = calibration_slope_intercept(prob, y)?;
    let n = prob.len() as f64;
    Ok(Measures {
        n: prob.len(),
        base_rate: y.iter().sum::<f64>() / n,
        mean_predicted: prob.iter().sum::<f64>() / n,
        ece_equal_width: width.ece,
        mce_equal_width: width.mce,
        ece_equal_mass: mass.ece,
        mce_equal_mass: mass.mce,
        brier: brier_decomposition(prob, y, bins)?,
        log_loss: tenure_metrics::log_loss(y, prob)?,
        slope: si.slope,
        intercept: si.intercept,
        hosmer_lemeshow: hosmer_lemeshow(prob, y, bins.max(3))?,
    })
}

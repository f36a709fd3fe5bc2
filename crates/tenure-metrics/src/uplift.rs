//! Uplift metrics: how well a predicted individual treatment effect ranks
//! customers, measured on a randomised experiment's outcomes.
//!
//! Definitions follow scikit-uplift (`sklift.metrics`) and are tested
//! against it: [`qini_curve`], [`uplift_curve`], their perfect counterparts,
//! [`qini_coefficient`] (`qini_auc_score`), [`auuc`] (`uplift_auc_score`)
//! and [`uplift_by_decile`] (`uplift_by_percentile(strategy='overall')`).
//! A higher outcome is better: to score a campaign against churn, pass
//! retention (`1 − churn`).
//!
//! [`policy_values`] is the inverse-propensity estimate of the mean outcome
//! when only the top share of customers by predicted uplift is treated.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::calibration::equal_groups;
use crate::error::{MetricsError, check_finite, count_positives, ensure};

/// Points of a cumulative gain curve: after targeting the `n[k]` customers
/// with the highest predicted uplift, the gain is `value[k]`. Starts at
/// `(0, 0)`; tied predictions form one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftCurve {
    pub n: Vec<f64>,
    pub value: Vec<f64>,
}

impl UpliftCurve {
    /// Trapezoidal area under the curve.
    pub fn area(&self) -> f64 {
        self.n
            .windows(2)
            .zip(self.value.windows(2))
            .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0)
            .sum()
    }

    pub fn points(&self) -> Vec<(f64, f64)> {
        self.n
            .iter()
            .copied()
            .zip(self.value.iter().copied())
            .collect()
    }
}

/// Checks the three aligned inputs of an uplift metric; outcomes must be
/// 0/1 when `binary`.
fn check_inputs(
    metric: &'static str,
    y: &[f64],
    uplift: &[f64],
    treatment: &[bool],
    binary: bool,
) -> Result<(), MetricsError> {
    for (name, len) in [("uplift", uplift.len()), ("treatment", treatment.len())] {
        ensure!(
            len == y.len(),
            MetricsError::LengthMismatch {
                left_name: "y_true",
                left: y.len(),
                right_name: name,
                right: len,
            }
        );
    }
    ensure!(!y.is_empty(), MetricsError::Empty { metric });
    check_finite("y_true", y)?;
    check_finite("uplift", uplift)?;
    if binary {
        count_positives(y)?;
    }
    let treated = treatment.iter().filter(|&&t| t).count();
    for (group, n) in [
        ("treated rows", treated),
        ("control rows", y.len() - treated),
    ] {
        ensure!(
            n > 0,
            MetricsError::TooFew {
                metric,
                what: group,
                needed: 1,
                got: 0,
            }
        );
    }
    Ok(())
}

/// Row indices by decreasing score, as `argsort(score, kind='mergesort')[::-1]`:
/// a stable increasing sort, reversed, so tied rows come in decreasing index
/// order.
fn descending(score: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].partial_cmp(&score[b]).unwrap_or(Ordering::Equal));
    order.reverse();
    order
}

/// Cumulative counts at the end of each block of tied scores, in decreasing
/// score order: `(rows, treated rows, treated outcome, control outcome)`.
fn cumulative_blocks(y: &[f64], score: &[f64], treatment: &[bool]) -> Vec<[f64; 4]> {
    let order = descending(score);
    let mut acc = [0.0; 4];
    let mut out = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        acc[0] += 1.0;
        if treatment[i] {
            acc[1] += 1.0;
            acc[2] += y[i];
        } else {
            acc[3] += y[i];
        }
        if order.get(k + 1).is_none_or(|&j| score[j] != score[i]) {
            out.push(acc);
        }
    }
    out
}

/// Builds a curve from the tie blocks; prepends `(0, 0)` when needed.
fn curve(blocks: &[[f64; 4]], gain: impl Fn(&[f64; 4]) -> f64) -> UpliftCurve {
    let mut n: Vec<f64> = blocks.iter().map(|b| b[0]).collect();
    let mut value: Vec<f64> = blocks.iter().map(gain).collect();
    if n.first().is_none_or(|&x| x != 0.0) || value.first().is_none_or(|&v| v != 0.0) {
        n.insert(0, 0.0);
        value.insert(0, 0.0);
    }
    UpliftCurve { n, value }
}

/// `a / b`, 0 when `b` is 0 (scikit-uplift's `np.divide(..., where=b != 0)`).
fn ratio(a: f64, b: f64) -> f64 {
    if b != 0.0 { a / b } else { 0.0 }
}

fn qini_points(y: &[f64], score: &[f64], treatment: &[bool]) -> UpliftCurve {
    curve(
        &cumulative_blocks(y, score, treatment),
        |&[n, nt, yt, yc]| yt - yc * ratio(nt, n - nt),
    )
}

fn uplift_points(y: &[f64], score: &[f64], treatment: &[bool]) -> UpliftCurve {
    curve(
        &cumulative_blocks(y, score, treatment),
        |&[n, nt, yt, yc]| (ratio(yt, nt) - ratio(yc, n - nt)) * n,
    )
}

/// Qini curve: among the top `n` customers, treated outcomes minus control
/// outcomes scaled to the number treated, `Y_t(n) − Y_c(n)·N_t(n)/N_c(n)`.
pub fn qini_curve(
    y_true: &[f64],
    uplift: &[f64],
    treatment: &[bool],
) -> Result<UpliftCurve, MetricsError> {
    check_inputs("qini_curve", y_true, uplift, treatment, false)?;
    Ok(qini_points(y_true, uplift, treatment))
}

/// Uplift curve: among the top `n` customers, the difference of the
/// treated and control response rates times `n`.
pub fn uplift_curve(
    y_true: &[f64],
    uplift: &[f64],
    treatment: &[bool],
) -> Result<UpliftCurve, MetricsError> {
    check_inputs("uplift_curve", y_true, uplift, treatment, false)?;
    Ok(uplift_points(y_true, uplift, treatment))
}

/// The Qini curve of the best possible ranking: treated responders first,
/// control responders last (scikit-uplift's `negative_effect=True`).
pub fn perfect_qini_curve(y_true: &[f64], treatment: &[bool]) -> Result<UpliftCurve, MetricsError> {
    let score = vec![0.0; y_true.len()];
    check_inputs("perfect_qini_curve", y_true, &score, treatment, false)?;
    Ok(perfect_qini(y_true, treatment))
}

fn perfect_qini(y: &[f64], treatment: &[bool]) -> UpliftCurve {
    let score: Vec<f64> = y
        .iter()
        .zip(treatment)
        .map(|(&y, &t)| if t { y } else { -y })
        .collect();
    qini_points(y, &score, treatment)
}

/// The uplift curve of the best possible ranking, as scikit-uplift builds
/// it from the outcomes and the arms.
pub fn perfect_uplift_curve(
    y_true: &[f64],
    treatment: &[bool],
) -> Result<UpliftCurve, MetricsError> {
    let score = vec![0.0; y_true.len()];
    check_inputs("perfect_uplift_curve", y_true, &score, treatment, true)?;
    Ok(perfect_uplift(y_true, treatment))
}

fn perfect_uplift(y: &[f64], treatment: &[bool]) -> UpliftCurve {
    let control_responders = y
        .iter()
        .zip(treatment)
        .filter(|&(&y, &t)| y == 1.0 && !t)
        .count();
    let treated_non_responders = y
        .iter()
        .zip(treatment)
        .filter(|&(&y, &t)| y == 0.0 && t)
        .count();
    let score: Vec<f64> = y
        .iter()
        .zip(treatment)
        .map(|(&y, &t)| {
            let t = f64::from(u8::from(t));
            let summand = if control_responders > treated_non_responders {
                y
            } else {
                t
            };
            2.0 * f64::from(u8::from(y == t)) + summand
        })
        .collect();
    uplift_points(y, &score, treatment)
}

/// Qini coefficient (`sklift.metrics.qini_auc_score`): the area between the
/// Qini curve and the random line, divided by the same area of the perfect
/// Qini curve ([`perfect_qini_curve`]). 1 for the perfect ranking, about 0
/// for a random one.
pub fn qini_coefficient(
    y_true: &[f64],
    uplift: &[f64],
    treatment: &[bool],
) -> Result<f64, MetricsError> {
    check_inputs("qini_coefficient", y_true, uplift, treatment, false)?;
    let actual = qini_points(y_true, uplift, treatment);
    let perfect = perfect_qini(y_true, treatment);
    normalised_area(&actual, &perfect, "qini_coefficient")
}

/// Normalised area under the uplift curve (`sklift.metrics.uplift_auc_score`):
/// as [`qini_coefficient`], on the uplift curve.
pub fn auuc(y_true: &[f64], uplift: &[f64], treatment: &[bool]) -> Result<f64, MetricsError> {
    check_inputs("auuc", y_true, uplift, treatment, true)?;
    let actual = uplift_points(y_true, uplift, treatment);
    let perfect = perfect_uplift(y_true, treatment);
    normalised_area(&actual, &perfect, "auuc")
}

/// `(area(actual) − baseline) / (area(perfect) − baseline)`, the baseline
/// being the random line to the perfect curve's end (which the actual
/// curve shares: both end at the whole population's gain).
fn normalised_area(
    actual: &UpliftCurve,
    perfect: &UpliftCurve,
    metric: &'static str,
) -> Result<f64, MetricsError> {
    let (n, v) = (
        perfect.n[perfect.n.len() - 1],
        perfect.value[perfect.value.len() - 1],
    );
    let baseline = n * v / 2.0;
    let best = perfect.area() - baseline;
    ensure!(
        best != 0.0,
        MetricsError::Constant {
            metric,
            name: "perfect curve (no ranking beats random on these outcomes)",
        }
    );
    Ok((actual.area() - baseline) / best)
}

/// One tenth of the customers by predicted uplift, highest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftDecile {
    /// 1 = the highest predicted uplift.
    pub decile: usize,
    pub n_treatment: usize,
    pub n_control: usize,
    pub mean_predicted: f64,
    /// Mean outcome of the treated (NaN without one).
    pub response_rate_treatment: f64,
    pub response_rate_control: f64,
    /// Observed uplift: treated minus control response rate.
    pub uplift: f64,
    /// Standard errors of the two rates and of their difference:
    /// `√(r(1 − r)/n)` for 0/1 outcomes, `√(s²/n)` (sample variance) otherwise.
    pub std_treatment: f64,
    pub std_control: f64,
    pub std_uplift: f64,
}

/// Observed uplift per decile of predicted uplift
/// (`sklift.metrics.uplift_by_percentile(bins=10, strategy='overall',
/// std=True)`): customers in decreasing predicted uplift (ties in decreasing
/// row order) cut into `bins` groups whose sizes differ by at most one (the
/// first `n % bins` get the extra row). Needs more rows than bins. Outcomes
/// other than 0/1 (spend) give mean outcomes in place of response rates.
pub fn uplift_by_decile(
    y_true: &[f64],
    uplift: &[f64],
    treatment: &[bool],
    bins: usize,
) -> Result<Vec<UpliftDecile>, MetricsError> {
    const METRIC: &str = "uplift_by_decile";
    check_inputs(METRIC, y_true, uplift, treatment, false)?;
    ensure!(
        bins >= 1 && y_true.len() > bins,
        MetricsError::TooFew {
            metric: METRIC,
            what: "rows (more than bins)",
            needed: bins.max(1) + 1,
            got: y_true.len(),
        }
    );
    let binary = y_true.iter().all(|&v| v == 0.0 || v == 1.0);
    let order = descending(uplift);
    Ok(equal_groups(&order, bins)
        .enumerate()
        .map(|(k, rows)| {
            let arm = |treated: bool| {
                let values: Vec<f64> = rows
                    .iter()
                    .filter(|&&i| treatment[i] == treated)
                    .map(|&i| y_true[i])
                    .collect();
                arm_rate(&values, binary)
            };
            let ((nt, rt, vt), (nc, rc, vc)) = (arm(true), arm(false));
            UpliftDecile {
                decile: k + 1,
                n_treatment: nt,
                n_control: nc,
                mean_predicted: rows.iter().map(|&i| uplift[i]).sum::<f64>() / rows.len() as f64,
                response_rate_treatment: rt,
                response_rate_control: rc,
                uplift: rt - rc,
                std_treatment: vt.sqrt(),
                std_control: vc.sqrt(),
                std_uplift: (vt + vc).sqrt(),
            }
        })
        .collect())
}

/// Size, mean and squared standard error of the mean of one arm in a bin
/// (NaN without a row).
fn arm_rate(values: &[f64], binary: bool) -> (usize, f64, f64) {
    let n = values.len();
    if n == 0 {
        return (0, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = if binary {
        mean * (1.0 - mean)
    } else if n > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        f64::NAN
    };
    (n, mean, variance / n as f64)
}

/// The estimated mean outcome per customer when the top `fraction` by
/// predicted uplift is treated and the rest is not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyValue {
    pub fraction: f64,
    pub n_targeted: usize,
    pub value: f64,
    /// `value` minus the value of treating no one.
    pub gain_over_none: f64,
    /// `value` minus the value of treating everyone.
    pub gain_over_all: f64,
}

/// Inverse-propensity estimates of the policy "treat the top `fraction` by
/// predicted uplift" on a randomised experiment, for each fraction:
///
/// ```text
/// V = Σ_{targeted, treated} y / N_t + Σ_{not targeted, control} y / N_c
/// ```
///
/// which is `(1/N) Σ y·1{arm = policy} / P(arm)` with the arms' observed
/// shares as propensities. `fraction = 0` is the control mean (treat no
/// one), `fraction = 1` the treated mean (treat everyone). The top
/// `round(fraction · N)` rows are targeted, ties broken as in
/// [`uplift_by_decile`]. Outcomes may be any finite numbers.
pub fn policy_values(
    y_true: &[f64],
    uplift: &[f64],
    treatment: &[bool],
    fractions: &[f64],
) -> Result<Vec<PolicyValue>, MetricsError> {
    check_inputs("policy_values", y_true, uplift, treatment, false)?;
    for &f in fractions {
        ensure!(
            (0.0..=1.0).contains(&f),
            MetricsError::OutOfRange {
                name: "fraction",
                value: f,
                expected: "in [0, 1]",
            }
        );
    }
    let n = y_true.len();
    let nt = treatment.iter().filter(|&&t| t).count() as f64;
    let nc = n as f64 - nt;
    let order = descending(uplift);
    // Prefix sums over the ranking: treated outcomes among the first k rows,
    // control outcomes among the first k rows.
    let mut treated_prefix = vec![0.0; n + 1];
    let mut control_prefix = vec![0.0; n + 1];
    for (k, &i) in order.iter().enumerate() {
        let (t, c) = if treatment[i] {
            (y_true[i], 0.0)
        } else {
            (0.0, y_true[i])
        };
        treated_prefix[k + 1] = treated_prefix[k] + t;
        control_prefix[k + 1] = control_prefix[k] + c;
    }
    let value = |k: usize| treated_prefix[k] / nt + (control_prefix[n] - control_prefix[k]) / nc;
    let (none, all) = (value(0), value(n));
    Ok(fractions
        .iter()
        .map(|&fraction| {
            let k = (fraction * n as f64).round() as usize;
            let v = value(k);
            PolicyValue {
                fraction,
                n_targeted: k,
                value: v,
                gain_over_none: v - none,
                gain_over_all: v - all,
            }
        })
        .collect())
}

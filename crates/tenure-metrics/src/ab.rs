//! A/B tests on one row per unit: is the split what was planned, how large
//! is the effect, how sure are we, and what could this sample have detected.
//!
//! Every number follows statsmodels or scipy and is tested against them:
//!
//! | quantity | reference |
//! |---|---|
//! | [`sample_ratio_mismatch`] | `scipy.stats.chisquare([n_t, n_c], f_exp)` |
//! | [`welch_test`] | `statsmodels.stats.weightstats.ttest_ind(usevar='unequal')`, `CompareMeans.tconfint_diff(usevar='unequal')` |
//! | [`two_proportion_test`] | `proportions_ztest` (pooled variance) for the p-value, `confint_proportions_2indep(method='wald')` for the interval |
//! | [`normal_power`], [`normal_effect_size`] | `statsmodels.stats.power.NormalIndPower` |
//! | [`proportion_effect_size`] | `statsmodels.stats.proportion.proportion_effectsize` (Cohen's h) |
//!
//! Effects are always treatment minus control.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::{beta_reg, inv_beta_reg};
use statrs::function::erf::erfc;

use crate::error::{MetricsError, check_finite, ensure};

/// Below this p-value the observed split is treated as a sample-ratio
/// mismatch: randomisation or logging is broken and no effect estimate from
/// the test can be trusted.
pub const SRM_ALPHA: f64 = 0.001;

/// Chi-square goodness-of-fit test of the observed group sizes against the
/// planned split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrmTest {
    pub n_treatment: usize,
    pub n_control: usize,
    /// Planned share of units in the treatment group.
    pub expected_treatment_share: f64,
    pub chi2: f64,
    pub p: f64,
    /// `p < SRM_ALPHA`.
    pub mismatch: bool,
}

/// Sample-ratio-mismatch test: Pearson's chi-square statistic of
/// `[n_treatment, n_control]` against `N·[s, 1 − s]` with one degree of
/// freedom, as `scipy.stats.chisquare`.
pub fn sample_ratio_mismatch(
    n_treatment: usize,
    n_control: usize,
    expected_treatment_share: f64,
) -> Result<SrmTest, MetricsError> {
    check_open_unit("expected_treatment_share", expected_treatment_share)?;
    let n = (n_treatment + n_control) as f64;
    ensure!(
        n_treatment + n_control > 0,
        MetricsError::Empty {
            metric: "sample_ratio_mismatch"
        }
    );
    let expected = [
        n * expected_treatment_share,
        n * (1.0 - expected_treatment_share),
    ];
    let observed = [n_treatment as f64, n_control as f64];
    let chi2: f64 = observed
        .iter()
        .zip(expected)
        .map(|(o, e)| (o - e) * (o - e) / e)
        .sum();
    // The chi-square survival function with one degree of freedom, in the
    // closed form that keeps its precision far into the tail.
    let p = erfc((chi2 / 2.0).sqrt());
    Ok(SrmTest {
        n_treatment,
        n_control,
        expected_treatment_share,
        chi2,
        p,
        mismatch: p < SRM_ALPHA,
    })
}

/// A difference treatment − control with its uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub estimate: f64,
    /// Standard error of `estimate` (unpooled), the one the interval uses.
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// t or z statistic of the two-sided test of no effect.
    pub statistic: f64,
    pub p: f64,
    /// Welch–Satterthwaite degrees of freedom; `None` for a z test.
    pub df: Option<f64>,
}

/// Mean, sample variance (ddof 1) and size of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    pub n: usize,
    pub mean: f64,
    pub variance: f64,
}

impl GroupStats {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        let variance = if n > 1 { ss / (n - 1) as f64 } else { f64::NAN };
        Self { n, mean, variance }
    }

    /// Squared standard error of the mean.
    fn sem2(&self) -> f64 {
        self.variance / self.n as f64
    }
}

/// Checks one group's values and summarises them; `group` names it in errors.
fn group(
    metric: &'static str,
    group: &'static str,
    values: &[f64],
    needed: usize,
) -> Result<GroupStats, MetricsError> {
    ensure!(
        values.len() >= needed,
        MetricsError::TooFew {
            metric,
            what: group,
            needed,
            got: values.len(),
        }
    );
    check_finite(group, values)?;
    Ok(GroupStats::of(values))
}

/// Welch's two-sample t-test of `mean(treatment) − mean(control)` with its
/// `confidence` interval (e.g. 0.95), as statsmodels' `ttest_ind` and
/// `tconfint_diff` with `usevar='unequal'`. Needs two units per group and
/// some variation in at least one of them.
pub fn welch_test(
    treatment: &[f64],
    control: &[f64],
    confidence: f64,
) -> Result<Effect, MetricsError> {
    const METRIC: &str = "welch_test";
    check_open_unit("confidence", confidence)?;
    let t = group(METRIC, "treatment", treatment, 2)?;
    let c = group(METRIC, "control", control, 2)?;
    welch_from_stats(&t, &c, confidence)
}

pub(crate) fn welch_from_stats(
    t: &GroupStats,
    c: &GroupStats,
    confidence: f64,
) -> Result<Effect, MetricsError> {
    let (vt, vc) = (t.sem2(), c.sem2());
    let se2 = vt + vc;
    ensure!(
        is_positive(se2),
        MetricsError::Constant {
            metric: "welch_test",
            name: "outcome (in both groups)",
        }
    );
    let df = se2 * se2 / (vt * vt / (t.n - 1) as f64 + vc * vc / (c.n - 1) as f64);
    let se = se2.sqrt();
    let estimate = t.mean - c.mean;
    let statistic = estimate / se;
    let half = student_t_quantile(0.5 + confidence / 2.0, df) * se;
    Ok(Effect {
        estimate,
        std_error: se,
        ci_low: estimate - half,
        ci_high: estimate + half,
        statistic,
        p: student_t_two_sided_p(statistic, df),
        df: Some(df),
    })
}

/// `P(|T| ≥ |t|)` for Student's t with `df` degrees of freedom.
fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    // The regularised incomplete beta form of the two tails together: no
    // `1 − cdf` cancellation for large |t|.
    beta_reg(df / 2.0, 0.5, df / (df + t * t))
}

/// Quantile `q > 0.5` of Student's t with `df` degrees of freedom.
fn student_t_quantile(q: f64, df: f64) -> f64 {
    let two_tail = 2.0 * (1.0 - q);
    let x = inv_beta_reg(df / 2.0, 0.5, two_tail);
    let mut t = (df * (1.0 - x) / x).sqrt();
    // Two Newton steps on the two-sided p-value polish the inverse beta,
    // which is only accurate to about 1e-9.
    for _ in 0..2 {
        let f = student_t_two_sided_p(t, df) - two_tail;
        let density = (statrs::function::gamma::ln_gamma((df + 1.0) / 2.0)
            - statrs::function::gamma::ln_gamma(df / 2.0)
            - 0.5 * (df * std::f64::consts::PI).ln()
            - (df + 1.0) / 2.0 * (1.0 + t * t / df).ln())
        .exp();
        t += f / (2.0 * density);
    }
    t
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// Two-sided critical value `z_{1 − α/2}`, from the lower tail where the
/// probability `α/2` is exact.
pub fn z_two_sided(alpha: f64) -> f64 {
    -standard_normal().inverse_cdf(alpha / 2.0)
}

/// Difference of two proportions (`treatment` and `control` hold 0/1
/// outcomes). The p-value is the pooled-variance z test of no difference
/// (statsmodels' `proportions_ztest`); the interval is the unpooled Wald
/// interval (`confint_proportions_2indep(method='wald', compare='diff')`),
/// whose standard error is reported. Undefined when every outcome is equal.
pub fn two_proportion_test(
    treatment: &[f64],
    control: &[f64],
    confidence: f64,
) -> Result<Effect, MetricsError> {
    const METRIC: &str = "two_proportion_test";
    check_open_unit("confidence", confidence)?;
    for (name, values) in [("treatment", treatment), ("control", control)] {
        ensure!(
            !values.is_empty(),
            MetricsError::TooFew {
                metric: METRIC,
                what: name,
                needed: 1,
                got: 0,
            }
        );
        check_finite(name, values)?;
        check_binary(name, values)?;
    }
    let count = |v: &[f64]| v.iter().filter(|&&y| y == 1.0).count() as f64;
    let (nt, nc) = (treatment.len() as f64, control.len() as f64);
    let (pt, pc) = (count(treatment) / nt, count(control) / nc);
    let pooled = (count(treatment) + count(control)) / (nt + nc);
    ensure!(
        in_open_unit(pooled),
        MetricsError::Constant {
            metric: METRIC,
            name: "outcome (in both groups)",
        }
    );
    let estimate = pt - pc;
    let statistic = estimate / (pooled * (1.0 - pooled) * (1.0 / nt + 1.0 / nc)).sqrt();
    let se = (pt * (1.0 - pt) / nt + pc * (1.0 - pc) / nc).sqrt();
    let half = z_two_sided(1.0 - confidence) * se;
    Ok(Effect {
        estimate,
        std_error: se,
        ci_low: estimate - half,
        ci_high: estimate + half,
        statistic,
        p: erfc(statistic.abs() / std::f64::consts::SQRT_2),
        df: None,
    })
}

fn check_binary(name: &'static str, values: &[f64]) -> Result<(), MetricsError> {
    match values.iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(index) => Err(MetricsError::NotBinaryValue {
            name,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// `x > 0`, false for NaN (a named test reads better inside `ensure!`).
fn is_positive(x: f64) -> bool {
    x > 0.0
}

/// `0 < x < 1`, false for NaN.
fn in_open_unit(x: f64) -> bool {
    x > 0.0 && x < 1.0
}

fn check_open_unit(name: &'static str, value: f64) -> Result<(), MetricsError> {
    ensure!(
        in_open_unit(value),
        MetricsError::OutOfRange {
            name,
            value,
            expected: "strictly between 0 and 1",
        }
    );
    Ok(())
}

/// CUPED (Deng et al. 2013): the outcome adjusted by a pre-period covariate,
/// `y − θ (x − mean(x))` with `θ = cov(x, y) / var(x)` on the pooled data of
/// both groups, then compared by [`welch_test`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cuped {
    pub theta: f64,
    pub effect: Effect,
    /// `1 − Var(CUPED estimate) / Var(Welch estimate on the raw outcome)`:
    /// about `ρ²` for a covariate correlated `ρ` with the outcome.
    pub variance_reduction: f64,
}

pub fn cuped(
    treatment: &[f64],
    treatment_covariate: &[f64],
    control: &[f64],
    control_covariate: &[f64],
    confidence: f64,
) -> Result<Cuped, MetricsError> {
    const METRIC: &str = "cuped";
    check_open_unit("confidence", confidence)?;
    for (name, y, x) in [
        ("treatment covariate", treatment, treatment_covariate),
        ("control covariate", control, control_covariate),
    ] {
        ensure!(
            y.len() == x.len(),
            MetricsError::LengthMismatch {
                left_name: "outcome",
                left: y.len(),
                right_name: name,
                right: x.len(),
            }
        );
        check_finite(name, x)?;
    }
    let t = group(METRIC, "treatment", treatment, 2)?;
    let c = group(METRIC, "control", control, 2)?;
    let raw = welch_from_stats(&t, &c, confidence)?;

    let n = (treatment.len() + control.len()) as f64;
    let xs = || treatment_covariate.iter().chain(control_covariate);
    let ys = || treatment.iter().chain(control);
    let (mx, my) = (xs().sum::<f64>() / n, ys().sum::<f64>() / n);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in xs().zip(ys()) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    ensure!(
        is_positive(sxx),
        MetricsError::Constant {
            metric: METRIC,
            name: "covariate",
        }
    );
    let theta = sxy / sxx;
    let adjust = |y: &[f64], x: &[f64]| -> Vec<f64> {
        y.iter().zip(x).map(|(y, x)| y - theta * (x - mx)).collect()
    };
    let effect = welch_from_stats(
        &GroupStats::of(&adjust(treatment, treatment_covariate)),
        &GroupStats::of(&adjust(control, control_covariate)),
        confidence,
    )?;
    let variance_reduction = 1.0 - (effect.std_error / raw.std_error).powi(2);
    Ok(Cuped {
        theta,
        effect,
        variance_reduction,
    })
}

/// Relative lift `(mean_t − mean_c) / mean_c` with a delta-method interval:
/// `Var ≈ Var(m_t)/m_c² + m_t² Var(m_c)/m_c⁴`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lift {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// `None` when the control mean is zero (no relative change is defined).
pub fn relative_lift(t: &GroupStats, c: &GroupStats, confidence: f64) -> Option<Lift> {
    if c.mean == 0.0 || !c.mean.is_finite() {
        return None;
    }
    let estimate = (t.mean - c.mean) / c.mean;
    let var = t.sem2() / c.mean.powi(2) + t.mean.powi(2) * c.sem2() / c.mean.powi(4);
    let half = z_two_sided(1.0 - confidence) * var.sqrt();
    Some(Lift {
        estimate,
        ci_low: estimate - half,
        ci_high: estimate + half,
    })
}

/// Power of the two-sided z test of a standardised effect `effect_size`
/// with `nobs1` units in the first group and `ratio · nobs1` in the second,
/// as `NormalIndPower().power(effect_size, nobs1, alpha, ratio)`.
pub fn normal_power(effect_size: f64, nobs1: f64, ratio: f64, alpha: f64) -> f64 {
    let shift = effect_size * effective_n(nobs1, ratio).sqrt();
    power_at_shift(shift, alpha)
}

fn effective_n(nobs1: f64, ratio: f64) -> f64 {
    1.0 / (1.0 / nobs1 + 1.0 / (nobs1 * ratio))
}

/// Power of the two-sided level-`alpha` z test when the statistic is
/// normal with mean `shift` and unit variance.
fn power_at_shift(shift: f64, alpha: f64) -> f64 {
    let crit = z_two_sided(alpha);
    let n = standard_normal();
    n.sf(crit - shift) + n.cdf(-crit - shift)
}

/// The shift of the z statistic that the two-sided level-`alpha` test
/// detects with probability `power`.
fn detectable_shift(alpha: f64, power: f64) -> f64 {
    // Power rises monotonically with the shift; the lower tail term is tiny
    // but kept so the result is the exact root of `power_at_shift`.
    let n = standard_normal();
    let mut shift = z_two_sided(alpha) + n.inverse_cdf(power);
    for _ in 0..50 {
        let f = power_at_shift(shift, alpha) - power;
        let slope = statrs::distribution::Continuous::pdf(&n, z_two_sided(alpha) - shift)
            - statrs::distribution::Continuous::pdf(&n, -z_two_sided(alpha) - shift);
        let step = f / slope;
        shift -= step;
        if step.abs() < 1e-15 * shift.abs().max(1.0) {
            break;
        }
    }
    shift
}

/// The standardised effect size that `nobs1` and `ratio · nobs1` units
/// detect with probability `power` in a two-sided level-`alpha` z test:
/// `NormalIndPower().solve_power(nobs1=…, ratio=…, alpha=…, power=…)`.
pub fn normal_effect_size(nobs1: f64, ratio: f64, alpha: f64, power: f64) -> f64 {
    detectable_shift(alpha, power) / effective_n(nobs1, ratio).sqrt()
}

/// Cohen's h, `2 asin √p1 − 2 asin √p2`: the effect size of a difference
/// of proportions on the scale where its variance does not depend on `p`.
pub fn proportion_effect_size(p1: f64, p2: f64) -> f64 {
    2.0 * p1.sqrt().asin() - 2.0 * p2.sqrt().asin()
}

/// What the sample could detect: the minimum detectable effect at the
/// target power, and the power against the effect actually observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerAnalysis {
    pub alpha: f64,
    /// Target power of the minimum detectable effect.
    pub power: f64,
    /// Smallest increase (treatment − control, in outcome units) detected
    /// with probability `power`.
    pub mde: f64,
    /// `mde / mean(control)`; `None` when the control mean is zero.
    pub mde_relative: Option<f64>,
    /// Power of the test against an effect as large as the observed one.
    /// Not evidence by itself: it is a function of the p-value.
    pub observed_power: f64,
}

/// Continuous outcomes: effects in units of the Welch standard error.
fn power_continuous(
    t: &GroupStats,
    c: &GroupStats,
    alpha: f64,
    power: f64,
) -> Result<PowerAnalysis, MetricsError> {
    let se = (t.sem2() + c.sem2()).sqrt();
    let mde = detectable_shift(alpha, power) * se;
    Ok(PowerAnalysis {
        alpha,
        power,
        mde,
        mde_relative: (c.mean != 0.0).then(|| mde / c.mean),
        observed_power: power_at_shift((t.mean - c.mean).abs() / se, alpha),
    })
}

/// Binary outcomes: effects as Cohen's h around the control rate.
fn power_binary(
    t: &GroupStats,
    c: &GroupStats,
    alpha: f64,
    power: f64,
) -> Result<PowerAnalysis, MetricsError> {
    let (nt, ratio) = (t.n as f64, c.n as f64 / t.n as f64);
    let h = normal_effect_size(nt, ratio, alpha, power);
    // The treatment rate whose Cohen's h against the control rate is `h`,
    // capped at 1 when even a certain outcome is not detectable.
    let angle = (h / 2.0 + c.mean.sqrt().asin()).min(std::f64::consts::FRAC_PI_2);
    let mde = angle.sin().powi(2) - c.mean;
    let observed = proportion_effect_size(t.mean, c.mean).abs();
    Ok(PowerAnalysis {
        alpha,
        power,
        mde,
        mde_relative: (c.mean != 0.0).then(|| mde / c.mean),
        observed_power: normal_power(observed, nt, ratio, alpha),
    })
}

/// Whether the outcome is a 0/1 indicator or a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    Binary,
    Continuous,
}

impl OutcomeKind {
    /// Binary when every value is exactly 0 or 1.
    pub fn detect(values: &[f64]) -> Self {
        if values.iter().all(|&v| v == 0.0 || v == 1.0) {
            Self::Binary
        } else {
            Self::Continuous
        }
    }
}

/// Settings of [`ab_test`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbOptions {
    /// Planned share of units in treatment.
    pub expected_treatment_share: f64,
    pub alpha: f64,
    /// Target power of the minimum detectable effect.
    pub power: f64,
    /// `None` detects it from the values.
    pub outcome_kind: Option<OutcomeKind>,
}

impl Default for AbOptions {
    fn default() -> Self {
        Self {
            expected_treatment_share: 0.5,
            alpha: 0.05,
            power: 0.8,
            outcome_kind: None,
        }
    }
}

/// Everything [`ab_test`] reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbReport {
    pub outcome_kind: OutcomeKind,
    pub treatment: GroupStats,
    pub control: GroupStats,
    pub srm: SrmTest,
    /// Welch for continuous outcomes, the difference of proportions for
    /// binary ones; the interval has confidence `1 − alpha`.
    pub ate: Effect,
    pub lift: Option<Lift>,
    pub cuped: Option<Cuped>,
    pub power: PowerAnalysis,
}

/// The complete analysis of an A/B test: the split, the effect with its
/// interval, CUPED when a pre-period `covariate` is given (one value per
/// unit, aligned with `outcome`), the relative lift and the power.
///
/// `treatment[i]` says whether unit `i` was treated. Both groups need at
/// least two units.
pub fn ab_test(
    treatment: &[bool],
    outcome: &[f64],
    covariate: Option<&[f64]>,
    options: &AbOptions,
) -> Result<AbReport, MetricsError> {
    ensure!(
        treatment.len() == outcome.len(),
        MetricsError::LengthMismatch {
            left_name: "treatment",
            left: treatment.len(),
            right_name: "outcome",
            right: outcome.len(),
        }
    );
    check_finite("outcome", outcome)?;
    check_open_unit("alpha", options.alpha)?;
    check_open_unit("power", options.power)?;
    let split = |values: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let mut t = Vec::new();
        let mut c = Vec::new();
        for (&w, &v) in treatment.iter().zip(values) {
            if w { t.push(v) } else { c.push(v) }
        }
        (t, c)
    };
    let (yt, yc) = split(outcome);
    let srm = sample_ratio_mismatch(yt.len(), yc.len(), options.expected_treatment_share)?;
    let gt = group("ab_test", "treatment", &yt, 2)?;
    let gc = group("ab_test", "control", &yc, 2)?;
    let confidence = 1.0 - options.alpha;
    let kind = options
        .outcome_kind
        .unwrap_or_else(|| OutcomeKind::detect(outcome));
    let (ate, power) = match kind {
        OutcomeKind::Binary => (
            two_proportion_test(&yt, &yc, confidence)?,
            power_binary(&gt, &gc, options.alpha, options.power)?,
        ),
        OutcomeKind::Continuous => (
            welch_from_stats(&gt, &gc, confidence)?,
            power_continuous(&gt, &gc, options.alpha, options.power)?,
        ),
    };
    let cuped = match covariate {
        Some(x) => {
            ensure!(
                x.len() == outcome.len(),
                MetricsError::LengthMismatch {
                    left_name: "outcome",
                    left: outcome.len(),
                    right_name: "covariate",
                    right: x.len(),
                }
            );
            check_finite("covariate", x)?;
            let (xt, xc) = split(x);
            Some(cuped(&yt, &xt, &yc, &xc, confidence)?)
        }
        None => None,
    };
    Ok(AbReport {
        outcome_kind: kind,
        lift: relative_lift(&gt, &gc, confidence),
        treatment: gt,
        control: gc,
        srm,
        ate,
        cuped,
        power,
    })
}

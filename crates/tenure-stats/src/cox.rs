//! Cox proportional hazards, fitted by Newton–Raphson on the partial
//! likelihood with Efron's or Breslow's handling of tied event times, computed
//! the way lifelines' `CoxPHFitter` computes them.
//!
//! Rows are sorted once by (stratum, time); every Newton step then needs one
//! reverse pass for the risk-set sums (`O(n·p)`) and one weighted Gram matrix
//! for the information (`O(n·p²)`), never a pass per event time.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use tenure_core::spec::{LinearModel, Link, Standardize};
use tenure_core::{
    CoreError, Dataset, Fit, Matrix, ParamGuard, Predict, PredictSurvival, Target, ensure_param,
};

use crate::error::{StatsError, cannot_fit, check_width, row_number, row_weights};
use crate::linalg::{add_weighted_gram, cholesky_solve, dot};

const MODEL: &str = "Cox proportional hazards";
/// Step halvings tried before concluding that no step along the Newton
/// direction raises the penalised partial likelihood.
const MAX_HALVINGS: usize = 40;
/// A standardised column whose Cholesky pivot falls below this fraction of its
/// variance is (numerically) a linear combination of the columns before it.
const COLLINEAR_PIVOT: f64 = 1e-10;

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ties {
    /// Efron's approximation (lifelines' and R's default): the tied subjects
    /// leave the risk set gradually, one fraction at a time.
    #[default]
    Efron,
    /// Breslow's approximation: every tied subject sees the full risk set.
    Breslow,
}

/// Hyperparameters of [`CoxModel`], as the user fills them.
///
/// | parameter | default | meaning |
/// |---|---|---|
/// | `ties` | Efron | [`Ties`] |
/// | `l2` | 0.0 | lifelines' `penalizer` (with `l1_ratio = 0`): the partial log-likelihood loses `n · (l2 / 2) · ‖β̃‖²`, where `β̃ = β · sd` are the coefficients per sample standard deviation of each covariate (`ddof = 1`) and `n` the number of rows |
/// | `max_iter` | 50 | Newton steps at most |
/// | `tol` | 1e-9 | converged once no standardised coefficient moves by more than `tol` in a step |
/// | `strata` | none | features whose values define strata: each stratum gets its own baseline hazard; they are not covariates |
/// | `horizon_days` | none | what [`Predict`] returns: `None` the log partial hazard, `Some(h)` the probability of the event by day `h` |
///
/// ```
/// use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
/// use tenure_stats::{CoxParams, Ties};
///
/// // Days since the last order, and churn (event) or censoring days later.
/// let x = Matrix::from_rows(&[
///     vec![80.0], vec![5.0], vec![60.0], vec![10.0], vec![70.0], vec![30.0], vec![45.0], vec![20.0],
/// ])
/// .unwrap();
/// let target = Target::Survival {
///     time: vec![3.0, 40.0, 5.0, 30.0, 8.0, 12.0, 6.0, 25.0],
///     event: vec![true, false, true, true, true, true, false, true],
/// };
/// let data = Dataset::new(x, vec!["recency_days".into()], target).unwrap();
/// let model = CoxParams::new().ties(Ties::Efron).check().unwrap().fit(&data).unwrap();
/// assert!(model.converged());
/// assert!(model.coefficients()[0] > 0.0); // longer since the last order: churn sooner
/// let (lo, hi) = model.confidence_intervals(0.05).unwrap()[0];
/// assert!(lo < model.hazard_ratios()[0] && model.hazard_ratios()[0] < hi);
///
/// let risk = model.predict(&Matrix::from_rows(&[vec![90.0], vec![1.0]]).unwrap()).unwrap();
/// assert!(risk[0] > risk[1]);
/// let s = model.survival_function(&[90.0], &[0.0, 10.0, 30.0]).unwrap();
/// assert!(s[0] == 1.0 && s[1] > s[2]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoxParams(CoxValidParams);

/// Checked [`CoxParams`]; only [`CoxParams::check`] makes them, and they
/// implement [`Fit`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoxValidParams {
    ties: Ties,
    l2: f64,
    max_iter: usize,
    tol: f64,
    strata: Vec<String>,
    horizon_days: Option<f64>,
}

impl Default for CoxParams {
    fn default() -> Self {
        Self::new()
    }
}

impl CoxParams {
    pub fn new() -> Self {
        Self(CoxValidParams {
            ties: Ties::Efron,
            l2: 0.0,
            max_iter: 50,
            tol: 1e-9,
            strata: Vec::new(),
            horizon_days: None,
        })
    }

    pub fn ties(mut self, ties: Ties) -> Self {
        self.0.ties = ties;
        self
    }

    pub fn l2(mut self, l2: f64) -> Self {
        self.0.l2 = l2;
        self
    }

    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.0.max_iter = max_iter;
        self
    }

    pub fn tol(mut self, tol: f64) -> Self {
        self.0.tol = tol;
        self
    }

    pub fn strata(mut self, strata: Vec<String>) -> Self {
        self.0.strata = strata;
        self
    }

    pub fn horizon_days(mut self, horizon_days: Option<f64>) -> Self {
        self.0.horizon_days = horizon_days;
        self
    }
}

impl ParamGuard for CoxParams {
    type Checked = CoxValidParams;
    type Error = StatsError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        crate::check_solver(p.l2, p.max_iter, p.tol)?;
        for (k, s) in p.strata.iter().enumerate() {
            ensure_param!(
                !p.strata[..k].contains(s),
                "strata",
                "feature `{s}` is listed twice"
            );
        }
        if let Some(h) = p.horizon_days {
            crate::check_horizon(h)?;
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl CoxValidParams {
    pub fn ties(&self) -> Ties {
        self.ties
    }

    pub fn l2(&self) -> f64 {
        self.l2
    }

    pub fn max_iter(&self) -> usize {
        self.max_iter
    }

    pub fn tol(&self) -> f64 {
        self.tol
    }

    pub fn strata(&self) -> &[String] {
        &self.strata
    }

    pub fn horizon_days(&self) -> Option<f64> {
        self.horizon_days
    }
}

/// The Grambsch–Therneau test of one covariate's proportional hazards: its
/// scaled Schoenfeld residuals regressed on the rank of the event times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhTest {
    pub feature: String,
    /// χ² with one degree of freedom under proportional hazards.
    pub statistic: f64,
    pub p_value: f64,
}

/// One stratum's Breslow baseline cumulative hazard, a step function of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Baseline {
    /// The values of the strata features that define it.
    key: Vec<f64>,
    /// Distinct durations (event or censoring) in the stratum, increasing.
    times: Vec<f64>,
    cumulative_hazard: Vec<f64>,
}

/// A fitted Cox proportional hazards model.
///
/// The hazard of a row with covariates `x` in stratum `s` is
/// `h₀ₛ(t) · exp((x − x̄)·β)`, where `x̄` is the training mean of the
/// covariates (lifelines' convention: the baseline is that of an average
/// subject, so it stays in a sensible range whatever the covariate scales).
///
/// As a [`Predict`] model it returns the log partial hazard `(x − x̄)·β`
/// (lifelines' `predict_log_partial_hazard`; higher = event sooner), or with
/// `horizon_days = Some(h)` the probability `1 − S(h | x)` of the event by day
/// `h`. Strata features only pick the baseline: the log partial hazard ranks
/// rows across strata by covariates alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxModel {
    /// Every training feature, strata included, in training order.
    input_names: Vec<String>,
    /// Indices into `input_names` of the covariates and of the strata.
    covariate_columns: Vec<usize>,
    strata_columns: Vec<usize>,
    feature_names: Vec<String>,
    ties: Ties,
    mean: Vec<f64>,
    coefficients: Vec<f64>,
    /// Row-major `p × p` covariance of the coefficients (original scale).
    covariance: Vec<f64>,
    log_likelihood: f64,
    null_log_likelihood: f64,
    concordance: f64,
    baselines: Vec<Baseline>,
    ph_tests: Vec<PhTest>,
    horizon_days: Option<f64>,
    n_iter: usize,
    converged: bool,
}

impl CoxModel {
    /// Coefficients in the original scale of each covariate: the change in log
    /// hazard per unit of the covariate.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Standard errors from the inverse of the (penalised) observed
    /// information, as lifelines' non-robust `standard_errors_`.
    pub fn standard_errors(&self) -> Vec<f64> {
        let p = self.coefficients.len();
        (0..p).map(|j| self.covariance[j * p + j].sqrt()).collect()
    }

    /// Row-major `p × p` covariance matrix of the coefficients.
    pub fn covariance(&self) -> &[f64] {
        &self.covariance
    }

    /// `exp(β)`: the hazard multiplier per unit of each covariate.
    pub fn hazard_ratios(&self) -> Vec<f64> {
        self.coefficients.iter().map(|b| b.exp()).collect()
    }

    /// Wald `1 − alpha` confidence intervals of the hazard ratios,
    /// `exp(β ± z₁₋α/₂ · se)`; `alpha = 0.05` gives lifelines' 95% columns.
    pub fn confidence_intervals(&self, alpha: f64) -> Result<Vec<(f64, f64)>, StatsError> {
        let z = normal_quantile(alpha)?;
        Ok(self
            .coefficients
            .iter()
            .zip(self.standard_errors())
            .map(|(b, se)| ((b - z * se).exp(), (b + z * se).exp()))
            .collect())
    }

    /// Wald statistics `β / se`.
    pub fn z(&self) -> Vec<f64> {
        self.coefficients
            .iter()
            .zip(self.standard_errors())
            .map(|(b, se)| b / se)
            .collect()
    }

    /// Two-sided Wald p-values.
    pub fn p_values(&self) -> Vec<f64> {
        self.z().iter().map(|z| chi2_sf(z * z, 1.0)).collect()
    }

    /// Partial log-likelihood at the fit, minus the penalty when `l2 > 0`
    /// (lifelines' `log_likelihood_`).
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// Partial log-likelihood at `β = 0`.
    pub fn null_log_likelihood(&self) -> f64 {
        self.null_log_likelihood
    }

    /// Likelihood-ratio test against the model without covariates:
    /// `(statistic, degrees of freedom, p-value)`.
    pub fn likelihood_ratio_test(&self) -> (f64, usize, f64) {
        let stat = 2.0 * (self.log_likelihood - self.null_log_likelihood);
        let df = self.coefficients.len();
        (stat, df, chi2_sf(stat, df as f64))
    }

    /// Harrell's C on the training data (within strata, pooled), counted as
    /// lifelines' `concordance_index_` counts it.
    pub fn concordance(&self) -> f64 {
        self.concordance
    }

    /// Names of the covariates, in coefficient order (strata left out).
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Newton steps taken.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    pub fn converged(&self) -> bool {
        self.converged
    }

    pub fn ties(&self) -> Ties {
        self.ties
    }

    /// Training means `x̄` of the covariates, around which partial hazards
    /// and the baseline are centred.
    pub fn means(&self) -> &[f64] {
        &self.mean
    }

    /// Number of strata (1 without strata).
    pub fn n_strata(&self) -> usize {
        self.baselines.len()
    }

    /// The strata features' values that define stratum `s`.
    pub fn stratum_key(&self, s: usize) -> &[f64] {
        &self.baselines[s].key
    }

    /// The Breslow baseline cumulative hazard `H₀(t)` of the first (or only)
    /// stratum, at each distinct training duration: `(times, H₀)`.
    pub fn baseline_cumulative_hazard(&self) -> (&[f64], &[f64]) {
        self.stratum_baseline_cumulative_hazard(0)
    }

    /// [`baseline_cumulative_hazard`](Self::baseline_cumulative_hazard) of
    /// stratum `s` (see [`stratum_key`](Self::stratum_key)).
    pub fn stratum_baseline_cumulative_hazard(&self, s: usize) -> (&[f64], &[f64]) {
        let b = &self.baselines[s];
        (&b.times, &b.cumulative_hazard)
    }

    /// `S(t | x) = exp(−H₀(t) · exp((x − x̄)·β))` at each of `times`, for a
    /// feature row laid out like the training data (strata columns pick the
    /// baseline). `H₀` is a right-continuous step function (lifelines
    /// interpolates linearly between training durations; both agree at them).
    pub fn survival_function(&self, x: &[f64], times: &[f64]) -> Result<Vec<f64>, StatsError> {
        check_width(self.input_names.len(), x.len())?;
        self.survival_of_row(x, 0, times)
    }

    /// `S(t | x)` of a checked-width row at index `r` (for error messages).
    fn survival_of_row(&self, x: &[f64], r: usize, times: &[f64]) -> Result<Vec<f64>, StatsError> {
        let base = self.baseline_for(x)?;
        let risk = self.log_partial_hazard(x, r)?.exp();
        Ok(times
            .iter()
            .map(|&t| {
                if t.is_nan() {
                    return f64::NAN;
                }
                let k = base.times.partition_point(|&ti| ti <= t);
                let h = if k == 0 {
                    0.0
                } else {
                    base.cumulative_hazard[k - 1]
                };
                (-h * risk).exp()
            })
            .collect())
    }

    /// `S(t | x)` at one time.
    pub fn survival_at(&self, x: &[f64], t: f64) -> Result<f64, StatsError> {
        Ok(self.survival_function(x, &[t])?[0])
    }

    /// Proportional-hazards tests per covariate, as lifelines'
    /// `proportional_hazard_test(model, df, time_transform="rank")`: scaled
    /// Schoenfeld residuals (Efron means) against the rank of the event
    /// among the events ordered by time. With strata the ranks are over the
    /// pooled event times (ties: lower stratum first, then row order);
    /// lifelines' own `"rank"` restarts the time order in each stratum, so
    /// the stratified golden passes lifelines this pooled ranking as its
    /// time transform (`scripts/reference/lifelines_cox.py`).
    pub fn proportional_hazards_test(&self) -> &[PhTest] {
        &self.ph_tests
    }

    /// The log partial hazard as a plain specification (for export), on
    /// the full training layout: each covariate centred on its training
    /// mean, strata columns with coefficient 0, and the exp link, so that
    /// the raw score is [`Predict::predict`]'s log partial hazard (without
    /// `horizon_days`) and the prediction the partial hazard. A missing
    /// value, which `predict` refuses, counts as the training mean.
    pub fn to_spec(&self) -> LinearModel {
        let p = self.input_names.len();
        let mut mean = vec![0.0; p];
        let mut coef = vec![0.0; p];
        for ((&c, &m), &b) in self
            .covariate_columns
            .iter()
            .zip(&self.mean)
            .zip(&self.coefficients)
        {
            mean[c] = m;
            coef[c] = b;
        }
        LinearModel {
            feature_names: self.input_names.clone(),
            preprocess: Some(Standardize {
                impute: mean.clone(),
                mean,
                scale: vec![1.0; p],
            }),
            coef,
            intercept: 0.0,
            link: Link::Exp,
        }
    }

    /// `(x − x̄)·β` for a full training-layout row `r`.
    fn log_partial_hazard(&self, row: &[f64], r: usize) -> Result<f64, StatsError> {
        let mut eta = 0.0;
        for ((&c, m), b) in self
            .covariate_columns
            .iter()
            .zip(&self.mean)
            .zip(&self.coefficients)
        {
            let v = row[c];
            if !v.is_finite() {
                return Err(bad_value(&self.input_names[c], r, v));
            }
            eta += (v - m) * b;
        }
        Ok(eta)
    }

    fn baseline_for(&self, row: &[f64]) -> Result<&Baseline, StatsError> {
        let key: Vec<f64> = self.strata_columns.iter().map(|&c| row[c]).collect();
        self.baselines.iter().find(|b| b.key == key).ok_or_else(|| {
            CoreError::Shape(format!(
                "no stratum with {} = {key:?} was seen in training",
                self.strata_columns
                    .iter()
                    .map(|&c| self.input_names[c].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into()
        })
    }
}

impl Predict for CoxModel {
    type Error = StatsError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, StatsError> {
        check_width(self.input_names.len(), x.n_cols())?;
        x.rows()
            .enumerate()
            .map(|(r, row)| match self.horizon_days {
                None => self.log_partial_hazard(row, r),
                Some(h) => {
                    let eta = self.log_partial_hazard(row, r)?;
                    let base = self.baseline_for(row)?;
                    let k = base.times.partition_point(|&ti| ti <= h);
                    let h0 = if k == 0 {
                        0.0
                    } else {
                        base.cumulative_hazard[k - 1]
                    };
                    Ok(-(-h0 * eta.exp()).exp_m1())
                }
            })
            .collect()
    }
}

impl PredictSurvival for CoxModel {
    /// `S(t | x)` from the Breslow baseline of each row's stratum, as
    /// [`CoxModel::survival_function`].
    fn predict_survival(&self, x: &Matrix, times: &[f64]) -> Result<Vec<Vec<f64>>, StatsError> {
        check_width(self.input_names.len(), x.n_cols())?;
        let mut out = vec![Vec::with_capacity(x.n_rows()); times.len()];
        for (r, row) in x.rows().enumerate() {
            for (column, s) in out.iter_mut().zip(self.survival_of_row(row, r, times)?) {
                column.push(s);
            }
        }
        Ok(out)
    }
}

impl Fit for CoxValidParams {
    type Model = CoxModel;
    type Error = StatsError;

    /// Maximises the partial log-likelihood minus `n · (l2 / 2) · ‖β̃‖²` over
    /// the coefficients `β̃` of the standardised covariates, as lifelines'
    /// `CoxPHFitter(penalizer = l2)` does (Efron ties; Breslow ties as
    /// scikit-survival's and statsmodels'). Dataset weights are case weights,
    /// as lifelines' `weights_col`.
    ///
    /// Errors: non-finite or negative durations, no events, a missing or
    /// infinite covariate (no imputation: a Cox fit on imputed values would
    /// misstate its standard errors), a constant covariate, collinear
    /// covariates, unknown strata features.
    fn fit(&self, data: &Dataset) -> Result<CoxModel, StatsError> {
        let Target::Survival { time, event } = data.target() else {
            return Err(CoreError::WrongTarget {
                model: MODEL,
                expected: "survival",
                got: data.target().kind(),
            }
            .into());
        };
        let n = time.len();
        if n == 0 {
            return Err(cannot_fit(MODEL, "the dataset has no rows"));
        }
        if let Some(i) = time.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(cannot_fit(
                MODEL,
                format!(
                    "duration {} at row {} is not a finite non-negative number of days",
                    time[i],
                    row_number(i)
                ),
            ));
        }
        let w = row_weights(MODEL, data.weights(), n)?;
        if !event.iter().zip(&w).any(|(&e, &w)| e && w > 0.0) {
            return Err(cannot_fit(
                MODEL,
                "every row is censored: without events the partial likelihood is flat",
            ));
        }
        let names = data.feature_names();
        let x = data.x();
        let strata_columns = self
            .strata
            .iter()
            .map(|s| {
                names
                    .iter()
                    .position(|n| n == s)
                    .ok_or_else(|| StatsError::MissingFeature {
                        model: MODEL,
                        feature: "(a strata feature)",
                        available: format!("`{s}` is not among: {}", names.join(", ")),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let covariate_columns: Vec<usize> = (0..names.len())
            .filter(|j| !strata_columns.contains(j))
            .collect();
        let feature_names: Vec<String> = covariate_columns
            .iter()
            .map(|&j| names[j].clone())
            .collect();
        let p = covariate_columns.len();

        // Strata keys, and a stratum id per row.
        let mut keys: Vec<Vec<f64>> = Vec::new();
        let mut stratum = vec![0usize; n];
        if !strata_columns.is_empty() {
            for (r, row) in x.rows().enumerate() {
                let key: Vec<f64> = strata_columns.iter().map(|&c| row[c]).collect();
                if let Some(k) = key.iter().position(|v| !v.is_finite()) {
                    let c = strata_columns[k];
                    return Err(bad_value(&names[c], r, row[c]));
                }
                stratum[r] = match keys.iter().position(|k| *k == key) {
                    Some(s) => s,
                    None => {
                        keys.push(key);
                        keys.len() - 1
                    }
                };
            }
            // Strata in increasing key order, as lifelines' groupby.
            let mut by_key: Vec<usize> = (0..keys.len()).collect();
            by_key.sort_by(|&a, &b| cmp_keys(&keys[a], &keys[b]));
            let mut rank = vec![0; keys.len()];
            for (k, &s) in by_key.iter().enumerate() {
                rank[s] = k;
            }
            stratum.iter_mut().for_each(|s| *s = rank[*s]);
            keys = by_key.into_iter().map(|s| keys[s].clone()).collect();
        } else {
            keys.push(Vec::new());
        }

        // Covariates: finite, not constant; mean and sample sd (lifelines'
        // normalisation, which is also the scale its penalty acts on).
        let mut mean = vec![0.0; p];
        for (r, row) in x.rows().enumerate() {
            for (m, &c) in mean.iter_mut().zip(&covariate_columns) {
                let v = row[c];
                if !v.is_finite() {
                    return Err(bad_value(&names[c], r, v));
                }
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut sd = vec![0.0; p];
        for row in x.rows() {
            for ((s, m), &c) in sd.iter_mut().zip(&mean).zip(&covariate_columns) {
                *s += (row[c] - m) * (row[c] - m);
            }
        }
        for (j, s) in sd.iter_mut().enumerate() {
            *s = (*s / (n as f64 - 1.0).max(1.0)).sqrt();
            let c = covariate_columns[j];
            let first = x.get(0, c);
            if x.column(c).all(|v| v == first) {
                return Err(cannot_fit(
                    MODEL,
                    format!(
                        "covariate `{}` is constant ({first}): its coefficient is not identified",
                        names[c]
                    ),
                ));
            }
        }

        // Sort once by (stratum, time); the order within a time is irrelevant
        // to every sum below.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            stratum[a]
                .cmp(&stratum[b])
                .then(time[a].partial_cmp(&time[b]).unwrap_or(Ordering::Equal))
                .then(a.cmp(&b))
        });
        let mut z = vec![0.0; n * p];
        for (k, &i) in order.iter().enumerate() {
            let row = x.row(i);
            for (j, &c) in covariate_columns.iter().enumerate() {
                z[k * p + j] = (row[c] - mean[j]) / sd[j];
            }
        }
        let problem = Problem {
            z,
            p,
            time: order.iter().map(|&i| time[i]).collect(),
            event: order.iter().map(|&i| event[i] && w[i] > 0.0).collect(),
            w: order.iter().map(|&i| w[i]).collect(),
            stratum: order.iter().map(|&i| stratum[i]).collect(),
            ties: self.ties,
            penalty: self.l2 * n as f64,
        };
        // A ridge makes collinear covariates identifiable (experiments
        // lean on this: snapshot features include complete one-hot sets).
        if self.l2 == 0.0 {
            problem.check_collinear(&feature_names)?;
        }

        let mut beta = vec![0.0; p];
        let null_log_likelihood = problem.evaluate(&beta, None);
        let (n_iter, converged, log_likelihood, information) = problem.newton(&mut beta, self)?;

        let coefficients: Vec<f64> = beta.iter().zip(&sd).map(|(b, s)| b / s).collect();
        let inverse = invert_spd(&information, p)
            .ok_or_else(|| collinear_error("the information matrix at the fit is singular"))?;
        let mut covariance = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..p {
                covariance[a * p + b] = inverse[a * p + b] / (sd[a] * sd[b]);
            }
        }

        // Log partial hazards in sorted order, for the baseline, the
        // concordance and the residuals.
        let eta: Vec<f64> = problem.rows().map(|zr| dot(zr, &beta)).collect();
        let baselines = problem.baselines(&eta, keys);
        let concordance = problem.concordance(&eta);
        let ph_tests = problem.ph_tests(&eta, &covariance, &sd, &feature_names);

        Ok(CoxModel {
            input_names: names.to_vec(),
            covariate_columns,
            strata_columns,
            feature_names,
            ties: self.ties,
            mean,
            coefficients,
            covariance,
            log_likelihood,
            null_log_likelihood,
            concordance,
            baselines,
            ph_tests,
            horizon_days: self.horizon_days,
            n_iter,
            converged,
        })
    }
}

/// Derivatives of the partial log-likelihood at one point.
struct Derivatives {
    gradient: Vec<f64>,
    /// Row-major `p × p` negative Hessian (lower triangle filled).
    information: Vec<f64>,
}

/// The sorted, standardised training data.
struct Problem {
    /// Row-major `n × p`, rows sorted by (stratum, time).
    z: Vec<f64>,
    p: usize,
    time: Vec<f64>,
    event: Vec<bool>,
    w: Vec<f64>,
    stratum: Vec<usize>,
    ties: Ties,
    /// `n · l2`: the penalty is `penalty / 2 · ‖β̃‖²`.
    penalty: f64,
}

impl Problem {
    fn n(&self) -> usize {
        self.time.len()
    }

    fn rows(&self) -> impl Iterator<Item = &[f64]> {
        let width = self.p.max(1);
        let n = if self.p == 0 { 0 } else { self.n() };
        self.z.chunks_exact(width).take(n)
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.z[i * self.p..(i + 1) * self.p]
    }

    /// Index ranges `[start, end)` of rows sharing a stratum and a time.
    fn groups(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.n() {
            if i == self.n()
                || self.time[i] != self.time[start]
                || self.stratum[i] != self.stratum[start]
            {
                out.push((start, i));
                start = i;
            }
        }
        out
    }

    /// Rejects covariates that are (numerically) linear combinations of
    /// others, naming them: the information matrix would be singular, and a
    /// Newton solve would fail with a far less helpful message.
    fn check_collinear(&self, names: &[String]) -> Result<(), StatsError> {
        let p = self.p;
        let mut gram = vec![0.0; p * p];
        add_weighted_gram(&mut gram, p, self.rows().map(|r| (r, 1.0)));
        // Cholesky with the pivots kept, column by column.
        let mut l = vec![0.0; p * p];
        for j in 0..p {
            let pivot = gram[j * p + j] - dot(&l[j * p..j * p + j], &l[j * p..j * p + j]);
            if pivot.is_nan() || pivot <= COLLINEAR_PIVOT * gram[j * p + j] {
                let partners: Vec<&str> = (0..j)
                    .filter(|&k| gram[j * p + k].abs() > 0.0)
                    .map(|k| names[k].as_str())
                    .collect();
                return Err(collinear_error(&format!(
                    "`{}` is a linear combination of {}",
                    names[j],
                    if partners.is_empty() {
                        "the covariates before it".to_string()
                    } else {
                        partners
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )));
            }
            let diag = pivot.sqrt();
            l[j * p + j] = diag;
            for i in j + 1..p {
                let s = gram[i * p + j] - dot(&l[i * p..i * p + j], &l[j * p..j * p + j]);
                l[i * p + j] = s / diag;
            }
        }
        Ok(())
    }

    /// Penalised partial log-likelihood at `beta`; with `derivs`, also its
    /// gradient and negative Hessian (penalty included).
    fn evaluate(&self, beta: &[f64], derivs: Option<&mut Derivatives>) -> f64 {
        let p = self.p;
        let n = self.n();
        // Weighted scores w·exp(η), shifted by the largest η so that no
        // exponential overflows; the shift cancels in every ratio below and
        // is added back to the log-likelihood.
        let eta: Vec<f64> = if p == 0 {
            vec![0.0; n]
        } else {
            self.rows().map(|r| dot(r, beta)).collect()
        };
        let shift = eta.iter().fold(f64::NEG_INFINITY, |m, &e| m.max(e));
        let shift = if shift.is_finite() { shift } else { 0.0 };
        let phi: Vec<f64> = eta
            .iter()
            .zip(&self.w)
            .map(|(e, w)| w * (e - shift).exp())
            .collect();

        let want = derivs.is_some();
        let mut ll = 0.0;
        let mut grad = vec![0.0; p];
        let mut outer = vec![0.0; if want { p * p } else { 0 }];
        // Per row: its weight in the Gram part of the information.
        let mut gram_weight = vec![0.0; if want { n } else { 0 }];
        // Per group: Σₗ 1/denomₗ (times the tie weight) and the part the
        // tied deaths subtract from it.
        let groups = self.groups();
        let mut group_coef = vec![(0.0, 0.0); if want { groups.len() } else { 0 }];

        let mut risk_phi = 0.0;
        let mut risk_phi_x = vec![0.0; p];
        let mut tie_phi_x = vec![0.0; p];
        let mut x_death = vec![0.0; p];
        let mut current_stratum = usize::MAX;
        for (g, &(start, end)) in groups.iter().enumerate().rev() {
            if self.stratum[start] != current_stratum {
                current_stratum = self.stratum[start];
                risk_phi = 0.0;
                risk_phi_x.fill(0.0);
            }
            let mut tie_phi = 0.0;
            let mut deaths = 0usize;
            let mut death_weight = 0.0;
            let mut death_eta = 0.0;
            tie_phi_x.fill(0.0);
            x_death.fill(0.0);
            for i in start..end {
                let zi = self.row(i);
                risk_phi += phi[i];
                for (a, z) in risk_phi_x.iter_mut().zip(zi) {
                    *a += phi[i] * z;
                }
                if self.event[i] {
                    deaths += 1;
                    death_weight += self.w[i];
                    death_eta += self.w[i] * eta[i];
                    tie_phi += phi[i];
                    for ((t, x), z) in tie_phi_x.iter_mut().zip(&mut x_death).zip(zi) {
                        *t += phi[i] * z;
                        *x += self.w[i] * z;
                    }
                }
            }
            if deaths == 0 {
                continue;
            }
            let m = deaths as f64;
            let average_weight = death_weight / m;
            ll += death_eta;
            for (gj, x) in grad.iter_mut().zip(&x_death) {
                *gj += x;
            }
            // With sₗ = (R − fₗT)/Dₗ (R, T the risk-set and tied sums of φx),
            // Σₗ sₗ and Σₗ sₗsₗᵀ only need the scalar sums of 1/Dₗ, fₗ/Dₗ,
            // 1/Dₗ², fₗ/Dₗ², fₗ²/Dₗ²: O(p²) per event time, not per death.
            let mut sums = [0.0; 5];
            for l in 0..deaths {
                let frac = match self.ties {
                    Ties::Efron => l as f64 / m,
                    Ties::Breslow => 0.0,
                };
                let denom = risk_phi - frac * tie_phi;
                ll -= average_weight * (denom.ln() + shift);
                let inv = 1.0 / denom;
                sums[0] += inv;
                sums[1] += frac * inv;
                sums[2] += inv * inv;
                sums[3] += frac * inv * inv;
                sums[4] += frac * frac * inv * inv;
            }
            if !want {
                continue;
            }
            let [inv_sum, frac_inv_sum, rr, rt, tt] = sums.map(|v| average_weight * v);
            for ((gj, r), t) in grad.iter_mut().zip(&risk_phi_x).zip(&tie_phi_x) {
                *gj -= inv_sum * r - frac_inv_sum * t;
            }
            for a in 0..p {
                let (ra, ta) = (risk_phi_x[a], tie_phi_x[a]);
                let row = &mut outer[a * p..=a * p + a];
                for ((o, rb), tb) in row.iter_mut().zip(&risk_phi_x).zip(&tie_phi_x) {
                    *o += rr * ra * rb - rt * (ra * tb + ta * rb) + tt * ta * tb;
                }
            }
            group_coef[g] = (inv_sum, frac_inv_sum);
        }
        for b in beta {
            ll -= 0.5 * self.penalty * b * b;
        }
        let Some(d) = derivs else {
            return ll;
        };

        // Row i is in the risk set of every event time of its stratum up to
        // its own, so its Gram weight is φᵢ times the running sum of the group
        // coefficients; tied deaths get Efron's fraction taken off.
        let mut running = 0.0;
        let mut current_stratum = usize::MAX;
        for (g, &(start, end)) in groups.iter().enumerate() {
            if self.stratum[start] != current_stratum {
                current_stratum = self.stratum[start];
                running = 0.0;
            }
            running += group_coef[g].0;
            for i in start..end {
                let tie = if self.event[i] { group_coef[g].1 } else { 0.0 };
                gram_weight[i] = phi[i] * (running - tie);
            }
        }
        let info = &mut d.information;
        info.fill(0.0);
        add_weighted_gram(info, p, self.rows().zip(&gram_weight).map(|(r, &h)| (r, h)));
        for a in 0..p {
            for b in 0..=a {
                info[a * p + b] -= outer[a * p + b];
            }
            info[a * p + a] += self.penalty;
        }
        for (gj, b) in grad.iter_mut().zip(beta) {
            *gj -= self.penalty * b;
        }
        d.gradient = grad;
        ll
    }

    /// Damped Newton iterations from `beta`; returns (steps, converged,
    /// penalised log-likelihood, information at the solution).
    fn newton(
        &self,
        beta: &mut Vec<f64>,
        params: &CoxValidParams,
    ) -> Result<(usize, bool, f64, Vec<f64>), StatsError> {
        let p = self.p;
        let mut d = Derivatives {
            gradient: vec![0.0; p],
            information: vec![0.0; p * p],
        };
        let mut f = self.evaluate(beta, Some(&mut d));
        let mut candidate = vec![0.0; p];
        for n_iter in 0..params.max_iter {
            if !f.is_finite() || d.gradient.iter().any(|g| !g.is_finite()) {
                return Err(cannot_fit(
                    MODEL,
                    "the partial likelihood or its gradient is not finite",
                ));
            }
            let step = cholesky_solve(&d.information, &d.gradient).ok_or_else(|| {
                collinear_error("the information matrix is singular during the Newton steps")
            })?;
            // Rounding makes the likelihood noisy at the optimum: a step that
            // lowers it by less than this is still taken.
            let slack = 1e-12 * (1.0 + f.abs());
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..MAX_HALVINGS {
                for ((c, b), s) in candidate.iter_mut().zip(beta.iter()).zip(&step) {
                    *c = b + t * s;
                }
                let f_new = self.evaluate(&candidate, None);
                if f_new.is_finite() && f_new >= f - slack {
                    accepted = Some(f_new);
                    break;
                }
                t *= 0.5;
            }
            let Some(_) = accepted else {
                return Ok((n_iter, true, f, d.information));
            };
            let change = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
            std::mem::swap(beta, &mut candidate);
            f = self.evaluate(beta, Some(&mut d));
            if change <= params.tol {
                return Ok((n_iter + 1, true, f, d.information));
            }
        }
        Ok((params.max_iter, false, f, d.information))
    }

    /// Breslow's estimator per stratum, on the centred linear predictor:
    /// `ΔH₀(t) = Σ_{T=t} wᵢδᵢ / Σ_{T≥t} wⱼ exp(ηⱼ)` at every distinct duration.
    fn baselines(&self, eta: &[f64], keys: Vec<Vec<f64>>) -> Vec<Baseline> {
        // Rows are sorted by (stratum, time): each stratum is one run.
        let mut out = Vec::with_capacity(keys.len());
        let mut start = 0;
        for (s, key) in keys.into_iter().enumerate() {
            let end = start
                + self.stratum[start..]
                    .iter()
                    .take_while(|&&k| k == s)
                    .count();
            let eta: Vec<f64> = (start..end).map(|i| eta_at(eta, i)).collect();
            let (times, cumulative_hazard) = crate::breslow::steps(
                &self.time[start..end],
                &self.event[start..end],
                &self.w[start..end],
                &eta,
            );
            out.push(Baseline {
                key,
                times,
                cumulative_hazard,
            });
            start = end;
        }
        out
    }

    /// Harrell's C as lifelines counts it: a pair is comparable when the
    /// earlier duration ends in an event, or both end at the same time with
    /// only the first an event; ties in risk count one half. Within strata.
    fn concordance(&self, eta: &[f64]) -> f64 {
        let (mut correct, mut tied, mut pairs) = (0.0, 0.0, 0.0);
        let groups = self.groups();
        let mut start_g = 0;
        while start_g < groups.len() {
            let s = self.stratum[groups[start_g].0];
            let mut end_g = start_g;
            while end_g < groups.len() && self.stratum[groups[end_g].0] == s {
                end_g += 1;
            }
            let (lo, hi) = (groups[start_g].0, groups[end_g - 1].1);
            // Each row's position among the stratum's distinct risks, from
            // one sort (a binary search per row misses the cache at scale).
            let mut by_risk: Vec<usize> = (lo..hi).collect();
            by_risk.sort_by(|&x, &y| {
                eta_at(eta, x)
                    .partial_cmp(&eta_at(eta, y))
                    .unwrap_or(Ordering::Equal)
            });
            let mut position = vec![0usize; hi - lo];
            let mut distinct = 0;
            for (k, &i) in by_risk.iter().enumerate() {
                if k > 0 && eta_at(eta, i) != eta_at(eta, by_risk[k - 1]) {
                    distinct += 1;
                }
                position[i - lo] = distinct;
            }
            let mut tree = Fenwick::new(distinct + 1);
            let mut pool = 0.0;
            let mut compare = |i: usize, tree: &Fenwick, pool: f64| {
                // Deaths in the pool riskier than row i are concordant with
                // it (it exits later), those as risky are ties.
                let lower = tree.prefix(position[i - lo]);
                let equal = tree.prefix(position[i - lo] + 1) - lower;
                correct += pool - lower - equal;
                tied += equal;
                pairs += pool;
            };
            for &(a, b) in &groups[start_g..end_g] {
                // Deaths are compared with the deaths before them; the
                // censored also with the deaths at their own time.
                for i in (a..b).filter(|&i| self.event[i]) {
                    compare(i, &tree, pool);
                }
                for i in (a..b).filter(|&i| self.event[i]) {
                    tree.add(position[i - lo]);
                    pool += 1.0;
                }
                for i in (a..b).filter(|&i| !self.event[i]) {
                    compare(i, &tree, pool);
                }
            }
            start_g = end_g;
        }
        if pairs == 0.0 {
            return f64::NAN;
        }
        (correct + tied / 2.0) / pairs
    }

    /// lifelines' `proportional_hazard_test(..., time_transform="rank")`.
    fn ph_tests(
        &self,
        eta: &[f64],
        covariance: &[f64],
        sd: &[f64],
        names: &[String],
    ) -> Vec<PhTest> {
        let p = self.p;
        if p == 0 {
            return Vec::new();
        }
        // Schoenfeld residuals (standardised scale) of each death, with the
        // Efron mean of its time group, unweighted tie count as lifelines.
        // (time, sorted row, offset of its residual in `values`).
        let mut resid: Vec<(f64, usize, usize)> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        let groups = self.groups();
        let mut risk_phi = 0.0;
        let mut risk_phi_x = vec![0.0; p];
        let mut current = usize::MAX;
        for &(start, end) in groups.iter().rev() {
            if self.stratum[start] != current {
                current = self.stratum[start];
                risk_phi = 0.0;
                risk_phi_x.fill(0.0);
            }
            let mut tie_phi = 0.0;
            let mut tie_phi_x = vec![0.0; p];
            let mut deaths = 0usize;
            for i in start..end {
                let phi = self.w[i] * eta_at(eta, i).exp();
                risk_phi += phi;
                for (a, z) in risk_phi_x.iter_mut().zip(self.row(i)) {
                    *a += phi * z;
                }
                if self.event[i] {
                    deaths += 1;
                    tie_phi += phi;
                    for (a, z) in tie_phi_x.iter_mut().zip(self.row(i)) {
                        *a += phi * z;
                    }
                }
            }
            if deaths == 0 {
                continue;
            }
            let m = deaths as f64;
            let mut mean = vec![0.0; p];
            for l in 0..deaths {
                let frac = l as f64 / m;
                let denom = risk_phi - frac * tie_phi;
                for ((mj, r), t) in mean.iter_mut().zip(&risk_phi_x).zip(&tie_phi_x) {
                    *mj += (r - frac * t) / (denom * m);
                }
            }
            for i in start..end {
                if self.event[i] {
                    resid.push((self.time[i], i, values.len()));
                    let r = self.row(i).iter().zip(&mean).zip(sd);
                    values.extend(r.map(|((z, mj), s)| (z - mj) * s));
                }
            }
        }
        // Rank of each death among the deaths ordered by time.
        resid.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        });
        let n_deaths = resid.len() as f64;
        let mean_rank = (n_deaths + 1.0) / 2.0;
        let sum_sq: f64 = (1..=resid.len())
            .map(|k| (k as f64 - mean_rank).powi(2))
            .sum();
        // Σ (rank − mean) · scaled residual, with the scaled residuals
        // n_deaths · r · V: the product with V is taken once, after the sum.
        let mut weighted = vec![0.0; p];
        for (k, &(_, _, at)) in resid.iter().enumerate() {
            let centred = (k + 1) as f64 - mean_rank;
            for (s, r) in weighted.iter_mut().zip(&values[at..at + p]) {
                *s += centred * r;
            }
        }
        let numer: Vec<f64> = (0..p)
            .map(|j| {
                n_deaths
                    * (0..p)
                        .map(|a| weighted[a] * covariance[a * p + j])
                        .sum::<f64>()
            })
            .collect();
        names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let statistic = numer[j] * numer[j] / (n_deaths * covariance[j * p + j] * sum_sq);
                PhTest {
                    feature: name.clone(),
                    statistic,
                    p_value: chi2_sf(statistic, 1.0),
                }
            })
            .collect()
    }
}

fn eta_at(eta: &[f64], i: usize) -> f64 {
    eta.get(i).copied().unwrap_or(0.0)
}

/// Counts of inserted positions, with prefix sums in `O(log n)`.
struct Fenwick(Vec<f64>);

impl Fenwick {
    fn new(n: usize) -> Self {
        Self(vec![0.0; n + 1])
    }

    fn add(&mut self, k: usize) {
        let mut i = k + 1;
        while i < self.0.len() {
            self.0[i] += 1.0;
            i += i & i.wrapping_neg();
        }
    }

    /// Number inserted at positions `< k`.
    fn prefix(&self, k: usize) -> f64 {
        let mut i = k;
        let mut s = 0.0;
        while i > 0 {
            s += self.0[i];
            i -= i & i.wrapping_neg();
        }
        s
    }
}

fn cmp_keys(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.partial_cmp(y).unwrap_or(Ordering::Equal))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// Inverse of a symmetric positive-definite matrix (lower triangle read),
/// column by column through the Cholesky solve.
fn invert_spd(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; p * p];
    let mut e = vec![0.0; p];
    for j in 0..p {
        e.fill(0.0);
        e[j] = 1.0;
        let col = cholesky_solve(a, &e)?;
        for i in 0..p {
            inv[i * p + j] = col[i];
        }
    }
    Some(inv)
}

/// `index` is 0-based; the message counts rows from 1.
fn bad_value(feature: &str, index: usize, v: f64) -> StatsError {
    let row = row_number(index);
    if v.is_infinite() {
        return StatsError::InfiniteFeature {
            feature: feature.to_string(),
            row,
        };
    }
    cannot_fit(
        MODEL,
        format!(
            "feature `{feature}` is missing (NaN) at row {row}; the Cox model does not \
             impute: drop or fill such rows first"
        ),
    )
}

fn collinear_error(detail: &str) -> StatsError {
    cannot_fit(MODEL, format!("collinear covariates: {detail}"))
}

/// Survival function of χ² with `df` degrees of freedom.
pub(crate) fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(x))
}

/// `z₁₋α/₂` of the standard normal, for `alpha` in (0, 1).
pub(crate) fn normal_quantile(alpha: f64) -> Result<f64, StatsError> {
    ensure_param!(
        alpha > 0.0 && alpha < 1.0,
        "alpha",
        "must be in (0, 1), got {alpha}"
    );
    let normal = Normal::standard();
    Ok(normal.inverse_cdf(1.0 - alpha / 2.0))
}

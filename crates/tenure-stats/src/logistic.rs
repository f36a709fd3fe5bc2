//! L2-regularised logistic regression fitted by Newton's method (IRLS).

use serde::{Deserialize, Serialize};
use tenure_core::spec::{LinearModel, Link, Standardize};
use tenure_core::{CoreError, Dataset, Fit, Matrix, ParamGuard, Predict, Target};

use crate::error::{StatsError, cannot_fit, check_width, row_number, row_weights};
use crate::linalg::{cholesky_solve, dot};
use crate::standardize::Standardizer;

const MODEL: &str = "logistic regression";
/// Step halvings tried before concluding that no step along the Newton
/// direction lowers the objective.
const MAX_HALVINGS: usize = 40;

/// Hyperparameters of [`LogisticRegression`], as the user fills them.
///
/// | parameter | default | meaning |
/// |---|---|---|
/// | `l2` | 1.0 | penalty `(l2 / 2)·‖w‖²` on the standardised coefficients (intercept free); scikit-learn's `C = 1 / l2` |
/// | `max_iter` | 100 | Newton steps at most |
/// | `tol` | 1e-8 | converged once no standardised coefficient moves by more than `tol` in a step |
/// | `fit_intercept` | true | fit a constant term |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticRegressionParams(LogisticRegressionValidParams);

/// Checked hyperparameters of [`LogisticRegression`]; only
/// [`LogisticRegressionParams::check`] makes them, and they implement [`Fit`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticRegressionValidParams {
    l2: f64,
    max_iter: usize,
    tol: f64,
    fit_intercept: bool,
}

impl Default for LogisticRegressionParams {
    fn default() -> Self {
        Self::new()
    }
}

impl LogisticRegressionParams {
    pub fn new() -> Self {
        Self(LogisticRegressionValidParams {
            l2: 1.0,
            max_iter: 100,
            tol: 1e-8,
            fit_intercept: true,
        })
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

    pub fn fit_intercept(mut self, fit_intercept: bool) -> Self {
        self.0.fit_intercept = fit_intercept;
        self
    }
}

impl ParamGuard for LogisticRegressionParams {
    type Checked = LogisticRegressionValidParams;
    type Error = StatsError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        crate::check_solver(p.l2, p.max_iter, p.tol)?;
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl LogisticRegressionValidParams {
    pub fn l2(&self) -> f64 {
        self.l2
    }

    pub fn max_iter(&self) -> usize {
        self.max_iter
    }

    pub fn tol(&self) -> f64 {
        self.tol
    }

    pub fn fit_intercept(&self) -> bool {
        self.fit_intercept
    }
}

/// A fitted logistic regression; [`Predict`] returns probabilities of the
/// positive class (churn).
///
/// Inputs are standardised with statistics of the training data, stored here:
/// a missing value (NaN) counts as the training mean. Without an intercept the
/// columns are scaled but not centred, so that the model has no constant term
/// in the original scale either.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    feature_names: Vec<String>,
    scaler: Standardizer,
    standardised_coefficients: Vec<f64>,
    standardised_intercept: f64,
    coefficients: Vec<f64>,
    intercept: f64,
    n_iter: usize,
    converged: bool,
}

impl LogisticRegression {
    /// Coefficients in the ORIGINAL scale of each feature: the change in log
    /// odds per unit of the feature.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Intercept in the original feature scale (log odds when every feature is 0).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Coefficients per standard deviation of each feature: comparable across
    /// features, and what the penalty acts on.
    pub fn standardised_coefficients(&self) -> &[f64] {
        &self.standardised_coefficients
    }

    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Newton steps taken.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Whether the fit met `tol` (or could not lower the objective any
    /// further) within `max_iter` steps.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// The model as a plain specification (for export): the stored
    /// scaling (a missing value imputed with the training mean), the
    /// standardised coefficients and the sigmoid link. It predicts what
    /// [`Predict::predict`] does for every finite or missing input.
    pub fn to_spec(&self) -> LinearModel {
        LinearModel {
            feature_names: self.feature_names.clone(),
            preprocess: Some(Standardize {
                impute: self.scaler.mean.clone(),
                mean: self.scaler.shift.clone(),
                scale: self.scaler.scale.clone(),
            }),
            coef: self.standardised_coefficients.clone(),
            intercept: self.standardised_intercept,
            link: Link::Sigmoid,
        }
    }

    fn linear_predictor(&self, z: &[f64]) -> f64 {
        self.standardised_intercept + dot(&self.standardised_coefficients, z)
    }
}

impl Predict for LogisticRegression {
    type Error = StatsError;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, StatsError> {
        check_width(self.feature_names.len(), x.n_cols())?;
        let mut z = vec![0.0; x.n_cols()];
        x.rows()
            .enumerate()
            .map(|(r, row)| {
                self.scaler
                    .transform_row(row, r, &self.feature_names, &mut z)?;
                Ok(sigmoid(self.linear_predictor(&z)))
            })
            .collect()
    }
}

impl Fit for LogisticRegressionValidParams {
    type Model = LogisticRegression;
    type Error = StatsError;

    /// Minimises `Σ wᵢ·logloss(yᵢ, pᵢ) + (l2 / 2)·‖β‖²` over the standardised
    /// coefficients β (the intercept is not penalised), which is
    /// scikit-learn's `LogisticRegression(C = 1 / l2)` on
    /// `StandardScaler`-transformed inputs, with dataset weights as
    /// `sample_weight`. The scaling statistics themselves are unweighted.
    ///
    /// With `l2 = 0` and classes the features separate perfectly, the fit
    /// returns [`StatsError::Separated`] as soon as an iterate classifies every
    /// (positively weighted) row correctly. Quasi-separation (a perfect split
    /// up to ties on the boundary) is not detected: the fit stops at
    /// `max_iter` with large but finite coefficients and `converged() == false`.
    fn fit(&self, data: &Dataset) -> Result<LogisticRegression, StatsError> {
        let Target::Binary(y) = data.target() else {
            return Err(CoreError::WrongTarget {
                model: MODEL,
                expected: "binary",
                got: data.target().kind(),
            }
            .into());
        };
        if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
            return Err(cannot_fit(
                MODEL,
                format!("label {} at row {} is not 0 or 1", y[i], row_number(i)),
            ));
        }
        let w = row_weights(MODEL, data.weights(), y.len())?;
        let positive: f64 = y.iter().zip(&w).map(|(y, w)| y * w).sum();
        let total: f64 = w.iter().sum();
        if !(positive > 0.0 && positive < total) {
            return Err(cannot_fit(
                MODEL,
                "the training rows (with positive weight) hold a single class",
            ));
        }

        let names = data.feature_names();
        let scaler = Standardizer::fit(data.x(), names, self.fit_intercept)?;
        let problem = Problem::new(data.x(), names, &scaler, y, &w, self.l2, self.fit_intercept)?;
        let mut beta = vec![0.0; problem.d];
        if self.fit_intercept {
            // Starting from the base rate saves a Newton step or two.
            let rate = positive / total;
            beta[0] = (rate / (1.0 - rate)).ln();
        }
        let (n_iter, converged) = problem.newton(&mut beta, self)?;

        let offset = usize::from(self.fit_intercept);
        let standardised_intercept = if self.fit_intercept { beta[0] } else { 0.0 };
        let standardised_coefficients = beta[offset..].to_vec();
        let coefficients: Vec<f64> = standardised_coefficients
            .iter()
            .zip(&scaler.scale)
            .map(|(b, s)| b / s)
            .collect();
        let intercept = standardised_intercept - dot(&coefficients, &scaler.shift);
        Ok(LogisticRegression {
            feature_names: names.to_vec(),
            scaler,
            standardised_coefficients,
            standardised_intercept,
            coefficients,
            intercept,
            n_iter,
            converged,
        })
    }
}

/// The penalised log-likelihood on the standardised design matrix.
struct Problem<'a> {
    /// Row-major `n × d`; column 0 is the constant 1 when fitting an intercept.
    z: Vec<f64>,
    d: usize,
    y: &'a [f64],
    w: &'a [f64],
    l2: f64,
    /// Index of the first penalised coefficient (1 with an intercept).
    first_penalised: usize,
}

impl<'a> Problem<'a> {
    fn new(
        x: &Matrix,
        names: &[String],
        scaler: &Standardizer,
        y: &'a [f64],
        w: &'a [f64],
        l2: f64,
        intercept: bool,
    ) -> Result<Self, StatsError> {
        let offset = usize::from(intercept);
        let d = x.n_cols() + offset;
        let mut z = vec![1.0; x.n_rows() * d];
        for (r, (row, out)) in x.rows().zip(z.chunks_exact_mut(d.max(1))).enumerate() {
            scaler.transform_row(row, r, names, &mut out[offset..])?;
        }
        Ok(Self {
            z,
            d,
            y,
            w,
            l2,
            first_penalised: offset,
        })
    }

    fn rows(&self) -> impl Iterator<Item = &[f64]> {
        // `max(1)` keeps `chunks_exact` valid with no feature and no intercept.
        self.z.chunks_exact(self.d.max(1))
    }

    /// Fills `eta = Z β` and returns the penalised objective.
    fn objective(&self, beta: &[f64], eta: &mut [f64]) -> f64 {
        let mut loss = 0.0;
        for (((row, e), &y), &w) in self.rows().zip(eta.iter_mut()).zip(self.y).zip(self.w) {
            *e = dot(row, beta);
            loss += w * (softplus(*e) - y * *e);
        }
        let penalty: f64 = beta[self.first_penalised..].iter().map(|b| b * b).sum();
        loss + 0.5 * self.l2 * penalty
    }

    /// Gradient and lower triangle of the Hessian at `beta` (whose linear
    /// predictor is `eta`), penalty included.
    fn gradient_hessian(&self, beta: &[f64], eta: &[f64], grad: &mut [f64], hess: &mut [f64]) {
        let d = self.d;
        grad.fill(0.0);
        hess.fill(0.0);
        let mut rows = self.rows().zip(eta).zip(self.y).zip(self.w);
        loop {
            // Four rows per pass over the Hessian: each entry is loaded and
            // stored once for four rank-one updates, which keeps the
            // (vectorised) inner loop from being bound by L1 traffic.
            let mut block: [(&[f64], f64); 4] = [(&[], 0.0); 4];
            let mut filled = 0;
            for slot in block.iter_mut() {
                let Some((((row, &e), &y), &w)) = rows.next() else {
                    break;
                };
                let p = sigmoid(e);
                let g = w * (p - y);
                for (gj, zj) in grad.iter_mut().zip(row) {
                    *gj += g * zj;
                }
                *slot = (row, w * p * (1.0 - p));
                filled += 1;
            }
            if filled == 0 {
                break;
            }
            for k in filled..4 {
                block[k] = (block[0].0, 0.0);
            }
            rank4_update(hess, d, &block);
            if filled < 4 {
                break;
            }
        }
        for j in self.first_penalised..d {
            grad[j] += self.l2 * beta[j];
            hess[j * d + j] += self.l2;
        }
    }

    /// Damped Newton iterations from `beta`; returns (steps, converged).
    fn newton(
        &self,
        beta: &mut Vec<f64>,
        params: &LogisticRegressionValidParams,
    ) -> Result<(usize, bool), StatsError> {
        let (n, d) = (self.y.len(), self.d);
        let mut eta = vec![0.0; n];
        let mut candidate_eta = vec![0.0; n];
        let mut f = self.objective(beta, &mut eta);
        let mut grad = vec![0.0; d];
        let mut hess = vec![0.0; d * d];
        let mut candidate = vec![0.0; d];
        for n_iter in 0..params.max_iter {
            self.gradient_hessian(beta, &eta, &mut grad, &mut hess);
            if grad.iter().any(|g| !g.is_finite()) {
                return Err(cannot_fit(MODEL, "the gradient is not finite"));
            }
            let neg_grad: Vec<f64> = grad.iter().map(|g| -g).collect();
            let step = solve_with_ridge(&mut hess, d, &neg_grad)?;

            // Rounding makes the objective noisy at the optimum: a step that
            // raises it by less than this is still taken.
            let slack = 1e-12 * (1.0 + f.abs());
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..MAX_HALVINGS {
                for ((c, b), s) in candidate.iter_mut().zip(beta.iter()).zip(&step) {
                    *c = b + t * s;
                }
                let f_new = self.objective(&candidate, &mut candidate_eta);
                if f_new.is_finite() && f_new <= f + slack {
                    accepted = Some(f_new);
                    break;
                }
                t *= 0.5;
            }
            // No step along the Newton direction helps: the optimum, to
            // machine precision.
            let Some(f_new) = accepted else {
                return Ok((n_iter, true));
            };
            let change = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
            std::mem::swap(beta, &mut candidate);
            std::mem::swap(&mut eta, &mut candidate_eta);
            f = f_new;
            if self.l2 == 0.0 && self.separates(&eta) {
                return Err(StatsError::Separated);
            }
            if change <= params.tol {
                return Ok((n_iter + 1, true));
            }
        }
        Ok((params.max_iter, false))
    }

    /// Whether `eta` classifies every positively weighted row correctly, i.e.
    /// the current coefficients are a separating hyperplane.
    fn separates(&self, eta: &[f64]) -> bool {
        eta.iter()
            .zip(self.y)
            .zip(self.w)
            .all(|((&e, &y), &w)| w == 0.0 || (y == 1.0 && e > 0.0) || (y == 0.0 && e < 0.0))
    }
}

/// `H += Σ_k h_k z_k z_kᵀ` on the lower triangle of row-major `d × d` `hess`.
fn rank4_update(hess: &mut [f64], d: usize, block: &[(&[f64], f64); 4]) {
    let [(z0, h0), (z1, h1), (z2, h2), (z3, h3)] = *block;
    for j in 0..d {
        let (a0, a1, a2, a3) = (h0 * z0[j], h1 * z1[j], h2 * z2[j], h3 * z3[j]);
        let row = &mut hess[j * d..=j * d + j];
        let zs = z0[..=j].iter().zip(&z1[..=j]).zip(&z2[..=j]).zip(&z3[..=j]);
        for (h, (((b0, b1), b2), b3)) in row.iter_mut().zip(zs) {
            *h += a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
        }
    }
}

/// Cholesky solve of `H x = b`; when `H` is not numerically positive definite
/// (a constant column with `l2 = 0`, weights vanishing under separation) a
/// growing ridge is added to its diagonal until it is.
fn solve_with_ridge(hess: &mut [f64], d: usize, b: &[f64]) -> Result<Vec<f64>, StatsError> {
    if let Some(x) = cholesky_solve(hess, b) {
        return Ok(x);
    }
    let largest = (0..d).fold(0.0f64, |m, j| m.max(hess[j * d + j].abs()));
    let mut ridge = 1e-10 * largest.max(1.0);
    let mut added = 0.0;
    for _ in 0..10 {
        for j in 0..d {
            hess[j * d + j] += ridge - added;
        }
        added = ridge;
        if let Some(x) = cholesky_solve(hess, b) {
            return Ok(x);
        }
        ridge *= 100.0;
    }
    Err(cannot_fit(
        MODEL,
        "the Newton system stays singular even with a ridge on its diagonal",
    ))
}

fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eᵗ)` without overflow.
fn softplus(eta: f64) -> f64 {
    if eta > 0.0 {
        eta + (-eta).exp().ln_1p()
    } else {
        eta.exp().ln_1p()
    }
}

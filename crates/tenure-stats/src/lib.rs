//! Classical models of tenure: the baselines every learned model is compared
//! with, and a fast linear model for churn.
//!
//! | model | task | target | prediction |
//! |---|---|---|---|
//! | [`LogisticRegression`] | churn | `Binary` | probability of churn |
//! | [`RidgeRegression`] | CLV, treatment effects | `Continuous` | expected outcome |
//! | [`KaplanMeier`] | survival | `Survival` | baseline risk `1 − S(horizon)`, the same for every row |
//! | [`HistoricalAverage`] | CLV | `Continuous` | past spend rate × horizon |
//!
//! Each follows tenure's estimator shape: a `*Params` builder, `check()` (from
//! [`ParamGuard`](tenure_core::ParamGuard)) into `*ValidParams`, which
//! implements [`Fit`](tenure_core::Fit); the fitted model implements
//! [`Predict`](tenure_core::Predict). Errors are a [`StatsError`].
//!
//! The logistic regression is scikit-learn's `LogisticRegression(C = 1/l2)`
//! on `StandardScaler`-transformed inputs, solved by Newton's method with a
//! Cholesky factorisation, and is tested against it, as is the ridge
//! regression (`Ridge(alpha = l2)`); the Kaplan–Meier curve is
//! tested against lifelines.
//!
//! ```
//! use tenure_core::{Dataset, Fit, Matrix, ParamGuard, Predict, Target};
//! use tenure_stats::LogisticRegressionParams;
//!
//! let x = Matrix::from_rows(&[
//!     vec![90.0, 1.0],
//!     vec![5.0, 12.0],
//!     vec![60.0, f64::NAN], // missing: imputed with the training mean
//!     vec![10.0, 8.0],
//!     vec![75.0, 2.0],
//!     vec![30.0, 3.0],
//! ])
//! .unwrap();
//! let names = vec!["recency_days".to_string(), "frequency_90d".to_string()];
//! let churned = Target::Binary(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
//! let data = Dataset::new(x, names, churned).unwrap();
//!
//! let model = LogisticRegressionParams::new().l2(1.0).check().unwrap().fit(&data).unwrap();
//! assert!(model.converged());
//! assert!(model.coefficients()[0] > 0.0); // longer since the last order: more churn
//!
//! let p = model.predict(&Matrix::from_rows(&[vec![100.0, 0.0], vec![1.0, 15.0]]).unwrap()).unwrap();
//! assert!(p[0] > 0.5 && p[1] < 0.5);
//! ```

mod bgnbd;
mod breslow;
mod cox;
mod error;
mod gamma_gamma;
mod historical;
mod kaplan_meier;
mod linalg;
mod logistic;
mod mle;
mod ridge;
mod standardize;

pub use bgnbd::{BgNbd, BgNbdParams, BgNbdValidParams};
pub use breslow::BreslowBaseline;
pub use cox::{CoxModel, CoxParams, CoxValidParams, PhTest, Ties};
pub use error::StatsError;
pub use gamma_gamma::{
    GammaGamma, GammaGammaParams, GammaGammaValidParams, customer_lifetime_value,
};
pub use historical::{
    HistoricalAverage, HistoricalAverageParams, HistoricalAverageValidParams, MONETARY_FEATURE,
    TENURE_FEATURE,
};
pub use kaplan_meier::{
    KaplanMeier, KaplanMeierParams, KaplanMeierValidParams, LogRankResult, log_rank_test,
};
pub use logistic::{LogisticRegression, LogisticRegressionParams, LogisticRegressionValidParams};
pub use ridge::{RidgeRegression, RidgeRegressionParams, RidgeRegressionValidParams};

/// Models scored over a horizon share one rule for it.
pub(crate) fn check_horizon(h: f64) -> Result<(), StatsError> {
    tenure_core::ensure_param!(
        h.is_finite() && h > 0.0,
        "horizon_days",
        "must be finite and > 0, got {h}"
    );
    Ok(())
}

/// The iterative solvers (Newton/IRLS) share one rule for their settings.
pub(crate) fn check_solver(l2: f64, max_iter: usize, tol: f64) -> Result<(), StatsError> {
    tenure_core::ensure_param!(
        l2.is_finite() && l2 >= 0.0,
        "l2",
        "must be finite and >= 0, got {l2}"
    );
    tenure_core::ensure_param!(max_iter >= 1, "max_iter", "must be at least 1, got 0");
    tenure_core::ensure_param!(
        tol.is_finite() && tol > 0.0,
        "tol",
        "must be finite and > 0, got {tol}"
    );
    Ok(())
}

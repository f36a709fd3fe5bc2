use crate::{Dataset, Matrix};

/// Turns user-filled hyperparameters into a checked set that training accepts.
///
/// A model can never train on a bad configuration: `Fit` is implemented on the
/// checked type only, and `check` names the parameter and why it is wrong.
pub trait ParamGuard {
    type Checked;
    type Error;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error>;

    fn check(self) -> Result<Self::Checked, Self::Error>;
}

/// Dataset in, fitted model out. Implemented by the checked parameters of
/// every model family so that the runner and the tuner treat them alike.
pub trait Fit {
    type Model: Predict;
    type Error;

    fn fit(&self, data: &Dataset) -> Result<Self::Model, Self::Error>;
}

/// Scores feature rows laid out like the training dataset.
///
/// The meaning of a score follows the task: a churn probability, a survival
/// risk score (higher = event sooner) or an expected amount.
pub trait Predict {
    type Error;

    fn predict(&self, x: &Matrix) -> Result<Vec<f64>, Self::Error>;
}

/// Survival models: the probability `S(t | x)` of no event by each of
/// `times` (days after the cutoff), for every row.
///
/// `out[k][i]` is row `i`'s survival at `times[k]` (one vector per time, the
/// layout of tenure's time-dependent metrics). `S` is non-increasing in `t`
/// and in `[0, 1]`.
pub trait PredictSurvival: Predict {
    fn predict_survival(&self, x: &Matrix, times: &[f64]) -> Result<Vec<Vec<f64>>, Self::Error>;
}

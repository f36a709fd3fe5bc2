use tenure_core::CoreError;
use thiserror::Error;

/// Why an uplift model could not be fitted or applied.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum UpliftError {
    /// Shapes that do not line up.
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("uplift needs both arms in the training rows: {treated} treated, {control} control")]
    OneArm { treated: usize, control: usize },
    #[error("uplift needs a binary or continuous outcome, got a {got} target")]
    WrongOutcome { got: &'static str },
    #[error("{learner}: the {model} failed: {message}")]
    Learner {
        learner: &'static str,
        model: &'static str,
        message: String,
    },
    #[error("{learner}: the {model} returned {got} predictions for {expected} rows")]
    PredictionCount {
        learner: &'static str,
        model: &'static str,
        got: usize,
        expected: usize,
    },
}

use tenure_core::CoreError;
use thiserror::Error;

/// Why a classical model could not be configured, fitted or applied.
///
/// Rows are numbered from 1 in every message and field (the first row of a
/// dataset is row 1), as tenure's data errors count the data rows of a file:
/// a table read row for row reports the same number a user sees.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StatsError {
    /// Bad parameters, shapes, wrong target kind, unusable training data.
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(
        "logistic regression with l2 = 0: the features separate the classes perfectly, \
         so the unpenalised maximum-likelihood estimate does not exist (coefficients \
         grow without bound); use l2 > 0"
    )]
    Separated,
    #[error("{model} needs a feature named `{feature}`; the dataset has: {available}")]
    MissingFeature {
        model: &'static str,
        feature: &'static str,
        available: String,
    },
    #[error(
        "feature `{feature}` is infinite at row {row} (NaN marks a missing value; \
         infinities are not allowed)"
    )]
    InfiniteFeature {
        feature: String,
        /// 1-based.
        row: usize,
    },
}

/// The number a message gives the row at 0-based `index`.
pub(crate) fn row_number(index: usize) -> usize {
    index + 1
}

pub(crate) fn cannot_fit(model: &'static str, reason: impl Into<String>) -> StatsError {
    CoreError::CannotFit {
        model,
        reason: reason.into(),
    }
    .into()
}

/// Per-row weights: the dataset's, else 1; finite, non-negative, not all zero.
pub(crate) fn row_weights(
    model: &'static str,
    weights: Option<&[f64]>,
    n: usize,
) -> Result<Vec<f64>, StatsError> {
    let Some(w) = weights else {
        return Ok(vec![1.0; n]);
    };
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(cannot_fit(
            model,
            format!(
                "weight {} at row {} is not a finite non-negative number",
                w[i],
                row_number(i)
            ),
        ));
    }
    if n > 0 && w.iter().all(|&v| v == 0.0) {
        return Err(cannot_fit(model, "every row weight is zero"));
    }
    Ok(w.to_vec())
}

/// Feature matrices at prediction time must have the training width.
pub(crate) fn check_width(expected: usize, got: usize) -> Result<(), StatsError> {
    if expected != got {
        return Err(CoreError::Shape(format!(
            "the model was fitted on {expected} features but got {got} columns"
        ))
        .into());
    }
    Ok(())
}

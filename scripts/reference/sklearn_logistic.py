"""Golden values for tenure-stats' logistic regression, from scikit-learn.

tenure fits an L2-penalised logistic regression on standardised inputs with
penalty (l2 / 2) * ||w||^2 over the SUM of log losses; that is sklearn's
LogisticRegression(C = 1 / l2) on StandardScaler-transformed X. Missing values
are ignored by the scaler's fit and imputed with the training mean (0 once
standardised), which is what tenure does too.

Coefficients are recorded in the original feature scale.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from _common import write

FEATURES = ["recency_days", "frequency_90d", "monetary_sum_all", "is_premium", "constant"]


def make_data(rng, n):
    recency = np.round(rng.exponential(40.0, n), 1)
    frequency = rng.poisson(3.0, n).astype(float)
    monetary = np.round(rng.gamma(1.5, 200.0, n), 2)
    premium = (rng.random(n) < 0.3).astype(float)
    constant = np.full(n, 7.0)
    x = np.column_stack([recency, frequency, monetary, premium, constant])
    logit = -0.5 + 0.03 * recency - 0.4 * frequency - 0.002 * monetary + 0.8 * premium
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
    return x, y


def standardise(scaler, x):
    """Scales like tenure: a missing value becomes the training mean."""
    z = scaler.transform(x)
    shift = scaler.mean_ if scaler.with_mean else np.zeros_like(scaler.mean_)
    fill = (scaler.mean_ - shift) / scaler.scale_
    return np.where(np.isnan(z), fill, z)


def fit_case(name, x, y, x_test, l2, weights=None, fit_intercept=True):
    # Without an intercept tenure scales but does not centre, so that the
    # model really has no constant term in the original scale either.
    scaler = StandardScaler(with_mean=fit_intercept).fit(x)
    z = standardise(scaler, x)
    z_test = standardise(scaler, x_test)
    model = LogisticRegression(
        C=1.0 / l2,
        solver="newton-cholesky",
        tol=1e-12,
        max_iter=10000,
        fit_intercept=fit_intercept,
    ).fit(z, y, sample_weight=weights)
    coef = model.coef_[0] / scaler.scale_
    shift = scaler.mean_ if fit_intercept else np.zeros_like(scaler.mean_)
    intercept = model.intercept_[0] - np.sum(model.coef_[0] * shift / scaler.scale_)
    return {
        "name": name,
        "l2": l2,
        "fit_intercept": fit_intercept,
        "weights": weights,
        "coefficients": coef,
        "intercept": intercept,
        "standardised_coefficients": model.coef_[0],
        "standardised_intercept": float(np.ravel(model.intercept_)[0]),
        "train_probabilities": model.predict_proba(z)[:, 1],
        "test_probabilities": model.predict_proba(z_test)[:, 1],
    }


def main():
    rng = np.random.default_rng(7)
    x, y = make_data(rng, 300)
    # A few missing values, imputed with the training mean.
    x[[4, 50, 51, 200], [0, 1, 2, 0]] = np.nan
    x_test, _ = make_data(rng, 20)
    x_test[[0, 3], [2, 3]] = np.nan
    weights = np.round(rng.uniform(0.2, 3.0, len(y)), 2)

    cases = [
        fit_case("l2_1", x, y, x_test, 1.0),
        fit_case("l2_10", x, y, x_test, 10.0),
        fit_case("l2_0.01", x, y, x_test, 0.01),
        fit_case("l2_1_weighted", x, y, x_test, 1.0, weights=weights),
        fit_case("l2_1_no_intercept", x, y, x_test, 1.0, fit_intercept=False),
    ]
    write(
        "sklearn_logistic.json",
        {"feature_names": FEATURES, "x": x, "y": y, "x_test": x_test, "cases": cases},
    )


if __name__ == "__main__":
    main()

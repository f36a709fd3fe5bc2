"""Golden values for tenure-stats' ridge regression, from scikit-learn.

tenure minimises sum_i w_i (y_i - b - z_i . beta)^2 + l2 * ||beta||^2 over
standardised inputs z (intercept b free): sklearn's Ridge(alpha = l2) on
StandardScaler-transformed X with sample_weight. Missing values are ignored
by the scaler's fit and imputed with the training mean (0 once standardised).

Coefficients are recorded in the original feature scale.
"""

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from _common import write

FEATURES = ["tenure_days", "frequency_90d", "monetary_sum_all", "is_premium", "constant"]


def make_data(rng, n):
    tenure = np.round(rng.uniform(10, 900, n), 1)
    frequency = rng.poisson(3.0, n).astype(float)
    monetary = np.round(rng.gamma(1.5, 200.0, n), 2)
    premium = (rng.random(n) < 0.3).astype(float)
    constant = np.full(n, 7.0)
    x = np.column_stack([tenure, frequency, monetary, premium, constant])
    y = 5 + 0.01 * tenure + 2.0 * frequency + 0.05 * monetary + 8 * premium + rng.normal(0, 5, n)
    return x, np.round(y, 3)


def standardise(scaler, x):
    z = scaler.transform(x)
    shift = scaler.mean_ if scaler.with_mean else np.zeros_like(scaler.mean_)
    fill = (scaler.mean_ - shift) / scaler.scale_
    return np.where(np.isnan(z), fill, z)


def fit_case(name, x, y, x_test, l2, weights=None, fit_intercept=True):
    scaler = StandardScaler(with_mean=fit_intercept).fit(x)
    z, z_test = standardise(scaler, x), standardise(scaler, x_test)
    model = Ridge(alpha=l2, fit_intercept=fit_intercept, solver="cholesky").fit(
        z, y, sample_weight=weights
    )
    coef = model.coef_ / scaler.scale_
    shift = scaler.mean_ if fit_intercept else np.zeros_like(scaler.mean_)
    intercept = float(model.intercept_) - np.sum(model.coef_ * shift / scaler.scale_)
    return {
        "name": name,
        "l2": l2,
        "fit_intercept": fit_intercept,
        "weights": weights,
        "coefficients": coef,
        "intercept": intercept,
        "standardised_coefficients": model.coef_,
        "train_predictions": model.predict(z),
        "test_predictions": model.predict(z_test),
    }


def main():
    rng = np.random.default_rng(17)
    x, y = make_data(rng, 250)
    x[[3, 40, 41, 180], [0, 1, 2, 0]] = np.nan
    x_test, _ = make_data(rng, 15)
    x_test[[0, 4], [2, 3]] = np.nan
    weights = np.round(rng.uniform(0.2, 3.0, len(y)), 2)
    cases = [
        fit_case("l2_1", x, y, x_test, 1.0),
        fit_case("l2_100", x, y, x_test, 100.0),
        fit_case("l2_1_weighted", x, y, x_test, 1.0, weights=weights),
        fit_case("l2_1_no_intercept", x, y, x_test, 1.0, fit_intercept=False),
    ]
    write(
        "sklearn_ridge.json",
        {"feature_names": FEATURES, "x": x, "y": y, "x_test": x_test, "cases": cases},
    )


if __name__ == "__main__":
    main()

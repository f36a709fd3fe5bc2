"""Golden values for tenure-metrics, from scikit-learn and lifelines.

Inputs are written into the JSON next to the outputs, so the Rust tests need
no random-number parity with numpy. Scores are rounded to a few decimals: the
rounding creates ties on purpose and keeps every input exactly representable
after a JSON round trip.
"""

import numpy as np
from lifelines.utils import concordance_index
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    roc_auc_score,
    roc_curve,
    root_mean_squared_error,
)

from _common import write


def binary_case(name, y, score):
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    fpr, tpr, thr = roc_curve(y, score, drop_intermediate=False)
    return {
        "name": name,
        "y_true": y,
        "score": score,
        "roc_auc": roc_auc_score(y, score),
        "average_precision": average_precision_score(y, score),
        "log_loss": log_loss(y, score, labels=[0, 1]),
        "brier": brier_score_loss(y, score),
        # thresholds[0] is +inf in sklearn: written as null.
        "roc_curve": {"fpr": fpr, "tpr": tpr, "thresholds": thr},
    }


def regression_case(name, y, pred):
    return {
        "name": name,
        "y": y,
        "pred": pred,
        "rmse": root_mean_squared_error(y, pred),
        "mae": mean_absolute_error(y, pred),
    }


def survival_case(name, time, event, risk):
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    risk = np.asarray(risk, dtype=float)
    # lifelines scores predicted survival times (higher = later), tenure
    # scores risk (higher = sooner): hence the minus sign.
    return {
        "name": name,
        "time": time,
        "event": event,
        "risk": risk,
        "c_index": concordance_index(time, -risk, event),
    }


def main():
    rng = np.random.default_rng(20240611)

    binary = []
    binary.append(
        binary_case(
            "small_ties",
            [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1],
            [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.0, 1.0, 0.9, 0.35, 0.2, 0.65],
        )
    )
    n = 400
    y = (rng.random(n) < 0.05).astype(float)
    y[:2] = [1.0, 0.0]
    score = np.round(np.clip(rng.normal(0.1 + 0.3 * y, 0.15), 0.0, 1.0), 2)
    binary.append(binary_case("imbalanced_rounded", y, score))
    n = 600
    logit = rng.normal(0.0, 1.5, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
    score = np.round(1.0 / (1.0 + np.exp(-(logit + rng.normal(0.0, 1.0, n)))), 6)
    binary.append(binary_case("random_seeded", y, score))
    binary.append(
        binary_case(
            "extreme_probabilities",
            [1, 0, 1, 0, 1, 0, 1, 0],
            [1.0, 0.0, 0.0, 1.0, 0.999999, 1e-9, 0.5, 0.5],
        )
    )
    y = np.zeros(50)
    y[[3, 17, 41]] = 1.0
    score = np.round(rng.random(50), 1)
    binary.append(binary_case("few_positives_heavy_ties", y, score))

    regression = []
    regression.append(
        regression_case("small", [0.0, 10.0, 3.5, 100.0, 7.0], [1.0, 8.0, 3.5, 60.0, 0.0])
    )
    y = np.round(rng.gamma(0.6, 120.0, 500), 2)
    pred = np.round(y * rng.lognormal(0.0, 0.5, 500) + rng.normal(0.0, 5.0, 500), 3)
    regression.append(regression_case("random_seeded", y, pred))

    survival = []
    survival.append(
        survival_case(
            "small_ties_and_censoring",
            [5, 3, 3, 8, 8, 1, 10, 3, 6, 2],
            [1, 1, 0, 1, 0, 0, 1, 1, 0, 1],
            [0.2, 0.9, 0.5, 0.2, 0.1, 0.3, 0.0, 0.9, 0.4, 0.7],
        )
    )
    n = 300
    risk = np.round(rng.normal(0.0, 1.0, n), 1)
    time = np.ceil(rng.exponential(60.0 * np.exp(-0.7 * risk)))
    event = rng.random(n) < 0.7
    survival.append(survival_case("random_integer_times", time, event, risk))
    n = 120
    risk = np.round(rng.normal(0.0, 1.0, n), 4)
    time = np.round(rng.exponential(30.0 * np.exp(-risk)), 3)
    survival.append(survival_case("no_censoring", time, np.ones(n, dtype=bool), risk))

    write(
        "sklearn_metrics.json",
        {"binary": binary, "regression": regression, "survival": survival},
    )


if __name__ == "__main__":
    main()

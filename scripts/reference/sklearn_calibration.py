"""Golden values for tenure-calibration, from scikit-learn (and scipy).

Per case: `calibration_curve` for equal-width and equal-mass bins, Brier
score and log loss; the calibrators scikit-learn fits (Platt scaling with
smoothed targets, `IsotonicRegression(out_of_bounds="clip")`, two-class
temperature scaling) with and without sample weights; and, computed here with
numpy/scipy because no library ships them, the Hosmer-Lemeshow statistic and
p-value and the calibration slope and intercept. Newton solutions of the
Platt and temperature likelihoods are recorded beside scikit-learn's
L-BFGS/Brent answers, which stop at their tolerances.

Inputs are stored with the outputs and rounded to three decimals, so that
many predictions tie and some sit exactly on bin edges.
"""

import numpy as np
from scipy.special import expit
from scipy.stats import chi2
from sklearn.calibration import (
    _sigmoid_calibration,
    _TemperatureScaling,
    calibration_curve,
)
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, log_loss

from _common import write

# tenure_core::calibrator::PROB_CLIP
PROB_CLIP = 1e-7
CURVES = [(5, "uniform"), (10, "uniform"), (10, "quantile"), (7, "quantile")]
HL_GROUPS = 10


def logit(p):
    p = np.clip(p, PROB_CLIP, 1 - PROB_CLIP)
    return np.log(p / (1 - p))


def newton(columns, target, weight, offset=None, start=None):
    """Weighted logistic regression by Newton's method to full precision."""
    x = np.column_stack(columns)
    theta = np.zeros(x.shape[1]) if start is None else np.asarray(start, float)
    off = np.zeros(len(target)) if offset is None else offset
    for _ in range(200):
        p = expit(off + x @ theta)
        g = x.T @ (weight * (p - target))
        h = x.T @ (x * (weight * p * (1 - p))[:, None])
        step = np.linalg.solve(h, g)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-15 * (1 + np.max(np.abs(theta))):
            break
    return theta


def hosmer_lemeshow(p, y, groups):
    order = np.argsort(p, kind="stable")
    stat = 0.0
    for g in np.array_split(order, groups):
        o1, e1, n = y[g].sum(), p[g].sum(), len(g)
        for o, e in ((o1, e1), (n - o1, n - e1)):
            stat += (o - e) ** 2 / e if e > 0 else (0.0 if o == 0 else np.inf)
    return stat, groups - 2, chi2.sf(stat, groups - 2)


def case(name, p, y, w):
    p = np.round(np.asarray(p, float), 3)
    y = np.asarray(y, float)
    w = np.round(np.asarray(w, float), 3)
    z = logit(p)
    ones = np.ones_like(p)
    out = {"name": name, "prob": p, "y": y, "weight": w}

    out["curves"] = []
    for bins, strategy in CURVES:
        prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy=strategy)
        out["curves"].append(
            {"bins": bins, "strategy": strategy, "prob_true": prob_true, "prob_pred": prob_pred}
        )
    out["brier"] = brier_score_loss(y, p)
    out["log_loss"] = log_loss(y, p, labels=[0, 1])

    stat, df, pval = hosmer_lemeshow(p, y, HL_GROUPS)
    out["hosmer_lemeshow"] = {"groups": HL_GROUPS, "statistic": stat, "df": df, "p_value": pval}

    intercept = newton([ones], y, ones, offset=z)[0]
    b0, slope = newton([ones, z], y, ones, start=[0.0, 1.0])
    out["slope"] = slope
    out["intercept"] = intercept

    grid = np.concatenate([np.linspace(-0.1, 1.1, 121), p])
    out["grid"] = grid
    for label, weight in (("unweighted", None), ("weighted", w)):
        sw = ones if weight is None else weight
        # scikit-learn returns (A, B) of 1 / (1 + exp(A f + B)): tenure's a, b
        # of sigmoid(a z + b) are their negatives.
        a_sk, b_sk = _sigmoid_calibration(z, y, sample_weight=weight)
        pos, neg = sw[y == 1].sum(), sw[y == 0].sum()
        target = np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))
        a, b = newton([z, ones], target, sw)
        iso = IsotonicRegression(out_of_bounds="clip").fit(p, y, sample_weight=weight)
        # Two-class temperature scaling turns a decision value x into the
        # logits (-x, x): sigmoid(2 beta x); x = z / 2 makes it sigmoid(beta z).
        beta = _TemperatureScaling().fit(z / 2, y, sample_weight=weight).beta_
        u = newton([z], y, sw, start=[1.0])[0]
        out[label] = {
            "platt_sklearn": {"a": -a_sk, "b": -b_sk},
            "platt_newton": {"a": a, "b": b},
            "isotonic": {
                "x": iso.X_thresholds_,
                "y": iso.y_thresholds_,
                "predict_grid": iso.predict(grid),
            },
            "temperature_sklearn": 1 / float(beta),
            "temperature_newton": 1 / u,
        }
    return out


def main():
    rng = np.random.default_rng(20240611)
    n = 600
    true = expit(rng.normal(-0.6, 1.1, n))
    y = (rng.random(n) < true).astype(float)
    # Over-confident and too high: the kind of model calibration repairs.
    over = expit(2.2 * logit(true) + 0.7)
    weights = rng.gamma(2.0, 0.5, n) + 0.05
    # Coarse predictions: few distinct values, many on bin edges.
    coarse = np.round(rng.choice([0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 0.9], n), 3)
    y_coarse = (rng.random(n) < coarse * 0.8).astype(float)
    small_p = [0.1, 0.2, 0.2, 0.35, 0.4, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    small_y = [0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1]
    write(
        "sklearn_calibration.json",
        {
            "prob_clip": PROB_CLIP,
            "cases": [
                case("overconfident", over, y, weights),
                case("coarse", coarse, y_coarse, weights),
                case("small", small_p, small_y, np.linspace(0.5, 2.0, 12)),
            ],
        },
    )


if __name__ == "__main__":
    main()

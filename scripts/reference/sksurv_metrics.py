"""Golden values for the survival metrics of tenure-metrics, from scikit-survival.

Each case stores its inputs (train and test survival data, risk scores,
survival probabilities) next to sksurv's outputs, so the Rust tests need no
random-number parity with numpy. Risk scores and probabilities are rounded
(6 and 8 decimals) before sksurv sees them: the rounded decimals survive the
JSON round trip exactly, and the rounding creates tied risks on purpose.

Matrices are stored per time point: `survival_prob[k][i]` is subject i's
predicted probability of being event-free at `brier_times[k]`, which is the
layout of the Rust API (sksurv takes the transpose).
"""

import numpy as np
import sksurv
from sksurv.datasets import load_gbsg2, load_veterans_lung_cancer
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import (
    brier_score,
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv, check_y_survival

from _common import versions, write


def case(
    name, train, test, risk, auc_times, brier_times, surv_prob, taus, risk_at_times=None, digits=6
):
    """Runs every sksurv metric on one train/test split.

    `surv_prob` has shape (n_test, len(brier_times)); `risk_at_times`, when
    given, has shape (n_test, len(auc_times)). `digits=None` keeps the risks
    unrounded (for risks closer than the tie tolerance).
    """
    train_event, train_time = check_y_survival(train)
    test_event, test_time = check_y_survival(test)
    risk = np.asarray(risk, dtype=float)
    if digits is not None:
        risk = np.round(risk, digits)
    surv_prob = np.round(np.asarray(surv_prob, dtype=float), 8)
    auc_times = np.asarray(auc_times, dtype=float)
    brier_times = np.asarray(brier_times, dtype=float)

    out = {
        "name": name,
        "train_time": train_time,
        "train_event": train_event,
        "test_time": test_time,
        "test_event": test_event,
        "risk": risk,
        "harrell_c": concordance_index_censored(test_event, test_time, risk)[0],
        "uno_c": concordance_index_ipcw(train, test, risk)[0],
        "uno_c_tau": [
            {"tau": float(tau), "c": concordance_index_ipcw(train, test, risk, tau=tau)[0]}
            for tau in taus
        ],
    }
    auc, mean_auc = cumulative_dynamic_auc(train, test, risk, auc_times)
    out["auc_times"] = auc_times
    out["auc"] = auc
    out["mean_auc"] = mean_auc
    if risk_at_times is not None:
        risk_at_times = np.round(np.asarray(risk_at_times, dtype=float), 6)
        auc_td, mean_auc_td = cumulative_dynamic_auc(train, test, risk_at_times, auc_times)
        out["risk_at_times"] = risk_at_times.T
        out["auc_td"] = auc_td
        out["mean_auc_td"] = mean_auc_td
    _, brier = brier_score(train, test, surv_prob, brier_times)
    out["brier_times"] = brier_times
    out["survival_prob"] = surv_prob.T
    out["brier"] = brier
    out["integrated_brier"] = integrated_brier_score(train, test, surv_prob, brier_times)
    return out


def split(y, rng, test_share):
    """Random split that keeps the longest follow-up in train, so that the
    censoring distribution is known at every test time."""
    n = len(y)
    perm = rng.permutation(n)
    n_test = int(round(n * test_share))
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    longest = int(np.argmax(check_y_survival(y)[1]))
    if longest in test_idx:
        k = int(np.flatnonzero(test_idx == longest)[0])
        test_idx[k], train_idx[0] = train_idx[0], test_idx[k]
    return np.sort(train_idx), np.sort(test_idx)


def gbsg2_cox(rng):
    """German Breast Cancer Study: a Cox model on the numeric covariates fit
    on train, risk = its linear predictor on test, survival probabilities
    from its Breslow baseline."""
    x, y = load_gbsg2()
    cols = ["age", "estrec", "pnodes", "progrec", "tsize"]
    x = x[cols].to_numpy(dtype=float)
    train_idx, test_idx = split(y, rng, 1.0 / 3.0)
    cox = CoxPHSurvivalAnalysis().fit(x[train_idx], y[train_idx])
    risk = cox.predict(x[test_idx])
    auc_times = [365.0, 730.0, 1095.0, 1460.0, 1825.0]
    brier_times = np.linspace(365.0, 1825.0, 9)
    fns = cox.predict_survival_function(x[test_idx])
    surv = np.asarray([fn(brier_times) for fn in fns])
    risk_at_times = 1.0 - np.asarray([fn(np.asarray(auc_times)) for fn in fns])
    return case(
        "gbsg2_cox",
        y[train_idx],
        y[test_idx],
        risk,
        auc_times,
        brier_times,
        surv,
        taus=[1825.0, 1000.0],
        risk_at_times=risk_at_times,
    )


def km_by_group(train, train_group, test_group, times):
    """Kaplan-Meier survival per group, fitted on train, read at `times`."""
    out = np.empty((len(test_group), len(times)))
    for g in np.unique(test_group):
        sel = train_group == g
        event, time = check_y_survival(train)
        km_t, km_s = kaplan_meier_estimator(event[sel], time[sel])
        idx = np.searchsorted(km_t, times, side="right") - 1
        s = np.where(idx >= 0, km_s[np.maximum(idx, 0)], 1.0)
        out[test_group == g] = s
    return out


def veterans_km(rng):
    """Veterans' lung cancer trial: integer times with ties, risk = a linear
    predictor of the Karnofsky score and cell type (many tied risks),
    survival probabilities from a Kaplan-Meier curve per cell type."""
    x, y = load_veterans_lung_cancer()
    cell = x["Celltype"].astype(str).to_numpy()
    karnofsky = x["Karnofsky_score"].to_numpy(dtype=float)
    cell_effect = {"adeno": 0.8, "smallcell": 0.6, "squamous": 0.0, "large": 0.1}
    risk_all = -0.03 * karnofsky + np.array([cell_effect[c] for c in cell])
    train_idx, test_idx = split(y, rng, 0.4)
    times = [30.0, 60.0, 90.0, 180.0]
    brier_times = np.array([20.0, 50.0, 80.0, 100.0, 150.0, 200.0])
    surv = km_by_group(y[train_idx], cell[train_idx], cell[test_idx], brier_times)
    return case(
        "veterans_km_per_celltype",
        y[train_idx],
        y[test_idx],
        risk_all[test_idx],
        times,
        brier_times,
        surv,
        taus=[100.0, 250.0],
    )


def veterans_same_data():
    """Train = test (sksurv's usual `metric(y, y, ...)` call) on the whole
    veterans data; risk is coarse so ties abound."""
    x, y = load_veterans_lung_cancer()
    risk = -np.round(x["Karnofsky_score"].to_numpy(dtype=float) / 10.0)
    brier_times = np.array([10.0, 50.0, 100.0, 300.0])
    s = np.exp(-brier_times[None, :] / (40.0 + 3.0 * x["Karnofsky_score"].to_numpy()[:, None]))
    return case(
        "veterans_train_equals_test",
        y,
        y,
        risk,
        [10.0, 100.0, 300.0],
        brier_times,
        s,
        taus=[200.0],
    )


def synthetic_small(rng):
    """Small hand-made data: tied times across events and censorings, risks
    closer than sksurv's 1e-8 tie tolerance (0.35, 0.35 + 6e-9, 0.35 + 1.2e-8
    is a chain of ties for the AUC but not one tie group for the concordance),
    uncensored train data (so the censoring survival is 1 everywhere)."""
    train = Surv.from_arrays(
        event=np.ones(12, dtype=bool),
        time=np.array([1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 9, 12], dtype=float),
    )
    test = Surv.from_arrays(
        event=np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 1], dtype=bool),
        time=np.array([2, 2, 3, 5, 5, 5, 7, 8, 9, 11], dtype=float),
    )
    risk = np.array([0.9, 0.35 + 6e-9, 0.7, 0.5, 0.5 + 5e-9, 0.5, 0.6, 0.35, 0.45, 0.35 + 1.2e-8])
    brier_times = np.array([3.0, 5.0, 8.0])
    s = np.clip(1.0 - risk[:, None] * brier_times[None, :] / 10.0, 0.0, 1.0)
    return case(
        "synthetic_uncensored_train",
        train,
        test,
        risk,
        [3.0, 5.0, 8.0],
        brier_times,
        s,
        taus=[6.0],
        risk_at_times=risk[:, None] * np.array([[1.0, 0.9, 1.1]]),
        digits=None,
    )


def synthetic_censored(rng):
    """Seeded exponential times with independent uniform censoring; the
    time-dependent risk is 1 - S at a few (arbitrary) horizons."""
    n = 400
    z = np.round(rng.normal(0.0, 1.0, n), 2)
    t = rng.exponential(50.0 * np.exp(-0.8 * z))
    c = rng.uniform(0.0, 150.0, n)
    time = np.ceil(np.minimum(t, c))
    event = t <= c
    y = Surv.from_arrays(event=event, time=time)
    train_idx, test_idx = split(y, rng, 0.5)
    zt = z[test_idx]
    brier_times = np.array([5.0, 10.0, 20.0, 40.0, 60.0, 80.0])
    s = np.exp(-brier_times[None, :] / (50.0 * np.exp(-0.8 * zt[:, None])))
    return case(
        "synthetic_censored_exponential",
        y[train_idx],
        y[test_idx],
        zt,
        [10.0, 25.0, 50.0, 75.0],
        brier_times,
        s,
        taus=[60.0, 100.0],
        risk_at_times=np.round(1.0 - s[:, [1, 2, 4, 5]], 4),
    )


def main():
    rng = np.random.default_rng(20261123)
    cases = [
        gbsg2_cox(rng),
        veterans_km(rng),
        veterans_same_data(),
        synthetic_small(rng),
        synthetic_censored(rng),
    ]
    write(
        "sksurv_metrics.json",
        {
            "versions": {**versions(), "scikit-survival": sksurv.__version__},
            "cases": cases,
        },
    )


if __name__ == "__main__":
    main()

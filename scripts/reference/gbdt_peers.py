"""Golden values for tenure-gbdt: LightGBM and XGBoost on one small, fixed
dataset with matched parameters.

Writes gbdt_data.csv (the data: x0..x4 with missing values, the labels of
each task, a `split` column: train or test) and gbdt_peers.json (test-set
AUC/log loss for binary, RMSE for regression, Tweedie deviance for Tweedie
(LightGBM), Harrell's C for Cox (XGBoost `survival:cox`), and the params).
"""

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

import json

from _common import HERE, clean

N_TRAIN, N_TEST, F = 4000, 2000, 5
ROUNDS, LEAVES, LR = 100, 15, 0.1


def harrell_c(time, event, risk):
    n_conc = n_tied = n_pairs = 0.0
    order = np.argsort(time, kind="stable")
    time, event, risk = time[order], event[order], risk[order]
    for i in range(len(time)):
        if not event[i]:
            continue
        later = time > time[i]
        n_pairs += later.sum()
        n_conc += (risk[i] > risk[later]).sum()
        n_tied += (risk[i] == risk[later]).sum()
    return (n_conc + 0.5 * n_tied) / n_pairs


def main():
    rng = np.random.default_rng(2026)
    n = N_TRAIN + N_TEST
    x = rng.uniform(-1, 1, size=(n, F))
    s = 1.5 * x[:, 0] - x[:, 1] + x[:, 0] * x[:, 2] + np.sin(3 * x[:, 3])
    x[rng.uniform(size=n) < 0.1, 1] = np.nan
    binary = (rng.uniform(size=n) < 1 / (1 + np.exp(-2 * s))).astype(float)
    regression = s + rng.normal(scale=0.5, size=n)
    spend = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-s)), np.exp(1 + 0.5 * s + rng.normal(scale=0.3, size=n)), 0.0)
    t_event = rng.exponential(1 / np.exp(s))
    t_cens = rng.exponential(1 / 0.3, size=n)
    time = np.minimum(t_event, t_cens)
    event = (t_event <= t_cens).astype(float)
    split = np.array(["train"] * N_TRAIN + ["test"] * N_TEST)

    header = [f"x{j}" for j in range(F)] + ["binary", "regression", "spend", "time", "event", "split"]
    with open(HERE / "gbdt_data.csv", "w") as fh:
        fh.write(",".join(header) + "\n")
        for i in range(n):
            vals = ["" if np.isnan(v) else repr(float(v)) for v in x[i]]
            vals += [repr(float(binary[i])), repr(float(regression[i])), repr(float(spend[i])),
                     repr(float(time[i])), repr(float(event[i])), split[i]]
            fh.write(",".join(vals) + "\n")

    tr, te = slice(0, N_TRAIN), slice(N_TRAIN, n)
    common = dict(num_leaves=LEAVES, learning_rate=LR, max_bin=255, min_data_in_leaf=20,
                  min_sum_hessian_in_leaf=1e-3, verbose=-1, num_threads=1, deterministic=True)

    def lgb_fit(objective, y, **extra):
        b = lgb.train(dict(common, objective=objective, **extra), lgb.Dataset(x[tr], y[tr]), ROUNDS)
        return b.predict(x[te])

    p = lgb_fit("binary", binary)
    out = {"params": {"num_iterations": ROUNDS, "num_leaves": LEAVES, "learning_rate": LR, "max_bin": 255,
                      "min_data_in_leaf": 20}}
    out["binary"] = {"auc": roc_auc_score(binary[te], p), "binary_logloss": log_loss(binary[te], p)}
    p = lgb_fit("regression", regression)
    out["regression"] = {"rmse": float(np.sqrt(mean_squared_error(regression[te], p)))}
    p = lgb_fit("tweedie", spend, tweedie_variance_power=1.5)
    rho = 1.5
    y = spend[te]
    dev = 2 * (np.power(y, 2 - rho) / ((1 - rho) * (2 - rho)) - y * np.power(p, 1 - rho) / (1 - rho) + np.power(p, 2 - rho) / (2 - rho))
    out["tweedie"] = {"tweedie_deviance": float(dev.mean())}
    dtrain = xgb.DMatrix(x[tr], label=np.where(event[tr] == 1, time[tr], -time[tr]))
    booster = xgb.train(dict(objective="survival:cox", tree_method="hist", grow_policy="lossguide", max_leaves=LEAVES,
                             max_depth=0, eta=LR, max_bin=255, min_child_weight=1e-3, nthread=1, seed=0),
                        dtrain, ROUNDS)
    risk = booster.predict(xgb.DMatrix(x[te]), output_margin=True)
    out["cox"] = {"cindex": harrell_c(time[te], event[te] == 1, risk)}
    out["versions"] = {"lightgbm": lgb.__version__, "xgboost": xgb.__version__, "numpy": np.__version__}
    out = {"generated_by": "scripts/reference/gbdt_peers.py", **out}
    (HERE / "gbdt_peers.json").write_text(json.dumps(clean(out), indent=1, allow_nan=False) + "\n")
    print("wrote gbdt_peers.json")


if __name__ == "__main__":
    main()

"""Side-by-side timings of tenure's classical models and their Python peers,
on the same data in the same run: Cox PH (lifelines) on synthetic rows x
covariates, BG/NBD (lifetimes) on the full CDNOW master log.

Run through scripts/bench/stats_vs_peers.sh, which builds tenure in release
and creates the reference venv. Prints one JSON object.

tenure's timings include reading the CSV from disk (it is run as the CLI);
the peers get their data already in memory, so the ratios favour the peers.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def timed(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def cox(tenure, rows, cols, repeat, workdir):
    from lifelines import CoxPHFitter

    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(rows, cols))
    beta = np.where(np.arange(cols) % 2 == 0, 0.3, -0.2)
    t = -np.log(rng.uniform(size=rows)) / np.exp(x @ beta) * 200
    c = rng.uniform(size=rows) * 400
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(cols)])
    df["days"] = np.ceil(np.minimum(t, c))
    df["event"] = (t <= c).astype(int)
    path = Path(workdir) / "cox.csv"
    df.to_csv(path, index=False)

    peer, fitted = timed(lambda: CoxPHFitter().fit(df, "days", "event"), repeat)
    ours, out = timed(
        lambda: subprocess.run(
            [tenure, "fit", str(path), "--model", "cox", "--duration", "days",
             "--event", "event", "--json"],
            check=True, capture_output=True, text=True,
        ).stdout,
        repeat,
    )
    ours_coef = json.loads(out)["coef"]
    max_diff = max(abs(ours_coef[k] - v) for k, v in fitted.params_.items())
    return {"rows": rows, "covariates": cols, "lifelines_s": peer, "tenure_s": ours,
            "speedup": peer / ours, "max_coef_diff": max_diff}


def bgnbd(tenure, master, repeat):
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    tx = pd.read_csv(master, parse_dates=["date"])
    summary = summary_data_from_transaction_data(
        tx, "customer_id", "date", observation_period_end="1998-06-30",
        freq="D", freq_multiplier=7)
    summary = summary[summary["T"] > 0]
    peer, fitted = timed(
        lambda: BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"]),
        repeat)
    ours, out = timed(
        lambda: subprocess.run(
            [tenure, "fit", str(master), "--model", "bgnbd", "--timestamp", "date",
             "--amount", "dollar_value", "--calibration-end", "1998-07-01",
             "--time-unit", "weeks", "--json"],
            check=True, capture_output=True, text=True,
        ).stdout,
        repeat,
    )
    p = json.loads(out)["params"]
    return {"customers": int(len(summary)), "lifetimes_s": peer, "tenure_s": ours,
            "speedup": peer / ours,
            "lifetimes_params": {k: float(v) for k, v in fitted.params_.items()},
            "tenure_params": p}


def main():
    tenure, master = sys.argv[1], sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    with tempfile.TemporaryDirectory() as work:
        result = {"cox": cox(tenure, rows, 20, repeat, work),
                  "bgnbd": bgnbd(tenure, master, repeat)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""tenure's booster vs LightGBM and XGBoost: same data, same params, same run.

Dense synthetic binary data (50 features, uniform in [-1, 1), a linear plus
interaction signal), matched parameters (255 bins, 255 leaves, learning rate
0.1, N rounds, no early stopping), the same thread count. Each library trains
in its own subprocess so that peak memory (max RSS) is its own. Train time
includes binning for all three (LightGBM's Dataset construction, XGBoost's
QuantileDMatrix, our binning inside `train_seconds`).

Usage: python gbdt_peers.py TENURE_BIN --rows 100000,1000000 [--rounds 500]
       [--threads 2] [--out results.json]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

F = 50


def make(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, F))
    w = (np.arange(10) - 4.5) / 3.0
    logit = x[:, :10] @ w + 2.0 * x[:, 10] * x[:, 11] + np.sin(3.0 * x[:, 12])
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    return x, y


def write_parquet(path, x, y=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {f"f{j}": x[:, j] for j in range(F)}
    if y is not None:
        cols["y"] = y
    pq.write_table(pa.table(cols), path)


def worker(lib, d, rounds, threads):
    """Runs in a subprocess: trains, predicts, writes predictions."""
    x = np.load(os.path.join(d, "train_x.npy"))
    y = np.load(os.path.join(d, "train_y.npy"))
    xt = np.load(os.path.join(d, "test_x.npy"))
    if lib == "lightgbm":
        import lightgbm as lgb

        params = dict(objective="binary", num_leaves=255, learning_rate=0.1, max_bin=255,
                      min_data_in_leaf=20, min_sum_hessian_in_leaf=1e-3, num_threads=threads,
                      verbose=-1, seed=0, deterministic=True)
        t0, c0 = time.perf_counter(), time.process_time()
        booster = lgb.train(params, lgb.Dataset(x, y, params={"max_bin": 255}), num_boost_round=rounds)
        train_s = time.perf_counter() - t0
        train_cpu_s = time.process_time() - c0
        t0 = time.perf_counter()
        pred = booster.predict(xt, num_threads=threads)
        predict_s = time.perf_counter() - t0
    elif lib in ("xgboost", "xgboost-cuda"):
        import xgboost as xgb

        params = dict(objective="binary:logistic", tree_method="hist", grow_policy="lossguide",
                      max_leaves=255, max_depth=0, eta=0.1, max_bin=255, min_child_weight=1e-3,
                      nthread=threads, seed=0)
        if lib == "xgboost-cuda":
            params["device"] = "cuda"
        t0, c0 = time.perf_counter(), time.process_time()
        dtrain = xgb.QuantileDMatrix(x, y, max_bin=255, nthread=threads)
        booster = xgb.train(params, dtrain, num_boost_round=rounds)
        train_s = time.perf_counter() - t0
        train_cpu_s = time.process_time() - c0
        t0 = time.perf_counter()
        pred = booster.predict(xgb.DMatrix(xt, nthread=threads))
        predict_s = time.perf_counter() - t0
    else:
        raise SystemExit(f"unknown library {lib}")
    np.save(os.path.join(d, f"pred_{lib}.npy"), pred)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"train_s": train_s, "train_cpu_s": train_cpu_s, "predict_s": predict_s,
                      "peak_mb": peak}))


def run_child(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return out.stdout, after / 1024.0 if after > before else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tenure", nargs="?")
    ap.add_argument("--rows", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--test-rows", type=int, default=200_000)
    ap.add_argument("--gpu", default="",
                    help="comma-separated tenure devices to add (cuda, wgpu); cuda also runs "
                         "XGBoost with device=cuda")
    ap.add_argument("--out")
    ap.add_argument("--worker")
    ap.add_argument("--dir")
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker, a.dir, a.rounds, a.threads)

    from sklearn.metrics import roc_auc_score

    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    results = []
    xt, yt = make(a.test_rows, 2)
    for n in [int(r) for r in a.rows.split(",")]:
        x, y = make(n, 1)
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "train_x.npy"), x)
            np.save(os.path.join(d, "train_y.npy"), y)
            np.save(os.path.join(d, "test_x.npy"), xt)
            write_parquet(os.path.join(d, "train.parquet"), x, y)
            write_parquet(os.path.join(d, "test.parquet"), xt)
            row = {"rows": n, "features": F, "rounds": a.rounds, "threads": a.threads}
            gpus = [g for g in a.gpu.split(",") if g]
            peers = ["lightgbm", "xgboost"] + (["xgboost-cuda"] if "cuda" in gpus else [])
            for lib in peers:
                out, _ = run_child([sys.executable, __file__, "--worker", lib, "--dir", d,
                                    "--rounds", str(a.rounds), "--threads", str(a.threads)], env)
                r = json.loads(out)
                r["auc"] = float(roc_auc_score(yt, np.load(os.path.join(d, f"pred_{lib}.npy"))))
                row[lib] = r
                print(f"  {n} rows {lib}: {r}", file=sys.stderr)
            for dev in ["cpu"] + gpus:
                key = "tenure" if dev == "cpu" else f"tenure-{dev}"
                cmd = [a.tenure, "fit", "--table", os.path.join(d, "train.parquet"), "--task",
                       "binary", "--model", "gbdt", "--label", "y", "--threads", str(a.threads),
                       "--device", dev,
                       "--param", f"num_iterations={a.rounds}", "--param", "num_leaves=255",
                       "--param", "learning_rate=0.1", "--param", "max_bin=255",
                       "--param", "min_data_in_leaf=20",
                       "--predict", os.path.join(d, "test.parquet"),
                       "--out", os.path.join(d, "pred.csv"), "--json"]
                out, _ = run_child(cmd, env)
                fit = json.loads(out)
                pred = np.loadtxt(os.path.join(d, "pred.csv"), skiprows=1)
                row[key] = {"train_s": fit["train_seconds"],
                            "train_cpu_s": fit.get("train_cpu_seconds"),
                            "predict_s": fit.get("predict_seconds"),
                            "auc": float(roc_auc_score(yt, pred)), "num_trees": fit["num_trees"],
                            "peak_mb": fit["peak_rss_mb"], "device": fit.get("device_name"),
                            "device_mb": (fit.get("device_bytes") or 0) / 2**20 or None,
                            "device_traffic": fit.get("device_traffic")}
                print(f"  {n} rows {key}: {row[key]}", file=sys.stderr)
            for dev in gpus:
                r = row[f"tenure-{dev}"]
                r["speedup_vs_tenure_cpu"] = row["tenure"]["train_s"] / r["train_s"]
                if "xgboost-cuda" in row:
                    r["ratio_train_vs_xgboost_cuda"] = r["train_s"] / row["xgboost-cuda"]["train_s"]
        row["ratio_train_vs_lightgbm"] = row["tenure"]["train_s"] / row["lightgbm"]["train_s"]
        row["ratio_train_cpu_vs_lightgbm"] = row["tenure"]["train_cpu_s"] / row["lightgbm"]["train_cpu_s"]
        results.append(row)

    print(f"{'rows':>9} {'library':>12} {'train s':>9} {'train CPU s':>11} {'predict s':>10} "
          f"{'peak MB':>9} {'test AUC':>9}")
    for row in results:
        libs = [k for k in row if isinstance(row[k], dict)]
        for lib in libs:
            r = row[lib]
            pk = r.get("peak_mb")
            ps = r.get("predict_s")
            print(f"{row['rows']:>9} {lib:>12} {r['train_s']:>9.2f} {r['train_cpu_s']:>11.2f} "
                  f"{(ps if ps is not None else float('nan')):>10.3f} "
                  f"{(pk if pk is not None else float('nan')):>9.0f} {r['auc']:>9.5f}")
        print(f"{'':>9} tenure/LightGBM train time: {row['ratio_train_vs_lightgbm']:.3f}x wall, "
              f"{row['ratio_train_cpu_vs_lightgbm']:.3f}x CPU, "
              f"AUC diff {row['tenure']['auc'] - row['lightgbm']['auc']:+.5f}")
        for lib in libs:
            r = row[lib]
            if "speedup_vs_tenure_cpu" in r:
                vs = r.get("ratio_train_vs_xgboost_cuda")
                print(f"{'':>9} {lib}: {r['speedup_vs_tenure_cpu']:.2f}x faster than tenure on "
                      f"the CPU" + (f", {vs:.2f}x XGBoost cuda's time" if vs else "")
                      + f", AUC diff vs CPU {r['auc'] - row['tenure']['auc']:+.5f}"
                      + f", {r['device_mb'] or 0:.0f} MiB on {r['device']}")
                t = r.get("device_traffic")
                if t:
                    rounds = max(t["rounds"], 1)
                    print(f"{'':>9} {lib}: moved {t['uploaded_at_start'] / 2**20:.1f} MiB up at "
                          f"start, then a round {t['uploaded_in_rounds'] / rounds / 2**20:.2f} MiB "
                          f"up and {t['read_back'] / rounds / 2**20:.2f} MiB back in "
                          f"{t['reads'] / rounds:.0f} reads")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()

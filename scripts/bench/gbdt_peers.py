"""tenure's booster vs LightGBM and XGBoost: same data, same params, same run.

Dense synthetic binary data (50 features, uniform in [-1, 1), a linear plus
interaction signal), matched parameters (255 bins, 255 leaves, learning rate
0.1, N rounds, no early stopping), the same thread count. Each library trains
in its own subprocess so that peak memory (max RSS) is its own. Train time
includes binning for all three (LightGBM's Dataset construction, XGBoost's
QuantileDMatrix, our binning inside `train_seconds`).

With `--objective cox` the labels are survival times instead: an exponential
event time of hazard exp(signal), censored by an exponential time of rate 1,
to a thousandth (tenure_gbdt::synthetic::survival's recipe); tenure's Cox
booster against XGBoost's `survival:cox` (LightGBM has no Cox objective),
scored by Harrell's C-index on the held-out rows.

Usage: python gbdt_peers.py TENURE_BIN --rows 100000,1000000 [--rounds 500]
       [--threads 2] [--objective binary|cox] [--out results.json]
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


def make(n, seed, objective="binary"):
    """Features and labels: `{"y": 0/1}`, or `{"time", "event"}` for Cox."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, F))
    w = (np.arange(10) - 4.5) / 3.0
    logit = x[:, :10] @ w + 2.0 * x[:, 10] * x[:, 11] + np.sin(3.0 * x[:, 12])
    if objective == "cox":
        t = rng.exponential(size=n) / np.exp(logit)
        c = rng.exponential(size=n)
        time_ = np.ceil(np.minimum(t, c) * 1000.0) / 1000.0
        return x, {"time": time_, "event": (t <= c).astype(np.float64)}
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    return x, {"y": y}


def write_parquet(path, x, labels=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {f"f{j}": x[:, j] for j in range(F)}
    cols.update(labels or {})
    pq.write_table(pa.table(cols), path)


def concordance(time_, event, risk):
    """Harrell's C: of the pairs whose earlier time is an event, the share
    the higher risk ranks first (ties in risk count a half), in
    O(n log n) with a Fenwick tree over risk ranks."""
    order = np.argsort(time_, kind="stable")
    t, e, r = time_[order], event[order] > 0, risk[order]
    ranks = np.searchsorted(np.unique(r), r) + 1
    size = int(ranks.max())
    tree = [0] * (size + 1)

    def add(i):
        while i <= size:
            tree[i] += 1
            i += i & -i

    def below(i):
        s = 0
        while i > 0:
            s += tree[i]
            i -= i & -i
        return s

    concordant = tied = pairs = 0.0
    later = 0
    # Walk times from the latest; `tree` holds the rows strictly later.
    i = len(t) - 1
    while i >= 0:
        k = i
        while k >= 0 and t[k] == t[i]:
            k -= 1
        for m in range(k + 1, i + 1):
            if e[m]:
                lo, le = below(ranks[m] - 1), below(ranks[m])
                concordant += lo
                tied += le - lo
                pairs += later
        for m in range(k + 1, i + 1):
            add(ranks[m])
            later += 1
        i = k
    return (concordant + 0.5 * tied) / pairs


def worker(lib, d, rounds, threads, objective):
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

        # Cox labels: the time, negated when censored.
        params = dict(objective="survival:cox" if objective == "cox" else "binary:logistic",
                      tree_method="hist", grow_policy="lossguide",
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
    ap.add_argument("--objective", choices=["binary", "cox"], default="binary")
    ap.add_argument("--out")
    ap.add_argument("--worker")
    ap.add_argument("--dir")
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker, a.dir, a.rounds, a.threads, a.objective)

    from sklearn.metrics import roc_auc_score

    cox = a.objective == "cox"
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    results = []
    xt, lt = make(a.test_rows, 2, a.objective)

    def score(pred):
        """Test AUC, or C-index (a higher prediction is a higher risk)."""
        if cox:
            return float(concordance(lt["time"], lt["event"], pred))
        return float(roc_auc_score(lt["y"], pred))

    metric = "C-index" if cox else "test AUC"
    for n in [int(r) for r in a.rows.split(",")]:
        x, labels = make(n, 1, a.objective)
        y = np.where(labels["event"] > 0, labels["time"], -labels["time"]) if cox else labels["y"]
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "train_x.npy"), x)
            np.save(os.path.join(d, "train_y.npy"), y)
            np.save(os.path.join(d, "test_x.npy"), xt)
            write_parquet(os.path.join(d, "train.parquet"), x, labels)
            write_parquet(os.path.join(d, "test.parquet"), xt)
            row = {"rows": n, "features": F, "rounds": a.rounds, "threads": a.threads,
                   "objective": a.objective}
            gpus = [g for g in a.gpu.split(",") if g]
            peers = ([] if cox else ["lightgbm"]) + ["xgboost"] + (
                ["xgboost-cuda"] if "cuda" in gpus else [])
            for lib in peers:
                out, _ = run_child([sys.executable, __file__, "--worker", lib, "--dir", d,
                                    "--rounds", str(a.rounds), "--threads", str(a.threads),
                                    "--objective", a.objective], env)
                r = json.loads(out)
                r["auc"] = score(np.load(os.path.join(d, f"pred_{lib}.npy")))
                row[lib] = r
                print(f"  {n} rows {lib}: {r}", file=sys.stderr)
            for dev in ["cpu"] + gpus:
                key = "tenure" if dev == "cpu" else f"tenure-{dev}"
                labels_args = (["--task", "survival", "--duration", "time", "--event", "event"]
                               if cox else ["--task", "binary", "--label", "y"])
                cmd = [a.tenure, "fit", "--table", os.path.join(d, "train.parquet"),
                       *labels_args, "--model", "gbdt", "--threads", str(a.threads),
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
                            "auc": score(pred), "num_trees": fit["num_trees"],
                            "peak_mb": fit["peak_rss_mb"], "device": fit.get("device_name"),
                            "device_mb": (fit.get("device_bytes") or 0) / 2**20 or None,
                            "device_traffic": fit.get("device_traffic")}
                print(f"  {n} rows {key}: {row[key]}", file=sys.stderr)
            for dev in gpus:
                r = row[f"tenure-{dev}"]
                r["speedup_vs_tenure_cpu"] = row["tenure"]["train_s"] / r["train_s"]
                if "xgboost-cuda" in row:
                    r["ratio_train_vs_xgboost_cuda"] = r["train_s"] / row["xgboost-cuda"]["train_s"]
        # The CPU peer: LightGBM, or XGBoost for Cox.
        peer = "xgboost" if cox else "lightgbm"
        row["peer"] = peer
        row["ratio_train_vs_peer"] = row["tenure"]["train_s"] / row[peer]["train_s"]
        row["ratio_train_cpu_vs_peer"] = row["tenure"]["train_cpu_s"] / row[peer]["train_cpu_s"]
        results.append(row)

    print(f"{'rows':>9} {'library':>12} {'train s':>9} {'train CPU s':>11} {'predict s':>10} "
          f"{'peak MB':>9} {metric:>9}")
    for row in results:
        libs = [k for k in row if isinstance(row[k], dict)]
        for lib in libs:
            r = row[lib]
            pk = r.get("peak_mb")
            ps = r.get("predict_s")
            print(f"{row['rows']:>9} {lib:>12} {r['train_s']:>9.2f} {r['train_cpu_s']:>11.2f} "
                  f"{(ps if ps is not None else float('nan')):>10.3f} "
                  f"{(pk if pk is not None else float('nan')):>9.0f} {r['auc']:>9.5f}")
        peer = row["peer"]
        print(f"{'':>9} tenure/{peer} train time: {row['ratio_train_vs_peer']:.3f}x wall, "
              f"{row['ratio_train_cpu_vs_peer']:.3f}x CPU, "
              f"{metric} diff {row['tenure']['auc'] - row[peer]['auc']:+.5f}")
        for lib in libs:
            r = row[lib]
            if "speedup_vs_tenure_cpu" in r:
                vs = r.get("ratio_train_vs_xgboost_cuda")
                print(f"{'':>9} {lib}: {r['speedup_vs_tenure_cpu']:.2f}x faster than tenure on "
                      f"the CPU" + (f", {vs:.2f}x XGBoost cuda's time" if vs else "")
                      + f", {metric} diff vs CPU {r['auc'] - row['tenure']['auc']:+.5f}"
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

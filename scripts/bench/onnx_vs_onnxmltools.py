"""One LightGBM model, two ONNX exports, one onnxruntime.

    python onnx_vs_onnxmltools.py prepare DIR
        trains LightGBM (binary, 500 trees, 255 leaves) on synthetic data with
        missing values; writes DIR/onnxmltools.onnx (onnxmltools, no ZipMap)
        and DIR/spec.json (the same trees as a tenure spec, for tenure's
        exporter) and DIR/model.txt.
    python onnx_vs_onnxmltools.py time DIR ROWS REPEAT
        scores ROWS fresh rows with both files in onnxruntime (1 thread, and
        the default thread count), best of REPEAT; checks both against
        LightGBM's own probabilities; prints JSON.
"""

import json
import os
import sys
import time

import numpy as np

FEATURES = 20
TREES = 500
LEAVES = 255


def data(rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype(np.float32)
    logit = x[:, 0] * 1.5 - x[:, 1] + np.sin(3 * x[:, 2]) + x[:, 3] * x[:, 4]
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x, y


def f32_floor(t):
    """The largest float32 <= t: then x <= t and x <= f32_floor(t) agree for
    every float32 x, so tenure's float32 thresholds route rows as LightGBM's
    double ones do."""
    big = float(np.finfo(np.float32).max)
    if t >= big:
        return big
    if t < -big:
        return -big
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def to_spec(booster):
    dump = booster.dump_model()
    trees = []
    for info in dump["tree_info"]:
        nodes = []

        def emit(n):
            ix = len(nodes)
            nodes.append(None)
            if "leaf_value" in n:
                nodes[ix] = {"leaf": {"value": n["leaf_value"]}}
                return ix
            assert n["decision_type"] == "<=", n["decision_type"]
            assert n["missing_type"] == "NaN", n["missing_type"]
            left = emit(n["left_child"])
            right = emit(n["right_child"])
            nodes[ix] = {
                "split": {
                    "feature": n["split_feature"],
                    "condition": {"le": {"threshold": f32_floor(n["threshold"])}},
                    "missing_left": n["default_left"],
                    "left": left,
                    "right": right,
                }
            }
            return ix

        emit(info["tree_structure"])
        trees.append({"nodes": nodes})
    names = [f"x{j}" for j in range(FEATURES)]
    return {
        "format": "tenure.spec/1",
        "info": {
            "name": "lightgbm_bench",
            "kind": "lightgbm",
            "version": "1",
            "task": "churn",
            "horizon_days": None,
            "training_rows": 100_000,
            "training_fingerprint": "bench",
            "tenure_version": "bench",
            "run_id": None,
        },
        "model": {
            "type": "tree_ensemble",
            "feature_names": names,
            "categorical": [],
            "base_score": 0.0,
            "link": "sigmoid",
            "trees": trees,
        },
    }


def train(out):
    import lightgbm as lgb

    x, y = data(100_000, 1)
    params = {
        "objective": "binary",
        "num_leaves": LEAVES,
        "min_data_in_leaf": 20,
        "learning_rate": 0.05,
        "verbose": -1,
        "num_threads": os.cpu_count(),
    }
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=TREES)
    booster.save_model(f"{out}/model.txt")
    return booster


def prepare(out):
    import lightgbm as lgb
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    # A model from an earlier run in the same directory is reused.
    if os.path.exists(f"{out}/model.txt"):
        booster = lgb.Booster(model_file=f"{out}/model.txt")
    else:
        booster = train(out)
    onx = onnxmltools.convert_lightgbm(
        booster,
        initial_types=[("features", FloatTensorType([None, FEATURES]))],
        zipmap=False,
        # The highest default-domain opset this onnxmltools supports.
        target_opset=15,
    )
    with open(f"{out}/onnxmltools.onnx", "wb") as f:
        f.write(onx.SerializeToString())
    with open(f"{out}/spec.json", "w") as f:
        json.dump(to_spec(booster), f)


def best_of(session, x, repeat):
    session.run(None, {"features": x[:1000]})
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = session.run(None, {"features": x})
        times.append(time.perf_counter() - t0)
    return min(times), out


def timing(out, rows, repeat):
    import lightgbm as lgb
    import onnx
    import onnxruntime as ort

    x, _ = data(rows, 2)
    want = lgb.Booster(model_file=f"{out}/model.txt").predict(x)
    result = {
        "rows": rows,
        "repeat": repeat,
        "trees": TREES,
        "leaves": LEAVES,
        "onnxruntime": ort.__version__,
        "note": "best of REPEAT; machine shared with other jobs, compare the ratios",
    }
    for name, prob in [("onnxmltools", lambda o: o[1][:, 1]), ("tenure", lambda o: o[0][:, 0])]:
        path = f"{out}/{name}.onnx"
        onnx.checker.check_model(onnx.load(path), full_check=True)
        entry = {"bytes": os.path.getsize(path)}
        for threads in [1, 0]:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            s = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
            seconds, o = best_of(s, x, repeat)
            key = "threads_1" if threads == 1 else "threads_default"
            entry[key] = {"seconds": seconds, "rows_per_second": rows / seconds}
        entry["max_abs_diff_vs_lightgbm"] = float(np.max(np.abs(prob(o) - want)))
        result[name] = entry
    for key in ["threads_1", "threads_default"]:
        result[f"speed_ratio_{key}"] = (
            result["tenure"][key]["rows_per_second"]
            / result["onnxmltools"][key]["rows_per_second"]
        )
    result["size_ratio"] = result["tenure"]["bytes"] / result["onnxmltools"]["bytes"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    else:
        timing(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))

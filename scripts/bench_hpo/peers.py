"""Optuna's samplers and ours on the same test functions, side by side.

Usage: peers.py TENURE_BIN [--trials 60] [--seeds 10] [--overhead-trials 200]
       [--functions branin,hartmann6,...] [--out last.json]

For each function and sampler: the median over seeds 0..K-1 of the best
value after N/3, 2N/3 and N trials. Ours come from `tenure bench hpo
--json`; Optuna's from the same function definitions below. Sampler
overhead: the mean time to propose a trial among trials 191-200 of one
200-trial run (Optuna: `study.ask`; ours: the sampler call, as
`tenure bench hpo` reports on stderr).
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(x):
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s


def goldstein_price(v):
    x, y = v
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y)
    return a * b


ALPHA = [1.0, 1.2, 3.0, 3.2]
A3 = [[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]]
P3 = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]
A6 = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
P6 = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def hartmann(a, p):
    def f(x):
        return -sum(
            ALPHA[i] * math.exp(-sum(a[i][j] * (x[j] - p[i][j]) ** 2 for j in range(len(x))))
            for i in range(4)
        )

    return f


FUNCTIONS = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)]),
    "goldstein_price": (goldstein_price, [(-2.0, 2.0), (-2.0, 2.0)]),
    "hartmann3": (hartmann(A3, P3), [(0.0, 1.0)] * 3),
    "hartmann6": (hartmann(A6, P6), [(0.0, 1.0)] * 6),
}

OPTUNA_SAMPLERS = {
    # Optuna 5's default: multivariate TPE with the constant liar.
    "optuna-tpe (default)": lambda seed: optuna.samplers.TPESampler(seed=seed),
    # The default before v5: one Parzen estimator per parameter.
    "optuna-tpe (independent)": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=False),
    "optuna-random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


def checkpoints(n):
    out = []
    for k in (1, 2, 3):
        c = max(1, round(n * k / 3))
        if c not in out:
            out.append(c)
    return out


def run_optuna(make, fn, bounds, trials, seed):
    study = optuna.create_study(sampler=make(seed))
    best, curve, ask_ms = math.inf, [], []
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        x = [trial.suggest_float(f"x{i + 1}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
        ask_ms.append((time.perf_counter() - t0) * 1e3)
        v = fn(x)
        study.tell(trial, v)
        best = min(best, v)
        curve.append(best)
    return curve, ask_ms


def ours(tenure, function, sampler, trials, seeds):
    out = subprocess.run(
        [tenure, "bench", "hpo", "--function", function, "--sampler", sampler,
         "--trials", str(trials), "--seeds", str(seeds), "--json"],
        check=True, capture_output=True, text=True,
    )
    result = json.loads(out.stdout)
    # stderr: "sampler time per trial: mean X ms, trials N-9..N: Y ms"
    tail_ms = None
    for line in out.stderr.splitlines():
        if "last 10 trials" in line:
            tail_ms = float(line.rsplit(":", 1)[1].split()[0])
    return result, tail_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tenure")
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--overhead-trials", type=int, default=200)
    ap.add_argument("--functions", default="branin,hartmann6,goldstein_price,hartmann3")
    ap.add_argument("--samplers", default="auto,tpe,gp,random")
    ap.add_argument("--out")
    args = ap.parse_args()
    cps = checkpoints(args.trials)
    rows = []
    for fname in args.functions.split(","):
        fn, bounds = FUNCTIONS[fname]
        for name, make in OPTUNA_SAMPLERS.items():
            curves = [run_optuna(make, fn, bounds, args.trials, s)[0] for s in range(args.seeds)]
            med = {str(c): statistics.median(curve[c - 1] for curve in curves) for c in cps}
            rows.append({"function": fname, "sampler": name, "median_best": med})
        for s in args.samplers.split(","):
            result, _ = ours(args.tenure, fname, s, args.trials, args.seeds)
            rows.append({"function": fname, "sampler": f"tenure-{s}", "median_best": result["median_best"]})
    overhead = []
    n = args.overhead_trials
    fn, bounds = FUNCTIONS["hartmann6"]
    for name, make in OPTUNA_SAMPLERS.items():
        _, ask_ms = run_optuna(make, fn, bounds, n, 0)
        overhead.append({"sampler": name, "ms_last_10": statistics.mean(ask_ms[-10:])})
    for s in args.samplers.split(","):
        _, tail = ours(args.tenure, "hartmann6", s, n, 1)
        overhead.append({"sampler": f"tenure-{s}", "ms_last_10": tail})

    print(f"median best over {args.seeds} seeds (lower is better), optuna {optuna.__version__}")
    header = f"{'function':<16} {'sampler':<26}" + "".join(f"{'@' + str(c):>12}" for c in cps)
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['function']:<16} {r['sampler']:<26}"
              + "".join(f"{r['median_best'][str(c)]:>12.5f}" for c in cps))
    print()
    print(f"sampler time per trial, trials {n - 9}..{n} on hartmann6 (one run)")
    for o in overhead:
        print(f"  {o['sampler']:<26} {o['ms_last_10']:>9.2f} ms")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"optuna": optuna.__version__, "trials": args.trials, "seeds": args.seeds,
                       "rows": rows, "overhead_ms": overhead}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())

"""Golden values for tenure-stats' BG/NBD and Gamma-Gamma models, from lifetimes.

Cases:
- `synthetic`: 600 customers simulated from a BG/NBD (r=0.5, alpha=6, a=0.7,
  b=2.5, ages 5..52 weeks) with Gamma-Gamma spend (p=5, q=3, gamma=12); the
  summary is stored, so the Rust test needs neither numpy nor shared data.
  Fitted with penalizer 0 and 0.05.
- `cdnow`: the CDNOW sample summary (../../shared/datasets/cdnow/
  cdnow_summary.csv, not copied here: the Rust test reads it, or skips).

Per fit: lifetimes' parameters, standard errors and the full (summed)
log-likelihood, and the true minimum of lifetimes' objective with the
standard errors there (`optimum`: with a penalty lifetimes' BFGS stops early,
far from it); predictions AT lifetimes' parameters for a few customers:
`conditional_expected_number_of_purchases_up_to_time`,
`conditional_probability_alive`, `expected_number_of_purchases_up_to_time`,
`conditional_expected_average_profit` and `customer_lifetime_value`
(freq="W", i.e. 4.345 weeks a month).
"""

from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
from autograd import hessian
from lifetimes import BetaGeoFitter, GammaGammaFitter
from scipy.optimize import minimize

from _common import HERE, write

CDNOW = HERE / "../../../shared/datasets/cdnow/cdnow_summary.csv"


def simulate(seed, n):
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.5, 6.0, 0.7, 2.5
    p, q, gamma = 5.0, 3.0, 12.0
    T = rng.integers(5, 53, size=n).astype(float)
    freq, rec, mon = [], [], []
    for i in range(n):
        lam = rng.gamma(r, 1.0 / alpha)
        drop = rng.beta(a, b)
        t, times = 0.0, []
        while True:
            t += rng.exponential(1.0 / lam)
            if t > T[i]:
                break
            times.append(t)
            if rng.random() < drop:
                break
        # Rounded to 2 decimals like published summaries.
        freq.append(float(len(times)))
        rec.append(round(times[-1], 2) if times else 0.0)
        if times:
            nu = rng.gamma(q, 1.0 / gamma)
            mon.append(round(float(np.mean(rng.gamma(p, 1.0 / nu, size=len(times)))), 2))
        else:
            mon.append(0.0)
    return np.array(freq), np.minimum(np.array(rec), T), T, np.array(mon)


def optimum(fitter, args, log_start):
    """The minimum of lifetimes' own objective, polished by Nelder-Mead from
    lifetimes' solution and from all-ones (lifetimes' BFGS can stop far from
    it with a penalty), and lifetimes' standard errors evaluated there."""
    nll = lambda lp: fitter._negative_log_likelihood(lp, *args)
    best = None
    for x0 in (log_start, np.zeros(len(log_start))):
        out = minimize(nll, x0, method="Nelder-Mead",
                       options=dict(xatol=1e-10, fatol=1e-13, maxiter=50000, maxfev=100000))
        if best is None or out.fun < best.fun:
            best = out
    params = np.exp(best.x)
    n = len(args[0])
    cov = params[:, None] * params[None, :] * np.linalg.inv(hessian(nll)(best.x)) / n
    return {"params": params, "standard_errors": np.sqrt(np.diag(cov))}


def fit_case(name, freq, rec, T, mon, penalizer, store_inputs):
    bg = BetaGeoFitter(penalizer_coef=penalizer).fit(freq, rec, T)
    params = bg.params_[["r", "alpha", "a", "b"]].to_numpy()
    ll = -len(freq) * bg._negative_log_likelihood(
        np.log(params), freq, rec, T, np.ones(len(freq)), 0.0
    )
    bg_opt = optimum(BetaGeoFitter, (freq, rec, T, np.ones(len(freq)), penalizer), np.log(params))
    repeat = freq > 0
    gg = GammaGammaFitter(penalizer_coef=penalizer).fit(freq[repeat], mon[repeat])
    gg_params = gg.params_[["p", "q", "v"]].to_numpy()
    gg_ll = -repeat.sum() * gg._negative_log_likelihood(
        np.log(gg_params), freq[repeat], mon[repeat], np.ones(repeat.sum()), 0.0
    )

    gg_opt = optimum(
        GammaGammaFitter,
        (freq[repeat], mon[repeat], np.ones(repeat.sum()), penalizer),
        np.log(gg_params),
    )

    # A spread of customers: none, few and many repeat purchases, recent and lapsed.
    order = np.lexsort((rec, freq))
    picks = np.unique(np.linspace(0, len(freq) - 1, 12).astype(int))
    idx = order[picks]
    x, tx, tt, m = freq[idx], rec[idx], T[idx], mon[idx]
    horizons = np.array([1.0, 10.0, 39.0, 52.0, 520.0])
    expected = np.array(
        [bg.conditional_expected_number_of_purchases_up_to_time(h, x, tx, tt) for h in horizons]
    )
    clv = gg.customer_lifetime_value(
        bg, pd.Series(x), pd.Series(tx), pd.Series(tt), pd.Series(m),
        time=12, discount_rate=0.01, freq="W",
    ).to_numpy()
    case = {
        "name": name,
        "penalizer": penalizer,
        "bgnbd": {
            "params": params,
            "standard_errors": bg.standard_errors_[["r", "alpha", "a", "b"]].to_numpy(),
            "log_likelihood": ll,
            "optimum": bg_opt,
        },
        "gamma_gamma": {
            "params": gg_params,
            "standard_errors": gg.standard_errors_[["p", "q", "v"]].to_numpy(),
            "log_likelihood": gg_ll,
            "optimum": gg_opt,
        },
        "customers": {
            "frequency": x,
            "recency": tx,
            "T": tt,
            "monetary_value": m,
            "horizons": horizons,
            "expected_purchases": expected,
            "probability_alive": bg.conditional_probability_alive(x, tx, tt),
            "expected_average_spend": gg.conditional_expected_average_profit(
                pd.Series(x), pd.Series(m)
            ).to_numpy(),
            "clv_12_months_1pct": clv,
        },
        "new_customer": {
            "t": horizons,
            "expected_purchases": bg.expected_number_of_purchases_up_to_time(horizons),
        },
    }
    if store_inputs:
        case["inputs"] = {"frequency": freq, "recency": rec, "T": T, "monetary_value": mon}
    return case


def main():
    freq, rec, T, mon = simulate(20240611, 600)
    cases = [
        fit_case("synthetic", freq, rec, T, mon, 0.0, True),
        fit_case("synthetic_penalised", freq, rec, T, mon, 0.05, True),
    ]
    if CDNOW.exists():
        d = pd.read_csv(CDNOW)
        cases.append(
            fit_case(
                "cdnow",
                d["frequency"].to_numpy(float),
                d["recency"].to_numpy(float),
                d["T"].to_numpy(float),
                d["monetary_value"].to_numpy(float),
                0.0,
                False,
            )
        )
    write(
        "lifetimes_bgnbd.json",
        {"lifetimes": lifetimes.__version__, "pandas": pd.__version__, "cases": cases},
    )


if __name__ == "__main__":
    main()

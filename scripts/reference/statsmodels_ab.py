"""Golden values for tenure-metrics' A/B-test statistics and `tenure ab`.

Each case is a table of one row per unit (treatment 0/1, outcome, optionally
a pre-period covariate) with what `tenure ab --json` must print for it:

- srm: scipy.stats.chisquare([n_t, n_c], f_exp=N * [s, 1 - s]);
- ate, continuous outcome: statsmodels ttest_ind(usevar='unequal') for the
  p-value, CompareMeans.tconfint_diff(usevar='unequal') for the interval;
- ate, binary outcome: proportions_ztest (pooled) for the p-value,
  confint_proportions_2indep(method='wald', compare='diff') for the interval;
- cuped: theta = cov(x, y) / var(x) on the pooled data, then Welch as above
  on y - theta (x - mean x); variance reduction 1 - se_cuped^2 / se_raw^2
  with CompareMeans.std_meandiff_separatevar;
- power: the root of NormalIndPower.power = 0.8 (brentq to 1e-15; also
  solve_power's own answer, which stops about 1e-6 short) for the minimum
  detectable effect (in
  Welch standard errors for continuous outcomes, Cohen's h around the
  control rate for binary ones) and NormalIndPower.power at the observed
  effect;
- lift: the delta-method formula (no peer computes it; written out here).

Treatment is written as 0/1, the other columns as floats.
"""

import numpy as np
import scipy
import statsmodels
from scipy.optimize import brentq
from scipy.stats import chisquare, norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from _common import write

ALPHA = 0.05
POWER = 0.8


def solve_effect_size(nobs1, ratio, alpha, power):
    """NormalIndPower.solve_power for the effect size, and the exact root of
    NormalIndPower.power = power (solve_power stops about 1e-6 short)."""
    approx = NormalIndPower().solve_power(
        effect_size=None, nobs1=nobs1, alpha=alpha, power=power, ratio=ratio
    )
    exact = brentq(
        lambda e: NormalIndPower().power(e, nobs1=nobs1, alpha=alpha, ratio=ratio) - power,
        approx / 2,
        approx * 2,
        xtol=1e-15,
        rtol=1e-15,
    )
    return approx, exact


def welch(yt, yc):
    t, p, df = ttest_ind(yt, yc, usevar="unequal")
    cm = CompareMeans(DescrStatsW(yt), DescrStatsW(yc))
    lo, hi = cm.tconfint_diff(alpha=ALPHA, usevar="unequal")
    return {
        "estimate": yt.mean() - yc.mean(),
        "std_error": cm.std_meandiff_separatevar,
        "ci_low": lo,
        "ci_high": hi,
        "statistic": t,
        "p": p,
        "df": df,
    }


def proportions(yt, yc):
    ct, cc, nt, nc = yt.sum(), yc.sum(), len(yt), len(yc)
    z, p = proportions_ztest([ct, cc], [nt, nc])
    lo, hi = confint_proportions_2indep(ct, nt, cc, nc, method="wald", compare="diff", alpha=ALPHA)
    pt, pc = ct / nt, cc / nc
    return {
        "estimate": pt - pc,
        "std_error": np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc),
        "ci_low": lo,
        "ci_high": hi,
        "statistic": z,
        "p": p,
        "df": None,
    }


def ab_case(name, treatment, y, x=None, expected_split=0.5):
    treatment = np.asarray(treatment, dtype=int)
    y = np.asarray(y, dtype=float)
    yt, yc = y[treatment == 1], y[treatment == 0]
    nt, nc = len(yt), len(yc)
    n = nt + nc
    chi2, p_srm = chisquare([nt, nc], f_exp=[n * expected_split, n * (1 - expected_split)])
    binary = bool(np.all((y == 0) | (y == 1)))
    ate = proportions(yt, yc) if binary else welch(yt, yc)

    ratio = nc / nt
    se_raw = CompareMeans(DescrStatsW(yt), DescrStatsW(yc)).std_meandiff_separatevar
    d_solve_power, d = solve_effect_size(nt, ratio, ALPHA, POWER)
    pc = yc.mean()
    def mde_of(d):
        if binary:
            return np.sin(np.arcsin(np.sqrt(pc)) + d / 2) ** 2 - pc
        # d is in units of sigma with var(diff) = sigma^2 (1/nt + 1/nc):
        # in Welch standard errors it is d / sqrt(1/nt + 1/nc).
        return d * se_raw / np.sqrt(1 / nt + 1 / nc)

    mde = mde_of(d)
    if binary:
        observed = abs(proportion_effectsize(yt.mean(), pc))
    else:
        observed = abs(yt.mean() - pc) / se_raw * np.sqrt(1 / nt + 1 / nc)
    power = {
        "alpha": ALPHA,
        "power": POWER,
        "mde": mde,
        "mde_relative": mde / pc,
        "mde_solve_power": mde_of(d_solve_power),
        "observed_power": NormalIndPower().power(observed, nobs1=nt, alpha=ALPHA, ratio=ratio),
    }

    vt, vc = yt.var(ddof=1) / nt, yc.var(ddof=1) / nc
    lift_var = vt / pc**2 + yt.mean() ** 2 * vc / pc**4
    lift = (yt.mean() - pc) / pc
    half = norm.ppf(1 - ALPHA / 2) * np.sqrt(lift_var)

    expected = {
        "outcome_kind": "binary" if binary else "continuous",
        "n_treatment": nt,
        "n_control": nc,
        "srm": {"chi2": chi2, "p": p_srm, "mismatch": bool(p_srm < 0.001)},
        "ate": ate,
        "lift": {"estimate": lift, "ci_low": lift - half, "ci_high": lift + half},
        "power": power,
        "cuped": None,
    }
    if x is not None:
        x = np.asarray(x, dtype=float)
        theta = np.cov(x, y)[0, 1] / np.var(x, ddof=1)
        adj = y - theta * (x - x.mean())
        at, ac = adj[treatment == 1], adj[treatment == 0]
        w = welch(at, ac)
        expected["cuped"] = {
            "theta": theta,
            "estimate": w["estimate"],
            "std_error": w["std_error"],
            "ci_low": w["ci_low"],
            "ci_high": w["ci_high"],
            "p": w["p"],
            "variance_reduction": 1 - w["std_error"] ** 2 / se_raw**2,
        }
    return {
        "name": name,
        "expected_split": expected_split,
        "treatment": treatment,
        "outcome": y,
        "covariate": x,
        "expected": expected,
    }


def power_cases():
    out = []
    for effect, nobs1, ratio, alpha in [
        (0.1, 500, 1.0, 0.05),
        (0.05, 2000, 1.5, 0.05),
        (0.3, 40, 0.5, 0.01),
        (0.02, 10000, 1.0, 0.1),
    ]:
        out.append(
            {
                "effect_size": effect,
                "nobs1": nobs1,
                "ratio": ratio,
                "alpha": alpha,
                "power": NormalIndPower().power(effect, nobs1=nobs1, alpha=alpha, ratio=ratio),
            }
        )
    solves = []
    for nobs1, ratio, alpha, power in [
        (500, 1.0, 0.05, 0.8),
        (1234, 0.8, 0.05, 0.9),
        (60, 2.0, 0.01, 0.5),
    ]:
        approx, exact = solve_effect_size(nobs1, ratio, alpha, power)
        solves.append(
            {
                "nobs1": nobs1,
                "ratio": ratio,
                "alpha": alpha,
                "power": power,
                "effect_size": approx,
                "effect_size_exact": exact,
            }
        )
    cohen = [
        {"p1": p1, "p2": p2, "h": proportion_effectsize(p1, p2)}
        for p1, p2 in [(0.12, 0.1), (0.5, 0.55), (0.01, 0.3)]
    ]
    return {"power": out, "solve": solves, "cohen_h": cohen}


def main():
    rng = np.random.default_rng(20240611)
    cases = []

    # Revenue per user with a pre-period covariate correlated with it.
    n = 2000
    treatment = (rng.random(n) < 0.5).astype(int)
    x = np.round(rng.gamma(2.0, 25.0, n), 2)
    y = np.round(10 + 0.8 * x + 2.5 * treatment + rng.normal(0, 20, n), 2)
    cases.append(ab_case("continuous_cuped", treatment, y, x))

    # Conversion with the number of pre-period conversions as the covariate.
    n = 6000
    treatment = (rng.random(n) < 0.5).astype(int)
    x = rng.poisson(1.2, n).astype(float)
    logit = -2.4 + 0.5 * x + 0.15 * treatment
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    cases.append(ab_case("binary_cuped", treatment, y, x))

    # A broken split: 53/47 where 50/50 was planned.
    treatment = np.r_[np.ones(2650, dtype=int), np.zeros(2350, dtype=int)]
    rng.shuffle(treatment)
    y = (rng.random(len(treatment)) < 0.2 + 0.01 * treatment).astype(float)
    cases.append(ab_case("srm_mismatch", treatment, y))

    # A planned 20/80 split and small groups (small Welch df).
    n = 60
    treatment = (rng.random(n) < 0.2).astype(int)
    y = np.round(rng.lognormal(3.0, 0.6, n) * (1 + 0.2 * treatment), 3)
    cases.append(ab_case("small_unbalanced", treatment, y, expected_split=0.2))

    write(
        "statsmodels_ab.json",
        {
            "versions": {
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "statsmodels": statsmodels.__version__,
            },
            "alpha": ALPHA,
            "target_power": POWER,
            "cases": cases,
            "normal_power": power_cases(),
        },
    )


if __name__ == "__main__":
    main()

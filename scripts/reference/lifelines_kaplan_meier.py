"""Golden values for tenure-stats' Kaplan-Meier estimator, from lifelines.

For each case the script records lifelines' event table (rows where at least
one event happened), its survival function at every time in its timeline
(event and censoring times, plus 0) and its median survival time (null when
the curve never reaches 0.5); for unweighted cases also its 95% exponential
Greenwood confidence interval at the event times (with weights lifelines
truncates the numbers at risk to integers there). `log_rank` cases record
lifelines' `multivariate_logrank_test` (and `logrank_test` for two groups) on
the Waltons dataset lifelines ships and on seeded three-group data; group
labels are written as integers in lifelines' (sorted) group order.
"""

import warnings

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_waltons
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.exceptions import StatisticalWarning

from _common import write


def km_case(name, time, event, weights=None):
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    kmf = KaplanMeierFitter().fit(time, event_observed=event, weights=weights)
    table = kmf.event_table
    with_events = table[table["observed"] > 0]
    sf = kmf.survival_function_["KM_estimate"]
    ci = kmf.confidence_interval_.loc[with_events.index] if weights is None else None
    return {
        "name": name,
        "time": time,
        "event": event,
        "weights": weights,
        "event_times": with_events.index.to_numpy(),
        "at_risk": with_events["at_risk"].to_numpy(dtype=float),
        "events": with_events["observed"].to_numpy(dtype=float),
        "timeline": sf.index.to_numpy(),
        "survival": sf.to_numpy(),
        "median": kmf.median_survival_time_,
        "ci_lower_95": None if ci is None else ci.iloc[:, 0].to_numpy(),
        "ci_upper_95": None if ci is None else ci.iloc[:, 1].to_numpy(),
    }


def log_rank_case(name, time, event, groups):
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    labels = sorted(set(groups))
    codes = np.array([labels.index(g) for g in groups])
    res = multivariate_logrank_test(time, codes, event)
    out = {
        "name": name,
        "time": time,
        "event": event,
        "groups": codes,
        "statistic": res.test_statistic,
        "df": res.degrees_of_freedom,
        "p_value": res.p_value,
    }
    if len(labels) == 2:
        a, b = codes == 0, codes == 1
        two = logrank_test(time[a], time[b], event[a], event[b])
        out["two_sample_statistic"] = two.test_statistic
        out["two_sample_p_value"] = two.p_value
    return out


def main():
    # Non-integer weights only make lifelines warn about its variance estimates,
    # which are not recorded here.
    warnings.simplefilter("ignore", StatisticalWarning)
    rng = np.random.default_rng(11)
    cases = []
    cases.append(
        km_case(
            "small_ties_and_censoring",
            [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35],
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        )
    )
    n = 400
    time = np.ceil(rng.weibull(1.3, n) * 90.0)
    censor = np.ceil(rng.uniform(10.0, 200.0, n))
    event = time <= censor
    cases.append(km_case("random_integer_times", np.minimum(time, censor), event))
    n = 150
    time = np.round(rng.exponential(25.0, n), 2)
    event = rng.random(n) < 0.6
    # Multiples of 1/8 sum exactly in floating point. With weights such as
    # 0.01 steps lifelines, which subtracts cumulative sums, can find fewer at
    # risk than dying at the last time (0.85999... < 0.86) and keeps S > 0
    # where the true value is 0.
    weights = np.round(rng.uniform(0.5, 2.0, n) * 8.0) / 8.0
    cases.append(km_case("weighted", time, event, weights=weights))
    waltons = load_waltons()
    log_rank = [
        log_rank_case("waltons", waltons["T"], waltons["E"], list(waltons["group"])),
    ]
    n = 300
    groups = rng.integers(0, 3, n)
    time = np.ceil(rng.exponential(30.0, n) * (1.0 + 0.3 * groups))
    event = rng.random(n) < 0.7
    log_rank.append(log_rank_case("three_groups", time, event, list(groups)))
    write("lifelines_kaplan_meier.json", {"cases": cases, "log_rank": log_rank})


if __name__ == "__main__":
    main()

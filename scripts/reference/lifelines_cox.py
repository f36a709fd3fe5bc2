"""Golden values for tenure-stats' Cox proportional hazards model.

The data is the Rossi recidivism study shipped with lifelines
(`load_rossi()`: 432 released prisoners, weeks to re-arrest); its rows are
written into the JSON so the Rust tests need no Python.

Efron cases come from lifelines' `CoxPHFitter` (its only tie method):
unpenalised, `penalizer=0.1` (with `l1_ratio=0`, lifelines subtracts
`n * penalizer / 2 * ||beta_std||^2`, beta_std the coefficients of the
covariates divided by their sample standard deviation) and stratified on
`wexp`. lifelines has no Breslow option, so the Breslow case records
scikit-survival's `CoxPHSurvivalAnalysis(ties="breslow", alpha=0)`
coefficients.

Survival probabilities are read at training durations only: between them
lifelines interpolates its baseline linearly, tenure keeps the step function.
The proportional-hazards tests use `time_transform="rank"`.
"""

import numpy as np
import pandas as pd
import sksurv
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from lifelines.statistics import proportional_hazard_test
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.util import Surv

from _common import write

TIMES = [1.0, 8.0, 20.0, 35.0, 49.0, 52.0]
ROWS = [0, 1, 2, 3, 7, 100]


def pooled_rank(durations, events, weights):
    """The rank of each event time among all events, strata pooled.

    lifelines' own "rank" transform is `cumsum(events)` in its internal row
    order, which with strata runs stratum by stratum: ranks restart their
    time order in every stratum. tenure ranks the events by time across
    strata (ties: lower stratum first, then row order), as the unstratified
    transform does. This callable gives lifelines that ranking, so the
    stratified golden tests tenure's residuals and statistic under the same
    time transform; without strata it equals lifelines' "rank".
    """
    t = np.asarray(durations, dtype=float)
    c = np.asarray(events, dtype=bool)
    order = np.argsort(t, kind="stable")
    deaths = order[c[order]]
    rank = np.zeros(len(t))
    rank[deaths] = np.arange(1, len(deaths) + 1)
    return pd.Series(rank, index=durations.index)


def lifelines_case(name, df, covariates, penalizer=0.0, strata=None, ph_test="rank"):
    cph = CoxPHFitter(penalizer=penalizer)
    # lifelines' default stopping rule (relative change in log-likelihood
    # < 1e-9) leaves penalised fits ~1e-5 from the optimum: tighten it so the
    # golden values are the optimum itself.
    cph.fit(
        df,
        duration_col="week",
        event_col="arrest",
        strata=strata,
        fit_options={"precision": 1e-12, "r_precision": 1e-15},
    )
    s = cph.summary
    lr = cph.log_likelihood_ratio_test()
    out = {
        "name": name,
        "ties": "efron",
        "l2": penalizer,
        "strata": strata or [],
        "feature_names": list(s.index),
        "coefficients": s["coef"].to_numpy(),
        "standard_errors": s["se(coef)"].to_numpy(),
        "hazard_ratio_lower_95": s["exp(coef) lower 95%"].to_numpy(),
        "hazard_ratio_upper_95": s["exp(coef) upper 95%"].to_numpy(),
        "z": s["z"].to_numpy(),
        "p_values": s["p"].to_numpy(),
        "log_likelihood": cph.log_likelihood_,
        "null_log_likelihood": cph._ll_null_,
        "lr_statistic": lr.test_statistic,
        "lr_df": lr.degrees_freedom,
        "lr_p_value": lr.p_value,
        "concordance": cph.concordance_index_,
        "means": cph._norm_mean.to_numpy(),
    }
    bch = cph.baseline_cumulative_hazard_
    out["baseline_times"] = TIMES
    if strata:
        out["baseline"] = [
            {"key": [float(k) for k in np.atleast_1d(col)], "cumulative_hazard": bch[col].loc[TIMES].to_numpy()}
            for col in bch.columns
        ]
    else:
        out["baseline"] = [{"key": [], "cumulative_hazard": bch.iloc[:, 0].loc[TIMES].to_numpy()}]
    sf = cph.predict_survival_function(df.iloc[ROWS], times=TIMES)
    out["survival_rows"] = ROWS
    out["survival"] = sf.to_numpy().T  # [row][time]
    out["log_partial_hazard"] = cph.predict_log_partial_hazard(df.iloc[ROWS]).to_numpy()
    if ph_test:
        transform = pooled_rank if ph_test == "pooled_rank" else ph_test
        ph = proportional_hazard_test(cph, df, time_transform=transform)
        if ph_test == "pooled_rank" and not strata:
            same = proportional_hazard_test(cph, df, time_transform="rank")
            assert np.allclose(same.test_statistic, ph.test_statistic, rtol=1e-12)
        out["ph_statistics"] = np.asarray(ph.test_statistic)
        out["ph_p_values"] = np.asarray(ph.p_value)
    return out


def breslow_case(df, covariates):
    y = Surv.from_arrays(event=df["arrest"].astype(bool), time=df["week"].astype(float))
    est = CoxPHSurvivalAnalysis(ties="breslow", alpha=0.0, tol=1e-12, n_iter=200).fit(df[covariates], y)
    return {
        "name": "breslow",
        "ties": "breslow",
        "l2": 0.0,
        "strata": [],
        "feature_names": covariates,
        "coefficients": est.coef_,
    }


def main():
    df = load_rossi()
    covariates = [c for c in df.columns if c not in ("week", "arrest")]
    cases = [
        lifelines_case("efron", df, covariates),
        lifelines_case("penalised", df, covariates, penalizer=0.1),
        # With strata lifelines' "rank" restarts the time order in each
        # stratum; the PH test here uses tenure's pooled ranking instead
        # (see pooled_rank), on lifelines' scaled Schoenfeld residuals.
        lifelines_case("stratified_wexp", df, covariates, strata=["wexp"], ph_test="pooled_rank"),
        lifelines_case(
            "stratified_wexp_paro", df, covariates, strata=["wexp", "paro"], ph_test="pooled_rank"
        ),
        # The pooled ranking equals lifelines' own without strata.
        lifelines_case("efron_pooled_rank_check", df, covariates, ph_test="pooled_rank"),
        breslow_case(df, covariates),
    ]
    write(
        "lifelines_cox.json",
        {
            "scikit_survival": sksurv.__version__,
            "feature_names": covariates,
            "x": df[covariates].to_numpy(dtype=float),
            "time": df["week"].to_numpy(dtype=float),
            "event": df["arrest"].to_numpy(dtype=bool),
            "cases": cases,
        },
    )


if __name__ == "__main__":
    main()

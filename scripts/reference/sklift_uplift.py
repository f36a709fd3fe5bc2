"""Golden values for tenure-metrics' uplift metrics, from scikit-uplift.

For each case: binary outcomes, predicted uplift and the treatment flag,
with sklift.metrics' qini_curve, uplift_curve, perfect_qini_curve and
qini_auc_score (with negative effects, the default), perfect_uplift_curve,
uplift_auc_score and uplift_by_percentile(bins=10, strategy='overall',
std=True). Scores are rounded so that some cases have ties.
"""

import warnings

import numpy as np
import sklearn
import sklift
from sklift.metrics import (
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_auc_score,
    qini_curve,
    uplift_auc_score,
    uplift_by_percentile,
    uplift_curve,
)

from _common import write


def curve(xy):
    x, y = xy
    return {"n": np.asarray(x, dtype=float), "value": np.asarray(y, dtype=float)}


def case(name, y, uplift, treatment):
    y = np.asarray(y, dtype=float)
    uplift = np.asarray(uplift, dtype=float)
    treatment = np.asarray(treatment, dtype=int)
    table = uplift_by_percentile(y, uplift, treatment, strategy="overall", bins=10, std=True)
    return {
        "name": name,
        "y_true": y,
        "uplift": uplift,
        "treatment": treatment,
        "qini_curve": curve(qini_curve(y, uplift, treatment)),
        "uplift_curve": curve(uplift_curve(y, uplift, treatment)),
        "perfect_qini_curve": curve(perfect_qini_curve(y, treatment, negative_effect=True)),
        "perfect_uplift_curve": curve(perfect_uplift_curve(y, treatment)),
        "qini_auc_score": qini_auc_score(y, uplift, treatment, negative_effect=True),
        "uplift_auc_score": uplift_auc_score(y, uplift, treatment),
        "uplift_by_percentile": {
            "n_treatment": table["n_treatment"].to_numpy(),
            "n_control": table["n_control"].to_numpy(),
            "response_rate_treatment": table["response_rate_treatment"].to_numpy(),
            "response_rate_control": table["response_rate_control"].to_numpy(),
            "uplift": table["uplift"].to_numpy(),
            "std_treatment": table["std_treatment"].to_numpy(),
            "std_control": table["std_control"].to_numpy(),
            "std_uplift": table["std_uplift"].to_numpy(),
        },
    }


def simulate(rng, n, treated_share, base, effect_scale, decimals):
    treatment = (rng.random(n) < treated_share).astype(int)
    signal = rng.normal(0, 1, n)
    logit = base + treatment * effect_scale * signal
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    uplift = np.round(0.1 * signal + rng.normal(0, 0.1, n), decimals)
    return y, uplift, treatment


def main():
    # sklift calls sklearn's stable_cumsum, deprecated since sklearn 1.8.
    warnings.filterwarnings("ignore", category=FutureWarning)
    rng = np.random.default_rng(11)
    cases = [
        # Rare response, balanced arms: more treated non-responders than
        # control responders.
        case("balanced_rare", *simulate(rng, 500, 0.5, -2.0, 1.0, 6)),
        # Ties in the scores, n not a multiple of 10.
        case("tied_scores", *simulate(rng, 203, 0.5, -1.0, 1.0, 1)),
        # Frequent response and few treated: control responders dominate,
        # the other branch of the perfect uplift curve.
        case("frequent_few_treated", *simulate(rng, 400, 0.25, 0.9, 1.5, 4)),
    ]
    write(
        "sklift_uplift.json",
        {
            "versions": {
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
                "scikit-uplift": sklift.__version__,
            },
            "cases": cases,
        },
    )


if __name__ == "__main__":
    main()

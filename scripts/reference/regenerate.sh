#!/usr/bin/env bash
# Rewrites every golden JSON file in this folder from the pinned reference venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -x "$here/.venv/bin/python" ] || "$here/make_venv.sh"
export PYTHONDONTWRITEBYTECODE=1
for script in gbdt_peers.py sklearn_metrics.py sklearn_logistic.py lifelines_kaplan_meier.py lifelines_cox.py sksurv_metrics.py lifetimes_bgnbd.py sklearn_calibration.py \
    sklearn_ridge.py statsmodels_ab.py sklift_uplift.py; do
    "$here/.venv/bin/python" "$here/$script"
done

#!/usr/bin/env bash
# Creates scripts/reference/.venv with the pinned reference stack
# (scikit-learn, numpy, lifelines, scikit-survival, lifetimes, statsmodels,
# scikit-uplift) used to regenerate the golden JSON files.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
"$python" -m venv "$here/.venv"
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
echo "reference venv ready: $here/.venv"

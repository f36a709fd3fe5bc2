#!/usr/bin/env bash
# Our samplers (auto = the default, tpe, gp, random) next to Optuna's (default multivariate TPE, independent TPE,
# random) on Branin, Hartmann-6, Goldstein-Price and Hartmann-3: median best
# over 10 seeds after 20/40/60 trials, and sampler time per trial at 200
# trials. Creates its own venv with pinned Optuna (scripts/bench_hpo/).
# Usage: bash scripts/bench_hpo_peers.sh [trials=60] [seeds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
here=scripts/bench_hpo
if [ ! -x "$here/.venv/bin/python" ] || ! "$here/.venv/bin/python" -c "import optuna" 2>/dev/null; then
  "${PYTHON:-python3}" -m venv "$here/.venv"
  "$here/.venv/bin/python" -m pip install --quiet --upgrade pip
  "$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
fi
# TENURE_BIN=path/to/tenure skips the release build (sampler times are only
# meaningful for an optimised build).
tenure="${TENURE_BIN:-}"
if [ -z "$tenure" ]; then
  cargo build --release --locked -p tenure-cli
  tenure="$CARGO_TARGET_DIR/release/tenure"
fi
"$here/.venv/bin/python" "$here/peers.py" "$tenure" \
  --trials "${1:-60}" --seeds "${2:-10}" --out "$here/last.json"

#!/usr/bin/env bash
# tenure's booster vs LightGBM and XGBoost on the same data, params and
# threads, in one run. Prints train/predict time, peak memory, test AUC.
# Usage: bash scripts/bench_gbdt_peers.sh [rows=100000,1000000] [rounds=500] [threads=2]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release --locked -p tenure-cli
venv=scripts/bench/.venv-gbdt
if [ ! -f "$venv/.complete" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/bench/requirements-gbdt.txt
  touch "$venv/.complete"
fi
"$venv/bin/python" scripts/bench/gbdt_peers.py "$CARGO_TARGET_DIR/release/tenure" \
  --rows "${1:-100000,1000000}" --rounds "${2:-500}" --threads "${3:-2}" \
  --out scripts/bench/gbdt_peers.last.json

#!/usr/bin/env bash
# tenure's booster vs LightGBM and XGBoost on the same data, params and
# threads, in one run. Prints train/predict time, peak memory, test AUC.
# Usage: bash scripts/bench_gbdt_peers.sh [rows=100000,1000000] [rounds=500] [threads=2] [gpu=] [objective=binary]
# gpu: comma-separated tenure devices to add, e.g. `cuda,wgpu` on a GPU
# machine (cuda builds with `--features cuda` and adds XGBoost device=cuda).
# objective `cox`: survival times, tenure's Cox booster against XGBoost's
# survival:cox, scored by the held-out C-index.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
gpu="${4:-}"
features=()
case ",$gpu," in *,cuda,*) features=(--features cuda) ;; esac
cargo build --release --locked -p tenure-cli "${features[@]}"
venv=scripts/bench/.venv-gbdt
if [ ! -f "$venv/.complete" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/bench/requirements-gbdt.txt
  touch "$venv/.complete"
fi
"$venv/bin/python" scripts/bench/gbdt_peers.py "$CARGO_TARGET_DIR/release/tenure" \
  --rows "${1:-100000,1000000}" --rounds "${2:-500}" --threads "${3:-2}" --gpu "$gpu" \
  --objective "${5:-binary}" --out "scripts/bench/gbdt_peers${5:+.$5}.last.json"

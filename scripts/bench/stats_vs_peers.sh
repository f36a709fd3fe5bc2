#!/usr/bin/env bash
# Cox (vs lifelines) and BG/NBD (vs lifetimes), same data, same run.
# Usage: bash scripts/bench/stats_vs_peers.sh [rows=1000000] [repeat=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
cargo build --release --locked -p tenure-cli
bash scripts/reference/make_venv.sh >/dev/null
scripts/reference/.venv/bin/python scripts/bench/stats_vs_peers.py \
  "$CARGO_TARGET_DIR/release/tenure" ../shared/datasets/cdnow/cdnow_master.csv "${1:-1000000}" "${2:-3}"

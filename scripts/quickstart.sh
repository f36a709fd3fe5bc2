#!/usr/bin/env bash
# The main job on the embedded default store, from a fresh clone:
# build tenure, generate 20,000 synthetic customers, run the quickstart
# experiment and say where its report is.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

customers="${CUSTOMERS:-20000}"
cargo build --release --locked -p tenure-cli
tenure="$CARGO_TARGET_DIR/release/tenure"

if [ ! -f data/quickstart/transactions.parquet ] || [ "${REGENERATE:-0}" = 1 ]; then
  "$tenure" synth --customers "$customers" --seed 42 --out data/quickstart
fi
"$tenure" split experiments/quickstart.toml
echo
"$tenure" run experiments/quickstart.toml --device auto

#!/usr/bin/env bash
# One benchmark report: the default suite (quality gated against a baseline
# when one is given), the booster at two sizes, and the peer scripts
# (LightGBM/XGBoost, Optuna, lifelines/statsmodels, onnxruntime), all into
# one directory.
#
# Usage: bash scripts/bench.sh [OUT_DIR=bench-report] [BASELINE=results.json|NAME@ALIAS]
#   BENCH_PEERS=0   skip the peer scripts (they build Python venvs)
#   BENCH_SUITE=... another suite file (default benches/suite.toml)
#   BENCH_GBDT_ROWS="100000 1000000"  sizes of `tenure bench gbdt`
# Exit status: the suite's (0 ok, 1 quality regression, 2 error); the peer
# scripts' failures are reported in the report but do not change it.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out="${1:-bench-report}"
baseline="${2:-}"
suite="${BENCH_SUITE:-benches/suite.toml}"
mkdir -p "$out"
touch "$out/.started"
# TENURE_BIN=path/to/tenure skips the release build (timings of a debug
# build say little).
tenure="${TENURE_BIN:-}"
if [ -z "$tenure" ]; then
  cargo build --release --locked -p tenure-cli || exit 2
  tenure="$CARGO_TARGET_DIR/release/tenure"
fi
export TENURE_BIN="$tenure"

# Earlier results in the report directory draw the trend lines.
history=()
if compgen -G "$out/history/*.json" >/dev/null; then
  history=(--history "$out/history")
fi
args=(bench run "$suite" --out "$out/results.json" --markdown "$out/summary.md" "${history[@]}")
if [ -n "$baseline" ]; then
  args+=(--baseline "$baseline")
fi
"$tenure" "${args[@]}" | tee "$out/suite.txt"
status=${PIPESTATUS[0]}
if [ -f "$out/results.json" ]; then
  mkdir -p "$out/history"
  cp "$out/results.json" "$out/history/$(date -u +%Y%m%dT%H%M%SZ).json"
fi

# The booster alone at two sizes (one JSON object per line).
for rows in ${BENCH_GBDT_ROWS:-100000 1000000}; do
  "$tenure" bench gbdt --rows "$rows" --features 50 --rounds 100 --threads 2 --json
done > "$out/gbdt.jsonl" 2> "$out/gbdt.log" || echo "bench gbdt failed: see $out/gbdt.log" >&2

# The peers at small sizes: each prints its table and keeps its JSON.
peer() {
  local name=$1 last=$2
  shift 2
  if bash "$@" > "$out/$name.txt" 2>&1; then
    peers+=("| $name | ok | $name.txt |")
    # Only a file this run wrote: some scripts keep a checked-in result.
    if [ "$last" -nt "$out/.started" ]; then cp "$last" "$out/$name.json"; fi
  else
    peers+=("| $name | failed | $name.txt |")
  fi
}
peers=()
if [ "${BENCH_PEERS:-1}" != 0 ]; then
  peer gbdt_peers scripts/bench/gbdt_peers.last.json scripts/bench_gbdt_peers.sh 100000 100 2
  peer hpo_peers scripts/bench_hpo/last.json scripts/bench_hpo_peers.sh 60 10
  peer stats_vs_peers scripts/bench/stats_vs_peers.last.json scripts/bench/stats_vs_peers.sh 100000 3
  peer onnx_vs_onnxmltools scripts/bench/onnx_vs_onnxmltools.last.json scripts/bench/onnx_vs_onnxmltools.sh
fi

# One report: the suite's summary, then the booster and the peers.
{
  cat "$out/summary.md" 2>/dev/null || echo "### tenure bench: the suite failed (exit $status), see suite.txt"
  echo
  echo "### tenure bench gbdt"
  echo
  echo '```'
  cat "$out/gbdt.jsonl" 2>/dev/null
  echo '```'
  if [ ${#peers[@]} -gt 0 ]; then
    echo
    echo "### Peers"
    echo
    echo "| script | status | output |"
    echo "| --- | --- | --- |"
    printf '%s\n' "${peers[@]}"
  fi
} > "$out/report.md"
rm -f "$out/.started"
echo "report: $out/report.md (exit $status)"
exit "$status"

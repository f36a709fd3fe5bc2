#!/usr/bin/env bash
# onnxruntime scoring throughput and file size of one LightGBM model
# (500 trees, 255 leaves) exported twice: by onnxmltools, and by tenure's
# exporter (from the same trees, converted to a tenure spec). Same data,
# same run; prints JSON and keeps it in onnx_vs_onnxmltools.last.json.
# Usage: bash scripts/bench/onnx_vs_onnxmltools.sh [rows=100000] [repeat=5]
# ONNX_BENCH_DIR=DIR keeps the trained model and files there (and reuses a
# model trained by an earlier run).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
venv=scripts/bench/.venv-onnx
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet -r scripts/bench/requirements-onnx.txt
fi
if [ -n "${ONNX_BENCH_DIR:-}" ]; then
  work="$ONNX_BENCH_DIR"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
"$venv/bin/python" scripts/bench/onnx_vs_onnxmltools.py prepare "$work"
# The exporter's own speed is not measured: a debug build (whose test
# dependencies, tract among them, are usually built already) does.
cargo run --quiet --locked -p tenure-onnx --example export_spec -- \
  "$work/spec.json" "$work/tenure.onnx"
"$venv/bin/python" scripts/bench/onnx_vs_onnxmltools.py time "$work" "${1:-100000}" "${2:-5}" \
  | tee scripts/bench/onnx_vs_onnxmltools.last.json

#!/usr/bin/env bash
# Everything CI checks, from a fresh clone: formatting, clippy with warnings
# denied, and the whole test suite (unit, integration, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# Python runtimes (onnxruntime, mlflow...) and Debian packages for the tests.
source scripts/testenv/setup.sh

for tool in cargo-fmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "missing $tool: install the rustfmt and clippy components" >&2; exit 2; }
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --locked --workspace --no-fail-fast

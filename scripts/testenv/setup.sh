#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, idempotently, and prints
# the environment to export. Sourced by scripts/test.sh.
#
#  - a Python venv with the runtimes our artifacts are checked against
#    (onnxruntime, onnx, mlflow...), pinned in requirements.txt;
#  - Debian packages (Mesa's lavapipe for wgpu, Chromium for the report
#    test) when apt is usable.
#
# The venv lives in the cache next to the Cargo target directory, keyed by
# the hash of requirements.txt, so CI builds it once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
key="$(sha256sum "$req" | cut -c1-12)"
venv="${TENURE_VENV:-$HOME/.cache/tenure-venv-$key}"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  echo "== creating test venv $venv" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -r "$req" >&2
  touch "$venv/.complete"
fi
export TENURE_TEST_PYTHON="$venv/bin/python"

apt_pkgs=()
while read -r pkg; do
  [ -n "$pkg" ] && [ "${pkg#\#}" = "$pkg" ] || continue
  dpkg -s "$pkg" >/dev/null 2>&1 || apt_pkgs+=("$pkg")
done < "$here/apt-packages.txt"
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  echo "== installing ${apt_pkgs[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >&2
fi

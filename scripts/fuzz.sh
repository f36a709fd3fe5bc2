#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time. Not part of CI
# (it needs nightly and libFuzzer); run it by hand or on a schedule:
#
#   scripts/fuzz.sh                 # 60 s per target
#   scripts/fuzz.sh 600             # 10 min per target
#   scripts/fuzz.sh 60 store_files  # one target
#
# Installs the nightly toolchain and cargo-fuzz when they are missing.
# Inputs that grow coverage go to fuzz/corpus/<target>/ (minimised at the
# end with `cargo fuzz cmin`, then worth committing); a crash is written to
# fuzz/artifacts/<target>/ and the script stops with its path. Both folders
# are replayed by the stable tests (`cargo test -p <crate> fuzz`), so a
# committed crash is a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo +nightly install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi

for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    echo "== $t: ${seconds} s"
    # -timeout: an input that runs longer than 20 s is a hang, reported as a
    # crash; -rss_limit_mb bounds a runaway allocation the same way.
    cargo +nightly fuzz run --fuzz-dir fuzz --features "$t" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1
    cargo +nightly fuzz cmin --fuzz-dir fuzz --features "$t" "$t" "fuzz/corpus/$t"
done
echo "no crash; corpus in fuzz/corpus/, minimised"

#!/usr/bin/env bash
# Peak memory and wall time of loading a synthetic event log and building
# its as-of features at every cutoff of a churn experiment (what `tenure
# split` does before any model trains), at a given size:
#
#   scripts/bench_scale.sh CUSTOMERS [WORK_DIR]
#   TENURE=path/to/tenure scripts/bench_scale.sh 1000000
#   RATE_SCALE=1.4 scripts/bench_scale.sh 10000000 /big/disk/scale
#
# Issue 12's budget: features for 10M customers / 200M transactions within
# 24 GiB. `tenure synth` writes about 14 transactions per customer;
# RATE_SCALE (its --purchase-rate-scale, default 1) multiplies that, so 1.4
# gives 10M customers about 200M transactions. `tenure synth` streams the
# transactions to disk, so its own peak grows with the customers only.
# Prints one line per step and a JSON summary on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

customers=${1:?usage: scripts/bench_scale.sh CUSTOMERS [WORK_DIR]}
work=${2:-$(mktemp -d)}
mkdir -p "$work"

if [ -z "${TENURE:-}" ]; then
    cargo build --release --locked -p tenure-cli >&2
    TENURE="${CARGO_TARGET_DIR:-target}/release/tenure"
fi

# Runs a command under GNU time; sets peak_kb and wall_s.
measure() {
    local log="$work/time.log"
    /usr/bin/time -v -o "$log" "$@"
    peak_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
}

if [ ! -f "$work/data/transactions.parquet" ]; then
    measure "$TENURE" synth --customers "$customers" --seed 1 \
        --purchase-rate-scale "${RATE_SCALE:-1}" --out "$work/data" >"$work/synth.txt"
    echo "synth: $(head -1 "$work/synth.txt") · peak $((peak_kb / 1024)) MiB · ${wall_s} s" >&2
fi
events=$(sed -n 's/.* customers and \([0-9]*\) transactions.*/\1/p' "$work/synth.txt" 2>/dev/null || echo "?")

cat >"$work/scale.toml" <<TOML
name = "scale"
[data.transactions]
path = "data/transactions.parquet"
category = "category"
[data.customers]
path = "data/customers.parquet"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "channel", "region", "campaign"]
[labels]
task = "churn"
horizon_days = 90
churn = "cancel"
[cv]
cutoffs = ["2022-07-01", "2022-10-01", "2023-01-01", "2023-04-01", "2023-07-01"]
folds = 3
test_cutoff = "2023-10-01"
[[models]]
kind = "logistic"
TOML

measure "$TENURE" split "$work/scale.toml" --json >"$work/split.json"
rows=$(grep -o '"valid_rows": *[0-9]*' "$work/split.json" | awk -F: '{s += $2} END {print s}')
echo "features: $customers customers, $events transactions, 6 snapshots ($rows validation rows) · peak $((peak_kb / 1024)) MiB · ${wall_s} s" >&2
printf '{"customers": %s, "transactions": %s, "validation_rows": %s, "peak_rss_mib": %s, "wall_s": %s}\n' \
    "$customers" "$events" "$rows" "$((peak_kb / 1024))" "$wall_s"

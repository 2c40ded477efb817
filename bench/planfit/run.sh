#!/bin/sh
# Plan-fit bench: `cvm planfit` on N subscribers x 3 months (default
# 1,000,000) against the 13-plan catalog of the synthetic operator, with
# time and peak memory (/usr/bin/time -v).  The store is reused when given
# (e.g. the one of bench/features), else simulated once (not timed).
#   usage: bench/planfit/run.sh BUILD_DIR [STORE.db] [N]
set -eu
BUILD=${1:-build}
STORE=${2:-}
N=${3:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/../out}/planfit_$N
mkdir -p "$OUT"
CVM=$BUILD/cvm
export CVM_NO_PROGRESS=1
if [ -z "$STORE" ]; then
    STORE=$OUT/store.db
    if [ ! -f "$STORE" ]; then
        echo "-- preparing: synth $N x 3 months into a store (not timed)"
        "$CVM" synth --subscribers "$N" --months 3 --start 2025-01 --seed 42 \
            --no-truth --db "$STORE.tmp" >/dev/null
        mv "$STORE.tmp" "$STORE"
    fi
fi
# M: BENCH_MONTH, else the last month of usage in the store.
M=${BENCH_MONTH:-}
if [ -z "$M" ] && command -v sqlite3 >/dev/null; then
    M=$(sqlite3 "$STORE" "SELECT max(month) FROM usage")
fi
M=${M:-2025-03}
echo "== plan fit: $STORE, month $M ($(nproc) cores)"
/usr/bin/time -v -o "$OUT/time.txt" "$CVM" planfit --db "$STORE" \
    --month "$M" --json >"$OUT/planfit.json"
grep -E '"(active|subscribers|plans_open|would_save|bills_checked|bills_matched)"' \
    "$OUT/planfit.json"
grep -E 'Elapsed|Maximum resident|User time|System time' "$OUT/time.txt"
# Again in human form: the command times the computation and the storing
# of the table apart.
"$CVM" planfit --db "$STORE" --month "$M" | head -2

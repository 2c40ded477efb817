#!/bin/sh
# CSV reader throughput: cvm's streaming reader against Debian's libcsv on
# a usage-like file and a purely numeric one (see bench_csv.c).
#   usage: bench/csv/run.sh BUILD_DIR [ROWS]
set -eu
BUILD=${1:-build}
ROWS=${2:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/../out}
mkdir -p "$OUT"
for kind in usage numeric; do
    CSV=$OUT/csv_${kind}_$ROWS.csv
    [ -f "$CSV" ] || "$BUILD/bench/bench_csv" --gen "$CSV" "$ROWS" "$kind"
    echo "== csv reader bench ($kind): $CSV"
    "$BUILD/bench/bench_csv" "$CSV" 5
done

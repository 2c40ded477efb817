#!/bin/sh
# The monthly run at scale: synthesize N subscribers x 12 months as CSV files,
# then `cvm run` the cycle for the last month whose outcome is loaded (load
# through the checking loader, audit, wide tables, labels, training, scoring,
# verification, factors, value, segments, k-means, plan fit, retention list,
# report).  Prints each stage's wall time and rows, the whole run's wall and
# CPU time and its peak RSS (/usr/bin/time -v).
#   usage: bench/run/run.sh BUILD_DIR [WORKDIR]   (N: BENCH_RUN_SUBSCRIBERS,
#   default 1000000; the work dir needs ~25 GB for 1M)
set -eu
BUILD=${1:-build}
W=${2:-${TMPDIR:-/tmp}/cvm_bench_run}
N=${BENCH_RUN_SUBSCRIBERS:-1000000}
CVM=$(cd "$BUILD" && pwd)/cvm
mkdir -p "$W"
echo "== monthly run: $N subscribers x 12 months (work dir $W)"
if [ ! -f "$W/csv/plans.csv" ]; then
    /usr/bin/time -f "synth: %e s wall, %U s user, %M kB peak" \
        "$CVM" synth --subscribers "$N" --months 12 --start 2025-01 --seed 7 \
        --out "$W/csv" >/dev/null
fi
rm -f "$W/cvm.db" "$W/cvm.db-wal" "$W/cvm.db-shm"
rm -rf "$W/models" "$W/report"
cat >"$W/cvm.yaml" <<YAML
store:
  path: $W/cvm.db
input:
  dir: $W/csv
run:
  backtest_months: 1
report:
  out: $W/report
YAML
CVM_NO_PROGRESS=1 /usr/bin/time -v "$CVM" run --config "$W/cvm.yaml" \
    --month 2025-10 --json >"$W/run.json" 2>"$W/run.err" || {
    cat "$W/run.err"; exit 1; }
grep -E '^\[' "$W/run.err" || true
grep -E "Elapsed|Maximum resident|User time|System time" "$W/run.err"
du -sh "$W/cvm.db" | awk '{print "store size: " $1}'

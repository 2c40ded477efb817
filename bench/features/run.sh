#!/bin/sh
# Wide-table bench: N subscribers x 3 months (default 1,000,000) -> the wide
# table of the third month, with time and peak memory; beside it, pandas
# computing 20 of the features from the same data's CSVs, in the same run.
#   usage: bench/features/run.sh BUILD_DIR [N]
set -eu
BUILD=${1:-build}
N=${2:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/../out}/features_$N
mkdir -p "$OUT"
CVM=$BUILD/cvm
export CVM_NO_PROGRESS=1
if [ ! -f "$OUT/store.db" ]; then
    echo "-- preparing: synth $N x 3 months into a store and as CSV (not timed)"
    "$CVM" synth --subscribers "$N" --months 3 --start 2025-01 --seed 42 \
        --no-truth --out "$OUT/csv" >/dev/null
    "$CVM" synth --subscribers "$N" --months 3 --start 2025-01 --seed 42 \
        --no-truth --db "$OUT/store.db.tmp" >/dev/null
    mv "$OUT/store.db.tmp" "$OUT/store.db"
fi
echo "== wide table: $N subscribers, window 2025-01..2025-03"
/usr/bin/time -f '%e s wall, %M KB peak RSS' -o "$OUT/time.txt" \
    "$CVM" features --db "$OUT/store.db" --month 2025-03 --json
cat "$OUT/time.txt"
echo "-- peer: pandas groupby, 20 features from the CSVs (read + compute)"
/usr/bin/time -f '%e s wall, %M KB peak RSS' -o "$OUT/ptime.txt" \
    /usr/bin/python3 "$HERE/peer_pandas.py" "$OUT/csv" 2025-01 2025-02 2025-03
cat "$OUT/ptime.txt"

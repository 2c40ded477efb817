#!/bin/sh
# Load throughput: CSV -> columnar table (parse + type check) and CSV ->
# SQLite store with `cvm load`, against sqlite3's own `.import` of the same
# file into the same table, in the same run.
#   usage: bench/load/run.sh BUILD_DIR [ROWS]
set -eu
BUILD=${1:-build}
ROWS=${2:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/../out}
mkdir -p "$OUT"
CSV=$OUT/usage_bench_$ROWS.csv
[ -f "$CSV" ] || /usr/bin/python3 "$HERE/gen_usage.py" "$ROWS" "$CSV"
MB=$(du -m "$CSV" | cut -f1)
echo "== load bench: $CSV ($MB MB, $ROWS rows)"

echo "-- columnar (median of 5):"
"$BUILD/bench/bench_load" usage "$CSV" 5 | tee "$OUT/load_columnar.json"

med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t_cvm=""; t_imp=""
for i in 1 2 3; do
    rm -f "$OUT/cvm.db" "$OUT/cvm.db-wal" "$OUT/cvm.db-shm"
    s=$(date +%s.%N)
    CVM_NO_PROGRESS=1 "$BUILD/cvm" load --db "$OUT/cvm.db" usage="$CSV" >/dev/null
    e=$(date +%s.%N)
    t_cvm="$t_cvm $(echo "$e - $s" | bc)"
    # sqlite3 .import into the same (empty) table of a fresh store, no checks
    rm -f "$OUT/imp.db" "$OUT/imp.db-wal" "$OUT/imp.db-shm"
    "$BUILD/cvm" init --db "$OUT/imp.db" >/dev/null
    s=$(date +%s.%N)
    sqlite3 "$OUT/imp.db" "PRAGMA journal_mode=WAL" "PRAGMA synchronous=NORMAL" \
        ".import --csv --skip 1 $CSV usage" >/dev/null
    e=$(date +%s.%N)
    t_imp="$t_imp $(echo "$e - $s" | bc)"
done
# Streaming: peak memory of a load does not depend on the file size.
rm -f "$OUT/cvm.db" "$OUT/cvm.db-wal" "$OUT/cvm.db-shm"
rss=$( { CVM_NO_PROGRESS=1 /usr/bin/time -f '%M' "$BUILD/cvm" load --db "$OUT/cvm.db" usage="$CSV" >/dev/null; } 2>&1 | tail -1)
echo "-- cvm load peak RSS: $rss KB for a $MB MB file"
mc=$(echo $t_cvm | tr ' ' '\n' | med)
mi=$(echo $t_imp | tr ' ' '\n' | med)
n_imp=$(sqlite3 "$OUT/imp.db" "select count(*) from usage")
echo "-- into SQLite (median of 3): cvm load ${mc}s ($(echo "$MB / $mc" | bc) MB/s, $(echo "$ROWS / $mc" | bc) rows/s);" \
     "sqlite3 .import ${mi}s ($(echo "$MB / $mi" | bc) MB/s, $n_imp rows); ratio import/cvm $(echo "scale=2; $mi / $mc" | bc)"

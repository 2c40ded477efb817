#!/bin/sh
# Wide-table bench (issue 4): N subscribers x 3 months (default 1,000,000)
# -> the wide table of the third month, built from the store and stored in
# it (`cvm features --db --month`, build + store), REPS times: wall, CPU
# (user + sys), the build/store split and peak RSS, with medians; then, in
# the same run, pandas computing 20 of the features from the same data's
# CSVs (read + compute), REPS times.  Target: at most 30 s wall for the
# whole command on 2 cores.
#   usage: bench/features/run.sh BUILD_DIR [N]
# Environment: REPS (3); BASE (another cvm binary, e.g. a copy of the
# previous build: run alternately with this one, same store, same minutes,
# for a before/after under the same load).
# The data (synth seed 42, 2025-01..03, store and CSV) is made once under
# bench/out/features_N and reused.
set -eu
BUILD=${1:-build}
N=${2:-1000000}
REPS=${REPS:-3}
BASE=${BASE:-}
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
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
    "$(free -g | awk '/^Mem:/ {print $2}') GB; $(date -u +%Y-%m-%dT%H:%MZ);" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== wide table: $N subscribers, window 2025-01..2025-03, $REPS runs"

# One timed run of `cvm features`: prints "wall cpu user sys build store
# rss_kb rows features" (seconds, KB).
run() {
    /usr/bin/time -v -o "$OUT/time.txt" "$1" features --db "$OUT/store.db" \
        --month 2025-03 --json >"$OUT/run.json"
    /usr/bin/python3 - "$OUT/time.txt" "$OUT/run.json" <<'EOF'
import json, sys
t = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().rpartition(": ")
    t[k] = v
w = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(w)))
u, s = float(t["User time (seconds)"]), float(t["System time (seconds)"])
j = json.load(open(sys.argv[2]))
print(f"{wall:.2f} {u + s:.2f} {u:.2f} {s:.2f} {j['build_seconds']:.2f} "
      f"{j['store_seconds']:.2f} {t['Maximum resident set size (kbytes)']} "
      f"{j['rows']} {j['features']}")
EOF
}

show() { # label, then the fields of run()
    echo "$1: wall $2 s, cpu $3 s (user $4 + sys $5), build $6 s +" \
        "store $7 s, peak RSS $(echo "$8" | awk '{printf "%.2f GB", $1 / 1048576}')"
}

median() { # column k of FILE
    sort -n -k "$1" "$2" | awk -v k="$1" '{a[NR] = $k} END {print a[int((NR + 1) / 2)]}'
}

: >"$OUT/new.txt"
: >"$OUT/base.txt"
for i in $(seq 1 "$REPS"); do
    if [ -n "$BASE" ]; then
        r=$(run "$BASE")
        echo "$r" >>"$OUT/base.txt"
        # shellcheck disable=SC2086
        show "  base run $i" $r
    fi
    r=$(run "$CVM")
    echo "$r" >>"$OUT/new.txt"
    # shellcheck disable=SC2086
    show "  run $i" $r
done
# shellcheck disable=SC2046
set -- $(head -1 "$OUT/new.txt")
echo "rows x features: $8 x $9"
for f in new base; do
    [ -s "$OUT/$f.txt" ] || continue
    m=""
    for k in 1 2 3 4 5 6 7; do
        m="$m $(median $k "$OUT/$f.txt")"
    done
    if [ $f = new ]; then
        wall=$(echo "$m" | awk '{print $1}')
        label=$CVM
    else
        label=$BASE
    fi
    # shellcheck disable=SC2086
    show "median ($label)" $m
done
echo "target 30 s wall: $(echo "$wall" | awk '{print ($1 <= 30 ? "met" : "NOT met")}')" \
    "(median $wall s)"

echo "-- peer: pandas groupby, 20 features from the CSVs (read + compute)"
: >"$OUT/peer.txt"
for i in $(seq 1 "$REPS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/ptime.txt" \
        /usr/bin/python3 "$HERE/peer_pandas.py" "$OUT/csv" 2025-01 2025-02 \
        2025-03 >"$OUT/peer.json"
    awk '{printf "%s %.2f %s %s %s\n", $1, $2 + $3, $2, $3, $4}' \
        "$OUT/ptime.txt" >>"$OUT/peer.txt"
    # shellcheck disable=SC2046
    set -- $(tail -1 "$OUT/peer.txt")
    echo "  peer run $i: wall $1 s, cpu $2 s, peak RSS" \
        "$(echo "$5" | awk '{printf "%.2f GB", $1 / 1048576}'): $(cat "$OUT/peer.json")"
done
pw=$(median 1 "$OUT/peer.txt")
echo "median peer: wall $pw s, cpu $(median 2 "$OUT/peer.txt") s, peak RSS" \
    "$(median 5 "$OUT/peer.txt" | awk '{printf "%.2f GB", $1 / 1048576}')"
echo "cvm (196 features, build + store) / pandas (20 features, read +" \
    "compute), wall: $(echo "$wall $pw" | awk '{printf "%.2f", $1 / $2}')"

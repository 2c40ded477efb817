#!/bin/sh
# k-means bench: `cvm segment kmeans` against scikit-learn (Debian's
# python3-sklearn, /usr/bin/python3) in the same run, median of REPS runs.
#   (a) mlc_churn (5000 x 15, z-scored), k = 5 and 8, 10 restarts, at 1 and
#       2 threads: fit time and inertia;
#   (b) a Gaussian mixture of N rows x 20 features (default 1,000,000; 8
#       overlapping components, generated once with numpy into a CSV), k = 8,
#       RESTARTS restarts for both (default 10): wall time, fit time, peak
#       RSS (/usr/bin/time -v), inertia;
#   (c) the same file with mini-batch k-means, 3 restarts for both.
# Both sides read the same CSV and z-score the same columns; wall times
# include reading it.  Thread counts go through OMP_NUM_THREADS for both.
#   usage: bench/kmeans/run.sh BUILD_DIR [N] [RESTARTS] [REPS]
set -eu
BUILD=${1:-build}
N=${2:-1000000}
RESTARTS=${3:-10}
REPS=${4:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../../tests/data/mlc_churn.csv
OUT=${BENCH_OUT:-$HERE/../out}/kmeans
mkdir -p "$OUT"
CVM=$BUILD/cvm
PY=/usr/bin/python3
export CVM_NO_PROGRESS=1
LOG=$OUT/runs.tsv
: >"$LOG"

# run TAG THREADS CMD...: one timed run; appends TAG, wall s, CPU s (user +
# system), peak KB and the command's JSON line to the log.
run() {
    tag=$1
    th=$2
    shift 2
    OMP_NUM_THREADS=$th /usr/bin/time -v -o "$OUT/time.txt" "$@" \
        >"$OUT/out.json"
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' \
        "$OUT/time.txt" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++)
        s = s * 60 + $i; print s }')
    cpu=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$OUT/time.txt" |
        awk '{ s += $1 } END { print s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' \
        "$OUT/time.txt")
    json=$($PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' \
        <"$OUT/out.json")
    printf '%s\t%s\t%s\t%s\t%s\n' "$tag" "$wall" "$cpu" "$rss" "$json" \
        >>"$LOG"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores;" \
    "$($PY -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"

echo "== (a) mlc_churn 5000 x 15 (z-scored), 10 restarts, median of $REPS"
for k in 5 8; do
    for th in 1 2; do
        for r in $(seq "$REPS"); do
            run "mlc k=$k t=$th cvm" "$th" "$CVM" segment kmeans \
                --data "$DATA" --k "$k" --restarts 10 --top 0 --json
            run "mlc k=$k t=$th sklearn" "$th" "$PY" "$HERE/peer.py" \
                "$DATA" --k "$k" --n-init 10
        done
    done
done

BIG=$OUT/mixture_$N.csv
if [ ! -f "$BIG" ]; then
    echo "-- preparing: $N x 20 Gaussian mixture -> $BIG (not timed)"
    $PY "$HERE/peer.py" --gen "$N" "$BIG.tmp"
    mv "$BIG.tmp" "$BIG"
fi
echo "== (b) $N x 20, k = 8, $RESTARTS restarts, 2 threads, median of $REPS"
for r in $(seq "$REPS"); do
    run "big k=8 cvm" 2 "$CVM" segment kmeans --data "$BIG" --k 8 \
        --restarts "$RESTARTS" --top 0 --json
    run "big k=8 sklearn" 2 "$PY" "$HERE/peer.py" "$BIG" --k 8 \
        --n-init "$RESTARTS"
done
echo "== (c) $N x 20, k = 8, mini-batch (batch 4096), 3 restarts, 2 threads"
for r in $(seq "$REPS"); do
    run "minibatch k=8 cvm" 2 "$CVM" segment kmeans --data "$BIG" --k 8 \
        --minibatch --batch-size 4096 --restarts 3 --top 0 --json
    run "minibatch k=8 sklearn" 2 "$PY" "$HERE/peer.py" "$BIG" --k 8 \
        --minibatch --batch-size 4096 --n-init 3
done

# Medians per tag: wall, CPU, fit, peak RSS, inertia; ratios sklearn / cvm.
# The fit time is each side's own clock around the fit (cvm: scaling
# included; scikit-learn: after scaling).
$PY - "$LOG" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    tag, wall, cpu, rss, js = line.rstrip("\n").split("\t", 4)
    j = json.loads(js)
    fit = j.get("seconds", j.get("fit_seconds"))
    rows.setdefault(tag, []).append((float(wall), float(cpu), fit,
                                     int(rss) / 1024, j["inertia"],
                                     j["iterations"]))
med = {t: [statistics.median(v[i] for v in r) for i in range(6)]
       for t, r in rows.items()}
print("\n%-26s %8s %8s %8s %8s %14s %5s" %
      ("case (median)", "wall s", "CPU s", "fit s", "RSS MB", "inertia",
       "iter"))
for t, m in med.items():
    print("%-26s %8.2f %8.2f %8.3f %8.0f %14.2f %5d" % (t, *m[:5], m[5]))
print("\nsklearn / cvm: wall, CPU, fit, RSS; inertia of cvm vs sklearn")
for t in med:
    if t.endswith(" cvm"):
        s = t[:-4] + " sklearn"
        if s in med:
            c, p = med[t], med[s]
            print("%-22s %6.2fx %6.2fx %6.2fx %6.2fx   %+.3f%%" %
                  (t[:-4], p[0] / c[0], p[1] / c[1], p[2] / c[2],
                   p[3] / c[3], 100 * (c[4] / p[4] - 1)))
EOF

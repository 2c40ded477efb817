#!/bin/sh
# Value bench: the composite value and lifetime value of every subscriber of
# a 1,000,000-subscriber store (`cvm value`), timed with its peak memory,
# once on the store's life table (no churn scores) and once on churn scores;
# with the synth truth beside the store, the Spearman rank correlation of
# our lifetime value with the truth's (docs/value.md, "Truth check").
#   usage: bench/value/run.sh BUILD_DIR [STORE]
# STORE: a synth store (e.g. /tmp/perf1m.db); default /tmp/perf1m.db when
# it exists, else 1,000,000 x 4 months generated into
# $BENCH_OUT/value_1000000 (bench/out by default).  The value month M is the
# month before the store's last, so that the truth of M+1 exists.
# VALUE_BENCH_SCORES=0 skips training and scoring a churn model (which is
# preparation: not timed, but it takes minutes at this size).
set -eu
BUILD=${1:-build}
STORE=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/../out}/value_1000000
CVM=$BUILD/cvm
SCORES=${VALUE_BENCH_SCORES:-1}
export CVM_NO_PROGRESS=1
mkdir -p "$OUT"
if [ -z "$STORE" ]; then
    if [ -f /tmp/perf1m.db ]; then
        STORE=/tmp/perf1m.db
    else
        STORE=$OUT/store.db
        if [ ! -f "$STORE" ]; then
            echo "-- preparing: synth 1,000,000 x 4 months with truth (not timed)"
            "$CVM" synth --subscribers 1000000 --months 4 --start 2024-01 \
                --seed 42 --db "$STORE.tmp" --truth "$STORE.truth" >/dev/null
            mv "$STORE.tmp" "$STORE"
        fi
    fi
fi
q() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$STORE" "$1"; }
LAST=$(q "SELECT MAX(month) FROM usage")
ym() { python3 -c "import sys; y,m=map(int,sys.argv[1].split('-')); k=y*12+m-1+int(sys.argv[2]); print('%04d-%02d'%(k//12,k%12+1))" "$1" "$2"; }
M=$(ym "$LAST" -1)
TAB=value_$(echo "$M" | tr - _)
ROWS=$(q "SELECT COUNT(*) FROM subscribers")
echo "== value: $STORE ($ROWS subscribers, months up to $LAST), M = $M"
if [ "$(q "SELECT COUNT(*) FROM sqlite_master WHERE name = 'features_$(echo "$M" | tr - _)'")" = 0 ]; then
    echo "-- preparing: wide table of $M (not timed)"
    "$CVM" features --db "$STORE" --month "$M" >/dev/null
fi

timed() { # label, then the command
    label=$1
    shift
    /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/out.txt"
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/time.txt")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.txt")
    echo "$label: $wall wall, $((rss / 1024)) MB peak RSS"
}

truth() { # Spearman of ltv (and its parts) against the truth's
    T=$STORE.truth/monthly/$LAST.csv
    [ -f "$T" ] || { echo "   (no truth at $T)"; return 0; }
    python3 - "$STORE" "$TAB" "$T" <<'EOF'
import csv, math, sqlite3, sys
db, tab, truth = sys.argv[1:4]
H, R = 36, 0.008
tp = {}
with open(truth) as f:
    r = csv.reader(f)
    h = next(r)
    ci, cp = h.index("subscriber_id"), h.index("churn_prob")
    for x in r:
        tp[int(x[ci])] = float(x[cp])
rows = sqlite3.connect(db).execute(
    f"SELECT subscriber_id, ltv, past_margin, future_margin, "
    f"expected_monthly_margin, monthly_hazard FROM {tab}").fetchall()
rows = [r for r in rows if r[0] in tp]
def npv(h, m):  # sum over t = 1..H of (1-h)^t m / (1+R)^t
    q = (1 - h) / (1 + R)
    return m * (H if q == 1 else q * (1 - q ** H) / (1 - q))
def ranks(v):
    o = sorted(range(len(v)), key=v.__getitem__)
    r = [0.0] * len(v)
    i = 0
    while i < len(o):
        j = i
        while j + 1 < len(o) and v[o[j + 1]] == v[o[i]]:
            j += 1
        for k in range(i, j + 1):
            r[o[k]] = (i + j) / 2
        i = j + 1
    return r
def rho(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a); ma = sum(ra) / n; mb = sum(rb) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    saa = sum((x - ma) ** 2 for x in ra); sbb = sum((y - mb) ** 2 for y in rb)
    return sab / math.sqrt(saa * sbb)
mh = sum(r[5] for r in rows) / len(rows)
tf = [npv(tp[r[0]], r[4]) for r in rows]
tl = [r[2] + x for r, x in zip(rows, tf)]
bf = [npv(mh, r[4]) for r in rows]
print("   truth check, %d subscribers: Spearman LTV %.4f (one hazard for "
      "all: %.4f), future margin %.4f (%.4f), hazard %.4f" % (
          len(rows), rho([r[1] for r in rows], tl),
          rho([r[2] + x for r, x in zip(rows, bf)], tl),
          rho([r[3] for r in rows], tf), rho(bf, tf),
          rho([r[5] for r in rows], [tp[r[0]] for r in rows])))
EOF
}

timed "cvm value, life table (no churn scores)" \
    "$CVM" value --db "$STORE" --month "$M" --no-scores --json
truth
if [ "$SCORES" = 1 ]; then
    V=$(ym "$LAST" -2)
    SC=churn_scores_$(echo "$M" | tr - _)
    if [ "$(q "SELECT COUNT(*) FROM sqlite_master WHERE name = '$SC'")" = 0 ]; then
        echo "-- preparing: churn model validated on $V, scores of $M (not timed)"
        if ! /usr/bin/time -f '   train %e s, %M KB' "$CVM" churn train \
            --db "$STORE" --month "$V" --model "$OUT/churn.model" \
            --months-back 1 --rounds 60 --depth 4 >/dev/null; then
            # Too short a history to train on (a model needs a full feature
            # window, a training month, a validation month and its outcome):
            # train on a small synth of the same generator instead.
            echo "-- the store's history is too short for a churn model: training on a 20,000 x 8-month synth instead (not timed)"
            rm -f "$OUT/small.db"
            rm -rf "$OUT/small.db.truth"
            "$CVM" synth --subscribers 20000 --months 8 --start 2024-01 \
                --seed 43 --db "$OUT/small.db" --no-truth >/dev/null
            /usr/bin/time -f '   train %e s, %M KB' "$CVM" churn train \
                --db "$OUT/small.db" --month 2024-06 \
                --model "$OUT/churn.model" --months-back 1 --rounds 60 \
                --depth 4 >/dev/null
        fi
        /usr/bin/time -f '   score %e s, %M KB' "$CVM" churn score \
            --db "$STORE" --month "$M" --model "$OUT/churn.model" \
            --no-reasons >/dev/null
    fi
    timed "cvm value, churn scores" "$CVM" value --db "$STORE" --month "$M" --json
    truth
fi

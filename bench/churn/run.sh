#!/bin/sh
# Churn bench (issue 5): the monthly cycle on a 200,000-subscriber synth.
#  1. synth 200k x 12 months (seed 7) with its truth (reused if present)
#  2. `cvm churn backtest` 2024-08..2024-10: AUC, top-decile lift, ECE, Brier
#  3. the oracle AUC from the truth with the same label; model - oracle
#  4. reason recovery: `cvm churn train --month 2024-08`, `score 2024-10`,
#     reason1..3 against the truth's dominant hazard term
#  5. training time (200k x 4 months) and scoring throughput on 1,000,000
#     subscribers (--no-reasons and with reasons), stage by stage
#  6. peer in the same run: python3-xgboost on the same tables
# Every command runs under timed.py (wall, user+sys CPU, peak RSS, the time
# of each progress note and an I/O trace); the 1M scoring runs once more
# under gdb (stages_gdb.py) to time each library call: read, predict,
# contributions, save.  report.py prints the figures and a Markdown section.
#   usage: bench/churn/run.sh BUILD_DIR [WORKDIR]
# Environment: REPS (3) timed repetitions of train/score; N (200000);
# BIG_N (1000000); PERF1M (/tmp/perf1m.db: a 1M store with features_2024_04
# to copy instead of building one; never written); THREADS (cvm's default:
# half the cores, at least 1; used by cvm and the peer alike).
set -eu
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
W=${2:-${BENCH_OUT:-$HERE/../out}/churn}
mkdir -p "$W/res"
W=$(cd "$W" && pwd)
R=$W/res
CVM=$BUILD/cvm
PY=/usr/bin/python3
REPS=${REPS:-3}
N=${N:-200000}
BIG_N=${BIG_N:-1000000}
PERF1M=${PERF1M:-/tmp/perf1m.db}
T=$(nproc)
THREADS=${THREADS:-$((T / 2 > 0 ? T / 2 : 1))}
DB=$W/churn$((N / 1000))k.db
TRUTH=$DB.truth
BIG=$W/score$((BIG_N / 1000))k.db
MODEL=$W/m.model
export CVM_NO_PROGRESS=1 # timed.py lifts it for the command it times

# timed NAME CMD...: runs CMD, stdout -> $R/NAME.out, timing -> $R/NAME.time
timed() {
    name=$1
    shift
    if ! $PY "$HERE/timed.py" "$R/$name.out" "$@" >"$R/$name.time"; then
        echo "!! $name failed: $*" >&2
        cat "$R/$name.out" >&2
        exit 1
    fi
}
# has DB TABLE: the table is in the store (read without writing anything)
has() {
    [ "$(sqlite3 "file:$1?immutable=1" \
        "SELECT count(*) FROM sqlite_master WHERE name='$2'" 2>/dev/null)" = 1 ]
}
# staged NAME CMD...: runs CMD under gdb (stages_gdb.py: the time of each
# library call), calls -> $R/stages_NAME.json, stdout -> $R/stages_NAME.out
staged() {
    name=$1
    shift
    if ! STAGES_OUT="$R/stages_$name.json" gdb -batch -nx \
        -x "$HERE/stages_gdb.py" --args "$@" >"$R/stages_$name.out" \
        2>"$R/stages_$name.err" || ! grep -q '"rows"' "$R/stages_$name.out"; then
        echo "!! $name (under gdb) failed: $*" >&2
        cat "$R/stages_$name.err" >&2
        exit 1
    fi
}
wall() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall"])' "$1"; }

echo "== churn bench: $N subscribers x 12 months, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
    "$(free -g | awk '/^Mem:/ {print $2}') GB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cvm: $(cd "$HERE/../.." && git rev-parse --short HEAD)$(cd "$HERE/../.." &&
    git diff --quiet HEAD -- src include tools || echo ' + uncommitted changes'), $CVM;" \
    "threads: $THREADS (cvm --threads and the peer's n_jobs)"
echo "workdir: $W"
{
    echo "{\"date\": \"$(date -u +%Y-%m-%d)\", \"cpu\": \"$(lscpu | sed -n 's/^Model name: *//p')\","
    echo " \"cores\": $(nproc), \"mem_gb\": $(free -g | awk '/^Mem:/ {print $2}'),"
    echo " \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"threads\": $THREADS,"
    echo " \"commit\": \"$(cd "$HERE/../.." && git rev-parse --short HEAD)\","
    echo " \"n\": $N, \"big_n\": $BIG_N, \"reps\": $REPS}"
} >"$R/env.json"

# ---- 1. data -----------------------------------------------------------
if [ ! -f "$DB" ]; then
    echo "-- synth $N x 12 months into $DB (truth: $TRUTH)"
    rm -rf "$DB.tmp" "$DB.tmp-wal" "$DB.tmp-shm" "$TRUTH"
    timed synth "$CVM" synth --subscribers "$N" --months 12 --start 2024-01 \
        --seed 7 --db "$DB.tmp" --truth "$TRUTH" --json
    mv "$DB.tmp" "$DB"
else
    echo "-- reusing $DB"
fi
# Wide tables and labels of 2024-03..2024-10 (the backtest's months), built
# here so that the backtest times modelling only.
prep0=$(date +%s)
for m in 2024-03 2024-04 2024-05 2024-06 2024-07 2024-08 2024-09 2024-10; do
    mt=$(echo "$m" | tr - _)
    if ! has "$DB" "features_$mt"; then
        timed "features_$mt" "$CVM" features --db "$DB" --month "$m" --json
        echo "   features $m: $(wall "$R/features_$mt.time") s"
    fi
    if ! has "$DB" "labels_$mt"; then
        timed "labels_$mt" "$CVM" label --db "$DB" --month "$m" --json
    fi
done
echo "-- wide tables and labels ready ($(($(date +%s) - prep0)) s)"

# ---- 2. backtest --------------------------------------------------------
echo "-- cvm churn backtest 2024-08..2024-10"
timed backtest "$CVM" churn backtest --db "$DB" --from 2024-08 --to 2024-10 \
    --threads "$THREADS" --json

# ---- 4 (first: step 3 uses the scores). train, score, eval --------------
i=1
while [ "$i" -le "$REPS" ]; do
    echo "-- cvm churn train --month 2024-08 (run $i of $REPS)"
    timed "train_$i" "$CVM" churn train --db "$DB" --month 2024-08 \
        --model "$MODEL" --threads "$THREADS" --json
    i=$((i + 1))
done
echo "-- cvm churn score --month 2024-10 ($N, reasons), eval 2024-10"
timed score200k "$CVM" churn score --db "$DB" --month 2024-10 \
    --model "$MODEL" --threads "$THREADS" --json
timed eval "$CVM" churn eval --db "$DB" --month 2024-10 --model "$MODEL" \
    --threads "$THREADS" --json

# ---- 3. oracle ----------------------------------------------------------
echo "-- oracle AUC from the truth"
$PY "$HERE/oracle.py" "$DB" "$TRUTH" 2024-08 2024-09 2024-10 \
    --scores=2024-10:churn_scores_2024_10 >"$R/oracle.json"
echo "-- reasons against the truth (2024-10)"
$PY "$HERE/reasons.py" "$DB" "$TRUTH" 2024-10 >"$R/reasons.json"

# ---- 5. the 1M store -----------------------------------------------------
if [ ! -f "$BIG" ]; then
    if [ "$BIG_N" = 1000000 ] && [ -f "$PERF1M" ] && [ ! -s "$PERF1M-wal" ] &&
        [ -z "$(find "$PERF1M" -mmin -2)" ] && has "$PERF1M" features_2024_04; then
        echo "-- copying $PERF1M (read only) to $BIG"
        c0=$(date +%s)
        cp "$PERF1M" "$BIG.tmp"
        mv "$BIG.tmp" "$BIG"
        echo "   $(($(date +%s) - c0)) s"
        echo "{\"source\": \"a copy of $PERF1M\"}" >"$BIG.source.json"
    else
        echo "-- synth $BIG_N x 4 months (2024-01..04, seed 7) into $BIG"
        rm -f "$BIG.tmp" "$BIG.tmp-wal" "$BIG.tmp-shm"
        timed bigsynth "$CVM" synth --subscribers "$BIG_N" --months 4 \
            --start 2024-01 --seed 7 --db "$BIG.tmp" --no-truth --json
        mv "$BIG.tmp" "$BIG"
        echo "   $(wall "$R/bigsynth.time") s"
        echo "{\"source\": \"cvm synth --subscribers $BIG_N --months 4 --start 2024-01 --seed 7\"}" >"$BIG.source.json"
    fi
fi
cp "$BIG.source.json" "$R/big.json" 2>/dev/null || echo '{"source": "?"}' >"$R/big.json"
if ! has "$BIG" features_2024_04; then
    echo "-- wide table 2024-04 of the 1M store"
    timed bigfeatures "$CVM" features --db "$BIG" --month 2024-04 --json
    echo "   $(wall "$R/bigfeatures.time") s"
fi
i=1
while [ "$i" -le "$REPS" ]; do
    echo "-- cvm churn score --month 2024-04 on $BIG_N: --no-reasons, then reasons (run $i of $REPS)"
    timed "score1m_noreasons_$i" "$CVM" churn score --db "$BIG" \
        --month 2024-04 --model "$MODEL" --threads "$THREADS" --no-reasons --json
    timed "score1m_reasons_$i" "$CVM" churn score --db "$BIG" \
        --month 2024-04 --model "$MODEL" --threads "$THREADS" --json
    i=$((i + 1))
done
echo "-- the same under gdb, timing each library call (read, predict, reasons, save)"
staged score1m_noreasons "$CVM" churn score --db "$BIG" --month 2024-04 \
    --model "$MODEL" --threads "$THREADS" --no-reasons --json
staged score1m_reasons "$CVM" churn score --db "$BIG" --month 2024-04 \
    --model "$MODEL" --threads "$THREADS" --json
echo "-- --no-reasons with all $T cores (--threads $T), under gdb"
staged allcores_noreasons "$CVM" churn score --db "$BIG" --month 2024-04 \
    --model "$MODEL" --threads "$T" --no-reasons --json

# ---- 6. peer --------------------------------------------------------------
echo "-- peer: python3-xgboost on the same tables"
timed peer $PY "$HERE/peer_xgb.py" "$DB" 2024-05,2024-06,2024-07 2024-08 \
    2024-10 "$THREADS" "$BIG" 2024-04 100000
cp "$R/peer.out" "$R/peer.json"

echo
$PY "$HERE/report.py" "$R"

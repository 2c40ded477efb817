#!/bin/sh
# bench/synth/run.sh - time and peak memory of `cvm synth`.
#
# Writes 10,000 x 12 and 1,000,000 x 12 subscriber-months to CSV (and
# 1,000,000 x 3, to show that memory does not grow with the months) under
# /usr/bin/time -v, then appends the figures to bench/RESULTS.md under the
# heading "## cvm synth", with the machine and the date.  Targets
# (docs/synth.md): 1M x 12 in at most 60 s on 2 cores, 10k x 12 under 1 s.
#
# usage: bench/synth/run.sh [BUILD_DIR] [OUT_PARENT]
#   BUILD_DIR   where the cvm binary is (default: build)
#   OUT_PARENT  where the CSVs go, removed after each run (default: $TMPDIR
#               or /tmp); it needs about 11 GB free.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
PARENT=${2:-${TMPDIR:-/tmp}}
CVM=$BUILD/cvm
RESULTS=bench/RESULTS.md
if [ ! -x "$CVM" ]; then
    echo "bench/synth: $CVM not found; build first (make build)" >&2
    exit 1
fi
if [ ! -x /usr/bin/time ]; then
    echo "bench/synth: /usr/bin/time is missing (apt-get install time)" >&2
    exit 1
fi

MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
CORES=$(nproc)
DATE=$(date -u +%Y-%m-%d)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=""

# run N M: one timed run; appends a table row to $ROWS.
run() {
    n=$1
    m=$2
    out=$(mktemp -d "$PARENT/cvm-synth-bench.XXXXXX")
    log=$out.time
    CVM_NO_PROGRESS=1 /usr/bin/time -v "$CVM" synth --subscribers "$n" \
        --months "$m" --start 2024-01 --seed 1 --out "$out/csv" --json \
        > "$out.json" 2> "$log"
    secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$log")
    bytes=$(sed -n 's/.*"bytes": \([0-9]*\).*/\1/p' "$out.json")
    sm=$(sed -n 's/.*"subscriber_months": \([0-9]*\).*/\1/p' "$out.json")
    auc=$(sed -n 's/.*"oracle_auc": \([0-9.]*\).*/\1/p' "$out.json")
    churn=$(sed -n 's/.*"churn_rate_mean": \([0-9.]*\).*/\1/p' "$out.json")
    rm -rf "$out" "$out.json" "$log"
    mb=$((bytes / 1000000))
    rssmb=$((rss / 1024))
    churn=$(awk -v x="$churn" 'BEGIN { printf "%.2f%%", 100 * x }')
    auc=$(awk -v x="$auc" 'BEGIN { printf "%.3f", x }')
    echo "cvm synth $n x $m: $secs wall, $cpu CPU, peak RSS $rssmb MB," \
        "$mb MB written, churn $churn, oracle AUC $auc"
    ROWS="$ROWS| $n x $m | $secs | $cpu | $rssmb | $mb | $sm | $churn | $auc |
"
}

run 10000 12
run 1000000 3
run 1000000 12

ENTRY="### $DATE, $MODEL, $CORES cores

Load average before the runs: $LOAD (other jobs on the machine count).
Wall time is m:ss; peak RSS from /usr/bin/time -v; CSV plus truth files.
Memory is about 400 bytes per subscriber created (the base plus about 2.1%
of it joining each month) and nothing per month: 1M x 3 and 1M x 12 differ
only by their joiners.

| subscribers x months | wall | CPU | peak RSS (MB) | written (MB) | subscriber-months | mean monthly churn | oracle AUC |
| --- | --- | --- | --- | --- | --- | --- | --- |
$ROWS"

# Append the entry at the end of the "## cvm synth" section (created if
# missing), before the next "## " heading of another benchmark.
touch "$RESULTS"
if ! grep -q '^## cvm synth' "$RESULTS"; then
    printf '\n## cvm synth\n\n%s' "$ENTRY" >> "$RESULTS"
else
    tmp=$(mktemp)
    ENTRY="$ENTRY" awk '
        /^## / { if (insec) { printf "%s\n", ENVIRON["ENTRY"]; insec = 0; done = 1 } }
        /^## cvm synth/ { insec = 1 }
        { print }
        END { if (insec && !done) printf "\n%s", ENVIRON["ENTRY"] }
    ' "$RESULTS" > "$tmp"
    mv "$tmp" "$RESULTS"
fi
echo "bench/synth: figures appended to $RESULTS"

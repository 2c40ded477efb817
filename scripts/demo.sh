#!/bin/sh
# make demo: the product's main job on the embedded default.  Synthesize an
# operator (100,000 subscribers x 12 months, with ground truth), then run the
# monthly cycle for the last month whose outcome is loaded, from one config:
# load every CSV through the checking loader into the SQLite store, audit,
# build the customer wide tables, label, train the churn model as the
# operator could have at the end of that month, score, verify against the
# outcome, rank churn factors, segment, fit plans, build the retention list
# and write the report.
#   usage: scripts/demo.sh path/to/cvm
set -eu
CVM=${1:-build/cvm}
OUT=${DEMO_OUT:-demo-out}
N=${DEMO_SUBSCRIBERS:-100000}
MONTHS=${DEMO_MONTHS:-12}
START=${DEMO_START:-2025-01}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
t0=$(date +%s)

echo "== 1/2 synthesize $N subscribers x $MONTHS months from $START (cvm synth)"
"$CVM" synth --subscribers "$N" --months "$MONTHS" --start "$START" \
    --seed 7 --out "$OUT/csv" | tail -4

# The last month whose outcome (two months later) is in the data.
M=$(echo "$START" | awk -F- -v k="$MONTHS" '{m=$1*12+$2-1+k-3; printf "%04d-%02d", int(m/12), m%12+1}')

cat >"$OUT/cvm.yaml" <<YAML
# The demo's run configuration: every other key keeps its default
# (cvm config --defaults prints them all, with comments).
store:
  path: $OUT/cvm.db
input:
  dir: $OUT/csv
run:
  backtest_months: 2
model:
  months_back: 3
  max_train_rows: 150000
report:
  out: $OUT/report
YAML

echo
echo "== 2/2 the monthly cycle for $M (cvm run --config $OUT/cvm.yaml)"
CVM_NO_PROGRESS=1 "$CVM" run --config "$OUT/cvm.yaml" --month "$M"
t1=$(date +%s)

cat <<MSG

Done in $((t1 - t0)) s.  The store is $OUT/cvm.db; the generator's ground
truth is in $OUT/csv/truth; the run's config is $OUT/cvm.yaml (rerun it:
unchanged stages are skipped).  The report is $OUT/report/report.html
(--set report.lang=en for English); retention lists per team are beside it.
MSG

#!/bin/sh
# make demo: the product's main job on the embedded default, as far as it is
# built today: synthesize an operator, load every file into the SQLite store
# through the checking loader, and audit the store.
#   usage: scripts/demo.sh path/to/cvm
set -eu
CVM=${1:-build/cvm}
OUT=${DEMO_OUT:-demo-out}
N=${DEMO_SUBSCRIBERS:-100000}
MONTHS=${DEMO_MONTHS:-12}
START=${DEMO_START:-2025-01}
rm -rf "$OUT"
mkdir -p "$OUT"
DB=$OUT/cvm.db
t0=$(date +%s)

echo "== 1/5 synthesize $N subscribers x $MONTHS months from $START (cvm synth)"
"$CVM" synth --subscribers "$N" --months "$MONTHS" --start "$START" \
    --seed 7 --out "$OUT/csv"

echo
echo "== 2/5 load every file into $DB (cvm load: checks, rejects, one transaction per file)"
for t in $("$CVM" schema | awk '{print $1}'); do
    if [ -f "$OUT/csv/$t.csv" ]; then
        CVM_NO_PROGRESS=1 "$CVM" load --db "$DB" "$t=$OUT/csv/$t.csv" | head -1
    elif [ -d "$OUT/csv/$t" ]; then
        set --
        for f in "$OUT/csv/$t"/*.csv; do set -- "$@" "$t=$f"; done
        CVM_NO_PROGRESS=1 "$CVM" load --db "$DB" "$@" >"$OUT/load_$t.log"
        awk -v t="$t" '/rows read/ {n++; r+=$6; l+=$9; j+=$12} END {printf "%s: %d files, rows read %d = loaded %d + rejected %d\n", t, n, r, l, j}' "$OUT/load_$t.log"
    fi
done

echo
echo "== 3/5 audit the store (cvm audit)"
"$CVM" audit --db "$DB"

# The last month whose outcome (two months later) is in the store.
M=$(echo "$START" | awk -F- -v k="$MONTHS" '{m=$1*12+$2-1+k-3; printf "%04d-%02d", int(m/12), m%12+1}')
P=$(echo "$M" | awk -F- '{m=$1*12+$2-2; printf "%04d-%02d", int(m/12), m%12+1}')
echo
echo "== 4/5 the customer wide table (客户指纹) of $M and of $P, labels of $M (cvm features, cvm label)"
"$CVM" features --db "$DB" --month "$P" >/dev/null
"$CVM" features --db "$DB" --month "$M"
"$CVM" label --db "$DB" --month "$M"

echo
echo "== 5/5 churn factors of $M: information gain, IV, AUC, PSI (cvm factors)"
"$CVM" factors --db "$DB" --month "$M" --top 15
t1=$(date +%s)

cat <<MSG

Done in $((t1 - t0)) s. This demo synthesized an operator's data ($OUT/csv,
with the generator's ground truth in $OUT/csv/truth), loaded it into the
SQLite store $DB with every row checked, audited the store, built the
customer wide table of $M with churn labels verified two months later, and
ranked the churn factors.
Not yet built, so not run: the churn model, value and lifetime value,
segments, retention list and report (issues 5 to 8).
MSG

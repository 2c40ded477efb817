#!/bin/sh
# Survival bench: N subscribers (default 1,000,000) with tenure in days, a
# churn flag and four covariates drawn from a known Cox model; times
# `cvm survival km` (curves by international_plan + log-rank test) and
# `cvm survival cox` (4 covariates, Efron ties), each 3 times, reporting the
# median wall time and peak RSS; beside them, in the same run, the peer:
# Python statsmodels (SurvfuncRight + survdiff, PHReg) on the same CSV.
#   usage: bench/survival/run.sh BUILD_DIR [N]
set -eu
BUILD=${1:-build}
N=${2:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/../out}/survival_$N
mkdir -p "$OUT"
CVM=$BUILD/cvm
CSV=$OUT/subscribers.csv
export CVM_NO_PROGRESS=1

if [ ! -f "$CSV" ]; then
    echo "-- preparing: $N subscribers (not timed)"
    /usr/bin/python3 - "$CSV" "$N" <<'PY'
import sys
import numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(20240601)
intl = rng.random(n) < 0.1
vmail = rng.random(n) < 0.28
calls = rng.poisson(1.5, n)
minutes = np.round(rng.normal(180, 54, n).clip(0, 400), 1)
# True model: log hazard ratios 1.3, -0.8, 0.3, 0.009 per minute.
eta = 1.3 * intl - 0.8 * vmail + 0.3 * calls + 0.009 * (minutes - 180)
event_t = rng.exponential(1.0, n) / (np.exp(eta) / 900.0)
censor_t = rng.uniform(30, 1095, n)  # joined at different dates
t = np.minimum(event_t, censor_t)
days = np.maximum(np.ceil(t), 1).astype(np.int64)
churned = (event_t <= censor_t).astype(np.int64)
yn = np.array(["no", "yes"])
with open(path, "w") as f:
    f.write("subscriber_id,tenure_days,churned,international_plan,"
            "voice_mail_plan,service_calls,day_minutes\n")
    step = 200000
    for s in range(0, n, step):
        e = min(n, s + step)
        rows = zip(range(s + 1, e + 1), days[s:e], churned[s:e],
                   yn[intl[s:e].astype(int)], yn[vmail[s:e].astype(int)],
                   calls[s:e], minutes[s:e])
        f.write("".join("%d,%d,%d,%s,%s,%d,%.1f\n" % r for r in rows))
PY
fi
echo "== survival: $N subscribers, $(wc -c <"$CSV" | awk '{printf "%.0f MB", $1/1e6}') CSV"

# Runs "$@" 3 times under /usr/bin/time; prints the median wall time and
# peak RSS, and keeps the last stdout in $OUT/last.out.
median3() {
    : >"$OUT/times.txt"
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %M' -o "$OUT/t1.txt" "$@" >"$OUT/last.out"
        cat "$OUT/t1.txt" >>"$OUT/times.txt"
    done
    sort -n "$OUT/times.txt" | sed -n 2p |
        awk '{printf "%.2f s wall (median of 3), %d MB peak RSS\n", $1, $2/1024}'
}

KM="survival km --data $CSV --time tenure_days --event churned
    --group international_plan --at 90,365,730 --rmean 730"
COX="survival cox --data $CSV --time tenure_days --event churned
    --covariates international_plan,voice_mail_plan,service_calls,day_minutes"

echo "-- cvm survival km (by international_plan, log-rank, rmean)"
# shellcheck disable=SC2086
median3 "$CVM" $KM
sed -n '4,$p' "$OUT/last.out"
echo "-- peer: statsmodels SurvfuncRight + survdiff"
median3 /usr/bin/python3 "$HERE/peer.py" km "$CSV"
cat "$OUT/last.out"

echo "-- cvm survival cox (4 covariates, Efron)"
# shellcheck disable=SC2086
median3 "$CVM" $COX
sed -n '5,$p' "$OUT/last.out"
echo "-- peer: statsmodels PHReg (Efron)"
median3 /usr/bin/python3 "$HERE/peer.py" cox "$CSV"
cat "$OUT/last.out"

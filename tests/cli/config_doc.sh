#!/bin/sh
# docs/config.md is generated from src/config/registry.c: it must be
# current.  Also `cvm config`: --defaults checks OK and shows as the
# defaults, a bad file gives every problem with its location (exit 1),
# and --db, --month and --set override the file.
set -u
CVM=$1
DATA=$2/config
DOC=$(dirname "$0")/../../docs/config.md
fail() {
    echo "config_doc: $*"
    exit 1
}
"$CVM" config --defaults --markdown | diff -u "$DOC" - >/dev/null || {
    echo "docs/config.md is stale: run 'build/cvm config --defaults --markdown > docs/config.md'"
    "$CVM" config --defaults --markdown | diff -u "$DOC" - | head -20
    exit 1
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$CVM" config --defaults >"$TMP/d.yaml" || fail "--defaults failed"
"$CVM" config --check "$TMP/d.yaml" >"$TMP/out" || fail "the defaults do not check"
grep -q ": OK$" "$TMP/out" || fail "--check prints no OK"
"$CVM" config --show "$TMP/d.yaml" >"$TMP/a" || fail "--show FILE failed"
"$CVM" config --show >"$TMP/b" || fail "--show failed"
cmp -s "$TMP/a" "$TMP/b" || fail "--defaults does not load back to the defaults"

"$CVM" config --check "$DATA/bad.yaml" 2>"$TMP/err" >/dev/null
rc=$?
[ "$rc" -eq 1 ] || fail "--check of a bad file: exit $rc, not 1"
[ "$(grep -c "bad.yaml:" "$TMP/err")" -eq 5 ] || {
    cat "$TMP/err"
    fail "--check: not 5 problems"
}
grep -q "bad.yaml:2:8: key 'churn.gap': expected an integer 0..12, got 'abc'" \
    "$TMP/err" || fail "--check: wrong message for churn.gap"
grep -q "bad.yaml:6:3: unknown key 'model.round' (did you mean 'model.rounds'?)" \
    "$TMP/err" || fail "--check: no suggestion for model.round"
"$CVM" config --show "$DATA/bad.yaml" >/dev/null 2>&1 && fail "--show of a bad file succeeded"

"$CVM" config --show "$DATA/valid.yaml" --db other.db --month 2024-07 \
    --set churn.gap=3 --set 'reasons.other=black_listed' >"$TMP/s" ||
    fail "--show with overrides failed"
grep -q '^  path: other.db$' "$TMP/s" || fail "--db not applied"
grep -q '^  month: "2024-07"$' "$TMP/s" || fail "--month not applied"
grep -q '^  gap: 3$' "$TMP/s" || fail "--set not applied"
grep -q '^  suspend_days: 10$' "$TMP/s" || fail "the file was not applied"
grep -q '^  other: \[black_listed\]$' "$TMP/s" || fail "map entry not set"
h1=$("$CVM" config --show "$TMP/s" --hash) || fail "--hash failed"
h2=$("$CVM" config --show "$DATA/valid.yaml" --db other.db --month 2024-07 \
    --set churn.gap=3 --set 'reasons.other=black_listed' --hash)
[ "$h1" = "$h2" ] || fail "the shown config does not load back to the same hash"
echo "$h1" | grep -Eq '^[0-9a-f]{16}$' || fail "--hash: '$h1'"

"$CVM" config --show --set churn.gap=99 2>"$TMP/err" >/dev/null
[ $? -eq 1 ] || fail "a bad --set did not fail"
grep -q "churn.gap" "$TMP/err" || fail "a bad --set: no message"
"$CVM" config >/dev/null 2>&1
[ $? -eq 2 ] || fail "no mode: not a usage error"
"$CVM" config --check >/dev/null 2>&1
[ $? -eq 2 ] || fail "--check without FILE: not a usage error"
echo "config doc ok"

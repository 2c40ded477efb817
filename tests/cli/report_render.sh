#!/bin/sh
# cvm report: renders the report of a small synthetic store in Chinese and
# English, checks every section is in the page and the --json inventory,
# then, if Debian's chromium is installed, takes a headless screenshot of
# each page and checks the PNG is there and not trivial (> 20 kB).  Skips
# (77) when /usr/bin/chromium is missing (scripts/deps.sh test installs
# it).  Set CVM_REPORT_SHOTS=DIR to keep the pages and screenshots.
set -u
CVM=$1
tmp=$(mktemp -d /tmp/cvm_report_render.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
db=$tmp/s.db
step() { # description, command...
    desc=$1
    shift
    if ! "$@" >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL: $desc"; cat "$tmp/err"
        exit 1
    fi
}
step synth "$CVM" synth --subscribers 1500 --months 9 --start 2024-01 \
    --seed 11 --db "$db" --no-truth
step train "$CVM" churn train --db "$db" --month 2024-05 --model "$tmp/m.bin"
step score "$CVM" churn score --db "$db" --month 2024-09 --model "$tmp/m.bin"
step eval "$CVM" churn eval --db "$db" --month 2024-07 --model "$tmp/m.bin"
step backtest "$CVM" churn backtest --db "$db" --from 2024-06 --to 2024-07
step factors "$CVM" factors --db "$db" --month 2024-07
# Later stages when their commands work; their sections say "not run" else.
"$CVM" segment kmeans --db "$db" --month 2024-09 --k 4 >/dev/null 2>&1
"$CVM" segment needs --db "$db" --month 2024-09 >/dev/null 2>&1
"$CVM" segment rules --db "$db" --month 2024-09 >/dev/null 2>&1
"$CVM" planfit --db "$db" --month 2024-09 >/dev/null 2>&1
"$CVM" value --db "$db" --month 2024-09 >/dev/null 2>&1
"$CVM" retention --db "$db" --month 2024-09 >/dev/null 2>&1

for lang in zh en; do
    step "report $lang" "$CVM" report --db "$db" --month 2024-09 \
        --out "$tmp/$lang" --lang "$lang" --json
    page=$tmp/$lang/report.html
    [ -s "$page" ] || { echo "FAIL: $lang: no report.html"; fail=1; continue; }
    grep -q '"sections"' "$tmp/out" || { echo "FAIL: $lang: no inventory"; fail=1; }
    for id in audit churn-model churn-eval churn-factors churn-backtest value \
        survival segments-kmeans segments-needs segments-rules planfit \
        retention; do
        grep -q "<section class=\"sec\" id=\"sec-$id\"" "$page" ||
            { echo "FAIL: $lang: section $id missing"; fail=1; }
    done
    if grep -q '<script' "$page"; then
        echo "FAIL: $lang: the page has a script"; fail=1
    fi
    ls "$tmp/$lang" | grep -v '^report.html$' >/dev/null &&
        { echo "FAIL: $lang: stray files in the output"; fail=1; }
done
grep -q '各十分位提升度' "$tmp/zh/report.html" || { echo "FAIL: zh headings"; fail=1; }
grep -q 'Lift by decile' "$tmp/en/report.html" || { echo "FAIL: en headings"; fail=1; }
[ $fail -eq 0 ] || exit 1

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
    echo "report render ok; screenshot skipped: $CHROMIUM not installed"
    exit 77
fi
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    echo "warning: no Chinese font: the zh page shows boxes" \
        "(install fonts-wqy-microhei)"
fi
for lang in zh en; do
    png=$tmp/$lang.png
    timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --hide-scrollbars --user-data-dir="$tmp/chrome" \
        --screenshot="$png" --window-size=1280,4000 \
        "file://$tmp/$lang/report.html" >"$tmp/chrome.log" 2>&1
    if [ ! -s "$png" ]; then
        echo "FAIL: $lang: no screenshot"; tail -5 "$tmp/chrome.log"
        fail=1; continue
    fi
    size=$(wc -c <"$png")
    [ "$size" -gt 20000 ] || { echo "FAIL: $lang: screenshot of $size bytes"; fail=1; }
    head -c 8 "$png" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$' ||
        { echo "FAIL: $lang: not a PNG"; fail=1; }
done
if [ -n "${CVM_REPORT_SHOTS:-}" ]; then
    mkdir -p "$CVM_REPORT_SHOTS"
    for lang in zh en; do
        cp "$tmp/$lang/report.html" "$CVM_REPORT_SHOTS/report_$lang.html"
        cp "$tmp/$lang.png" "$CVM_REPORT_SHOTS/report_$lang.png" 2>/dev/null
    done
fi
[ $fail -eq 0 ] && echo "report render ok (screenshots $(wc -c <"$tmp/zh.png") and $(wc -c <"$tmp/en.png") bytes)"
exit $fail

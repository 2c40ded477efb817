#!/bin/sh
# Installs the Debian packages cvm needs to build, test and run.
# Idempotent and fast: dpkg-query decides what is missing; apt-get runs only
# then (with one `apt-get update` first, since a fresh machine's lists may be
# stale).  Usage: scripts/deps.sh [build|test|bench]
set -eu
want="cmake make gcc pkg-config libsqlite3-dev sqlite3 libcsv-dev libjansson-dev
libyaml-dev libcmocka-dev libxgboost-dev liblinear-dev libigraph-dev"
case "${1:-build}" in
test) want="$want clang libclang-rt-14-dev valgrind chromium fonts-wqy-microhei" ;;
bench) want="$want clang libclang-rt-14-dev python3-pandas python3-sklearn python3-xgboost python3-statsmodels time bc" ;;
esac
missing=""
for p in $want; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2

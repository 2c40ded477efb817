#!/bin/sh
# Runs every benchmark; each prints its figures (copy them, with the machine
# and date, into bench/RESULTS.md).   usage: bench/run.sh BUILD_DIR
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
cmake -S "$HERE/.." -B "$BUILD" -DCVM_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d)"
for b in "$HERE"/*/run.sh; do
    echo
    sh "$b" "$BUILD"
done

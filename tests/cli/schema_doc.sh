#!/bin/sh
# docs/schema.md is generated from src/io/schema.c: it must be current.
set -u
CVM=$1
DOC=$(dirname "$0")/../../docs/schema.md
"$CVM" schema --markdown | diff -u "$DOC" - >/dev/null || {
    echo "docs/schema.md is stale: run 'build/cvm schema --markdown > docs/schema.md'"
    "$CVM" schema --markdown | diff -u "$DOC" - | head -20
    exit 1
}
"$CVM" schema --json | /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin); assert len(t)>=17, len(t)' 2>/dev/null || {
    # python3 may be absent on a minimal machine: fall back to a grep
    "$CVM" schema --json | grep -q '"name": "contact_lists"' || { echo "schema --json"; exit 1; }
}
echo "schema doc ok"

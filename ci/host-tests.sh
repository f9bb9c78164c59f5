#!/bin/bash
# Stage "host-tests": run each tests/host/*.t (a TAP producer that checks a
# piece of the harness on the host) into build/results/host/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$RESULTS/host
rm -rf "$OUT"
mkdir -p "$OUT"
for t in "$TOP"/tests/host/*.t; do
	name=$(basename "$t" .t)
	rc=0
	"$t" >"$OUT/$name.tap" 2>"$OUT/$name.err" || rc=$?
	[ "$rc" -eq 0 ] || echo "not ok 999 $name.exit # exited $rc: $(tail -n1 "$OUT/$name.err")" >>"$OUT/$name.tap"
	log "$name: $(grep -c '^ok ' "$OUT/$name.tap" || true) ok, $(grep -c '^not ok ' "$OUT/$name.tap" || true) not ok"
done

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
	# The plan (first or last line) must count the results: a test that
	# stopped early, or a plan left behind when checks were added, fails.
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$OUT/$name.tap")
	results=$(grep -cE '^(not )?ok ' "$OUT/$name.tap" || true)
	[ "$plan" = "$results" ] || [ "$rc" -ne 0 ] ||
		echo "not ok 998 $name.plan # plan 1..${plan:-none}, $results results" >>"$OUT/$name.tap"
	log "$name: $(grep -c '^ok ' "$OUT/$name.tap" || true) ok, $(grep -c '^not ok ' "$OUT/$name.tap" || true) not ok"
done

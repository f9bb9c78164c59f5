#!/bin/bash
# ci/timed.sh records each stage's wall time and passes its exit status on;
# ci/report.sh --stages prints the stage table (every stage, in the order
# they started, failed ones marked, and the total) before the count line,
# which stays last, and exits as it does without --stages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ci=$here/../../ci
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export BUILD=$tmp/build

n=0
result() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n stage_times.$1"
	else
		echo "not ok $n stage_times.$1"
		sed 's/^/# /' "$tmp/out"
	fi
}

echo "TAP version 13"
echo "1..6"
mkdir -p "$BUILD/results/x"
printf 'TAP version 13\n1..2\nok 1 a\nok 2 b # SKIP why\n' >"$BUILD/results/x/a.tap"
date +%s >"$BUILD/stage-times.tsv"
"$ci/timed.sh" first sleep 1 >"$tmp/out" 2>&1
rc=0
"$ci/timed.sh" second sh -c 'exit 3' >>"$tmp/out" 2>&1 || rc=$?
result passes_exit_status '[ "$rc" -eq 3 ]'
# Wall times as whole seconds; a loaded host (CI runs this beside kernel
# builds) may take longer than the command's own second, never less.
result logs_wall_time 'grep -qxE "\[first\] stage ended after [1-9][0-9]*s" "$tmp/out" &&
	grep -qxE "\[second\] stage failed \(exit 3\) after [0-9]+s" "$tmp/out"'

rc=0
"$ci/report.sh" --stages "$BUILD/stage-times.tsv" "$BUILD/results" >"$tmp/out" 2>&1 || rc=$?
result count_last '[ "$(tail -n1 "$tmp/out")" = "1 passed, 0 failed, 1 skipped" ] && [ "$rc" -eq 0 ]'
result table_in_start_order 'grep -A4 "^stage  *start  *wall  *status$" "$tmp/out" | sed 1d |
	awk "{print \$1}" | paste -sd, | grep -qx "first,second,total,1"'
result failed_stage_marked 'grep -qE "^second  +[0-9]+s +[0-9]+s  FAILED \(exit 3\)$" "$tmp/out"'

"$ci/report.sh" "$BUILD/results" >"$tmp/out" 2>&1 || true
result no_table_without_stages '! grep -q "^stage " "$tmp/out"'

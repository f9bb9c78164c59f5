#!/bin/bash
# Stage "report": count every TAP result under the given directories, print
# each result with its file (PASS, FAIL, SKIP), and end with the line
# "N passed, N failed, N skipped". Exits 1 if anything failed or nothing ran.
# With --stages, the table of stage times that ci/timed.sh recorded comes
# before the count: each stage's start (from the run's start, the file's
# first line), wall time and status, and the run's total.
# Usage: report.sh [--stages FILE] DIR...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

stage_table() {
	local t0 now
	t0=$(sed -n 1p "$1")
	now=$(date +%s)
	printf '%-18s %7s %7s  %s\n' stage start wall status
	sed 1d "$1" | sort -t$'\t' -k2,2n -k3,3n | awk -F'\t' -v t0="$t0" '
	{ printf "%-18s %6ds %6ds  %s\n", $1, $2 - t0, $3 - $2, $4 ? "FAILED (exit " $4 ")" : "ok" }'
	printf '%-18s %7s %6ds  %dm%02ds\n' total '' "$((now - t0))" "$(((now - t0) / 60))" "$(((now - t0) % 60))"
}

stages=
if [ "${1:-}" = --stages ]; then
	stages=$2
	shift 2
fi

mapfile -t files < <(find "$@" -name '*.tap' -type f | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || die "no TAP results under $*"

rc=0
out=$(awk '
FNR == 1 { where = FILENAME; sub(".*/results/", "", where) }
/^ok [0-9]+/ && / # [Ss][Kk][Ii][Pp]/ { skipped++; print "SKIP " where ": " $0; next }
/^ok [0-9]+/ { passed++; print "PASS " where ": " $0; next }
/^not ok [0-9]+/ { failed++; print "FAIL " where ": " $0; next }
END {
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit (failed > 0 || passed == 0)
}
' "${files[@]}") || rc=$?
# The count stays the last line.
sed '$d' <<<"$out"
[ -z "$stages" ] || [ ! -s "$stages" ] || stage_table "$stages"
tail -n1 <<<"$out"
exit "$rc"

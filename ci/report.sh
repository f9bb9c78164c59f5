#!/bin/bash
# Stage "report": count every TAP result under the given directories, print
# each result with its file (PASS, FAIL, SKIP), and end with the line
# "N passed, N failed, N skipped". Exits 1 if anything failed or nothing ran.
# Usage: report.sh DIR...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mapfile -t files < <(find "$@" -name '*.tap' -type f | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || die "no TAP results under $*"

awk '
FNR == 1 { where = FILENAME; sub(".*/results/", "", where) }
/^ok [0-9]+/ && / # [Ss][Kk][Ii][Pp]/ { skipped++; print "SKIP " where ": " $0; next }
/^ok [0-9]+/ { passed++; print "PASS " where ": " $0; next }
/^not ok [0-9]+/ { failed++; print "FAIL " where ": " $0; next }
END {
	printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	exit (failed > 0 || passed == 0)
}
' "${files[@]}"

#!/bin/bash
# Stage "series-lint": the cheap checks, on the text of the patches alone,
# before anything is fetched or built. `series` lists existing files and
# every numbered patch beside it; each listed patch is git format-patch
# output, "[PATCH i/N]" in series order, From: and Signed-off-by: the
# series' identity, with a message body (not just trailers) and a diffstat;
# the cover letter is "[PATCH 0/N]" and names its base-commit. Every problem
# is one line naming the patch file; the results, one TAP line per patch,
# go to $REVIEW_TAP_DIR/series-lint.tap.
# Usage: series-lint.sh [DIR]   (DIR holds `series` and its patches;
#        default: the stack's. ci/review-selftest.sh runs it on broken copies.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DIR=$(cd "${1:-$PATCH_DIR}" && pwd)
TAP_DIR=${REVIEW_TAP_DIR:-$RESULTS/review}
IDENT="$SERIES_NAME <$SERIES_EMAIL>"
COVER=0000-cover-letter.patch

[ -f "$DIR/series" ] || die "no series file in $DIR"
mapfile -t PATCHES < <(series_patches "$DIR/series")
N=${#PATCHES[@]}
[ "$N" -gt 0 ] || die "$DIR/series lists no patches"

# The header block of a mail (up to the first empty line), folded lines
# joined, as format-patch folds a long Subject.
headers() {
	awk '/^$/ { exit } /^[ \t]/ { sub(/^[ \t]+/, " "); h = h $0; next }
		{ if (h != "") print h; h = $0 } END { if (h != "") print h }' "$1"
}

# The commit message: after the headers, up to the "---" before the diffstat.
message() {
	awk 'body && /^---$/ { exit } body { print } /^$/ { body = 1 }' "$1"
}

# Problems with one patch file, a line each; nothing when it is good.
# Usage: lint FILE NUMBER   (NUMBER 0: the cover letter)
lint() {
	local f=$1 i=$2 hdr msg subj num tot
	[[ $(head -n1 "$f") =~ ^From\ [0-9a-f]{40}\ Mon\ Sep\ 17\ 00:00:00\ 2001$ ]] ||
		echo "not git format-patch output (no 'From <sha1> Mon Sep 17 00:00:00 2001' first line)"
	hdr=$(headers "$f")
	grep -qxF "From: $IDENT" <<<"$hdr" || echo "From: is not '$IDENT'"
	subj=$(sed -n 's/^Subject: //p' <<<"$hdr")
	if [[ $subj =~ ^\[PATCH\ ([0-9]+)/([0-9]+)\]\ [^[:space:]] ]]; then
		num=$((10#${BASH_REMATCH[1]})) tot=$((10#${BASH_REMATCH[2]}))
		[ "$num" -eq "$i" ] && [ "$tot" -eq "$N" ] ||
			echo "Subject says [PATCH $num/$tot], but series puts it at $i/$N"
	else
		echo "Subject is not '[PATCH i/N] subsystem: summary': '$subj'"
	fi
	msg=$(message "$f")
	# One awk, not a pipe into grep -q: under pipefail, grep -q quitting
	# at its first match can SIGPIPE the writer and fail a good patch.
	awk '!/^[A-Za-z-]+: .*<.*@.*>$/ && /[[:alnum:]]/ { found = 1; exit }
		END { exit !found }' <<<"$msg" ||
		echo "no message body: say what the patch does and why"
	grep -qE '^ [0-9]+ files? changed' "$f" || echo "no diffstat"
	if [ "$i" -eq 0 ]; then
		grep -qE '^base-commit: [0-9a-f]{40}$' "$f" || echo "no 'base-commit: <sha1>' line"
		grep -qxF "$SERIES_NAME ($N):" "$f" ||
			echo "no shortlog '$SERIES_NAME ($N):' of the $N patches in series"
	else
		grep -qxF "Signed-off-by: $IDENT" <<<"$msg" ||
			echo "no 'Signed-off-by: $IDENT' in the commit message"
		grep -q '^diff --git ' "$f" || echo "no diff"
	fi
}

mkdir -p "$TAP_DIR"
bad=0
for ((i = 0; i <= N; i++)); do
	if [ "$i" -eq 0 ]; then p=$COVER; else p=${PATCHES[i - 1]}; fi
	if [ ! -f "$DIR/$p" ]; then
		problems="series lists it, but there is no $p beside it"
		[ "$i" -gt 0 ] || problems="no cover letter $COVER beside series"
	else
		problems=$(lint "$DIR/$p" "$i")
	fi
	patch_checked series_lint "$p" "$problems" || bad=$((bad + 1))
done

# A numbered patch that `series` leaves out is applied by neither git am of
# the list nor quilt, yet would be mailed: name it.
for f in "$DIR"/[0-9][0-9][0-9][0-9]-*.patch; do
	p=$(basename "$f")
	[ "$p" != "$COVER" ] || continue
	[[ " ${PATCHES[*]} " == *" $p "* ]] && continue
	patch_checked series_lint "$p" "beside series but not listed in it" || bad=$((bad + 1))
done
tap_write "$TAP_DIR/series-lint.tap"
[ "$bad" -eq 0 ] || die "$bad patch files with problems (above)"
log "$N patches and the cover letter: numbered in series order, From: and Signed-off-by: $IDENT, message and diffstat present"

#!/bin/bash
# Stage "checkpatch": scripts/checkpatch.pl --strict from the stack's base
# tree on every patch in its series, run inside build/STACK/linux so that
# cited commit ids are looked up. A message fails the stage unless
# MAINTAINERS-notes keeps its type for that patch (the "TYPE ...: NNNN ..."
# lines of the section "checkpatch --strict (STACK)", each with the
# reason); a kept type that no longer appears fails
# too, so the notes stay true. One TAP line per patch in
# $REVIEW_TAP_DIR/checkpatch.tap.
# Usage: checkpatch.sh [DIR]   (DIR holds `series` and its patches; default:
#        the stack's. The kept list is always the repo's MAINTAINERS-notes.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DIR=$(cd "${1:-$PATCH_DIR}" && pwd)
TAP_DIR=${REVIEW_TAP_DIR:-$RESULTS/review}
NOTES=$TOP/MAINTAINERS-notes
CHECKPATCH=$SRC/scripts/checkpatch.pl

[ -f "$CHECKPATCH" ] || die "no $CHECKPATCH: run ci/tree.sh first"
mapfile -t PATCHES < <(series_patches "$DIR/series")

# "NNNN TYPE" for every type the notes keep, from lines such as
# "BIT_MACRO COMPLEX_MACRO: 0001 0006" in the checkpatch section.
kept=$(awk -v head="checkpatch --strict ($STACK)" 'index($0, head) == 1 { on = 1; next }
	/^-+$/ && on == 1 { on = 2; next }
	/^-+$/ && on == 2 { exit }
	on && /^[A-Z_]+( [A-Z_]+)*: [0-9][0-9][0-9][0-9]( [0-9][0-9][0-9][0-9])*$/ {
		split($0, half, ": "); nt = split(half[1], t, " "); np = split(half[2], p, " ")
		for (i = 1; i <= nt; i++) for (j = 1; j <= np; j++) print p[j], t[i]
	}' "$NOTES")
[ -n "$kept" ] || die "no 'TYPE: patch numbers' lines in the section 'checkpatch --strict ($STACK)' of $NOTES"

mkdir -p "$TAP_DIR"
bad=0
for p in "${PATCHES[@]}"; do
	[ -f "$DIR/$p" ] || die "series lists $p, but there is no $p beside it"
	nr=${p%%-*}
	# checkpatch exits 1 on any message; its output is what counts here.
	out=$(cd "$SRC" && perl "$CHECKPATCH" --strict --terse --show-types --no-summary \
		"$DIR/$p" 2>&1) || true
	problems=$(
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			type=$(sed -nE 's/^[^:]*:[0-9]+: [A-Z]+:([A-Z_0-9]+): .*/\1/p' <<<"$line")
			if [ -z "$type" ]; then
				echo "checkpatch: ${line#"$DIR/"}"
			elif ! grep -qxF "$nr $type" <<<"$kept"; then
				echo "${line#"$DIR/$p:"} (not kept in MAINTAINERS-notes)"
			fi
		done <<<"$out"
		for type in $(awk -v nr="$nr" '$1 == nr { print $2 }' <<<"$kept"); do
			grep -q ": [A-Z]*:$type: " <<<"$out" ||
				echo "MAINTAINERS-notes keeps $type for $nr, but checkpatch no longer reports it"
		done
	)
	patch_checked checkpatch "$p" "$problems" || bad=$((bad + 1))
done
tap_write "$TAP_DIR/checkpatch.tap"
[ "$bad" -eq 0 ] || die "$bad patches with checkpatch messages not kept in MAINTAINERS-notes (above)"
log "checkpatch --strict: ${#PATCHES[@]} patches clean but for the types MAINTAINERS-notes keeps"

#!/bin/bash
# Stage "review-selftest": prove the review checks go red. Copies the
# stack's series and patches to scratch directories, breaks its last patch
# in each copy the way a mail or an edit breaks it, and runs the checks on
# the copy:
#   none                 (the control) series-lint, checkpatch and apply pass
#   no_signoff           series-lint and checkpatch fail
#   trailing_whitespace  apply (git am --whitespace=error) and checkpatch fail
#   bad_hunk             apply fails (git am and quilt)
# A failing check must say which patch broke: its message names the file.
# TAP in build/results/STACK/review/review-selftest.tap.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

WORK=$SBUILD/review-selftest
OUT=$RESULTS/review
VICTIM=$(series_patches | tail -n1)
[ -n "$VICTIM" ] || die "$PATCH_DIR/series lists no patches"

# A copy of the series with patch VICTIM broken by CASE; prints its path.
broken_copy() {
	local dir=$WORK/$1 f
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -L "$PATCH_DIR/series" "$PATCH_DIR"/*.patch "$dir/"
	f=$dir/$VICTIM
	case $1 in
	none) ;;
	no_signoff) sed -i '/^Signed-off-by:/d' "$f" ;;
	# Trailing blanks on the first added line.
	trailing_whitespace) sed -i '0,/^+[^+]/s/^+[^+].*/&  /' "$f" ;;
	# The first context line of the first hunk no longer matches the base.
	bad_hunk) sed -i '0,/^@@ /b; 0,/^ /s/^ .*/& not in the base/' "$f" ;;
	esac
	if [ "$1" != none ] && cmp -s "$PATCH_DIR/$VICTIM" "$f"; then
		die "case $1 left $VICTIM unchanged"
	fi
	echo "$dir"
}

# Run CHECK (a ci/ script) on the copy for CASE, expecting it to pass (OK)
# or to fail naming the victim (FAIL).
expect() {
	local case=$1 script=$2 want=$3 dir rc=0 err name=review_selftest.$1.$2
	dir=$WORK/$case
	err=$(REVIEW_TAP_DIR=$dir/tap APPLY_WORK=$dir/apply "$TOP/ci/$script.sh" "$dir" 2>&1 >/dev/null) || rc=$?
	if [ "$want" = OK ] && [ "$rc" -eq 0 ]; then
		check OK "$name"
	elif [ "$want" = OK ]; then
		check FAIL "$name # failed on an unbroken copy: $(grep -m1 ERROR <<<"$err")"
	elif [ "$rc" -eq 0 ]; then
		check FAIL "$name # passed although $VICTIM is broken ($case)"
	elif grep -q "^ERROR \[$script\]: .*$VICTIM" <<<"$err"; then
		check OK "$name # fails naming the patch: $(grep -m1 "$VICTIM" <<<"$err" | cut -c1-160)"
	else
		check FAIL "$name # failed without naming $VICTIM: $(grep -m1 ERROR <<<"$err")"
	fi
	log "$case: $script exits $rc${err:+: $(grep -m1 ERROR <<<"$err" | cut -c1-160)}"
}

rm -rf "$WORK"
mkdir -p "$OUT"
for c in none no_signoff trailing_whitespace bad_hunk; do broken_copy "$c" >/dev/null; done
expect none series-lint OK
expect none checkpatch OK
expect none apply OK
expect no_signoff series-lint FAIL
expect no_signoff checkpatch FAIL
expect trailing_whitespace apply FAIL
expect trailing_whitespace checkpatch FAIL
expect bad_hunk apply FAIL
tap_write "$OUT/review-selftest.tap"
! grep -q '^not ok' "$OUT/review-selftest.tap" || die "the review checks do not catch every broken patch: see $OUT/review-selftest.tap"

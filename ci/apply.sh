#!/bin/bash
# Stage "apply": the series applies to the pristine base the three ways a
# user or maintainer takes it, and all three give the same tree:
#   git am      each patch in `series` order, --whitespace=error;
#   quilt       push -a --fuzz=0 with `series`;
#   b4 am       on an mbox made from the cover letter and the patches as a
#               mailing list would carry them (offline: -m), then git am of
#               the mbox b4 prepares; b4 must also find the cover letter's
#               base-commit in the tree.
# Each starts from tag "base" in a scratch worktree of build/STACK/linux (logs in
# $APPLY_WORK). Every failure names the patch. With APPLY_BRANCH set, the
# git am result is stored as that branch (ci/tree.sh: "patched"). One TAP
# line per check in $REVIEW_TAP_DIR/apply.tap.
# Usage: apply.sh [DIR]   (DIR holds `series` and its patches; default: the
#        stack's)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DIR=$(cd "${1:-$PATCH_DIR}" && pwd)
TAP_DIR=${REVIEW_TAP_DIR:-$RESULTS/review}
WORK=$(realpath -m "${APPLY_WORK:-$SBUILD/apply}")
COVER=$DIR/0000-cover-letter.patch
git_identity
# A fixed committer date: the same series gives the same commit ids.
export GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"

BASE=$(git -C "$SRC" rev-parse -q --verify 'base^{commit}') || die "no tag base in $SRC: run ci/tree.sh first"
mapfile -t PATCHES < <(series_patches "$DIR/series")
[ "${#PATCHES[@]}" -gt 0 ] || die "$DIR/series lists no patches"
for p in "${PATCHES[@]}"; do
	[ -f "$DIR/$p" ] || die "series lists $p, but there is no $p beside it"
done
[ -f "$COVER" ] || die "no cover letter $COVER"

# One scratch worktree of build/STACK/linux, kept between runs: resetting it to
# base rewrites only the files the series touches, where a fresh worktree
# would check out the whole kernel for each method.
WT=$SBUILD/apply-wt
if [ "$(git -C "$WT" rev-parse -q --verify 'base^{commit}' 2>/dev/null)" != "$BASE" ]; then
	rm -rf "$WT"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$WT" base
fi
at_base() {
	git -C "$WT" am --abort >/dev/null 2>&1 || true
	git -C "$WT" checkout -q -f --detach base
	git -C "$WT" clean -q -fdx
}

# Record one check; on failure also print it, naming what broke.
result() {
	if [ "$1" = OK ]; then
		check OK "apply.$2"
		log "$2: ${3:-ok}"
	else
		check FAIL "apply.$2 # $3"
		printf 'ERROR [%s]: %s: %s\n' "$STAGE" "$2" "$3" >&2
		bad=$((bad + 1))
	fi
}

# The cover letter and patches as one mbox thread, the way git send-email
# would post them: a Message-Id on each, the patches in reply to the cover.
# Folded header lines are unfolded (an equivalent form): b4 0.12 fails on
# format-patch's folded Subject with "Header values may not contain
# linefeed".
make_mbox() {
	local n=0 f domain=${SERIES_EMAIL#*@}
	for f in "$COVER" "${PATCHES[@]/#/$DIR/}"; do
		awk -v id="<dio-series.$n@$domain>" -v parent="<dio-series.0@$domain>" -v n="$n" '
			NR == 1 { print; next }
			!body && /^[ \t]/ { sub(/^[ \t]+/, " "); h = h $0; next }
			!body && /^$/ {
				print h; print "Message-Id: " id
				if (n > 0) { print "In-Reply-To: " parent; print "References: " parent }
				body = 1
			}
			!body { if (h != "") print h; h = $0; next }
			{ print }' "$f"
		echo
		n=$((n + 1))
	done
}

rm -rf "$WORK"
mkdir -p "$WORK" "$TAP_DIR"
bad=0

cover_base=$(sed -n 's/^base-commit: //p' "$COVER")
if [ "$cover_base" = "$BASE" ]; then
	result OK cover_base_commit "the cover letter's base-commit is tag base, $BASE"
else
	result FAIL cover_base_commit "0000-cover-letter.patch: base-commit '${cover_base:-none}', but the base is $BASE"
fi

at_base
am_tree=
for p in "${PATCHES[@]}"; do
	if ! git -C "$WT" am -q --whitespace=error "$DIR/$p" >"$WORK/am.log" 2>&1; then
		result FAIL git_am "$p does not apply with git am: $(grep -m1 -iE 'error|fail|trailing' "$WORK/am.log" | sed 's|^.*/rebase-apply/patch:|patch line |')"
		break
	fi
done
if [ "$(git -C "$WT" rev-list --count base..HEAD)" -eq "${#PATCHES[@]}" ]; then
	am_tree=$(git -C "$WT" rev-parse 'HEAD^{tree}')
	result OK git_am "${#PATCHES[@]} patches, HEAD $(git -C "$WT" rev-parse --short HEAD)"
	[ -z "${APPLY_BRANCH:-}" ] || git -C "$SRC" branch -f "$APPLY_BRANCH" "$(git -C "$WT" rev-parse HEAD)"
fi

at_base
quilt_tree=
if (cd "$WT" && QUILT_PATCHES=$DIR QUILT_SERIES=$DIR/series \
	quilt push -a -q --fuzz=0) >"$WORK/quilt.log" 2>&1; then
	rm -rf "$WT/.pc"
	git -C "$WT" add -A
	quilt_tree=$(git -C "$WT" write-tree)
	result OK quilt_push "quilt push -a --fuzz=0"
else
	result FAIL quilt_push "quilt push -a fails at $(grep -o 'Applying patch .*' "$WORK/quilt.log" | tail -n1 | sed 's|.*/||'): $(grep -v '^Applying patch' "$WORK/quilt.log" | grep -m1 -iE 'fail|error|fuzz|reject|not apply')"
fi

at_base
b4_tree=
make_mbox >"$WORK/series.mbox"
mkdir -p "$WORK/b4-out"
if ! (cd "$WT" && b4 am -C -m "$WORK/series.mbox" -o "$WORK/b4-out" \
	"dio-series.0@${SERIES_EMAIL#*@}") >"$WORK/b4.log" 2>&1; then
	result FAIL b4_am "b4 am fails on the series mbox: $(grep -m1 -iE 'error|warn' "$WORK/b4.log" || tail -n1 "$WORK/b4.log")"
elif ! grep -qF "Base: using specified base-commit $BASE" "$WORK/b4.log"; then
	result FAIL b4_am "b4 does not find the cover letter's base-commit in the tree: $(grep -m1 'Base:' "$WORK/b4.log")"
elif ! git -C "$WT" am -q --whitespace=error "$WORK"/b4-out/*.mbx >"$WORK/b4-am.log" 2>&1; then
	result FAIL b4_am "git am of b4's mbox: $(grep -m1 -E '^Patch failed at' "$WORK/b4-am.log" || grep -m1 -iE 'error' "$WORK/b4-am.log")"
else
	b4_tree=$(git -C "$WT" rev-parse 'HEAD^{tree}')
	result OK b4_am "b4 am found base-commit $BASE; its mbox applies with git am"
fi

if [ -n "$am_tree" ] && [ "$am_tree" = "$quilt_tree" ] && [ "$am_tree" = "$b4_tree" ]; then
	result OK same_tree "git am, quilt and b4 am all give tree $am_tree"
elif [ -n "$am_tree" ] && [ -n "$quilt_tree" ] && [ -n "$b4_tree" ]; then
	result FAIL same_tree "trees differ: git am $am_tree, quilt $quilt_tree, b4 am $b4_tree"
else
	result FAIL same_tree "not compared: a method above failed"
fi

at_base
tap_write "$TAP_DIR/apply.tap"
[ "$bad" -eq 0 ] || die "$bad apply checks failed (above; logs in $WORK)"

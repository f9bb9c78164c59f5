#!/bin/bash
# Stage "tree": unpack the pinned base into build/linux, commit it as the first
# commit (tag "base"; fixed identity and date, so its id is reproducible), then
# apply `series` there with `git am` (branch "patched") and, in a scratch
# worktree, with `quilt push -a`; both must give the same tree. The base's
# uapi headers are installed in build/uapi for the guest tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TARBALL=$CACHE/base/$BASE_TARBALL
git_identity
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"

[ -f "$TARBALL" ] || die "no base tarball at $TARBALL: run ci/base.sh first"

unpack() {
	log "unpacking $BASE_TARBALL into $SRC"
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xf "$TARBALL" -C "$SRC" --strip-components=1
	git -C "$SRC" init -q -b patched
	git -C "$SRC" config core.autocrlf false
	git -C "$SRC" add -A
	git -C "$SRC" commit -q -m "Linux $BASE_VERSION base" \
		-m "Debian $BASE_PACKAGE $BASE_VERSION, $BASE_TARBALL, sha256 $BASE_SHA256"
	git -C "$SRC" tag base
}

# Reuse an unpacked base when it is the pinned one; the patched branch is
# always rebuilt from it.
if [ "$(git -C "$SRC" log -1 --format=%b base 2>/dev/null)" != \
	"Debian $BASE_PACKAGE $BASE_VERSION, $BASE_TARBALL, sha256 $BASE_SHA256" ]; then
	unpack
fi
git -C "$SRC" am --abort >/dev/null 2>&1 || true
git -C "$SRC" checkout -q -f -B patched base
git -C "$SRC" clean -q -fdx
log "base commit $(git -C "$SRC" rev-parse base) ($BASE_PACKAGE $BASE_VERSION)"

# The guest tests build against the base tree's uapi headers.
rm -rf "$BUILD/uapi"
kmake -s O="$BUILD/obj/uapi" INSTALL_HDR_PATH="$BUILD/uapi" headers_install >"$BUILD/uapi.log" 2>&1 ||
	die "make headers_install failed: see $BUILD/uapi.log"

mapfile -t PATCHES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/series" | awk '{print $1}')
for p in "${PATCHES[@]}"; do
	[ -f "$TOP/patches/$p" ] || die "series lists $p, but patches/$p does not exist"
	if ! git -C "$SRC" am -q --whitespace=error "$TOP/patches/$p" >"$BUILD/am.log" 2>&1; then
		git -C "$SRC" am --abort >/dev/null 2>&1 || true
		die "patch $p does not apply with git am: $(grep -m1 -E 'error|fail' "$BUILD/am.log")"
	fi
done
log "git am: ${#PATCHES[@]} patches applied, patched at $(git -C "$SRC" rev-parse --short HEAD)"

if [ "${#PATCHES[@]}" -gt 0 ]; then
	QDIR=$BUILD/quilt-check
	git -C "$SRC" worktree remove -f "$QDIR" >/dev/null 2>&1 || rm -rf "$QDIR"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$QDIR" base
	if ! (cd "$QDIR" && QUILT_PATCHES=$TOP/patches QUILT_SERIES=$TOP/series \
		quilt push -a -q --fuzz=0) >"$BUILD/quilt.log" 2>&1; then
		die "quilt push -a failed at $(grep -m1 -o 'Applying patch .*' "$BUILD/quilt.log" | tail -n1): $(tail -n1 "$BUILD/quilt.log")"
	fi
	rm -rf "$QDIR/.pc"
	git -C "$QDIR" add -A
	git -C "$QDIR" diff --cached --quiet patched ||
		die "quilt push -a and git am give different trees: $(git -C "$QDIR" diff --cached --stat patched | tail -n1)"
	git -C "$SRC" worktree remove -f "$QDIR"
	log "quilt push -a: same tree as git am"
fi

#!/bin/bash
# Stage "tree": unpack the stack's pinned base into build/STACK/linux,
# commit it as the first commit (tag "base"; fixed identity and date, so its
# id is reproducible), install the base's uapi headers in build/STACK/uapi
# for the guest tests, then apply the stack's series with git am, quilt and
# b4 (ci/apply.sh): the git am result is branch "patched".
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
git -C "$SRC" checkout -q -f --detach base
git -C "$SRC" clean -q -fdx
log "base commit $(git -C "$SRC" rev-parse base) ($BASE_PACKAGE $BASE_VERSION)"

# The guest tests build against the base tree's uapi headers.
rm -rf "$SBUILD/uapi"
kmake -s O="$SBUILD/obj/uapi" INSTALL_HDR_PATH="$SBUILD/uapi" headers_install >"$SBUILD/uapi.log" 2>&1 ||
	die "make headers_install failed: see $SBUILD/uapi.log"

# The series, applied three ways (ci/apply.sh); the git am result is the
# patched branch.
APPLY_BRANCH=patched "$TOP/ci/apply.sh"
git -C "$SRC" checkout -q -f patched
log "patched at $(git -C "$SRC" rev-parse --short HEAD): $(git -C "$SRC" rev-list --count base..patched) patches on base"

#!/bin/bash
# Stage "liburing": liburing's own test suite for the guest.
# Fetches Debian's liburing source package (version and .dsc sha256 pinned
# in ci/stacks/STACK.env) with `apt-get source` through a private deb-src list,
# caches it in ~/.cache/dio-series/liburing/, unpacks it with dpkg-source
# (which checks the tarballs against the pinned .dsc), builds the test
# programs statically and packs them, with the guest runner
# ci/guest-liburing.sh, into build/STACK/liburing/liburing.cpio: an archive that
# ci/liburing-compare.sh appends to the guest initramfs. The default guest
# initramfs does not carry these ~100 MiB of binaries.
#
# Headers: liburing's own. Its tests include <liburing.h> from its source
# tree, which uses its own copy of the io_uring uapi (src/include/liburing/
# io_uring.h): that is the ABI the tests are written for. The rest
# (<linux/...> from glibc's side) comes from the host's linux-libc-dev,
# Debian 12's 6.1 headers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Private apt state for apt_private (lib.sh), apart from ci/base.sh's so the
# two never share a lock or a list.
# shellcheck disable=SC2034
APT_DIR=$SBUILD/liburing-apt
SRC_CACHE=$CACHE/liburing/$LIBURING_VERSION
DSC=$SRC_CACHE/$LIBURING_DSC
OUT=$SBUILD/liburing
LSRC=$OUT/src
ROOT=$OUT/root

dsc_ok() {
	[ -f "$DSC" ] && [ "$(sha256sum "$DSC" | cut -d' ' -f1)" = "$LIBURING_DSC_SHA256" ]
}

fetch() {
	tmp=$SRC_CACHE.download.$$
	log "fetching $LIBURING_PACKAGE=$LIBURING_VERSION source through a private deb-src list"
	apt_private_sources
	rm -rf "$tmp"
	mkdir -p "$tmp"
	trap 'rm -rf "$tmp" "$tmp.log"' EXIT
	(cd "$tmp" && apt_private apt-get source -qq --download-only \
		"$LIBURING_PACKAGE=$LIBURING_VERSION") >"$tmp.log" 2>&1 ||
		die "apt-get source --download-only $LIBURING_PACKAGE=$LIBURING_VERSION failed: $(grep -m1 '^E:' "$tmp.log")"
	[ -f "$tmp/$LIBURING_DSC" ] || die "$LIBURING_PACKAGE $LIBURING_VERSION downloaded, but there is no $LIBURING_DSC"
	rm -rf "$SRC_CACHE"
	mv "$tmp" "$SRC_CACHE"
}

if dsc_ok; then
	log "$LIBURING_DSC sha256 $LIBURING_DSC_SHA256 (cached)"
else
	fetch
fi
dsc_ok || die "$LIBURING_DSC sha256 mismatch: got $(sha256sum "$DSC" | cut -d' ' -f1), pinned $LIBURING_DSC_SHA256 (ci/stacks/$STACK.env)"

# The build is a few seconds of the 2 cores; redo it only for another
# version. The stamp names the .dsc, and so every file of the source.
stamp=$OUT/built-$LIBURING_DSC_SHA256
if [ ! -f "$stamp" ]; then
	rm -rf "$OUT"
	mkdir -p "$OUT"
	# Without the uploader's key (no debian-keyring) dpkg-source only warns
	# about the .dsc signature; the pinned .dsc sha256 stands in for it, and
	# dpkg-source fails on any tarball that does not match the .dsc.
	dpkg-source -x "$DSC" "$LSRC" >"$OUT/dpkg-source.log" 2>&1 ||
		die "dpkg-source -x $LIBURING_DSC failed: $(grep -m1 -E 'error' "$OUT/dpkg-source.log")"
	# Upstream's own build (test/Makefile, its CFLAGS), linked statically
	# and stripped: the guest has no shared libraries for these.
	(cd "$LSRC" && ./configure --cc=gcc --cxx=g++ &&
		make -j"$(nproc)" -C src &&
		make -j"$(nproc)" -C test LDFLAGS="-static -s") >"$OUT/build.log" 2>&1 ||
		die "liburing tests do not build: $(grep -m1 -E 'error|Error' "$OUT/build.log")"
	touch "$stamp"
fi

# The guest tree: /liburing/ with the test programs, the runner and two
# lists the runner needs, both derived from the sources (upstream has them
# nowhere): the tests that take a test file as argv[1] (runtests.sh's
# TEST_FILES; the others return at once with an argument), and those that
# open sockets (the guest kernel may have no networking).
rm -rf "$ROOT"
mkdir -p "$ROOT/liburing"
cp "$LSRC"/test/*.t "$ROOT/liburing/"
install -m 644 "$TOP/ci/guest-liburing.sh" "$ROOT/liburing/run.sh"
(cd "$LSRC/test" && grep -l 'argv\[1\]' -- *.c | sed 's/\.c$//') >"$ROOT/liburing/file-tests"
(cd "$LSRC/test" && grep -lE '\bsocket(pair)?\(|t_create_socket_pair' -- *.c *.cc |
	grep -v '^helpers\.c$' | sed 's/\.cc*$//') >"$ROOT/liburing/net-tests"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$OUT/liburing.cpio"
log "liburing $LIBURING_VERSION: $(ls "$ROOT"/liburing/*.t | wc -l) test programs, $(wc -l <"$ROOT/liburing/file-tests") take a test file, $(wc -l <"$ROOT/liburing/net-tests") need sockets; $OUT/liburing.cpio $(du -h "$OUT/liburing.cpio" | cut -f1)"

#!/bin/bash
# Stage "guest": the guest tests (static, liburing + libaio, kselftest harness
# and uapi headers of the base tree) and an initramfs made of Debian's
# binaries: busybox-static, fio, mkfs.ext4, mkfs.xfs and the shared libraries
# ldd lists for them, plus ci/guest-init.sh as /init and its bench mode
# (bench/guest-bench.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

GUEST=$SBUILD/guest
ROOT=$GUEST/root
BINS=(/bin/busybox /usr/bin/fio /sbin/mke2fs /sbin/mkfs.xfs)

[ -d "$SBUILD/uapi/include" ] || die "no uapi headers in $SBUILD/uapi: run ci/tree.sh first"
make -s -C "$TOP/tests" O="$GUEST/tests" KSFT="$SRC/tools/testing/selftests" \
	UAPI="$SBUILD/uapi/include" >"$GUEST.log" 2>&1 ||
	die "guest tests do not build: $(grep -m1 -E 'error' "$GUEST.log")"

rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,etc,dev,proc,sys,mnt,tmp,tests,bench}
for b in "${BINS[@]}"; do
	[ -x "$b" ] || die "$b is missing: run ci/deps.sh"
	cp -L "$b" "$ROOT$b"
	# Shared libraries and the dynamic loader, at the paths ldd resolves;
	# a static binary (busybox) has none.
	libs=$(ldd "$b" 2>&1 || true)
	! grep -q 'not found' <<<"$libs" || die "$b: a shared library is missing: $(grep -m1 'not found' <<<"$libs")"
	for lib in $(grep -oE '/[^ ]+' <<<"$libs" || true); do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
done
ln -s mke2fs "$ROOT/sbin/mkfs.ext4"
cp /etc/mke2fs.conf "$ROOT/etc/"
for t in $(guest_tests); do
	cp "$GUEST/tests/$t" "$ROOT/tests/"
done
install -m 755 "$TOP/ci/guest-init.sh" "$ROOT/init"
install -m 644 "$TOP/bench/guest-bench.sh" "$ROOT/bench/"
mknod -m 600 "$ROOT/dev/console" c 5 1
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$GUEST/initramfs.cpio"
log "initramfs $GUEST/initramfs.cpio: $(du -h "$GUEST/initramfs.cpio" | cut -f1), tests: $(ls "$ROOT/tests" | tr '\n' ' ')"

#!/bin/bash
# Stage "build": a bzImage for KERNEL with config SET, in its own O= dir,
# through ccache (kept under ~/.cache, so a later run on this machine is warm).
# Usage: build.sh KERNEL SET
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1 set=$2
O=$(objdir "$kernel" "$set")
[ -f "$O/.config" ] || die "no $O/.config: run ci/config.sh $kernel $set first"
checkout_kernel "$kernel"

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}
# Both kernels build from the same source path; a freshly unpacked tree has
# new mtimes, which must not defeat ccache's direct mode. Paths under build/
# are hashed relative to it, so a clone at another path (CI) hits the cache.
export CCACHE_SLOPPINESS=include_file_mtime,include_file_ctime,time_macros
export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$BUILD
# Depend mode: on a miss ccache hashes the compiler's own -MMD output instead
# of running the preprocessor a second time. Measured on fs/ext4 of the 6.1
# test config, cold: plain gcc 11.4 s, ccache's default mode 18.2 s, depend
# mode 12.0 s; a warm hit is the same in both.
export CCACHE_DEPEND=1
export KBUILD_BUILD_TIMESTAMP="2000-01-01" KBUILD_BUILD_USER=dio KBUILD_BUILD_HOST=series
ccache -M 10G >/dev/null
ccache -z >/dev/null

# Niced: in make check the build runs beside a guest boot, whose one vCPU
# must keep its core (a starved TCG guest runs its tests' timeouts down);
# the build takes what the boot leaves.
renice -n 19 -p $$ >/dev/null

start=$SECONDS
log "building $kernel/$set ($(git -C "$SRC" describe --always --tags)) in $O, -j$(($(nproc) + 1))"
# The kernel's name is in its release string, so a guest can tell which
# kernel it booted (ci/collect.sh checks it).
make_bzimage() {
	kmake O="$O" CC="ccache gcc" LOCALVERSION="-$kernel" -j"$(($(nproc) + 1))" bzImage
}
if ! make_bzimage >"$O/build.log" 2>&1; then
	die "$kernel/$set kernel build failed: $(grep -m1 -E 'error:|Error [0-9]' "$O/build.log")"
fi

# In depend mode ccache never preprocesses, so it does not see that
# arch/x86/boot/compressed/piggy.S pulls the compressed kernel in with
# .incbin: it hashes piggy.S alone, whose text is two sizes, and a build
# whose sizes match an earlier one's gets that build's piggy.o, that is,
# its kernel (a mutant boot once ran a bisect kernel). So compare the
# payload with the kernel just compressed; on a mismatch assemble piggy.S
# again without ccache, and stop if that does not mend it.
PIGGY=$O/arch/x86/boot/compressed/piggy
payload_stale() {
	local inc
	inc=$(sed -n 's/^\.incbin "\(.*\)"$/\1/p' "$PIGGY.S")
	[ -n "$inc" ] || die "no .incbin line in $PIGGY.S"
	objcopy -O binary --only-section=.rodata..compressed "$PIGGY.o" "$PIGGY.payload"
	! cmp -s "$PIGGY.payload" "$O/$inc"
}
if payload_stale; then
	log "$kernel/$set: ccache gave a piggy.o with another build's kernel in it; assembling it again without ccache"
	rm -f "$PIGGY.o"
	CCACHE_DISABLE=1 make_bzimage >>"$O/build.log" 2>&1 ||
		die "$kernel/$set: rebuilding piggy.o failed: see $O/build.log"
	! payload_stale || die "$kernel/$set: the bzImage still carries another kernel than $O/vmlinux"
fi
log "$kernel/$set: $O/arch/x86/boot/bzImage built in $((SECONDS - start))s ($(ccache -s | awk '/Hits:/ {print $2 " ccache hits"; exit}'))"

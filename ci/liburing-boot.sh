#!/bin/bash
# Stage "liburing-boot": boot one test kernel with dio.mode=liburing
# (ci/guest-liburing.sh runs liburing's test suite, or only TESTS) and turn
# its results port into DIR/KERNEL/results.tsv, one line per test run: NAME,
# PASS | SKIP | FAIL | TIMEOUT | SPLAT (a kernel splat in the console while
# it ran, whatever its exit, as upstream's runtests.sh's dmesg check), why
# (the test's last output line, the splat's first line). A guest that
# reports errors leaves them in DIR/KERNEL/guest-errors, for
# ci/liburing-compare.sh to fail on after comparing.
# Usage: liburing-boot.sh KERNEL [DIR [TESTS]]   (DIR default: the first
#        run's, build/liburing-results/run; TESTS a comma list)
# Env: DIO_LIBURING_TIMEOUT (per test, s; default 120), DIO_TESTS (only
#      these liburing tests when TESTS is not given), DIO_GUEST_TIMEOUT
#      (the boot, s; default 7200).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1
OUT=$SBUILD/liburing-results
dir=${2:-$OUT/run}/$kernel
tests=${3:-${DIO_TESTS:-}}
ARCHIVE=$SBUILD/liburing/liburing.cpio
GUEST_INITRD=$SBUILD/guest/initramfs.cpio
INITRD=$OUT/initramfs.cpio

[ -f "$ARCHIVE" ] || die "no $ARCHIVE: run ci/liburing.sh first"
[ -f "$GUEST_INITRD" ] || die "no $GUEST_INITRD: run ci/guest.sh first"
# The kernel unpacks concatenated cpio archives in order: the guest's, then
# /liburing/ on top. Both kernels' boots may start at once: each writes its
# own copy and renames it into place.
mkdir -p "$OUT"
cat "$GUEST_INITRD" "$ARCHIVE" >"$INITRD.$kernel.$$"
mv -f "$INITRD.$kernel.$$" "$INITRD"

start=$SECONDS
rm -rf "$dir"
DIO_OUT=$dir DIO_INITRD=$INITRD DIO_TESTS=$tests \
	DIO_GUEST_TIMEOUT=${DIO_GUEST_TIMEOUT:-7200} \
	DIO_APPEND="dio.mode=liburing dio.liburing_timeout=${DIO_LIBURING_TIMEOUT:-120}" \
	"$TOP/ci/boot.sh" "$kernel" test || log "$kernel: the boot failed (above); its missing tests count as failed"
[ -f "$dir/results.raw" ] || die "$kernel: no results.raw in $dir"
tr -d '\r' <"$dir/results.raw" >"$dir/results.txt"
release=$(guest_release "$dir/results.txt")
release_of "$release" "$kernel" || die "$kernel: the guest runs '${release:-nothing}', not the $kernel kernel"
grep '^# dio-error' "$dir/results.txt" | tee "$dir/guest-errors" >&2 || true

awk '
/^(not )?ok [0-9]+ / {
	ok = ($1 == "ok"); name = ok ? $3 : $4
	why = $0; sub(/^[^#]*# ?/, "", why)
	if (why ~ /^SKIP /) { st = "SKIP"; sub(/^SKIP /, "", why) }
	else if (ok) st = "PASS"
	else if (why ~ /^TIMEOUT /) st = "TIMEOUT"
	else st = "FAIL"
	print name "\t" st "\t" why
}' "$dir/results.txt" >"$dir/tap.tsv"
# The console, cut at each test's start marker: splats.d/NAME.
mkdir -p "$dir/splats.d"
tr -d '\r' <"$dir/console.log" | awk -v d="$dir/splats.d" '
/dio-liburing: running / { f = d "/" $NF; next }
f != "" { print > f }'
while IFS=$'\t' read -r name st why; do
	if [ -f "$dir/splats.d/$name" ] && ! splat=$("$TOP/ci/scan-splats.sh" "$dir/splats.d/$name"); then
		splat=$(sed -n 2p <<<"$splat")
		st=SPLAT why="kernel splat: ${splat#*:}"
	fi
	printf '%s\t%s\t%s\n' "$name" "$st" "$why"
done <"$dir/tap.tsv" >"$dir/results.tsv"
[ -s "$dir/results.tsv" ] || die "$kernel: no test results in $dir/results.raw"
log "$kernel${tests:+ ($tests)}: $(cut -f2 "$dir/results.tsv" | sort | uniq -c | xargs) in $((SECONDS - start))s"
grep -q '^# dio-guest-done' "$dir/results.txt" || log "$kernel: the guest did not finish"

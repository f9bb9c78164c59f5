#!/bin/bash
# Stage "naive": show that the deadlock tests bite. Builds the stack's series
# plus tests/naive/STACK/*.patch (the 6.6-rc design: completions always handed to the
# issuer, never taken back by inode_dio_wait()), boots it on NVMe + ext4
# with only dio_caller_deadlock, and passes when that test FAILS there. The
# guest is expected to wedge (tasks stuck in inode_dio_wait() hold i_rwsem,
# so the unmount after the test hangs); the watchdog ends it.
# Not part of `make check`: about 10 minutes, most of it waiting.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TEST=dio_caller_deadlock
OUT=$SBUILD/naive
git_identity

git -C "$SRC" rev-parse -q --verify patched >/dev/null || die "no patched branch in $SRC: run ci/tree.sh first"
git -C "$SRC" checkout -q -f -B naive patched
naive=("$TOP/tests/naive/$STACK"/*.patch)
[ -f "${naive[0]}" ] || die "no naive variant for the $STACK stack in tests/naive/$STACK/"
for p in "${naive[@]}"; do
	git -C "$SRC" am -q "$p" >"$SBUILD/naive-am.log" 2>&1 ||
		{ git -C "$SRC" am --abort || true; die "$(basename "$p") does not apply on patched: $(grep -m1 -E 'error|fail' "$SBUILD/naive-am.log")"; }
done
"$TOP/ci/config.sh" naive test
"$TOP/ci/build.sh" naive test
git -C "$SRC" checkout -q patched

# The guest hangs by design; a watchdog kill is not a failure of this stage.
DIO_DEVS=nvme DIO_FS=ext4 DIO_TESTS=$TEST DIO_GUEST_TIMEOUT=${DIO_GUEST_TIMEOUT:-600} \
	"$TOP/ci/boot.sh" naive test || true
rm -rf "$OUT"
mv "$(resultdir naive test)" "$OUT"

failed=$(tr -d '\r' <"$OUT/results.raw" | grep -c '^not ok .*\.returns$' || true)
passed=$(tr -d '\r' <"$OUT/results.raw" | grep -c '^ok .*\.returns$' || true)
log "naive kernel, nvme/ext4, $TEST: $failed cases failed (deadlocked), $passed returned; log in $OUT"
tr -d '\r' <"$OUT/results.raw" | grep -E '^(not )?ok .*\.returns$|no return after' | sed 's/^/    /' || true
[ "$failed" -gt 0 ] || die "the deadlock tests did not fail on the naive kernel: they cannot tell it apart"

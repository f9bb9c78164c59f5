#!/bin/bash
# Stage "naive": show that the deadlock tests bite. Builds the stack's series
# plus tests/naive/STACK/*.patch (the 6.6-rc design: completions always handed to the
# issuer, never taken back by inode_dio_wait()), boots it on the guest's
# null_blk disk (every request completes after its submitter returned, so
# every write is handed back) with ext4 and only dio_caller_deadlock, and
# passes when every case that such a design deadlocks FAILS there. The
# guest is expected to wedge (tasks stuck in inode_dio_wait() hold i_rwsem,
# so the unmount after the test hangs); the watchdog ends it.
# Not part of `make check`: about 10 minutes, most of it waiting.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TEST=dio_caller_deadlock
# The cases whose wait finds the writes handed to an issuer that cannot run
# its task_work before the wait is over: the same task waits, or it waits
# through another descriptor, or it is blocked behind the waiter (the race
# case's first round: it sleeps in waitpid() for the waiter), or (the
# linked chain) the next write's completion is queued by the task_work of
# the one before. The others (a plain or SQPOLL ring, a closed ring, an
# exited task, fsync) return on the naive design too.
MUST_HANG="same_defer_ftruncate same_defer_punch same_defer_early_ftruncate
same_defer_linked_ftruncate cross_defer_ftruncate cross_defer_punch
cross_blocked_defer_ftruncate file_closed_defer race_defer_punch"
OUT=$SBUILD/naive
git_identity

naive=("$TOP/tests/naive/$STACK"/*.patch)
[ -f "${naive[0]}" ] || die "no naive variant for the $STACK stack in tests/naive/$STACK/"
variant_branch naive "$SBUILD/naive-am.log" "${naive[@]}"
"$TOP/ci/config.sh" naive test
"$TOP/ci/build.sh" naive test
git -C "$SRC" checkout -q patched

# The guest hangs by design; a watchdog kill is not a failure of this stage.
DIO_DEVS=nullb DIO_FS=ext4 DIO_TESTS=$TEST DIO_GUEST_TIMEOUT=${DIO_GUEST_TIMEOUT:-600} \
	"$TOP/ci/boot.sh" naive test || true
rm -rf "$OUT"
mv "$(resultdir naive test)" "$OUT"

results=$(tr -d '\r' <"$OUT/results.raw" | grep -E '^(not )?ok .*\.returns$' || true)
log "naive kernel, nullb/ext4, $TEST: $(grep -c '^not ok' <<<"$results") cases failed (deadlocked), $(grep -c '^ok' <<<"$results") returned; log in $OUT"
tr -d '\r' <"$OUT/results.raw" | grep -E '^(not )?ok .*\.returns$|no return after' | sed 's/^/    /' || true
returned=()
for c in $MUST_HANG; do
	grep -q "^not ok [0-9]* $TEST\.$c\.returns$" <<<"$results" || returned+=("$c")
done
[ "${#returned[@]}" -eq 0 ] ||
	die "on the naive kernel these cases did not fail: ${returned[*]}; the tests cannot tell it apart there"

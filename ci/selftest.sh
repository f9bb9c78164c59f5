#!/bin/bash
# Stage "selftest": prove the harness goes red. Boots the baseline test
# kernel twice on purpose: once with the guest tests checking a wrong data
# pattern (the run must count failures), once with a guest that hangs (the
# watchdog must kill it and fail the boot). Writes the outcome as TAP into
# build/results/selftest/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/results/selftest
mkdir -p "$OUT"
results=()

fail_dir=$(resultdir baseline test fail)
DIO_DEVS=virtio-blk DIO_FS=ext4 "$TOP/ci/boot.sh" baseline test fail
"$TOP/ci/collect.sh" baseline test fail
if report=$("$TOP/ci/report.sh" "$fail_dir/tap") ||
	! grep -q '^FAIL .*virtio-blk\.ext4\..*: not ok ' <<<"$report"; then
	results+=("not ok 1 harness_selftest.failing_guest_test_goes_red # the run was not red: ${report##*$'\n'}")
else
	results+=("ok 1 harness_selftest.failing_guest_test_goes_red")
fi
log "failing guest test: ${report##*$'\n'} (expected failures)"

rc=0
err=$(DIO_DEVS=virtio-blk DIO_FS=ext4 DIO_GUEST_TIMEOUT=${DIO_HANG_TIMEOUT:-45} \
	"$TOP/ci/boot.sh" baseline test hang 2>&1 >/dev/null) || rc=$?
if [ "$rc" -ne 0 ] && grep -q '^ERROR \[boot\]: watchdog' <<<"$err"; then
	results+=("ok 2 harness_selftest.hung_guest_hits_watchdog")
else
	results+=("not ok 2 harness_selftest.hung_guest_hits_watchdog # boot.sh exited $rc: ${err##*$'\n'}")
fi
log "hung guest: $(grep '^ERROR' <<<"$err" || echo "no watchdog error (exit $rc)")"

{
	echo "TAP version 13"
	echo "1..${#results[@]}"
	printf '%s\n' "${results[@]}"
} >"$OUT/harness-selftest.tap"

#!/bin/bash
# Stage "selftest": prove the harness goes red. Boots the baseline test
# kernel twice on purpose: once with the guest tests checking a wrong data
# pattern and a splat line in the kernel log (the run must count both as
# failures), once with a guest that hangs (the watchdog must kill it and fail
# the boot). Writes the outcome as TAP into build/results/selftest/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$RESULTS/selftest
mkdir -p "$OUT"

fail_dir=$(resultdir baseline test fail)
DIO_DEVS=virtio-blk DIO_FS=ext4 "$TOP/ci/boot.sh" baseline test fail
"$TOP/ci/collect.sh" baseline test fail
report=$("$TOP/ci/report.sh" "$fail_dir/tap") && rc=0 || rc=$?
if [ "$rc" -eq 1 ] && grep -q '^FAIL .*virtio-blk\.ext4\..*: not ok ' <<<"$report"; then
	check OK "harness_selftest.failing_guest_test_goes_red"
else
	check FAIL "harness_selftest.failing_guest_test_goes_red # report exit $rc: ${report##*$'\n'}"
fi
if grep -q '^FAIL .*: not ok [0-9]* harness\.baseline\.no_kernel_splat' <<<"$report"; then
	check OK "harness_selftest.console_splat_goes_red"
else
	check FAIL "harness_selftest.console_splat_goes_red # the splat was not reported"
fi
log "failing guest test and splat: ${report##*$'\n'} (failures expected)"

rc=0
err=$(DIO_DEVS=virtio-blk DIO_FS=ext4 DIO_GUEST_TIMEOUT=${DIO_HANG_TIMEOUT:-45} \
	"$TOP/ci/boot.sh" baseline test hang 2>&1 >/dev/null) || rc=$?
if [ "$rc" -ne 0 ] && grep -q '^ERROR \[boot\]: watchdog' <<<"$err"; then
	check OK "harness_selftest.hung_guest_hits_watchdog"
else
	check FAIL "harness_selftest.hung_guest_hits_watchdog # boot.sh exited $rc: ${err##*$'\n'}"
fi
log "hung guest: $(grep '^ERROR' <<<"$err" || echo "no watchdog error (exit $rc)")"

tap_write "$OUT/harness-selftest.tap"

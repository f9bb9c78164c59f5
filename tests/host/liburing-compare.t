#!/bin/bash
# ci/liburing-compare.sh's verdicts on the two kernels' ci/liburing-boot.sh
# runs (side by side, as make check runs them), with a fake ci/boot.sh that prints
# canned guest output instead of booting: a difference that a rerun round
# does not repeat is a flake (ok, said so) and ends the rounds, one that
# all three rounds repeat is a regression (exit 1, not ok naming the
# test), one the baseline fails too in a round is a skip, a failure where
# the baseline skips is rerun like one where it passes, and a splat during
# a test fails that test, on either kernel, even if the rerun is clean.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ci=$here/../../ci
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/top/ci"
cp "$ci/liburing-boot.sh" "$ci/liburing-compare.sh" "$ci/lib.sh" "$ci/scan-splats.sh" "$tmp/top/ci/"
cp -r "$ci/stacks" "$tmp/top/ci/"
export STACK=mainline
sb=$tmp/build/$STACK
# The fake boot: $FAKE/<run|rerun>-<kernel> holds TAP lines "STATUS NAME
# [why]" (STATUS ok, fail, skip or splat); DIO_TESTS set means a rerun
# round, which reads $FAKE/rerun-<kernel>.<round> where there is one.
# Its results port has CR LF line ends, as the guest's serial port does.
cat >"$tmp/top/ci/boot.sh" <<'FAKE'
#!/bin/bash
set -euo pipefail
k=$1 run=run
if [ -n "${DIO_TESTS:-}" ]; then
	run=rerun-$k.$(basename "$(dirname "$DIO_OUT")")
	[ -f "$FAKE/$run" ] || run=rerun-$k
else
	run=run-$k
fi
mkdir -p "$DIO_OUT"
echo "$run ${DIO_TESTS:-all}" >>"$FAKE/boots"
n=0
{
	echo "# dio-guest kernel=$k release=6.1.0-$k selftest=none"
	while read -r st name why; do
		n=$((n + 1))
		case $st in
		ok | splat) echo "ok $n $name # 1.0s" ;;
		fail) echo "not ok $n $name # exit 1 after 1.0s: ${why:-failed}" ;;
		skip) echo "ok $n $name # SKIP ${why:-skipped}" ;;
		esac
	done <"$FAKE/$run"
	echo "1..$n"
	echo "# dio-guest-done"
} | sed 's/$/\r/' >"$DIO_OUT/results.raw"
while read -r st name why; do
	echo "dio-liburing: running $name"
	[ "$st" != splat ] || echo "BUG: sleeping function called from invalid context at fs/x.c:1"
done <"$FAKE/$run" >"$DIO_OUT/console.log"
FAKE
chmod +x "$tmp/top/ci/boot.sh"

# check NAME WANT_RC WANT_BOOTS WANT_TAP_REGEX: FAKE's files written by the caller.
n=0
check() {
	local name=$1 want_rc=$2 want_boots=$3 want_tap=$4 rc=0 boots tap
	n=$((n + 1))
	mkdir -p "$sb/liburing" "$sb/guest"
	: >"$sb/liburing/liburing.cpio"
	: >"$sb/guest/initramfs.cpio"
	: >"$FAKE/boots"
	rm -rf "$sb/liburing-results"
	BUILD=$tmp/build "$tmp/top/ci/liburing-boot.sh" baseline >"$tmp/out.baseline" 2>&1 &
	BUILD=$tmp/build "$tmp/top/ci/liburing-boot.sh" patched >"$tmp/out.patched" 2>&1 &
	wait
	cat "$tmp/out.baseline" "$tmp/out.patched" >"$tmp/out"
	BUILD=$tmp/build "$tmp/top/ci/liburing-compare.sh" >>"$tmp/out" 2>&1 || rc=$?
	boots=$(wc -l <"$FAKE/boots")
	tap=$(cat "$tmp/build/results/$STACK/liburing/liburing.tap" 2>/dev/null || true)
	if [ "$rc" -eq "$want_rc" ] && [ "$boots" -eq "$want_boots" ] && grep -qE "$want_tap" <<<"$tap"; then
		echo "ok $n liburing_compare.$name"
	else
		echo "not ok $n liburing_compare.$name # exit $rc (want $want_rc), $boots boots (want $want_boots), TAP /$want_tap/"
		sed 's/^/# /' "$tmp/out" "$FAKE/boots"
		sed 's/^/# tap: /' <<<"$tap"
	fi
}

export FAKE=$tmp/fake
mkdir -p "$FAKE"
echo "TAP version 13"
echo "1..11"

printf 'ok a\nok b@xfs-file\nskip c no sockets\n' | tee "$FAKE/run-baseline" >"$FAKE/run-patched"
check same 0 2 '^ok 2 liburing\.b@xfs-file$'

printf 'ok a\nok b@xfs-file\n' >"$FAKE/run-baseline"
printf 'ok a\nfail b@xfs-file\n' >"$FAKE/run-patched"
printf 'ok b\nok b@xfs-file\n' | tee "$FAKE/rerun-baseline" >"$FAKE/rerun-patched"
check flake 0 4 '^ok 2 liburing\.b@xfs-file flaky: patched FAIL, baseline PASS; rerun patched PASS'

printf 'ok b\nfail b@xfs-file\n' >"$FAKE/rerun-patched"
check repeated 1 8 '^not ok 2 liburing\.b@xfs-file # patched FAIL, baseline PASS; rerun patched FAIL/FAIL/FAIL, baseline PASS/PASS/PASS'

printf 'ok b\nok b@xfs-file\n' >"$FAKE/rerun-patched.3"
check passes_last_round 0 8 '^ok 2 liburing\.b@xfs-file flaky: patched FAIL, baseline PASS; rerun patched FAIL/FAIL/PASS, baseline PASS/PASS/PASS'

printf 'ok b\nfail b@xfs-file\n' >"$FAKE/rerun-baseline.2"
check not_repeated_second_round 0 6 '^ok 2 liburing\.b@xfs-file # SKIP not repeated: patched FAIL, baseline PASS; rerun patched FAIL/FAIL, baseline PASS/FAIL'
rm "$FAKE/rerun-patched.3" "$FAKE/rerun-baseline.2"

printf 'ok b\nfail b@xfs-file\n' >"$FAKE/rerun-baseline"
check both_flaky 0 4 '^ok 2 liburing\.b@xfs-file # SKIP not repeated: patched FAIL, baseline PASS; rerun patched FAIL, baseline FAIL'

printf 'ok a\nsplat b@xfs-file\n' | tee "$FAKE/run-patched" >"$FAKE/rerun-patched"
printf 'ok b\nok b@xfs-file\n' >"$FAKE/rerun-baseline"
check splat 1 4 '^not ok 2 liburing\.b@xfs-file # kernel splat: patched SPLAT, baseline PASS; rerun patched SPLAT, baseline PASS: kernel splat'

printf 'ok a\nskip c no debugfs\n' | tee "$FAKE/run-baseline" "$FAKE/rerun-baseline" "$FAKE/rerun-patched" >/dev/null
printf 'ok a\nfail c\n' >"$FAKE/run-patched"
check skip_to_fail_not_repeated 0 4 '^ok 2 liburing\.c # SKIP not repeated: patched FAIL, baseline SKIP; rerun patched SKIP, baseline SKIP'

printf 'ok a\nfail c\n' >"$FAKE/rerun-patched"
check skip_to_fail_repeated 1 8 '^not ok 2 liburing\.c # patched FAIL, baseline SKIP; rerun patched FAIL/FAIL/FAIL, baseline SKIP/SKIP/SKIP'

printf 'ok a\nsplat c\n' >"$FAKE/run-patched"
printf 'ok a\nskip c no debugfs\n' >"$FAKE/rerun-patched"
check splat_not_repeated 1 4 '^not ok 2 liburing\.c # kernel splat: patched SPLAT, baseline SKIP; rerun patched SKIP, baseline SKIP: kernel splat: BUG: sleeping'

printf 'ok a\nsplat c\n' >"$FAKE/run-baseline"
printf 'ok a\nok c\n' >"$FAKE/run-patched"
check baseline_splat 1 2 '^not ok 2 liburing\.c # kernel splat: patched PASS, baseline SPLAT: kernel splat: BUG: sleeping'

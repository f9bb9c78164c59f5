#!/bin/bash
# Stage "collect": split the results of one boot (results.raw, framed by
# ci/guest-init.sh) into one TAP file per device x filesystem x test under
# tap/, and write tap/harness.tap with what the harness itself checks: every
# expected run and test reported back and exited consistently with its TAP,
# and the console is free of kernel splats.
# Usage: collect.sh KERNEL SET [SELFTEST]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1 set=$2 selftest=${3:-}
OUT=$(resultdir "$kernel" "$set" "$selftest")
TAP=$OUT/tap
[ -f "$OUT/boot.env" ] || die "no $OUT/boot.env: run ci/boot.sh $kernel $set first"
# shellcheck source=/dev/null
. "$OUT/boot.env"
mapfile -t TESTS < <(guest_tests)
[ "${#TESTS[@]}" -gt 0 ] || die "no guest tests in $TOP/tests"
rm -rf "$TAP"
mkdir -p "$TAP"

# Split: each test's output goes to DEV.FS.TEST.tap; its exit code to .rc.
# The serial line ends in CR LF.
tr -d '\r' <"$OUT/results.raw" | awk -v dir="$TAP" '
/^# dio-run dev=/ { split($3, d, "="); split($4, f, "="); run = d[2] "." f[2]; next }
/^# dio-test / { out = dir "/" run "." $3 ".tap"; printf "" > out; next }
/^# dio-exit / { split($4, r, "="); print r[2] > (dir "/" run "." $3 ".rc"); close(out); out = ""; next }
/^# dio-run-end / { print "end" > (dir "/" run ".end"); run = ""; next }
/^# dio-(error|guest)/ { print > (dir "/guest.log"); next }
out != "" { print > out }
'

release=$(guest_release "$TAP/guest.log" 2>/dev/null)
if release_of "$release" "$kernel"; then
	check OK "harness.$kernel.booted_kernel # $release"
else
	check FAIL "harness.$kernel.booted_kernel # guest runs '${release:-nothing}', not the $kernel kernel"
fi
if grep -q '^# dio-guest-done' "$TAP/guest.log" 2>/dev/null; then
	check OK "harness.$kernel.guest_done"
else
	check FAIL "harness.$kernel.guest_done # the guest did not finish its runs"
fi
while read -r e; do
	check FAIL "harness.$kernel.guest_error # ${e#\# dio-error }"
done < <(grep '^# dio-error' "$TAP/guest.log" 2>/dev/null || true)

for dev in ${boot_devs//,/ }; do
	for fs in ${boot_fs//,/ }; do
		run=$dev.$fs
		[ -f "$TAP/$run.end" ] || check FAIL "harness.$kernel.$run.complete # run $dev/$fs did not complete"
		for t in "${TESTS[@]}"; do
			# The nullb disk runs only the tests named for it.
			[ "$dev" != nullb ] || [[ ",${nullb_tests:-}," == *",$t,"* ]] || continue
			f=$TAP/$run.$t.tap
			name="harness.$kernel.$run.$t"
			if [ ! -f "$TAP/$run.$t.rc" ]; then
				check FAIL "$name # no exit status: the test did not finish"
				continue
			fi
			rc=$(cat "$TAP/$run.$t.rc")
			plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p;T;q' "$f")
			got=$(grep -cE '^(not )?ok [0-9]+' "$f" || true)
			failed=$(grep -cE '^not ok [0-9]+' "$f" || true)
			if [ -z "$plan" ] || [ "$got" -ne "$plan" ]; then
				check FAIL "$name # $got results for a plan of ${plan:-none}, exit $rc"
			elif [ "$failed" -eq 0 ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
				check FAIL "$name # every result passed but the test exited $rc"
			elif [ "$failed" -gt 0 ] && [ "$rc" -eq 0 ]; then
				check FAIL "$name # $failed results failed but the test exited 0"
			else
				check OK "$name"
			fi
		done
	done
done

if splat=$("$TOP/ci/scan-splats.sh" "$OUT/console.log"); then
	check OK "harness.$kernel.no_kernel_splat"
else
	check FAIL "harness.$kernel.no_kernel_splat # see $OUT/console.log"
	printf '%s\n' "$splat" >&2
fi

tap_write "$TAP/harness.tap"
rm -f "$TAP"/*.rc "$TAP"/*.end
log "$kernel/$set: $(ls "$TAP"/*.tap | wc -l) TAP files in $TAP (accelerator ${accel^^})"

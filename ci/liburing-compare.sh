#!/bin/bash
# Stage "liburing-compare": boot the baseline and the patched test kernel,
# one after the other, with dio.mode=liburing (ci/guest-liburing.sh runs
# liburing's test suite) and compare the two per test. A kernel splat in the console
# while a test ran fails that test (as upstream's runtests.sh's dmesg check
# does).
#
# Flakes: a test the patched kernel does worse on than the baseline (it
# passes on the baseline only, or fails, times out or goes missing where the
# baseline skips) is run once more on both kernels (two short boots with
# only those tests). It is a regression only if the rerun repeats it. Both
# runs are recorded, and the log says why each differing test did not pass.
# A kernel splat is never a flake: one on either kernel, in either run,
# fails the test.
#
# Writes build/liburing-results/comparison.txt (first run, then the rerun
# if any) and, for the report, build/results/liburing/liburing.tap; exits 1
# on a regression or a guest error.
# Env: DIO_LIBURING_TIMEOUT (per test, s; default 120), DIO_TESTS (only
#      these liburing tests, comma list), DIO_GUEST_TIMEOUT (per boot, s;
#      default 7200).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/liburing-results
TAP_DIR=$BUILD/results/liburing
ARCHIVE=$BUILD/liburing/liburing.cpio
GUEST_INITRD=$BUILD/guest/initramfs.cpio

[ -f "$ARCHIVE" ] || die "no $ARCHIVE: run ci/liburing.sh first"
[ -f "$GUEST_INITRD" ] || die "no $GUEST_INITRD: run ci/guest.sh first"
rm -rf "$OUT"
mkdir -p "$OUT"
# The kernel unpacks concatenated cpio archives in order: the guest's, then
# /liburing/ on top.
cat "$GUEST_INITRD" "$ARCHIVE" >"$OUT/initramfs.cpio"

# results DIR: DIR/results.tsv from DIR's boot (results.txt: its results
# port without CRs), one line per test run: NAME, PASS | SKIP | FAIL |
# TIMEOUT | SPLAT (a kernel splat while it ran, whatever its exit), why
# (the test's last output line, the splat's first line).
results() {
	local dir=$1 name st why splat
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
}

# suite DIR [TESTS]: the suite (or only TESTS, a comma list) on each kernel,
# DIR/KERNEL/results.tsv.
guest_errors=()
suite() {
	local dir=$1 tests=${2:-${DIO_TESTS:-}} k start release
	for k in "${KERNELS[@]}"; do
		start=$SECONDS
		DIO_OUT=$dir/$k DIO_INITRD=$OUT/initramfs.cpio DIO_TESTS=$tests \
			DIO_GUEST_TIMEOUT=${DIO_GUEST_TIMEOUT:-7200} \
			DIO_APPEND="dio.mode=liburing dio.liburing_timeout=${DIO_LIBURING_TIMEOUT:-120}" \
			"$TOP/ci/boot.sh" "$k" test || log "$k: the boot failed (above); its missing tests count as failed"
		[ -f "$dir/$k/results.raw" ] || die "$k: no results.raw in $dir/$k"
		tr -d '\r' <"$dir/$k/results.raw" >"$dir/$k/results.txt"
		release=$(sed -n 's/^# dio-guest .* release=\([^ ]*\) .*/\1/p' "$dir/$k/results.txt")
		case $release in
		*-"$k" | *-"$k"+) ;;
		*) die "$k: the guest runs '${release:-nothing}', not the $k kernel" ;;
		esac
		if grep '^# dio-error' "$dir/$k/results.txt" >&2; then
			guest_errors+=("$k")
		fi
		results "$dir/$k"
		[ -s "$dir/$k/results.tsv" ] || die "$k: no test results in $dir/$k/results.raw"
		log "$k${tests:+ ($tests)}: $(counts "$dir/$k") in $((SECONDS - start))s"
		grep -q '^# dio-guest-done' "$dir/$k/results.txt" || log "$k: the guest did not finish"
	done
}

counts() {
	cut -f2 "$1/results.tsv" | sort | uniq -c | xargs
}

# worse(B, P), in awk: the patched state P is worse than the baseline's B.
# PASS is best; a skip is no worse than anything but a pass; any other
# difference (FAIL, TIMEOUT, MISSING against each other) counts as worse.
WORSE='function worse(b, p) { return p != b && p != "PASS" && !(p == "SKIP" && b != "PASS") }'

# compare DIR: DIR/comparison.txt, per test in run order: baseline,
# patched, and a flag where they differ (a test missing on one kernel, the
# guest died or hung, is MISSING there); DIR/regressions, the tests the
# patched kernel does worse on, with both states and the patched why.
compare() {
	local dir=$1 k
	awk -F'\t' -v out="$dir/regressions" "$WORSE"'
	FNR == 1 { k++ }
	k == 1 { b[$1] = $2; bw[$1] = $3; order[++n] = $1; next }
	{ p[$1] = $2; pw[$1] = $3; if (!($1 in b)) order[++n] = $1 }
	END {
		printf "" > out
		printf "%-40s %-8s %-8s\n", "test", "baseline", "patched"
		for (i = 1; i <= n; i++) {
			t = order[i]; bs = (t in b) ? b[t] : "MISSING"; ps = (t in p) ? p[t] : "MISSING"
			flag = ""
			if (bs != ps) flag = "DIFFERS"
			if (worse(bs, ps)) { flag = "REGRESSION"; printf "%s\t%s\t%s\t%s\n", t, bs, ps, pw[t] > out }
			printf "%-40s %-8s %-8s %s\n", t, bs, ps, flag
			if (bs != "PASS" && bs != "SKIP") fails = fails sprintf("  baseline %s %s: %s\n", bs, t, bw[t])
			if (ps != "PASS" && ps != "SKIP") fails = fails sprintf("  patched  %s %s: %s\n", ps, t, pw[t])
		}
		printf "\nNot passed (failures, timeouts, missing) with their last line:\n%s", fails
	}' "$dir/baseline/results.tsv" "$dir/patched/results.tsv" >"$dir/comparison.txt"
	{
		echo
		for k in "${KERNELS[@]}"; do
			echo "$k: $(counts "$dir/$k")"
		done
	} >>"$dir/comparison.txt"
}

suite "$OUT/run"
compare "$OUT/run"
{
	cat "$OUT/run/comparison.txt"
	echo "skipped, with why:"
	awk -F'\t' '$2 == "SKIP" { print "  " $1 ": " $3 }' "$OUT/run/baseline/results.tsv"
} >"$OUT/comparison.txt"

# The rerun: each liburing test with a regression, all its variants (the
# guest selects by test, not by test@file).
: >"$OUT/rerun.tsv"
if [ -s "$OUT/run/regressions" ]; then
	while IFS=$'\t' read -r t bs ps why; do
		log "patched does worse than baseline on $t: patched $ps ($why), baseline $bs"
	done <"$OUT/run/regressions"
	again=$(cut -f1 "$OUT/run/regressions" | sed 's/@.*//' | sort -u | paste -sd,)
	log "running $again once more on both kernels"
	suite "$OUT/rerun" "$again"
	compare "$OUT/rerun"
	{
		echo
		echo "Rerun of $again on both kernels:"
		cat "$OUT/rerun/comparison.txt"
	} >>"$OUT/comparison.txt"
	# Per first-run regression: its rerun states, baseline and patched.
	awk -F'\t' 'FILENAME == ARGV[1] { order[++n] = $1; next }
		FNR == 1 { k++ }
		k == 1 { b[$1] = $2; next }
		{ p[$1] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				t = order[i]
				print t "\t" (t in b ? b[t] : "MISSING") "\t" (t in p ? p[t] : "MISSING")
			}
		}' \
		"$OUT/run/regressions" "$OUT/rerun/baseline/results.tsv" \
		"$OUT/rerun/patched/results.tsv" >"$OUT/rerun.tsv"
fi
log "comparison in $OUT/comparison.txt"

# TAP for the report, one line per test run: ok where patched passes; a
# skip (with why) where patched skips or fails the same way as the
# baseline, which says nothing about the series; not ok where patched does
# worse, unless the rerun does not repeat it: patched passes the rerun (ok,
# flaky, saying so) or does no worse than the baseline there (a skip,
# saying so); not ok, whatever else, where either kernel splatted.
mkdir -p "$TAP_DIR"
awk -F'\t' "$WORSE"'
FILENAME ~ /rerun.tsv$/ { rb[$1] = $2; rp[$1] = $3; next }
FNR == 1 { k++ }
k == 1 { b[$1] = $2; bw[$1] = $3; next }
{ order[++n] = $1; p[$1] = $2; pw[$1] = $3 }
END {
	print "TAP version 13"; print "1.." n
	for (i = 1; i <= n; i++) {
		t = order[i]; bs = (t in b) ? b[t] : "MISSING"; ps = p[t]
		rerun = (t in rp) ? "; rerun patched " rp[t] ", baseline " rb[t] : ""
		if (bs == "SPLAT" || ps == "SPLAT" || rb[t] == "SPLAT" || rp[t] == "SPLAT")
			printf "not ok %d liburing.%s # kernel splat: patched %s, baseline %s%s: %s\n", i, t, ps, bs, rerun, ps == "SPLAT" ? pw[t] : bw[t]
		else if (ps == "PASS")
			printf "ok %d liburing.%s%s\n", i, t, bs == "PASS" ? "" : " # baseline " bs
		else if (ps == "SKIP" && !worse(bs, ps))
			printf "ok %d liburing.%s # SKIP %s\n", i, t, pw[t]
		else if (!worse(bs, ps))
			printf "ok %d liburing.%s # SKIP %s on the baseline too, not the series: %s\n", i, t, bs, pw[t]
		else if (!(t in rp))
			printf "not ok %d liburing.%s # patched %s, baseline %s: %s\n", i, t, ps, bs, pw[t]
		else if (rp[t] == "PASS")
			printf "ok %d liburing.%s flaky: patched %s, baseline %s%s (%s)\n", i, t, ps, bs, rerun, pw[t]
		else if (worse(rb[t], rp[t]))
			printf "not ok %d liburing.%s # patched %s, baseline %s%s: %s\n", i, t, ps, bs, rerun, pw[t]
		else
			printf "ok %d liburing.%s # SKIP not repeated: patched %s, baseline %s%s (%s)\n", i, t, ps, bs, rerun, pw[t]
	}
}' "$OUT/rerun.tsv" "$OUT/run/baseline/results.tsv" "$OUT/run/patched/results.tsv" >"$TAP_DIR/liburing.tap"
grep -E 'DIFFERS|REGRESSION' "$OUT/comparison.txt" || log "no test differs between baseline and patched"
regressed=$(sed -n 's/^not ok [0-9]* liburing\.\([^ ]*\) .*/\1/p' "$TAP_DIR/liburing.tap" | xargs)
if [ -n "$regressed" ]; then
	grep '^not ok' "$TAP_DIR/liburing.tap" >&2
	die "patched does worse than baseline${again:+, first run and rerun}: $regressed"
fi
[ "${#guest_errors[@]}" -eq 0 ] ||
	die "the guest reported errors (dio-error, above) on: ${guest_errors[*]}"

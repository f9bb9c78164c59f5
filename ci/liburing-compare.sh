#!/bin/bash
# Stage "liburing-compare": compare liburing's test suite on the baseline
# and the patched test kernel, per test, from the two boots that
# ci/liburing-boot.sh made (build/liburing-results/run/KERNEL/results.tsv;
# the two may run side by side, one vCPU each). A kernel splat in the
# console while a test ran fails that test.
#
# Flakes: a test the patched kernel does worse on than the baseline (it
# passes on the baseline only, or fails, times out or goes missing where the
# baseline skips) is run again on both kernels (two short boots with only
# those tests, side by side), in up to RERUNS rounds. It is a regression
# only if every round repeats it; it leaves the rounds at the first round
# that does not. All runs are recorded, and the log says why each
# differing test did not pass. A kernel splat is never a flake: one on
# either kernel, in any run, fails the test.
#
# Writes build/liburing-results/comparison.txt (first run, then each
# rerun round) and, for the report, build/results/liburing/liburing.tap;
# exits 1 on a regression or a guest error.
# Env: as ci/liburing-boot.sh, for the rerun's boots; DIO_LIBURING_RERUNS
#      (RERUNS, default 3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$SBUILD/liburing-results
TAP_DIR=$RESULTS/liburing
RERUNS=${DIO_LIBURING_RERUNS:-3}
[[ "$RERUNS" =~ ^[1-9][0-9]*$ ]] || die "DIO_LIBURING_RERUNS=$RERUNS: want a count of at least 1"

for k in "${KERNELS[@]}"; do
	[ -f "$OUT/run/$k/results.tsv" ] || die "no $OUT/run/$k/results.tsv: run ci/liburing-boot.sh $k first"
done
rm -f "$OUT/comparison.txt" "$OUT/rerun.tsv" "$OUT/suspects"
rm -rf "$OUT/rerun"

# rerun DIR TESTS: both kernels, side by side, with only TESTS (a comma
# list), into DIR/KERNEL.
rerun() {
	local k pids=() rc=0
	for k in "${KERNELS[@]}"; do
		"$TOP/ci/liburing-boot.sh" "$k" "$1" "$2" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	[ "$rc" -eq 0 ] || die "a rerun boot failed (above)"
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

compare "$OUT/run"
{
	cat "$OUT/run/comparison.txt"
	echo "skipped, with why:"
	awk -F'\t' '$2 == "SKIP" { print "  " $1 ": " $3 }' "$OUT/run/baseline/results.tsv"
} >"$OUT/comparison.txt"

# The rerun, in rounds: the liburing tests of the suspects (all their
# variants: the guest selects by test, not by test@file). The suspects are
# the first run's regressions, less each one that a round does not repeat
# or where either kernel splats (that decides it). $OUT/rerun.tsv, per
# first-run regression: its states in each round it ran, baseline and
# patched, as lists joined by "/".
: >"$OUT/rerun.tsv"
if [ -s "$OUT/run/regressions" ]; then
	while IFS=$'\t' read -r t bs ps why; do
		log "patched does worse than baseline on $t: patched $ps ($why), baseline $bs"
	done <"$OUT/run/regressions"
	cut -f1 "$OUT/run/regressions" >"$OUT/suspects"
	awk -F'\t' -v OFS='\t' '{ print $1, "", "" }' "$OUT/run/regressions" >"$OUT/rerun.tsv"
	round=0
	while [ -s "$OUT/suspects" ] && [ "$round" -lt "$RERUNS" ]; do
		round=$((round + 1))
		again=$(sed 's/@.*//' "$OUT/suspects" | sort -u | paste -sd,)
		log "rerun $round of at most $RERUNS: $again on both kernels"
		rerun "$OUT/rerun/$round" "$again"
		compare "$OUT/rerun/$round"
		{
			echo
			echo "Rerun $round of $again on both kernels:"
			cat "$OUT/rerun/$round/comparison.txt"
		} >>"$OUT/comparison.txt"
		awk -F'\t' -v OFS='\t' -v sus="$OUT/suspects" -v next_sus="$OUT/suspects.next" "$WORSE"'
		FILENAME == sus { s[$1] = 1; next }
		FNR == 1 { k++ }
		k == 1 { b[$1] = $2; next }
		k == 2 { p[$1] = $2; next }
		{
			t = $1; rbl = $2; rpl = $3
			if (t in s) {
				bs = (t in b) ? b[t] : "MISSING"; ps = (t in p) ? p[t] : "MISSING"
				rbl = rbl (rbl == "" ? "" : "/") bs
				rpl = rpl (rpl == "" ? "" : "/") ps
				if (worse(bs, ps) && bs != "SPLAT" && ps != "SPLAT")
					print t > next_sus
			}
			print t, rbl, rpl
		}' "$OUT/suspects" "$OUT/rerun/$round/baseline/results.tsv" \
			"$OUT/rerun/$round/patched/results.tsv" "$OUT/rerun.tsv" >"$OUT/rerun.tsv.next"
		touch "$OUT/suspects.next"
		mv -f "$OUT/suspects.next" "$OUT/suspects"
		mv -f "$OUT/rerun.tsv.next" "$OUT/rerun.tsv"
	done
fi
log "comparison in $OUT/comparison.txt"

# TAP for the report, one line per test run: ok where patched passes; a
# skip (with why) where patched skips or fails the same way as the
# baseline, which says nothing about the series; not ok where patched does
# worse, unless a rerun round does not repeat it: patched passes a round
# (ok, flaky, saying so) or does no worse than the baseline there (a skip,
# saying so); not ok, whatever else, where either kernel splatted.
mkdir -p "$TAP_DIR"
awk -F'\t' "$WORSE"'
# repeated(t): every rerun round of t repeated the difference.
function repeated(t,    i, n, bl, pl) {
	n = split(rb[t], bl, "/")
	split(rp[t], pl, "/")
	for (i = 1; i <= n; i++)
		if (!worse(bl[i], pl[i]))
			return 0
	return n > 0
}
FILENAME ~ /rerun.tsv$/ { rb[$1] = $2; rp[$1] = $3; next }
FNR == 1 { k++ }
k == 1 { b[$1] = $2; bw[$1] = $3; next }
{ order[++n] = $1; p[$1] = $2; pw[$1] = $3 }
END {
	print "TAP version 13"; print "1.." n
	for (i = 1; i <= n; i++) {
		t = order[i]; bs = (t in b) ? b[t] : "MISSING"; ps = p[t]
		rerun = (t in rp) ? "; rerun patched " rp[t] ", baseline " rb[t] : ""
		if (bs == "SPLAT" || ps == "SPLAT" || (rb[t] rp[t]) ~ /SPLAT/)
			printf "not ok %d liburing.%s # kernel splat: patched %s, baseline %s%s: %s\n", i, t, ps, bs, rerun, ps == "SPLAT" ? pw[t] : bw[t]
		else if (ps == "PASS")
			printf "ok %d liburing.%s%s\n", i, t, bs == "PASS" ? "" : " # baseline " bs
		else if (ps == "SKIP" && !worse(bs, ps))
			printf "ok %d liburing.%s # SKIP %s\n", i, t, pw[t]
		else if (!worse(bs, ps))
			printf "ok %d liburing.%s # SKIP %s on the baseline too, not the series: %s\n", i, t, bs, pw[t]
		else if (!(t in rp))
			printf "not ok %d liburing.%s # patched %s, baseline %s: %s\n", i, t, ps, bs, pw[t]
		else if (rp[t] ~ /PASS/)
			printf "ok %d liburing.%s flaky: patched %s, baseline %s%s (%s)\n", i, t, ps, bs, rerun, pw[t]
		else if (repeated(t))
			printf "not ok %d liburing.%s # patched %s, baseline %s%s: %s\n", i, t, ps, bs, rerun, pw[t]
		else
			printf "ok %d liburing.%s # SKIP not repeated: patched %s, baseline %s%s (%s)\n", i, t, ps, bs, rerun, pw[t]
	}
}' "$OUT/rerun.tsv" "$OUT/run/baseline/results.tsv" "$OUT/run/patched/results.tsv" >"$TAP_DIR/liburing.tap"
grep -E 'DIFFERS|REGRESSION' "$OUT/comparison.txt" || log "no test differs between baseline and patched"
regressed=$(sed -n 's/^not ok [0-9]* liburing\.\([^ ]*\) .*/\1/p' "$TAP_DIR/liburing.tap" | xargs)
if [ -n "$regressed" ]; then
	grep '^not ok' "$TAP_DIR/liburing.tap" >&2
	die "patched does worse than baseline${round:+ (rerun rounds: $round; a splat decides at once)}: $regressed"
fi
guest_errors=$(cd "$OUT" && for f in run/*/guest-errors rerun/*/*/guest-errors; do
	[ ! -s "$f" ] || dirname "$f"
done | xargs)
[ -z "$guest_errors" ] ||
	die "the guest reported errors (dio-error in results.txt) on: $guest_errors"

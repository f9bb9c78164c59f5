#!/bin/bash
# Stage "liburing-compare": compare liburing's test suite on the baseline
# and the patched test kernel, per test, from the two boots that
# ci/liburing-boot.sh made (build/liburing-results/run/KERNEL/results.tsv;
# the two may run side by side, one vCPU each). A kernel splat in the
# console while a test ran fails that test.
#
# Flakes: a test the patched kernel does worse on than the baseline (it
# passes on the baseline only, or fails, times out or goes missing where the
# baseline skips) is run once more on both kernels (two short boots with
# only those tests, side by side). It is a regression only if the rerun
# repeats it. Both runs are recorded, and the log says why each differing
# test did not pass. A kernel splat is never a flake: one on either kernel,
# in either run, fails the test.
#
# Writes build/liburing-results/comparison.txt (first run, then the rerun
# if any) and, for the report, build/results/liburing/liburing.tap; exits 1
# on a regression or a guest error.
# Env: as ci/liburing-boot.sh, for the rerun's boots.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$SBUILD/liburing-results
TAP_DIR=$RESULTS/liburing

for k in "${KERNELS[@]}"; do
	[ -f "$OUT/run/$k/results.tsv" ] || die "no $OUT/run/$k/results.tsv: run ci/liburing-boot.sh $k first"
done
rm -f "$OUT/comparison.txt" "$OUT/rerun.tsv"
rm -rf "$OUT/rerun"

# rerun TESTS: both kernels, side by side, with only TESTS (a comma list),
# into $OUT/rerun/KERNEL.
rerun() {
	local k pids=() rc=0
	for k in "${KERNELS[@]}"; do
		"$TOP/ci/liburing-boot.sh" "$k" "$OUT/rerun" "$1" &
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

# The rerun: each liburing test with a regression, all its variants (the
# guest selects by test, not by test@file).
: >"$OUT/rerun.tsv"
if [ -s "$OUT/run/regressions" ]; then
	while IFS=$'\t' read -r t bs ps why; do
		log "patched does worse than baseline on $t: patched $ps ($why), baseline $bs"
	done <"$OUT/run/regressions"
	again=$(cut -f1 "$OUT/run/regressions" | sed 's/@.*//' | sort -u | paste -sd,)
	log "running $again once more on both kernels"
	rerun "$again"
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
guest_errors=$(cd "$OUT" && for f in run/*/guest-errors rerun/*/guest-errors; do
	[ ! -s "$f" ] || dirname "$f"
done | xargs)
[ -z "$guest_errors" ] ||
	die "the guest reported errors (dio-error in results.txt) on: $guest_errors"

#!/bin/bash
# Stage "liburing-compare": boot the baseline and the patched test kernel,
# one after the other, with dio.mode=liburing (ci/guest-liburing.sh runs
# liburing's test suite) and compare the two per test. A kernel splat in the
# console while a test ran fails that test (as upstream's runtests.sh's dmesg
# check does). Writes build/liburing-results/comparison.txt and, for the
# report, build/results/liburing/liburing.tap; exits 1 when the patched
# kernel does not pass a test that the baseline passes.
# Not part of `make check` yet: `make check-liburing`.
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

# results KERNEL: DIR/results.tsv, one line per test run: NAME, PASS | SKIP |
# FAIL | TIMEOUT, why (the test's last output line, the splat, ...).
results() {
	local dir=$OUT/$1 name st why splat
	tr -d '\r' <"$dir/results.raw" | awk '
	/^(not )?ok [0-9]+ / {
		ok = ($1 == "ok"); name = ok ? $3 : $4
		why = $0; sub(/^[^#]*# ?/, "", why)
		if (why ~ /^SKIP /) { st = "SKIP"; sub(/^SKIP /, "", why) }
		else if (ok) st = "PASS"
		else if (why ~ /^TIMEOUT /) st = "TIMEOUT"
		else st = "FAIL"
		print name "\t" st "\t" why
	}' >"$dir/tap.tsv"
	# The console, cut at each test's start marker: splats.d/NAME.
	mkdir -p "$dir/splats.d"
	tr -d '\r' <"$dir/console.log" | awk -v d="$dir/splats.d" '
	/dio-liburing: running / { f = d "/" $NF; next }
	f != "" { print > f }'
	while IFS=$'\t' read -r name st why; do
		if [ -f "$dir/splats.d/$name" ] && ! splat=$("$TOP/ci/scan-splats.sh" "$dir/splats.d/$name"); then
			splat=$(sed -n 2p <<<"$splat")
			st=FAIL why="kernel splat: ${splat#*:}"
		fi
		printf '%s\t%s\t%s\n' "$name" "$st" "$why"
	done <"$dir/tap.tsv" >"$dir/results.tsv"
}

guest_errors=()
for k in "${KERNELS[@]}"; do
	start=$SECONDS
	DIO_OUT=$OUT/$k DIO_INITRD=$OUT/initramfs.cpio DIO_GUEST_TIMEOUT=${DIO_GUEST_TIMEOUT:-7200} \
		DIO_APPEND="dio.mode=liburing dio.liburing_timeout=${DIO_LIBURING_TIMEOUT:-120}" \
		"$TOP/ci/boot.sh" "$k" test || log "$k: the boot failed (above); its missing tests count as failed"
	[ -f "$OUT/$k/results.raw" ] || die "$k: no results.raw in $OUT/$k"
	release=$(tr -d '\r' <"$OUT/$k/results.raw" | sed -n 's/^# dio-guest .* release=\([^ ]*\) .*/\1/p')
	case $release in
	*-"$k" | *-"$k"+) ;;
	*) die "$k: the guest runs '${release:-nothing}', not the $k kernel" ;;
	esac
	if tr -d '\r' <"$OUT/$k/results.raw" | grep '^# dio-error' >&2; then
		guest_errors+=("$k")
	fi
	results "$k"
	[ -s "$OUT/$k/results.tsv" ] || die "$k: no test results in $OUT/$k/results.raw"
	log "$k: $(cut -f2 "$OUT/$k/results.tsv" | sort | uniq -c | xargs) in $((SECONDS - start))s"
	grep -q '^# dio-guest-done' "$OUT/$k/results.raw" || log "$k: the guest did not finish"
done

# Per test, in run order: baseline, patched, and a flag where they differ.
# A test missing on one kernel (the guest died or hung) is MISSING there.
awk -F'\t' -v out="$OUT/regressions" '
FNR == 1 { k++ }
k == 1 { b[$1] = $2; bw[$1] = $3; order[++n] = $1; next }
{ p[$1] = $2; pw[$1] = $3; if (!($1 in b)) order[++n] = $1 }
END {
	printf "%-40s %-8s %-8s\n", "test", "baseline", "patched"
	for (i = 1; i <= n; i++) {
		t = order[i]; bs = (t in b) ? b[t] : "MISSING"; ps = (t in p) ? p[t] : "MISSING"
		flag = ""
		if (bs != ps) flag = "DIFFERS"
		if (bs == "PASS" && ps != "PASS") { flag = "REGRESSION"; print t > out }
		printf "%-40s %-8s %-8s %s\n", t, bs, ps, flag
		if (bs != "PASS" && bs != "SKIP") fails = fails sprintf("  baseline %s %s: %s\n", bs, t, bw[t])
		if (ps != "PASS" && ps != "SKIP") fails = fails sprintf("  patched  %s %s: %s\n", ps, t, pw[t])
	}
	printf "\nNot passed (failures, timeouts, missing) with their last line:\n%s", fails
}' "$OUT/baseline/results.tsv" "$OUT/patched/results.tsv" >"$OUT/comparison.txt"
{
	echo
	for k in "${KERNELS[@]}"; do
		echo "$k: $(cut -f2 "$OUT/$k/results.tsv" | sort | uniq -c | xargs)"
	done
	echo "skipped, with why:"
	cut -f1-3 "$OUT/baseline/results.tsv" | awk -F'\t' '$2 == "SKIP" { print "  " $1 ": " $3 }'
} >>"$OUT/comparison.txt"
log "comparison in $OUT/comparison.txt"

# The same as TAP for the report, one line per test run: ok where patched
# passes; a skip (with why) where both skip or both fail the same way, which
# says nothing about the series; not ok where patched does worse.
mkdir -p "$TAP_DIR"
awk -F'\t' '
FNR == 1 { k++ }
k == 1 { b[$1] = $2; bw[$1] = $3; next }
{ order[++n] = $1; p[$1] = $2; pw[$1] = $3 }
END {
	print "TAP version 13"; print "1.." n
	for (i = 1; i <= n; i++) {
		t = order[i]; bs = (t in b) ? b[t] : "MISSING"; ps = p[t]
		if (ps == "PASS")
			printf "ok %d liburing.%s%s\n", i, t, bs == "PASS" ? "" : " # baseline " bs
		else if (ps == "SKIP" && (bs == "SKIP" || bs != "PASS"))
			printf "ok %d liburing.%s # SKIP %s\n", i, t, pw[t]
		else if (ps == bs)
			printf "ok %d liburing.%s # SKIP %s on the baseline too, not the series: %s\n", i, t, bs, pw[t]
		else
			printf "not ok %d liburing.%s # patched %s, baseline %s: %s\n", i, t, ps, bs, pw[t]
	}
}' "$OUT/baseline/results.tsv" "$OUT/patched/results.tsv" >"$TAP_DIR/liburing.tap"
grep -E 'DIFFERS|REGRESSION' "$OUT/comparison.txt" || log "no test differs between baseline and patched"
[ ! -s "$OUT/regressions" ] ||
	die "patched does not pass what baseline passes: $(xargs <"$OUT/regressions")"
[ "${#guest_errors[@]}" -eq 0 ] ||
	die "the guest reported errors (dio-error, above) on: ${guest_errors[*]}"

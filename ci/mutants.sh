#!/bin/bash
# Stage "mutants": show that the guest tests guard every rule of the series.
# Each tests/mutants/STACK/*.patch breaks one rule on top of the series; its
# trailers name the guest tests that must catch it and where (Mutant-Tests,
# Mutant-Devs, Mutant-FS). First the patched kernel boots with all of those
# tests, disks and filesystems together and must pass them. Then, for each
# mutant, the series plus that patch is built (branch "mutant", in one
# object directory for all of them: after the first, only the files that
# two mutants change rebuild) and booted with its tests; it is killed when
# one of them fails, the guest does not finish (a hang, ended by the
# watchdog) or the kernel log has a splat. A mutant that names the nullb
# disk has its tests run there, whether make check runs them on it or not:
# there every bio completes after its submitter returned, so a rule about
# completions in irq context is checked on every write, not on those that
# the emulated disk happened to complete late.
# Passes when every mutant is killed. A table of mutant, rule, verdict and
# killer goes to build/STACK/mutants/table.txt.
# Usage: mutants.sh [NAME...]   (only the mutants whose file names contain NAME)
# Not part of `make check`: a build and a boot per mutant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$SBUILD/mutants
git_identity
[ -f "$(objdir patched test)/arch/x86/boot/bzImage" ] || die "no patched test kernel: run make kernel-patched first"
muts=()
for m in "$TOP/tests/mutants/$STACK"/*.patch; do
	[ -f "$m" ] || die "no mutants for the $STACK stack in tests/mutants/$STACK/"
	want=$#
	for n in "$@"; do [[ $(basename "$m") != *"$n"* ]] || want=0; done
	[ "$want" -ne 0 ] || muts+=("$m")
done
[ "${#muts[@]}" -gt 0 ] || die "no mutant in tests/mutants/$STACK/ matches: $*"

# The value of trailer $1 in mutant $2 (one line, as the patch states it).
trailer() {
	local v
	v=$(sed -n "s/^$1: *//p" "$2" | head -n1)
	[ -n "$v" ] || die "$(basename "$2") has no $1: trailer"
	echo "$v"
}

# Comma lists joined without duplicates.
union() {
	tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd,
}

# Boot KERNEL with tests $2 on disks $3 and filesystems $4 into $OUT/$5,
# with tests $6 on nullb; print the verdict: "pass", "killed: WHY" (the
# failed results, a splat, a hang), or "void: WHY" when the guest ran
# another kernel.
verdict() {
	local dir=$OUT/$5 raw failed release
	rm -rf "$dir"
	DIO_DEVS=$3 DIO_FS=$4 DIO_TESTS=$2 DIO_NULLB_TESTS=$6 DIO_OUT=$dir \
		DIO_GUEST_TIMEOUT=${DIO_GUEST_TIMEOUT:-900} \
		"$TOP/ci/boot.sh" "$1" test >"$dir.log" 2>&1 || true
	raw=$(tr -d '\r' <"$dir/results.raw" 2>/dev/null || true)
	failed=$(sed -n 's/^not ok [0-9]* //p' <<<"$raw" | paste -sd' ')
	release=$(guest_release <<<"$raw")
	if [ -n "$release" ] && ! release_of "$release" "$1"; then
		# Neither a kill nor a pass: the guest ran another kernel.
		echo "void: the guest ran $release, not the $1 kernel"
	elif [ -n "$failed" ]; then
		echo "killed: $failed"
	elif ! "$TOP/ci/scan-splats.sh" "$dir/console.log" >/dev/null; then
		echo "killed: kernel splat in $dir/console.log$(grep -q '^# dio-guest-done' <<<"$raw" || echo ', and the guest did not finish')"
	elif ! grep -q '^# dio-guest-done' <<<"$raw"; then
		echo "killed: the guest did not finish (hang; $(tail -n1 "$dir.log"))"
	elif ! grep -q '^ok ' <<<"$raw"; then
		echo "killed: no test result at all"
	else
		echo pass
	fi
}

mkdir -p "$OUT"
# The tests mutant $1 runs on nullb: its own if it names that disk.
nullb_tests() {
	[[ ",$(trailer Mutant-Devs "$1")," != *,nullb,* ]] || trailer Mutant-Tests "$1"
}

tests='' devs='' fss='' nullb=''
for m in "${muts[@]}"; do
	tests+=,$(trailer Mutant-Tests "$m") devs+=,$(trailer Mutant-Devs "$m") fss+=,$(trailer Mutant-FS "$m")
	nullb+=,$(nullb_tests "$m")
done
tests=$(union <<<"$tests") devs=$(union <<<"$devs") fss=$(union <<<"$fss") nullb=$(union <<<"$nullb")
log "control: the patched kernel with $tests on $devs, $fss${nullb:+ ($nullb on nullb)}"
v=$(verdict patched "$tests" "$devs" "$fss" control "$nullb")
[ "$v" = pass ] || die "the patched kernel itself fails the mutants' tests ($v): see $OUT/control/"

table=$OUT/table.txt
printf '%-32s %-8s %s\n' mutant verdict "rule / killer" >"$table"
survivors=()
configured=
for m in "${muts[@]}"; do
	name=$(basename "$m" .patch)
	variant_branch mutant "$OUT/$name.am.log" "$m"
	# From the fragments as they are now, once a run (no mutant changes a
	# Kconfig): an object directory configured before an option joined them
	# would fail the tests that need it, a kill that proves nothing.
	if [ -z "$configured" ]; then
		"$TOP/ci/config.sh" mutant test
		configured=1
	fi
	"$TOP/ci/build.sh" mutant test
	start=$SECONDS
	v=$(verdict mutant "$(trailer Mutant-Tests "$m")" "$(trailer Mutant-Devs "$m")" "$(trailer Mutant-FS "$m")" "$name" "$(nullb_tests "$m")")
	rule=$(awk '/^Subject:/ { s = $0; while ((getline l) > 0 && l ~ /^ /) s = s l; sub(/^Subject: \[PATCH[^]]*\] mutant: /, "", s); print s; exit }' "$m")
	log "$name: $v ($((SECONDS - start)) s boot)"
	[[ $v != void:* ]] || die "$name: $v"
	case $v in
	pass) survivors+=("$name"); printf '%-32s %-8s %s\n' "$name" SURVIVED "$rule" >>"$table" ;;
	*) printf '%-32s %-8s %s\n%-41s %s\n' "$name" killed "$rule" "" "${v#killed: }" >>"$table" ;;
	esac
done
git -C "$SRC" checkout -q patched
cat "$table"
[ "${#survivors[@]}" -eq 0 ] || die "not killed by any test: ${survivors[*]}"
log "all ${#muts[@]} mutants killed; table in $table"

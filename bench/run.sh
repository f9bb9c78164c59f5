#!/bin/bash
# Stage "bench": boot the baseline and patched bench kernels alternately
# through ci/boot.sh with the guest in bench mode, one boot per device (rep 1:
# baseline then patched on the first device, then on the next; rep 2 the
# same with patched first; rep 3 as rep 1 ...),
# keep each boot's raw results, then aggregate them into
# bench/results/<date>-<stack>-<accel>[-quick][-<devices>]/. `make bench` runs the
# harness stages (deps, base, tree, config + build of the bench set, guest)
# first.
#
# Resumable: boots already done for the same kernels, initramfs and plan are
# kept in build/bench/<plan>/ and not run again; anything else starts over.
# Env: QUICK=1 (headline randwrite on NVMe, io_uring + libaio, QD 1/8/16,
#      3 reps); BENCH_DEVS (default: nvme with QUICK=1, else
#      nvme,virtio-blk), BENCH_REPS, BENCH_RUNTIME (s per cell),
#      BENCH_WARMUP (s per target), BENCH_TCG_OPTS (QEMU options for a TCG
#      boot only, default "-icount shift=3"; "" for none).
set -euo pipefail
STAGE=bench
. "$(dirname "$0")/../ci/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-matplotlib (ci/packages)
SET=bench

# Cells of 2 s, 4 s and 10 s spread alike between reps (README): the full
# plan's are 3 s (140 a boot), QUICK's 2 s, so that it stays a short check
# on a slow 2-core host too (README gives the times).
if [ "${QUICK:-0}" = 1 ]; then
	PLAN=quick RWS=randwrite QDS=1,8,16 REPS=${BENCH_REPS:-3}
	RUNTIME=${BENCH_RUNTIME:-2} DEFAULT_DEVS=nvme
else
	PLAN=full QDS=1,2,4,8,16 REPS=${BENCH_REPS:-5}
	RWS=randwrite,randwrite-unwritten,append,mixed,randread,randwrite-dsync
	RUNTIME=${BENCH_RUNTIME:-3} DEFAULT_DEVS=nvme,virtio-blk
fi
DEVS=${BENCH_DEVS:-$DEFAULT_DEVS}
ENGINES=io_uring,libaio TARGETS=ext4,xfs,raw
WARMUP=${BENCH_WARMUP:-2}
# Under TCG the guest clock follows the instruction count (8 ns each) instead
# of the host's clock: CPU time no longer depends on host load (README).
# KVM refuses -icount, and needs no such clock: ci/boot.sh adds these only
# when it boots under TCG.
TCG_OPTS=${BENCH_TCG_OPTS--icount shift=3}
APPEND="dio.mode=bench dio.bench_rw=$RWS dio.bench_qd=$QDS dio.bench_engines=$ENGINES dio.bench_runtime=$RUNTIME dio.bench_warmup=$WARMUP"

for k in "${KERNELS[@]}"; do
	[ -f "$(objdir "$k" $SET)/arch/x86/boot/bzImage" ] || die "no $k bench kernel: run ci/config.sh $k $SET && ci/build.sh $k $SET"
done
[ -f "$SBUILD/guest/initramfs.cpio" ] || die "no guest initramfs: run ci/guest.sh"

# What the kept boots must match to be reused: the plan, both kernels' source
# trees and configs, how ci/boot.sh runs QEMU (it decides the pin), and the
# guest side (rebuilt images differ in timestamps only, so they are
# identified by what they are made of).
STATE=$SBUILD/bench/$PLAN
stamp() {
	echo "$APPEND devs=$DEVS targets=$TARGETS tcg_opts=$TCG_OPTS"
	git -C "$SRC" rev-parse 'base^{tree}' 'patched^{tree}'
	sha256sum "$(objdir baseline $SET)/.config" "$(objdir patched $SET)/.config" \
		"$TOP/ci/boot.sh" "$TOP/ci/guest-init.sh" "$TOP/bench/guest-bench.sh" /usr/bin/fio |
		cut -d' ' -f1
}
if [ "$(cat "$STATE/stamp" 2>/dev/null)" != "$(stamp)" ]; then
	rm -rf "$STATE"
	mkdir -p "$STATE"
	stamp >"$STATE/stamp"
	date -u +%Y-%m-%d >"$STATE/date"
fi

# Cells per boot: known from the first boot's plan line.
plan_cells() {
	[ -f "$1" ] || return 0
	awk '/^# dio-bench-plan cells=/ { sub(/^# dio-bench-plan cells=/, ""); sub(/[^0-9].*/, ""); print; exit }' "$1"
}
ended_cells() {
	grep -c '^# dio-bench-cell-end' "$1" 2>/dev/null || true
}
unit_done() {
	local raw=$STATE/$1.raw
	[ -f "$raw" ] && grep -q '^# dio-guest-done' "$raw" &&
		[ "$(ended_cells "$raw")" = "$(plan_cells "$raw")" ]
}

# One device per boot: ci/boot.sh pins QEMU to one host CPU for NVMe under
# -icount (the doorbell fix), which also hides most workqueue trips; a boot
# of its own keeps every other device unpinned (README, "The benchmark").
units=()
IFS=, read -ra DEV_LIST <<<"$DEVS"
# Even reps boot the patched kernel first: an effect of the boot order then
# splits the reps instead of passing for a difference between the kernels.
for r in $(seq 1 "$REPS"); do
	order=("${KERNELS[@]}")
	[ $((r % 2)) = 1 ] || order=("${KERNELS[1]}" "${KERNELS[0]}")
	for d in "${DEV_LIST[@]}"; do
		for k in "${order[@]}"; do units+=("rep$r-$k-$d"); done
	done
done
done_before=0
for u in "${units[@]}"; do
	if unit_done "$u"; then done_before=$((done_before + 1)); fi
done
log "plan $PLAN: ${#units[@]} boots ($REPS reps x ${KERNELS[*]} x devices $DEVS, interleaved, patched first in even reps, one device a boot), targets $TARGETS, rw $RWS, QD $QDS, engines $ENGINES, ${RUNTIME}s a cell${TCG_OPTS:+, under TCG QEMU $TCG_OPTS}; $done_before boots kept from an earlier run"

per_boot=
for u in "${units[@]}"; do
	[ -z "$per_boot" ] && per_boot=$(plan_cells "$STATE/$u.raw")
done

mmss() {
	printf '%02d:%02d' $(($1 / 60)) $(($1 % 60))
}

start=$SECONDS cells_run=0 n=0
for u in "${units[@]}"; do
	n=$((n + 1))
	unit_done "$u" && continue
	IFS=- read -r rep kernel dev <<<"$u"
	out=$(resultdir "$kernel" $SET)
	# The guest's watchdog: generous per cell, never the test default.
	cells_guess=${per_boot:-400}
	DIO_DEVS=$dev DIO_FS=$TARGETS DIO_APPEND=$APPEND DIO_TCG_OPTS=$TCG_OPTS DIO_DISK_SIZE=2G \
		DIO_GUEST_TIMEOUT=$((300 + cells_guess * (RUNTIME + 10))) \
		"$TOP/ci/boot.sh" "$kernel" $SET &
	boot_pid=$! boot_start=$SECONDS
	seen=0
	while kill -0 "$boot_pid" 2>/dev/null; do
		sleep 5
		now=$(ended_cells "$out/results.raw")
		[ "$now" != "$seen" ] || continue
		seen=$now
		[ -n "$per_boot" ] || per_boot=$(plan_cells "$out/results.raw")
		[ -n "$per_boot" ] || continue
		total=$((${#units[@]} * per_boot))
		i=$(((n - 1) * per_boot + now))
		ran=$((cells_run + now))
		eta=$(((SECONDS - start) * (total - i) / ran))
		log "cell $i/$total, ${rep/rep/rep }, $kernel, $dev, ETA $(mmss "$eta")"
	done
	wait "$boot_pid" || die "boot $u failed (see $out/console.log)"
	cells_run=$((cells_run + $(ended_cells "$out/results.raw")))
	splat=$("$TOP/ci/scan-splats.sh" "$out/console.log") || die "kernel splat in $u: $out/console.log: $(sed -n 2p <<<"$splat")"
	tr -d '\r' <"$out/results.raw" >"$STATE/$u.raw"
	grep '^# dio-error' "$STATE/$u.raw" | head -n 3 | sed "s/^/[bench] $u: /" >&2 || true
	cp "$out/console.log" "$STATE/$u.console.log"
	{ cat "$out/boot.env"; echo "wall_s=$((SECONDS - boot_start))"; } >"$STATE/$u.boot.env"
	unit_done "$u" || die "boot $u did not finish its cells: $(ended_cells "$STATE/$u.raw") of $(plan_cells "$STATE/$u.raw") (see $STATE/$u.raw)"
	release=$(guest_release "$STATE/$u.raw")
	release_of "$release" "$kernel" || die "boot $u ran '${release:-nothing}', not the $kernel kernel"
done
log "all ${#units[@]} boots done; $((SECONDS - start))s in this run"

# shellcheck source=/dev/null
. "$STATE/${units[0]}.boot.env"
dest=$TOP/bench/results/$(cat "$STATE/date")-$STACK-$accel$([ "$PLAN" = quick ] && echo -quick || true)
# A plan run on some of its devices only (BENCH_DEVS) names them.
[ "$DEVS" = "$DEFAULT_DEVS" ] || dest=$dest-${DEVS//,/+}
# Never overwrite an earlier record of the same day: number the new one.
n=2 first=$dest
while [ -e "$dest" ]; do
	dest=$first-$n
	n=$((n + 1))
done
mapfile -t PATCHES < <(series_patches)
series_hash=$(cd "$PATCH_DIR" && cat series "${PATCHES[@]}" | sha256sum | cut -c1-12)
"$PY" "$TOP/bench/aggregate.py" --out "$dest" \
	--meta stack="$STACK" plan="$PLAN" accel="$accel" qemu="$(qemu-system-x86_64 --version | awk 'NR==1 {print $4}')" \
	base="$BASE_PACKAGE $BASE_VERSION" base_sha256="$BASE_SHA256" \
	series_hash="$series_hash" series_patches="${#PATCHES[@]}" runtime_s="$RUNTIME" warmup_s="$WARMUP" \
	reps="$REPS" host_cores="$(nproc)" devs="$DEVS" \
	--series "$PATCH_DIR/series" --state "$STATE" "${units[@]}" ||
	die "aggregate.py failed"
log "results in ${dest#"$TOP"/}: $(cd "$dest" && ls | tr '\n' ' ')"

#!/bin/bash
# Stage "boot": boot KERNEL (config SET) in QEMU with the guest initramfs,
# one vCPU, an NVMe and a virtio-blk disk on fresh raw images (and the
# guest's own null_blk disk, "nullb"), KVM when /dev/kvm is usable and TCG
# otherwise. The console goes to console.log, the guest's results (second
# serial port) to results.raw. A watchdog kills a guest that does not exit
# in time and fails the stage.
# Usage: boot.sh KERNEL SET [SELFTEST]   (SELFTEST: fail|hang, see guest-init)
# Env: DIO_DEVS, DIO_FS, DIO_TESTS (comma lists; DIO_TESTS: only these guest
#      tests), DIO_GUEST_TIMEOUT (s), DIO_ACCEL (kvm|tcg; default: kvm if
#      usable), DIO_RACE_ITERS (iterations of tests/dio_stale_read.c;
#      default: the test's own CI default), DIO_APPEND (more kernel command
#      line, e.g. the bench's dio.mode=bench ...), DIO_TCG_OPTS (more QEMU
#      options for a TCG boot, split at spaces, e.g. the bench's "-icount
#      shift=3"; KVM gets none), DIO_DISK_SIZE (each disk image, default
#      1G), DIO_INITRD (another initramfs, e.g. the one with liburing's
#      tests), DIO_OUT (another results directory).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1 set=$2 selftest=${3:-}
KIMG=$(objdir "$kernel" "$set")/arch/x86/boot/bzImage
INITRD=${DIO_INITRD:-$SBUILD/guest/initramfs.cpio}
OUT=${DIO_OUT:-$(resultdir "$kernel" "$set" "$selftest")}
DEVS=${DIO_DEVS:-nvme,virtio-blk,nullb}
FSS=${DIO_FS:-ext4,xfs}
TIMEOUT=${DIO_GUEST_TIMEOUT:-1800}

# What the guest tests must see this kernel do (ci/stacks/STACK.env).
case $kernel in
baseline) EXPECT=$EXPECT_BASELINE ;;
*) EXPECT=$EXPECT_PATCHED ;;
esac
[ -n "$EXPECT" ] || die "ci/stacks/$STACK.env declares nothing for $kernel (\"none\" for no behaviour)"

[ -f "$KIMG" ] || die "no $KIMG: run ci/build.sh $kernel $set first"
[ -f "$INITRD" ] || die "no $INITRD: run ci/guest.sh first"

# KVM only when a guest really boots with it: nested KVM can open /dev/kvm
# and still fail (seen: MSR assertions with -cpu host, a silent guest with
# other models). The probe boots this kernel to a panic with no init.
kvm_usable() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || { why="no usable /dev/kvm"; return 1; }
	(timeout 30 qemu-system-x86_64 -accel kvm -cpu host -M q35 -smp 1 -m 256M \
		-nodefaults -display none -no-reboot -kernel "$KIMG" \
		-append "console=ttyS0 panic=-1 rdinit=/none root=/dev/none" \
		-serial "file:$OUT/kvm-probe.log") >/dev/null 2>&1 &&
		grep -q 'Kernel panic' "$OUT/kvm-probe.log" && return 0
	why="/dev/kvm is present but a KVM boot probe failed"
	return 1
}

rm -rf "$OUT"
mkdir -p "$OUT"
accel=${DIO_ACCEL:-} why="DIO_ACCEL=${DIO_ACCEL:-}"
if [ -z "$accel" ]; then
	if kvm_usable 2>/dev/null; then accel=kvm why="/dev/kvm works"; else accel=tcg; fi
fi
# TCG: one vCPU, but room for two. With max_cpus 1, QEMU 7.2's TCG drops
# the guest's memory barriers (it emits them only for parallel TCG; upstream
# QEMU 8.1 stopped eliding them in system mode), while the emulated NVMe runs
# in another host thread. The shadow-doorbell handshake (the driver stores
# the SQ tail, mb(), loads the EventIdx; QEMU the reverse) then loses a
# doorbell: "I/O ... timeout", resets, "unable to set dbbuf", controller
# removed, within a minute of QD16 writes. maxcpus=2 makes TCG parallel and
# keeps the barriers; nr_cpus=1 keeps the guest at one possible CPU and one
# NVMe I/O queue, as before. Under -icount TCG is never parallel, so that
# does not help there: see PIN below.
SMP=1 SMP_APPEND=
case $accel in
kvm) ACCEL=(-accel kvm -cpu host) ;;
tcg) ACCEL=(-accel tcg -cpu max) SMP=1,maxcpus=2 SMP_APPEND=" nr_cpus=1" ;;
*) die "DIO_ACCEL=$accel: use kvm or tcg" ;;
esac

# Disk images live in tmpfs: no host disk I/O, so no host storage stall can
# time out a guest request (seen once with images on the host's disk).
IMG=$(mktemp -d /dev/shm/dio-disks.XXXXXX)
trap 'rm -rf "$IMG"' EXIT
for d in nvme virtio-blk; do
	truncate -s "${DIO_DISK_SIZE:-1G}" "$IMG/$d.img"
done
QEMU_OPTS=()
if [ "$accel" = tcg ]; then read -ra QEMU_OPTS <<<"${DIO_TCG_OPTS:-}"; fi
# TCG under -icount (the bench) drops the barriers whatever maxcpus says.
# There all of QEMU runs on one host CPU: the vCPU thread and the NVMe
# model's thread then take turns on it, a context switch orders their
# stores and loads, and no host store buffer can hide the driver's doorbell
# store from the device's load (nor the reverse). Only with NVMe: pinned,
# the device model's thread runs only when the vCPU thread yields, so most
# bios complete before the submitting syscall returns (the baseline punted
# 0.2-0.35 overwrite completions per I/O to the workqueue on a pinned
# virtio-blk, 0.87-1.00 unpinned), unlike a real device, whose latency is
# far longer than the submission.
PIN=()
if [ "$accel" = tcg ] && [[ " ${QEMU_OPTS[*]} " == *" -icount "* ]] && [[ ",$DEVS," == *",nvme,"* ]]; then
	cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',-' '\n\n' | tail -n1)
	PIN=(taskset -c "$cpu")
fi
printf 'boot_kernel=%s\naccel=%s\nboot_devs=%s\nboot_fs=%s\nnullb_tests=%s\nhost_cpu=%s\nqemu_opts=%s\n' "$kernel" "$accel" "$DEVS" "$FSS" "$NULLB_TESTS" "${cpu:-any}" "${QEMU_OPTS[*]}" >"$OUT/boot.env"
log "booting $kernel/$set${selftest:+ (harness self-test: $selftest)}: accelerator ${accel^^} ($why), devices $DEVS, filesystems $FSS, watchdog ${TIMEOUT}s${cpu:+, QEMU on host CPU $cpu}"

start=$SECONDS
rc=0
timeout -s KILL "$TIMEOUT" "${PIN[@]}" qemu-system-x86_64 "${ACCEL[@]}" -M q35 -smp "$SMP" -m 2G \
	-nodefaults -display none -no-reboot \
	-kernel "$KIMG" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1${SMP_APPEND} dio.kernel=$kernel dio.stack=$STACK dio.expect=${EXPECT// /,} dio.devs=$DEVS dio.fs=$FSS null_blk.nr_devices=0 dio.nullb_tests=$NULLB_TESTS dio.nullb_delay_ns=$NULLB_DELAY_NS${selftest:+ dio.selftest=$selftest}${DIO_TESTS:+ dio.tests=$DIO_TESTS}${DIO_RACE_ITERS:+ dio.race_iters=$DIO_RACE_ITERS}${DIO_APPEND:+ $DIO_APPEND}" \
	-serial "file:$OUT/console.log" -serial "file:$OUT/results.raw" \
	-drive "file=$IMG/nvme.img,if=none,id=nvm,format=raw,cache=writeback,aio=threads" \
	-device nvme,drive=nvm,serial=dio-nvme \
	-drive "file=$IMG/virtio-blk.img,if=none,id=vd,format=raw,cache=writeback,aio=threads" \
	-device virtio-blk-pci,drive=vd "${QEMU_OPTS[@]}" \
	>"$OUT/qemu.log" 2>&1 || rc=$?

if [ "$rc" -eq 137 ]; then
	echo "---- last console lines ($OUT/console.log) ----" >&2
	tail -n 25 "$OUT/console.log" >&2
	die "watchdog: $kernel/$set guest still running after ${TIMEOUT}s, killed (hung?)"
fi
[ "$rc" -eq 0 ] || die "qemu exited with $rc: $(tail -n1 "$OUT/qemu.log")"
log "$kernel/$set guest exited after $((SECONDS - start))s"

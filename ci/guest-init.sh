#!/bin/busybox sh
# /init of the test guest. For every device x filesystem named on the kernel
# command line: mkfs, mount, run each /tests/* binary, unmount. Results go to
# the second serial port (ttyS1), framed by "# dio-..." lines that the host
# (ci/collect.sh) checks; the console (ttyS0) keeps the kernel log clean of them.
#
# Command line: dio.kernel=NAME dio.stack=STACK dio.expect=WORD,WORD
#               dio.devs=nvme,virtio-blk,nullb dio.fs=ext4,xfs
#               dio.nullb_tests=NAME,NAME dio.nullb_delay_ns=N (see nullb())
#               [dio.selftest=fail|hang] [dio.tests=NAME,NAME (default: all)]
#               [dio.race_iters=N]
#               [dio.mode=bench ...]: run the benchmark (/bench/guest-bench.sh,
#               from bench/; its header lists its options) instead of the tests
#               [dio.mode=liburing ...]: liburing's test suite instead
#               (/liburing/run.sh from ci/guest-liburing.sh, in the archive
#               that ci/liburing.sh makes; its header lists its options)
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing
# Only the test kernels have debugfs (fault injection); the bench kernel not.
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug

arg() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^dio\.$1=//p"
}

exec 3>/dev/ttyS1
say() {
	echo "$*" >&3
}

finish() {
	say "# dio-guest-done"
	sync
	reboot -f
}

KERNEL=$(arg kernel)
STACK=$(arg stack)
# What the tests must see this kernel do (tests/lib/dio.h, enum dio_does).
EXPECT=$(arg expect)
# Empty (the default) lets dio_stale_read use its own CI default.
RACE_ITERS=$(arg race_iters)
SELFTEST=$(arg selftest)
TESTS=$(arg tests)
say "# dio-guest kernel=$KERNEL stack=$STACK expect=$EXPECT release=$(uname -r) selftest=${SELFTEST:-none}"
[ "$SELFTEST" = hang ] && exec sleep 1000000
if [ "$SELFTEST" = fail ]; then
	# Data checks compare against a wrong pattern, and a splat-shaped line
	# goes into the kernel log: both must turn the run red.
	export DIO_SELFTEST_FAIL=1
	echo "<4>BUG: dio harness self-test, a splat on purpose" >/dev/kmsg
fi

if [ "$(arg mode)" = bench ]; then
	. /bench/guest-bench.sh
	finish
fi
if [ "$(arg mode)" = liburing ]; then
	. /liburing/run.sh
	finish
fi

# The "nullb" disk: memory-backed null_blk whose requests complete from a
# timer dio.nullb_delay_ns after they were queued (irqmode=2), so every bio
# completes long after its submitter returned, whatever the emulator's
# timing. Only the tests named in dio.nullb_tests run on it; they learn the
# delay from DIO_TEST_COMPLETION_DELAY_NS and its configfs directory (bad
# blocks for dio_error) from DIO_TEST_NULLB_CONFIG. Prints the device node.
NULLB_CONFIG=/sys/kernel/config/nullb/dio
nullb() {
	d=$NULLB_CONFIG
	if [ ! -d $d ]; then
		mount -t configfs configfs /sys/kernel/config &&
		mkdir $d &&
		echo 512 >$d/size &&
		echo 4096 >$d/blocksize &&
		echo 1 >$d/memory_backed &&
		echo 2 >$d/irqmode &&
		echo "$(arg nullb_delay_ns)" >$d/completion_nsec &&
		echo 1 >$d/power || return 1
	fi
	# Named after the configfs item on 7.2, nullbN on 6.1.
	for b in /dev/dio "/dev/nullb$(cat $d/index)"; do
		[ -b "$b" ] && echo "$b" && return 0
	done
	return 1
}

for dev in $(arg devs | tr ',' ' '); do
	only='' delay='' nullb_config=''
	case $dev in
	nvme) blk=/dev/nvme0n1 ;;
	virtio-blk) blk=/dev/vda ;;
	nullb)
		blk=$(nullb) || { say "# dio-error null_blk setup failed"; continue; }
		only=$(arg nullb_tests) delay=$(arg nullb_delay_ns)
		nullb_config=$NULLB_CONFIG
		;;
	*) say "# dio-error unknown device $dev"; finish ;;
	esac
	for fs in $(arg fs | tr ',' ' '); do
		say "# dio-run dev=$dev fs=$fs"
		case $fs in
		# No lazy inode-table init: ext4lazyinit's background
		# zeroing would race the test that injects a fault into the
		# next request to the device (tests/dio_error.c).
		ext4) mkfs.ext4 -q -F -E lazy_itable_init=0 "$blk" ;;
		xfs) mkfs.xfs -q -f "$blk" ;;
		esac >/tmp/mkfs.log 2>&1 || { say "# dio-error mkfs.$fs $blk: $(tail -n1 /tmp/mkfs.log)"; continue; }
		mount -t "$fs" "$blk" /mnt || { say "# dio-error mount $fs $blk"; continue; }
		for t in /tests/*; do
			case ",${TESTS:-$(basename "$t")},:,${only:-$(basename "$t")}," in
			*",$(basename "$t"),"*:*",$(basename "$t"),"*) ;;
			*) continue ;;
			esac
			say "# dio-test $(basename "$t")"
			t0=$(cut -d' ' -f1 /proc/uptime)
			DIO_TEST_DIR=/mnt DIO_TEST_DEV=$blk DIO_TEST_FS=$fs \
			DIO_TEST_EXPECT=$EXPECT DIO_RACE_ITERS=$RACE_ITERS \
			DIO_TEST_COMPLETION_DELAY_NS=$delay \
			DIO_TEST_NULLB_CONFIG=$nullb_config \
			"$t" >&3 2>&1
			rc=$?
			# Wall time per test binary, for the timing budget.
			secs=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)
			say "# dio-exit $(basename "$t") rc=$rc secs=$secs"
		done
		umount /mnt || say "# dio-error umount $fs $blk"
		say "# dio-run-end dev=$dev fs=$fs"
	done
done
finish

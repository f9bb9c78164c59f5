# shellcheck shell=sh
# liburing's test suite in the guest: sourced by /init (ci/guest-init.sh)
# with dio.mode=liburing, as /liburing/run.sh (packed by ci/liburing.sh).
# Uses init's arg() and say(). Prints TAP on ttyS1, one line per test run,
# the test's last output lines as "# " comments before it.
#
# Runs as upstream's test/runtests.sh does: every test without argument (in
# a directory on ext4 on NVMe, where the tests make their scratch files; it
# is their cwd upstream), then each test that takes a test file
# (/liburing/file-tests) once per TEST_FILES entry: a written 256 MiB file
# on ext4 (NVMe) and on XFS (virtio-blk), where O_DIRECT writes are the
# series' pure overwrites, then, unmounted, the raw NVMe and virtio-blk
# devices. Per-test timeout like runtests.sh's (SIGINT, then SIGKILL).
#
# Command line: dio.liburing_timeout=SECS (default 120)
#               dio.tests=NAME,NAME (only these tests; default: all)

LT=/liburing
LTIMEOUT=$(arg liburing_timeout)
LTIMEOUT=${LTIMEOUT:-120}
LONLY=$(arg tests)
n=0

# lskip TEST NAME: why TEST (run as NAME) cannot run here, or nothing.
lskip() {
	# No CONFIG_NET in the guest kernel: socket() and socketpair() fail.
	if [ ! -d /proc/net ] && grep -qx "$1" $LT/net-tests; then
		echo "needs sockets: the guest kernel has no networking (CONFIG_NET)"
	fi
	# NVMe passthrough (uring_cmd, which the series does not touch): its
	# IOPOLL cases on this emulated NVMe, which has no poll queues, keep
	# an SQPOLL thread polling with uring_lock held while io-wq workers
	# wait for that lock; under TCG it ran past the timeout on both
	# kernels and once tripped the hung-task detector (ci/NOTES.md).
	if [ "$2" = io_uring_passthrough@nvme ]; then
		echo "NVMe passthrough IOPOLL hangs here under TCG, on either kernel (ci/NOTES.md)"
	fi
}

# lrun NAME TEST [TESTFILE]: one TAP line.
lrun() {
	name=$1 t=$2
	shift 2
	case ",${LONLY:-$t}," in
	*",$t,"*) ;;
	*) return ;;
	esac
	n=$((n + 1))
	why=$(lskip "$t" "$name")
	if [ -n "$why" ]; then
		say "ok $n $name # SKIP $why"
		return
	fi
	# Lets the host tie a kernel splat in the console to this test.
	echo "dio-liburing: running $name" >/dev/kmsg
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout -s INT -k 10 "$LTIMEOUT" "$LT/$t.t" "$@" >/tmp/lt.out 2>&1
	rc=$?
	secs=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)
	tail -n 20 /tmp/lt.out | sed 's/^/# /' >&3
	last=$(grep -v '^[[:space:]]*$' /tmp/lt.out | tail -n 1 | tr -d '#')
	# busybox timeout execs the test and signals it from a child, so it
	# never exits 124: a test is timed out when it ran that long, whatever
	# its status (some exit 0 on SIGINT).
	timed_out=$(awk -v s="$secs" -v t="$LTIMEOUT" 'BEGIN { print (s >= t) }')
	if [ "$timed_out" = 1 ]; then
		say "not ok $n $name # TIMEOUT after ${LTIMEOUT}s (exit $rc)${last:+: $last}"
	elif [ "$rc" -eq 0 ]; then
		say "ok $n $name # ${secs}s"
	elif [ "$rc" -eq 77 ]; then
		say "ok $n $name # SKIP the test skipped itself (exit 77)${last:+: $last}"
	else
		say "not ok $n $name # exit $rc after ${secs}s${last:+: $last}"
	fi
}

# lfiles SUFFIX FILE: each test that takes a test file, on FILE.
lfiles() {
	for t in $(cat $LT/file-tests); do
		f=$2
		# NVMe passthrough needs the namespace's char device (upstream
		# maps it in config.local's TEST_MAP); on a block device or a
		# file the test fails or skips without testing anything.
		[ "$t" = io_uring_passthrough ] && [ "$1" = nvme ] && f=/dev/ng0n1
		lrun "$t@$1" "$t" "$f"
	done
}

lsetup() {
	mkdir -p "/mnt/$2"
	case $2 in
	ext4) mkfs.ext4 -q -F -E lazy_itable_init=0 "$1" ;;
	xfs) mkfs.xfs -q -f "$1" ;;
	esac >/tmp/mkfs.log 2>&1 || { say "# dio-error mkfs.$2 $1: $(tail -n1 /tmp/mkfs.log)"; return 1; }
	mount -t "$2" "$1" "/mnt/$2" || { say "# dio-error mount $2 $1"; return 1; }
	# Written in full: the tests' O_DIRECT writes to it are overwrites.
	dd if=/dev/zero of="/mnt/$2/testfile" bs=1M count=256 conv=fsync 2>/dev/null ||
		{ say "# dio-error writing /mnt/$2/testfile"; return 1; }
}

# A ring's io-wq workers share their task's cwd and exit asynchronously
# after it: right after a short test (a rerun of one test) the scratch
# file system can still be busy for a moment. Busy for 10 s is an error.
lumount() {
	for try in 1 2 3 4 5 6 7 8 9 10; do
		umount "$1" 2>/dev/null && return 0
		sleep 1
	done
	umount "$1" || say "# dio-error umount $1 (busy after ${try} tries)"
}

say "TAP version 13"
say "# dio-liburing timeout=${LTIMEOUT}s tests=$(ls $LT/*.t | wc -l)"
# The socket tests talk over loopback (kernel-config/net.config), which is
# down after boot.
if [ -d /proc/net ]; then
	ip link set lo up || say "# dio-error ip link set lo up"
fi
if lsetup /dev/nvme0n1 ext4 && lsetup /dev/vda xfs; then
	# The scratch directory is not the test file's: some tests make and
	# delete a file called "testfile" in their cwd. timeout.t execs
	# ./exec-target.t from its cwd (test/ upstream).
	mkdir /mnt/ext4/cwd
	ln -s $LT/exec-target.t /mnt/ext4/cwd/exec-target.t
	cd /mnt/ext4/cwd && for t in $LT/*.t; do
		t=$(basename "$t" .t)
		lrun "$t" "$t"
	done
	cd /
	lfiles ext4-file /mnt/ext4/testfile
	lfiles xfs-file /mnt/xfs/testfile
	lumount /mnt/ext4
	lumount /mnt/xfs
	lfiles nvme /dev/nvme0n1
	lfiles virtio-blk /dev/vda
fi
say "1..$n"

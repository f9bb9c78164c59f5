# shellcheck shell=sh
# The bench mode of the guest's /init (ci/guest-init.sh sources this file when
# the kernel command line says dio.mode=bench; arg, say are its helpers).
#
# For every device x target named on the command line it runs one fio cell per
# rw x engine x queue depth and reports, framed on the results port (fd 3):
#   # dio-bench-cell dev=D target=T job=NAME rw=RW bs=BS qd=N engine=E
#   <fio JSON>
#   # dio-bench-lat over_ios=.. over_p50_ns=.. over_p99_ns=.. unw_ios=..
#                   unw_p50_ns=.. unw_p99_ns=..          (the mixed job only)
#   # dio-bench-stats ctxt=.. cpu_sys=.. cpu_irq=.. cpu_softirq=.. wq_dio=..
#                     ctx_src=.. ctx_task=.. ctx_wq=.. ctx_irq=..
#                     ctx_issuer=.. ctx_taken=.. ctx_ios=.. size=..
#   # dio-bench-cell-end
# The counters are deltas over the fio run of that cell only: /proc/stat
# (context switches, CPU ticks) and an in-kernel histogram (no trace buffer to
# overrun) of dio completions run by a workqueue worker
# (workqueue_execute_start keyed by function), the same on both kernels.
# After the timed run, a second, untimed 1 s run of the same job on a file
# prepared the same way: where the kernel's iomap:iomap_dio_complete event
# has the series' ctx field, it counts completions by the context they ran
# in (ctx_*, over ctx_ios I/Os). Not during the timed run: with that hist
# trigger armed as well, the patched kernel ran 9-15% slower even on the raw
# device, which never fires it. The baseline runs it too, uncounted, so that
# both kernels do the same I/O in the same order.
#
# Every timed run starts from settled file systems (settle()): what one cell
# leaves behind must not run in the next one's time.
#
# Layout of each device: three partitions, ext4 (FS_MB), xfs (FS_MB), raw
# (RAW_MB), set up once per boot. All sit behind the same emulated
# controller, queue and interrupt, so the raw column differs from the
# filesystem columns only by the filesystem; and every job runs on the three
# targets back to back.
#
# Command line: dio.mode=bench dio.devs=nvme,virtio-blk dio.fs=ext4,xfs,raw
#   dio.bench_rw=randwrite,...  dio.bench_qd=1,8,16  dio.bench_engines=io_uring,libaio
#   dio.bench_runtime=SECONDS  dio.bench_warmup=SECONDS

FS_MB=768
RAW_MB=320
FILE_MB=256
TR=/sys/kernel/tracing
WQ_EV=$TR/events/workqueue/workqueue_execute_start
CTX_EV=$TR/events/iomap/iomap_dio_complete
WQ_HIST='hist:keys=function.sym:vals=hitcount'
CTX_HIST='hist:keys=ctx:vals=hitcount'

RWS=$(arg bench_rw | tr ',' ' ')
QDS=$(arg bench_qd | tr ',' ' ')
ENGINES=$(arg bench_engines | tr ',' ' ')
RUNTIME=$(arg bench_runtime)
TARGETS=$(arg fs | tr ',' ' ')
WARMUP=$(arg bench_warmup)

# Whether target $1 runs job $2 with engine $3: the raw device has no
# unwritten extents and no i_size to append past, and the mixed job is about
# one io_uring ring (libaio has no issuer that could complete anything).
cell_wanted() {
	case "$1:$2:$3" in
	raw:randwrite-unwritten:* | raw:append:* | raw:mixed:* | *:mixed:libaio) return 1 ;;
	esac
}

count_cells() {
	n=0
	for t in $TARGETS; do
		for rw in $RWS; do
			for e in $ENGINES; do
				cell_wanted "$t" "$rw" "$e" || continue
				for q in $QDS; do n=$((n + 1)); done
			done
		done
	done
	echo $((n * $(arg devs | tr ',' '\n' | grep -c .)))
}

# fio for one cell: $1 rw label, $2 engine, $3 qd, $4 filename, then extra args.
fio_cell() {
	local rw=$1 engine=$2 qd=$3 file=$4
	shift 4
	case $rw in
	randwrite) set -- "$@" --rw=randwrite --time_based ;;
	randread) set -- "$@" --rw=randread --time_based ;;
	randwrite-dsync) set -- "$@" --rw=randwrite --sync=dsync --time_based ;;
	# One pass over fresh unwritten space at most: never an overwrite.
	randwrite-unwritten) set -- "$@" --rw=randwrite ;;
	# A file that grows with every write (no fallocate, no truncate).
	append) set -- "$@" --rw=write --file_append=1 --fallocate=none ;;
	# One ring, one pass: overwrites of the written first half and writes
	# into the unwritten second half, in random order; every completion's
	# latency logged with its offset (mixed_lat).
	mixed) set -- "$@" --rw=randwrite --write_lat_log=/tmp/mixed --log_offset=1 ;;
	*) say "# dio-error unknown bench rw $rw"; return 1 ;;
	esac
	fio --name="${rw}_4k_qd${qd}_${engine}" --filename="$file" --bs=4k \
		--direct=1 --ioengine="$engine" --iodepth="$qd" --runtime="$RUNTIME" \
		--percentile_list=50:99 --output-format=json "$@" >"${FIO_OUT:-/tmp/cell.json}" 2>/tmp/cell.err
}

# /proc/stat: context switches and the system, irq and softirq CPU ticks.
stat_snap() {
	awk '/^ctxt / { c = $2 } /^cpu / { s = $4; i = $7; si = $8 } END { print c, s, i, si }' /proc/stat
}

# hitcount of the hist line matching $2 in hist file $1 (0 if none).
hits() {
	awk -v pat="$2" '$0 ~ pat { sub(/.*hitcount: */, ""); n += $1 } END { print n + 0 }' "$1"
}

# Write everything back and let the file systems finish what they put off,
# before a timed run. A freeze does both: ext4 checkpoints its journal, XFS
# drains its inode inactivation, which frees a deleted file's extents in the
# background after unlink() has returned. The file of a cell that wrote at
# random into unwritten space has thousands of them: freeing them took about
# half the CPU for the next cell's 3 s.
settle() {
	local m
	sync
	for m in $(awk '$2 ~ "^/mnt/" { print $2 }' /proc/mounts); do
		fsfreeze --freeze "$m" && fsfreeze --unfreeze "$m" ||
			say "# dio-error settling $m failed"
	done
}

# Unwritten, append and mixed cells start from a fresh file; the mixed one's
# first half written, its second half unwritten.
prep() {
	case $1 in
	randwrite-unwritten) rm -f "$2"; fallocate -l "${FILE_MB}M" "$2" ;;
	append) rm -f "$2"; touch "$2" ;;
	mixed)
		rm -f "$2" /tmp/mixed_*.log
		fallocate -l "${FILE_MB}M" "$2"
		prefill "$2" --size="$((FILE_MB / 2))M"
		;;
	esac
	settle
}

# The mixed job's completion latencies (fio's clat log: "msec, nsec, ddir, bs,
# offset, ..."), p50 and p99 apart for the overwrites (offset in the first
# half) and the writes into unwritten space.
mixed_lat() {
	local half=$((FILE_MB * 1024 * 1024 / 2)) cls n
	for cls in over unw; do
		awk -F', *' -v half="$half" -v cls="$cls" \
			'(cls == "over") == ($5 < half) { print $2 }' /tmp/mixed_clat.1.log |
			sort -n >"/tmp/mixed.$cls"
		n=$(wc -l <"/tmp/mixed.$cls")
		printf ' %s_ios=%d %s_p50_ns=%s %s_p99_ns=%s' "$cls" "$n" \
			"$cls" "$(pct "/tmp/mixed.$cls" "$n" 50)" "$cls" "$(pct "/tmp/mixed.$cls" "$n" 99)"
	done
}

# The $3th percentile of the $2 sorted values in file $1 (nearest rank).
pct() {
	[ "$2" -gt 0 ] || { echo -; return; }
	sed -n "$((($2 * $3 + 99) / 100))p" "$1"
}

ctx_none() {
	echo "ctx_src=none ctx_task=- ctx_wq=- ctx_irq=- ctx_issuer=- ctx_taken=- ctx_ios=-"
}

# Whether iomap_dio_complete has the series' ctx field (not mainline's own).
have_ctx() {
	grep -q 'field:.* ctx;' "$CTX_EV/format" 2>/dev/null
}

# The series' completion contexts for a job: $1 target, then fio_cell's
# arguments. Its own untimed 1 s run, after the timed one, on both kernels
# (see the top); counted only where the event has the ctx field.
ctx_count() {
	local target=$1 ctx ios
	shift
	[ "$target" != raw ] || { ctx_none; return; }
	have_ctx && ctx=yes || ctx=
	prep "$1" "$4"
	[ -z "$ctx" ] || echo "$CTX_HIST" >"$CTX_EV/trigger"
	FIO_OUT=/tmp/ctx.json fio_cell "$@" --runtime=1 ||
		say "# dio-error fio (untimed run) $target $1 qd$3 $2: $(tail -n1 /tmp/cell.err)"
	[ -n "$ctx" ] || { ctx_none; return; }
	ios=$(sed -n 's/.*"total_ios" : \([0-9]*\).*/\1/p' /tmp/ctx.json | awk '{ n += $1 } END { print n + 0 }')
	echo "ctx_src=iomap_dio_complete ctx_task=$(hits "$CTX_EV/hist" 'ctx: +0 ')" \
		"ctx_wq=$(hits "$CTX_EV/hist" 'ctx: +1 ')" \
		"ctx_irq=$(hits "$CTX_EV/hist" 'ctx: +2 ')" \
		"ctx_issuer=$(hits "$CTX_EV/hist" 'ctx: +3 ') ctx_taken=$(hits "$CTX_EV/hist" 'ctx: +4 ')" \
		"ctx_ios=$ios"
	echo "!$CTX_HIST" >"$CTX_EV/trigger"
}

# One measured cell: $1 dev, $2 target, $3 rw, $4 engine, $5 qd, $6 file, extra fio args.
cell() {
	local dev=$1 target=$2 rw=$3 engine=$4 qd=$5 file=$6 before after rc wq ctx size lat=
	shift 6
	prep "$rw" "$file"
	echo "$WQ_HIST" >"$WQ_EV/trigger"
	before=$(stat_snap)
	fio_cell "$rw" "$engine" "$qd" "$file" "$@"
	rc=$?
	after=$(stat_snap)
	wq=$(hits "$WQ_EV/hist" 'iomap_dio_complete_work')
	echo "!$WQ_HIST" >"$WQ_EV/trigger"
	size=$(stat -c %s "$file" 2>/dev/null || echo -)
	# Before ctx_count, whose run of the same job rewrites the log.
	[ "$rw" != mixed ] || lat=$(mixed_lat)
	ctx=$(ctx_count "$target" "$rw" "$engine" "$qd" "$file" "$@")
	i=$((i + 1))
	say "# dio-bench-cell dev=$dev target=$target job=${rw}_4k_qd${qd}_${engine} rw=$rw bs=4k qd=$qd engine=$engine n=$i/$CELLS"
	if [ "$rc" -ne 0 ]; then
		say "# dio-error fio $dev/$target ${rw}_4k_qd${qd}_${engine} exited $rc: $(tail -n1 /tmp/cell.err)"
	fi
	cat /tmp/cell.json >&3
	[ -z "$lat" ] || echo "# dio-bench-lat$lat" >&3
	echo "$before $after" | awk -v wq="$wq" -v ctx="$ctx" -v size="$size" '{
		printf "# dio-bench-stats ctxt=%d cpu_sys=%d cpu_irq=%d cpu_softirq=%d wq_dio=%d %s size=%s\n",
			$5 - $1, $6 - $2, $7 - $3, $8 - $4, wq, ctx, size }' >&3
	say "# dio-bench-cell-end"
	case $rw in
	randwrite-unwritten | append | mixed) rm -f "$file" ;;
	esac
}

# Write every block of a file or region once, so overwrites and reads find
# written, allocated blocks (on the host too: the image is sparse).
prefill() {
	local file=$1
	shift
	fio --name=prefill --filename="$file" --rw=write --bs=1M --direct=1 \
		--ioengine=psync "$@" >/tmp/prefill.log 2>&1 ||
		say "# dio-error prefill $file: $(tail -n1 /tmp/prefill.log)"
}

# Untimed, uncounted: lets the first measured cell find the workqueue
# workers, extent caches and the host's image pages as every later one does.
warmup() {
	local file=$1
	shift
	[ "${WARMUP:-0}" -gt 0 ] || return 0
	fio --name=warmup --filename="$file" --rw=randwrite --bs=4k --direct=1 \
		--ioengine=io_uring --iodepth=8 --time_based --runtime="$WARMUP" "$@" \
		>/tmp/warmup.log 2>&1 || say "# dio-error warm-up $file: $(tail -n1 /tmp/warmup.log)"
}

# Three partitions: ext4, xfs, raw. Each target keeps its own region for the
# whole boot, so all three are ready at once and every job runs on the three
# back to back (host load drifts over minutes; a ratio of cells seconds apart
# sees little of it).
partition() {
	local s2=$((2048 + FS_MB * 2048)) s3=$((2048 + 2 * FS_MB * 2048))
	printf 'o\nn\np\n1\n2048\n+%sM\nn\np\n2\n%s\n+%sM\nn\np\n3\n%s\n+%sM\nw\n' \
		"$FS_MB" "$s2" "$FS_MB" "$s3" "$RAW_MB" | fdisk "$1" >/tmp/fdisk.log 2>&1
	case $1 in
	*[0-9]) PART=${1}p ;;
	*) PART=$1 ;;
	esac
	[ -b "${PART}3" ] || { say "# dio-error partitioning $1 failed: $(tail -n2 /tmp/fdisk.log | tr '\n' ' ')"; return 1; }
}

# Set a target up: $1 target; mkfs and mount, then fill its file (or region).
setup_target() {
	case $1 in
	ext4) mkfs.ext4 -q -F -E nodiscard "${PART}1" && mount -t ext4 "${PART}1" /mnt/ext4 ;;
	xfs) mkfs.xfs -q -f -K "${PART}2" && mount -t xfs "${PART}2" /mnt/xfs ;;
	raw) true ;;
	*) false ;;
	esac >/tmp/setup.log 2>&1 || { say "# dio-error setting up $1 on $PART: $(tail -n1 /tmp/setup.log)"; return 1; }
	prefill "$(target_file "$1" randwrite)" --size="${FILE_MB}M"
	warmup "$(target_file "$1" randwrite)" --size="${FILE_MB}M"
}

target_file() {
	case $1:$2 in
	raw:*) echo "${PART}3" ;;
	*:randwrite-unwritten) echo "/mnt/$1/unwritten" ;;
	*:append) echo "/mnt/$1/append" ;;
	*:mixed) echo "/mnt/$1/mixed" ;;
	*) echo "/mnt/$1/written" ;;
	esac
}

bench_dev() {
	local dev=$1 blk=$2 rw engine qd t ready=
	partition "$blk" || return
	for t in $TARGETS; do
		mkdir -p "/mnt/$t"
		setup_target "$t" && ready="$ready $t"
	done
	for rw in $RWS; do
		for engine in $ENGINES; do
			for qd in $QDS; do
				for t in $ready; do
					cell_wanted "$t" "$rw" "$engine" || continue
					cell "$dev" "$t" "$rw" "$engine" "$qd" "$(target_file "$t" "$rw")" --size="${FILE_MB}M"
				done
			done
		done
	done
	for t in $ready; do
		[ "$t" = raw ] || umount "/mnt/$t" || say "# dio-error umount /mnt/$t"
	done
}

CELLS=$(count_cells)
i=0
say "# dio-bench-plan cells=$CELLS fio=$(fio --version) runtime=$RUNTIME warmup=${WARMUP:-0} ctx_event=$(have_ctx && echo yes || echo no)"
for dev in $(arg devs | tr ',' ' '); do
	case $dev in
	nvme) bench_dev nvme /dev/nvme0n1 ;;
	virtio-blk) bench_dev virtio-blk /dev/vda ;;
	*) say "# dio-error unknown device $dev" ;;
	esac
done

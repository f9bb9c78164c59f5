#!/bin/bash
# Stage "splat": scan a guest console log for kernel splats. Prints each one
# found (the matching line and what follows it) and exits 1; exits 0 on a
# clean log, and 2 when the log cannot be scanned.
# Usage: scan-splats.sh CONSOLE_LOG
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIE_RC=2

log_file=$1
[ -r "$log_file" ] || die "no console log $log_file"

# One extended regex per kind of splat; a report starts with its line.
# A fault taken in user mode is logged too ("traps: NAME[PID] general
# protection fault ip:..."): that is the test program's crash, which its
# exit status reports, not the kernel's; a kernel one is followed by ','
# or ':'.
SPLATS=(
	'------------\[ cut here \]------------'
	'WARNING: CPU: [0-9]+ PID: '
	'kernel BUG at '
	'BUG: '
	'Oops: '
	'general protection fault[,:]'
	'Kernel panic'
	'WARNING: (possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lock held when returning|bad unlock balance|held lock freed)'
	'INFO: (possible irq lock inversion|trying to register non-static key)'
	'DEBUG_LOCKS_WARN_ON'
	'KASAN: '
	'UBSAN: '
	'sleeping function called from invalid context'
	'INFO: task .* blocked for more than [0-9]+ seconds'
	'rcu: INFO: .*(stall|detected stalls)'
	'detected stalls on CPUs'
	'watchdog: BUG: soft lockup'
)
pattern=$(IFS='|'; echo "${SPLATS[*]}")

rc=0
grep -qE -e "$pattern" "$log_file" || rc=$?
case $rc in
0)
	echo "kernel splat in $log_file:"
	grep -nE -A 12 -e "$pattern" "$log_file" | head -n 60
	exit 1
	;;
1) exit 0 ;;
*) die "grep failed ($rc) scanning $log_file" ;;
esac

#!/bin/bash
# Stage "check-fresh": time .ci/run as CI runs it, on a fresh clone of HEAD
# in a scratch directory (CI=true, no stdin). cold: with empty caches (a new
# XDG_CACHE_HOME: base tarball, liburing source, ccache); warm: with this
# machine's. Prints the clone's stage table and total, and keeps the log.
# make check-cold and check-warm run it outside make's environment, as CI
# would (no MAKEFLAGS or MAKELEVEL), so that the log ends as CI's does.
# Usage: check-fresh.sh cold|warm
# Env: DIO_FRESH_DIR (where the scratch directory goes; default build/fresh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-}
case $mode in
cold | warm) ;;
*) die "usage: check-fresh.sh cold|warm" ;;
esac
[ -z "$(git -C "$TOP" status --porcelain --untracked-files=no)" ] ||
	log "the work tree has uncommitted changes: they are not in the clone, which times HEAD"

parent=${DIO_FRESH_DIR:-$BUILD/fresh}
mkdir -p "$parent"
dir=$(mktemp -d "$parent/$mode.XXXXXX")
git clone -q "$TOP" "$dir/repo"
env=(CI=true)
if [ "$mode" = cold ]; then
	mkdir -p "$dir/cache"
	env+=(XDG_CACHE_HOME="$dir/cache")
fi
log "$mode run of $(git -C "$dir/repo" rev-parse --short HEAD) in $dir/repo, log $dir/ci.log"
start=$(date +%s)
rc=0
env -u CCACHE_DIR -u DIO_CACHE -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${env[@]}" bash "$dir/repo/.ci/run" </dev/null >"$dir/ci.log" 2>&1 || rc=$?
end=$(date +%s)
sed -n '/^stage  *start  *wall/,$p' "$dir/ci.log"
log "$mode: .ci/run exited $rc after $((end - start))s ($(((end - start) / 60))m$(((end - start) % 60))s) on $(nproc) cores; log $dir/ci.log"
# The results and logs stay; the trees and the cold ccache (GiBs) go.
rm -rf "$dir/cache" "$dir"/repo/build/*/linux "$dir"/repo/build/*/apply-wt "$dir"/repo/build/*/obj
exit "$rc"

#!/bin/bash
# Stage "bisect": every prefix of the series builds. Checks out each patch of
# the patched branch in turn and builds it with the test config into
# build/obj/test-bisect (ccache keeps this cheap), then returns to patched.
# Prints one line per patch and a dated record line for MAINTAINERS-notes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mapfile -t commits < <(git -C "$SRC" rev-list --reverse base..patched)
[ "${#commits[@]}" -gt 0 ] || { log "series is empty: nothing to bisect"; exit 0; }
trap 'git -C "$SRC" checkout -q patched' EXIT
n=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	subject=$(git -C "$SRC" log -1 --format=%s "$c")
	git -C "$SRC" checkout -q "$c"
	[ "$n" -gt 1 ] || "$TOP/ci/config.sh" bisect test >/dev/null
	"$TOP/ci/build.sh" bisect test >/dev/null ||
		die "patch $n/${#commits[@]} \"$subject\" does not build: see $(objdir bisect test)/build.log"
	log "patch $n/${#commits[@]} builds: $subject"
done
log "record: $(date -u +%F) every prefix of the ${#commits[@]}-patch series built (test config, gcc $(gcc -dumpversion))"

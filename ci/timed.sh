#!/bin/bash
# Runs one stage of `make check` (NAME, then its command) and records its
# wall time: a line "[NAME] stage ended after Ns" in the log, and NAME,
# start, end (epoch seconds) and exit status in build/stage-times.tsv, from
# which ci/report.sh prints the stage table. Exits with the stage's status.
# Usage: timed.sh NAME COMMAND...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=$1
shift
# shellcheck disable=SC2034 # read by log() in lib.sh
STAGE=$name
mkdir -p "$BUILD"
start=$(date +%s)
rc=0
"$@" || rc=$?
end=$(date +%s)
# One short line per stage: stages that end at once may append side by side.
printf '%s\t%s\t%s\t%s\n' "$name" "$start" "$end" "$rc" >>"$BUILD/stage-times.tsv"
if [ "$rc" -eq 0 ]; then
	log "stage ended after $((end - start))s"
else
	log "stage failed (exit $rc) after $((end - start))s"
fi
exit "$rc"

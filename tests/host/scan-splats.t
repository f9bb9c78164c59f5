#!/bin/bash
# ci/scan-splats.sh must pass the clean samples (clean*) and flag every
# splat sample.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scan=$here/../../ci/scan-splats.sh
samples=("$here"/splat-samples/*.log)

echo "TAP version 13"
echo "1..${#samples[@]}"
n=0
for s in "${samples[@]}"; do
	n=$((n + 1))
	name=$(basename "$s" .log)
	rc=0
	out=$("$scan" "$s") || rc=$?
	if [[ $name == clean* ]]; then
		want=0
	else
		want=1
	fi
	if [ "$rc" -eq "$want" ]; then
		echo "ok $n scan_splats.$name"
	else
		echo "not ok $n scan_splats.$name # scanner exit $rc, want $want"
		printf '# %s\n' "$out"
	fi
done

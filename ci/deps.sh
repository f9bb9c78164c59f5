#!/bin/bash
# Stage "deps": install the Debian packages listed in ci/packages; quick and
# quiet when they are all present already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -p "$BUILD"
mapfile -t want < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/ci/packages")
missing=()
for p in "${want[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root (or install them)"
	log "installing ${missing[*]}"
	apt-get update -qq >/dev/null || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		"${missing[@]}" >"$BUILD/deps.log" 2>&1 || die "apt-get install failed: $(tail -n1 "$BUILD/deps.log")"
fi
log "${#want[@]} packages present: qemu $(qemu-system-x86_64 --version | awk 'NR==1 {print $4}'), fio $(fio --version), $(gcc --version | sed -n 1p)"

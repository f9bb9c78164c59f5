#!/bin/bash
# Stage "base": fetch the stack's pinned pristine orig tarball from Debian's
# `linux` source package into the cache (outside the work tree) and verify it.
#
# apt is pointed at a private deb-src list derived from this machine's own
# sources, with private state, so the system's apt configuration is untouched.
# `--served` only lists the indexed versions with their orig tarball.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Private apt state for apt_private (lib.sh).
# shellcheck disable=SC2034
APT_DIR=$CACHE/apt-$STACK
TARBALL=$CACHE/base/$BASE_TARBALL

served_versions() {
	apt_private apt-cache showsrc "$BASE_PACKAGE" 2>/dev/null |
		awk '/^Package: /{p=$2} /^Version: /{if (p == "'"$BASE_PACKAGE"'") print $2}' |
		sort -uV | tr '\n' ' '
}

verify() {
	local sum
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	[ "$sum" = "$BASE_SHA256" ]
}

orig_uri() {
	apt_private apt-get source --print-uris "$BASE_PACKAGE=$1" 2>/dev/null |
		awk '$2 ~ /\.orig\.tar\./ { print $1, $2, $3, $4 }'
}

if [ "${1:-}" = --served ]; then
	apt_private_sources
	for v in $(served_versions); do
		echo "$v $(orig_uri "$v")"
	done
	exit 0
fi

if [ -f "$TARBALL" ] && verify "$TARBALL"; then
	log "base $BASE_PACKAGE $BASE_VERSION: $BASE_TARBALL sha256 $BASE_SHA256 (cached)"
	exit 0
fi

log "fetching $BASE_PACKAGE=$BASE_VERSION source through a private deb-src list"
apt_private_sources
served=$(served_versions)
case " $served " in
*" $BASE_VERSION "*) ;;
*) die "pinned $BASE_PACKAGE $BASE_VERSION is not served (served: ${served:-none}); re-pin ci/stacks/$STACK.env (README: Re-pinning)" ;;
esac

# Only the orig tarball: the pristine upstream source is all the stack
# needs, and a backport upload may keep serving it after its .dsc and
# debian tarball are gone (7.2.6-1~bpo13+1, 2026-12-05). apt-helper fetches
# the URI apt names and checks the size and sha256 apt's index gives; the
# pinned values are checked again below.
read -r uri name size sum < <(orig_uri "$BASE_VERSION") ||
	die "$BASE_PACKAGE $BASE_VERSION is indexed, but apt names no orig tarball for it"
[ "$name" = "$BASE_TARBALL" ] ||
	die "$BASE_PACKAGE $BASE_VERSION's orig tarball is $name, pinned $BASE_TARBALL"
if [ "$size" != "$BASE_SIZE" ] || [ "${sum#SHA256:}" != "$BASE_SHA256" ]; then
	die "the archive indexes $name as $size bytes, $sum; pinned $BASE_SIZE bytes, sha256 $BASE_SHA256"
fi
tmp=$CACHE/base/$BASE_TARBALL.download.$$
mkdir -p "$CACHE/base"
trap 'rm -f "$tmp" "$tmp.log"' EXIT
if ! /usr/lib/apt/apt-helper download-file "${uri//\'/}" "$tmp" "$sum" >"$tmp.log" 2>&1; then
	grep -q ' 404 ' "$tmp.log" &&
		die "pinned $BASE_PACKAGE $BASE_VERSION is indexed but its orig tarball is not served (HTTP 404); indexed: $served; re-pin ci/stacks/$STACK.env from 'STACK=$STACK ci/base.sh --served' (README: Re-pinning)"
	die "downloading $BASE_TARBALL failed: $(grep -m1 -E '^(E|Err):' "$tmp.log" || tail -n1 "$tmp.log")"
fi
[ "$(stat -c %s "$tmp")" = "$BASE_SIZE" ] ||
	die "$BASE_TARBALL is $(stat -c %s "$tmp") bytes, pinned $BASE_SIZE"
verify "$tmp" ||
	die "$BASE_TARBALL sha256 mismatch: got $(sha256sum "$tmp" | cut -d' ' -f1), pinned $BASE_SHA256"
mv "$tmp" "$TARBALL"
log "base $BASE_PACKAGE $BASE_VERSION: $BASE_TARBALL sha256 $BASE_SHA256 (fetched)"

#!/bin/bash
# Stage "base": fetch the pinned pristine 6.1.y orig tarball from Debian's
# `linux` source package into the cache (outside the work tree) and verify it.
#
# apt is pointed at a private deb-src list derived from this machine's own
# sources, with private state, so the system's apt configuration is untouched.
# `--served` only lists the indexed versions with their orig tarball.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Private apt state for apt_private (lib.sh).
# shellcheck disable=SC2034
APT_DIR=$CACHE/apt
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
		awk '$2 ~ /\.orig\.tar\./ { print $2, $3, $4 }'
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
*) die "pinned $BASE_PACKAGE $BASE_VERSION is not served (served: ${served:-none}); re-pin ci/base.env (README: Re-pinning)" ;;
esac

tmp=$CACHE/base/download.$$
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
if ! (cd "$tmp" && apt_private apt-get source -qq --download-only \
	"$BASE_PACKAGE=$BASE_VERSION") >"$tmp.log" 2>&1; then
	grep -q ' 404 ' "$tmp.log" &&
		die "pinned $BASE_PACKAGE $BASE_VERSION is indexed but its files are no longer served (HTTP 404); indexed: $served; re-pin ci/base.env from 'ci/base.sh --served' (README: Re-pinning)"
	die "apt-get source --download-only $BASE_PACKAGE=$BASE_VERSION failed: $(grep -m1 '^E:' "$tmp.log")"
fi
[ -f "$tmp/$BASE_TARBALL" ] ||
	die "$BASE_PACKAGE $BASE_VERSION downloaded, but it has no $BASE_TARBALL"
[ "$(stat -c %s "$tmp/$BASE_TARBALL")" = "$BASE_SIZE" ] ||
	die "$BASE_TARBALL is $(stat -c %s "$tmp/$BASE_TARBALL") bytes, pinned $BASE_SIZE"
verify "$tmp/$BASE_TARBALL" ||
	die "$BASE_TARBALL sha256 mismatch: got $(sha256sum "$tmp/$BASE_TARBALL" | cut -d' ' -f1), pinned $BASE_SHA256"
mv "$tmp/$BASE_TARBALL" "$TARBALL"
log "base $BASE_PACKAGE $BASE_VERSION: $BASE_TARBALL sha256 $BASE_SHA256 (fetched)"

#!/bin/bash
# The histogram parsers and the completion-count judge of tests/lib/trace.c,
# built for the host and run on histogram text captured from the guest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$tmp/hist_parse" \
	"$here/hist_parse.c" "$here/../lib/trace.c" "$here/../lib/dio.c" \
	-luring -laio
"$tmp/hist_parse" "$here/hist-samples"

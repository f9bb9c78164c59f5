#!/bin/bash
# Stage "config": tinyconfig + the fragments of a config set, merged with
# merge_config.sh and completed with olddefconfig; then every option the
# fragments request must be in the result.
# Usage: config.sh KERNEL SET   (KERNEL baseline|patched, SET test|bench)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$1 set=$2
O=$(objdir "$kernel" "$set")
read -ra frags <<<"$(fragments "$set")"
checkout_kernel "$kernel"
mkdir -p "$O"
kmake -s O="$O" tinyconfig >"$O/config.log" 2>&1 || die "make tinyconfig failed: see $O/config.log"
(cd "$SRC" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$O" "$O/.config" "${frags[@]}") \
	>>"$O/config.log" 2>&1 || die "merge_config.sh failed: see $O/config.log"
kmake -s O="$O" olddefconfig >>"$O/config.log" 2>&1 || die "make olddefconfig failed: see $O/config.log"

missing=()
while read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$O/.config" || missing+=("$line (got: $(grep -m1 "^${line%%=*}=" "$O/.config" || echo unset))")
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$O/.config" || missing+=("$line (got: $(grep -m1 "^$opt=" "$O/.config"))")
		;;
	esac
done < <(cat "${frags[@]}")
[ "${#missing[@]}" -eq 0 ] || die "$kernel/$set: options did not stick: ${missing[*]}"
log "$kernel/$set: $(grep -c '^CONFIG_.*=' "$O/.config") options set, all $(cat "${frags[@]}" | grep -cE '^(CONFIG_|# CONFIG_)') requested present"

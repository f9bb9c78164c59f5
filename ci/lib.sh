# shellcheck shell=bash
# Common definitions for the ci/ stage scripts; sourced, never run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=${DIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dio-series}
STAGE=${STAGE:-$(basename "${0%.sh}")}

# One line, naming the stage, on stderr; then stop.
die() {
	printf 'ERROR [%s]: %s\n' "$STAGE" "$*" >&2
	exit "${DIE_RC:-1}"
}

# The stack a stage works on: mainline (the series in patches/) or 6.1.y
# (its backport in patches/6.1.y/). ci/stacks/STACK.env pins its patches,
# base and liburing. What is built for it goes under build/STACK/, its
# results under build/results/STACK/ (the count takes all of build/results).
STACK=${STACK:-mainline}
[ -f "$TOP/ci/stacks/$STACK.env" ] ||
	die "unknown stack '$STACK': no ci/stacks/$STACK.env"
# shellcheck source=ci/stacks/mainline.env
. "$TOP/ci/stacks/$STACK.env"
PATCH_DIR=$TOP/$STACK_PATCHES
SBUILD=$BUILD/$STACK
RESULTS=$BUILD/results/$STACK

log() {
	printf '[%s] %s\n' "$STAGE" "$*"
}

# The guest tests that also run on the "nullb" disk (ci/guest-init.sh),
# whose every request completes NULLB_DELAY_NS after it was queued: those
# whose checks need every write to complete after its submitter returned
# (dio_error: an error that arrives in irq context, on a bad block).
# ci/mutants.sh names its own: a mutant's tests, on a mutant that names the
# disk.
NULLB_TESTS=${DIO_NULLB_TESTS:-dio_caller_comp,dio_caller_deadlock,dio_error}
NULLB_DELAY_NS=50000000

# The two kernels every run builds and boots.
KERNELS=(baseline patched)

SRC=$SBUILD/linux

# Config fragment sets, merged in this order over tinyconfig.
fragments() {
	case "$1" in
	test) echo "$TOP/kernel-config/base.config $TOP/kernel-config/debug.config $TOP/kernel-config/net.config" ;;
	bench) echo "$TOP/kernel-config/base.config $TOP/kernel-config/bench.config" ;;
	*) die "unknown config set '$1' (test or bench)" ;;
	esac
}

# The object directory of a kernel built with a config set.
objdir() {
	echo "$SBUILD/obj/$2-$1"
}

# Variant kernels of the series (naive, mutant): branch $1 of the source
# tree is made afresh from "patched" and the patches given are applied with
# git am, logged to $2; stop naming a patch that does not apply.
variant_branch() {
	local branch=$1 amlog=$2 p
	shift 2
	git -C "$SRC" rev-parse -q --verify patched >/dev/null || die "no patched branch in $SRC: run ci/tree.sh first"
	git -C "$SRC" checkout -q -f -B "$branch" patched
	for p in "$@"; do
		git -C "$SRC" am -q "$p" >"$amlog" 2>&1 ||
			{ git -C "$SRC" am --abort || true; die "$(basename "$p") does not apply on patched: $(grep -m1 -E 'error|fail' "$amlog") (log: $amlog)"; }
	done
}

# Check out the source of a kernel: the pristine base or the series on it.
checkout_kernel() {
	case "$1" in
	baseline) git -C "$SRC" checkout -q base ;;
	patched) git -C "$SRC" checkout -q patched ;;
	naive) git -C "$SRC" checkout -q naive ;; # made by ci/naive.sh
	mutant) git -C "$SRC" checkout -q mutant ;; # made by ci/mutants.sh
	bisect) ;; # ci/bisect-check.sh checks out each commit itself
	*) die "unknown kernel '$1' (baseline, patched, naive or mutant)" ;;
	esac
}

# The series' identity (BRIEF.md section 5): the author and Signed-off-by of
# every patch, and the identity of every commit the harness makes.
SERIES_NAME="DIO Completion Series"
SERIES_EMAIL="dio-series@example.org"
git_identity() {
	export GIT_AUTHOR_NAME=$SERIES_NAME GIT_AUTHOR_EMAIL=$SERIES_EMAIL
	export GIT_COMMITTER_NAME=$SERIES_NAME GIT_COMMITTER_EMAIL=$SERIES_EMAIL
}

# The patch files a quilt `series` file lists, in order (a name per line,
# possibly followed by options; # starts a comment). Default: the stack's.
series_patches() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "${1:-$PATCH_DIR/series}" | awk '{print $1}'
}

# The kernel's make takes its own -j, never the jobserver of a make check
# that runs this stage.
kmake() {
	env -u MAKEFLAGS -u MFLAGS make -C "$SRC" ARCH=x86_64 "$@"
}

# The guest tests: one per tests/*.c, named after it (a binary left in the
# build directory by a test since removed is not one).
guest_tests() {
	local src
	for src in "$TOP"/tests/*.c; do
		basename "$src" .c
	done
}

# The release a guest reported in its "# dio-guest" line, from FILE (or
# stdin); empty if it reported none.
guest_release() {
	sed -n 's/^# dio-guest .* release=\([^ ]*\) .*/\1/p' "$@"
}

# Is RELEASE (uname -r) that of a KERNEL build (LOCALVERSION -KERNEL)?
release_of() {
	case $1 in
	*-"$2" | *-"$2"+) return 0 ;;
	*) return 1 ;;
	esac
}

# Where a boot of KERNEL with config SET leaves its console log and results;
# a third argument names a harness self-test boot, kept out of build/results
# (whose TAP files make the final count).
resultdir() {
	if [ -n "${3:-}" ]; then
		echo "$SBUILD/selftest/$2-$1-$3"
	else
		echo "$RESULTS/$2-$1"
	fi
}

# Harness checks as TAP: record with `check OK|FAIL "NAME[ # WHY]"` (numbered
# in order), then write them all with `tap_write FILE`.
TAP_RESULTS=()
check() {
	local n=$((${#TAP_RESULTS[@]} + 1))
	if [ "$1" = OK ]; then
		TAP_RESULTS+=("ok $n $2")
	else
		TAP_RESULTS+=("not ok $n $2")
	fi
}

tap_write() {
	{
		echo "TAP version 13"
		echo "1..${#TAP_RESULTS[@]}"
		printf '%s\n' "${TAP_RESULTS[@]}"
	} >"$1"
}

# Record the checks of one patch file as TAP "NAME.PATCH": ok when PROBLEMS
# is empty, else a failure and an ERROR line naming the patch for each line
# of PROBLEMS. Returns 1 when there were problems.
patch_checked() {
	local name=$1 p=$2 problems=$3 line
	if [ -z "$problems" ]; then
		check OK "$name.$p"
		return 0
	fi
	while IFS= read -r line; do
		printf 'ERROR [%s]: %s: %s\n' "$STAGE" "$p" "$line" >&2
		check FAIL "$name.$p # $line"
	done <<<"$problems"
	return 1
}

# apt with a private source list and private state under $APT_DIR (set by
# the caller), so that the system's apt configuration and lists are untouched.
apt_private() {
	"$@" -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$APT_DIR/sources.list.d" \
		-o Dir::State::Lists="$APT_DIR/lists" \
		-o Dir::Cache="$APT_DIR/cache"
}

# A deb-src list in $APT_DIR derived from this machine's own deb822 sources
# (mirror names are never written into the repo), then apt-get update on it.
# The stack's APT_SUITES are added to each stanza that names a release
# itself ("bookworm"), not only its -updates or -security suites: they are
# served from the same URIs.
apt_private_sources() {
	local src n=0
	mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" \
		"$APT_DIR/cache/archives/partial"
	rm -f "$APT_DIR"/sources.list.d/*
	for src in /etc/apt/sources.list.d/*.sources; do
		[ -e "$src" ] || continue
		grep -q '^Types:.*\bdeb\b' "$src" || continue
		awk -v extra="$APT_SUITES" '
			/^Types:/ { $0 = "Types: deb-src" }
			/^Suites:/ && extra != "" {
				for (i = 2; i <= NF; i++)
					if ($i !~ /-/) { $0 = $0 " " extra; break }
			}
			{ print }' "$src" >"$APT_DIR/sources.list.d/$(basename "$src")"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] ||
		die "no deb822 apt sources in /etc/apt/sources.list.d/ to derive a deb-src list from"
	apt_private apt-get update -qq >"$APT_DIR/update.log" 2>&1 ||
		die "apt-get update on the private deb-src list failed: see $APT_DIR/update.log"
}

#!/bin/bash
# What the README tells a user holds: every repository path it names
# exists (files and directories under ci/, tests/, bench/, kernel-config/
# and patches/, with its placeholders STACK, NAME, DATE-... and globs
# expanded against the tree), and every `make TARGET VAR=...` it shows
# names a Makefile target and variables that the Makefile or the scripts
# read.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
n=0 bad=0
echo "TAP version 13"

# One TAP result: $1 its name, $2 why it failed (empty: it passed).
result() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n readme_$1"
	else
		echo "not ok $n readme_$1 # $2"
		bad=$((bad + 1))
	fi
}
while read -r p; do
	# Placeholders: STACK is either stack; NAME any file; DATE... any record.
	pat=${p//STACK/*}
	pat=${pat//NAME/*}
	pat=${pat/DATE-*/*}
	# {a,b} lists: every member must exist.
	if [[ $pat == *\{*\}* ]]; then
		pre=${pat%%\{*} rest=${pat#*\{} list=${rest%%\}*} post=${rest#*\}}
		pats=()
		IFS=, read -ra members <<<"$list"
		for m in "${members[@]}"; do pats+=("$pre$m$post"); done
	else
		pats=("$pat")
	fi
	missing=
	for q in "${pats[@]}"; do
		compgen -G "$q" >/dev/null || missing="$missing $q"
	done
	result "paths.$p" "${missing:+nothing matches:$missing}"
done < <(grep -oE '(\.ci|ci|tests|bench|kernel-config|patches)/[A-Za-z0-9_./{},*-]*[A-Za-z0-9_/*}-]' README | sort -u)

while read -r target vars; do
	why=
	grep -qE "^$target:" Makefile || why="no target $target in the Makefile"
	for v in $vars; do
		v=${v%%=*}
		grep -qw "$v" Makefile ci/*.sh bench/*.sh || why="$why; nothing reads $v"
	done
	result "make.$target${vars:+ $vars}" "${why#; }"
done < <(grep -oE 'make [a-z][a-z0-9-]*( [A-Z_]+=[^ `,]*)*' README | cut -d' ' -f2- | sort -u)
echo "1..$n"
[ "$bad" -eq 0 ]

#!/usr/bin/env bash
# Keeps the fuzzers' findings in the repository: copies up to N of the smallest inputs
# each fuzz target's cache holds ($(go env GOCACHE)/fuzz/...) into the package's
# testdata/fuzz/<Target>/, where `go test` runs them as regression cases and later fuzz
# runs start from them. `make fuzz` calls it after fuzzing.
#
# usage: scripts/fuzz-corpus.sh [N] PKG:Target[:slow]...   (N defaults to 40; a target
# marked slow per run keeps a quarter of N so its replay in `make test` stays quick)
set -euo pipefail
cd "$(dirname "$0")/.."
n=40
if [[ ${1:-} =~ ^[0-9]+$ ]]; then n=$1; shift; fi
cache=$(go env GOCACHE)/fuzz/github.com/ocil-dev/ocil
for t in "$@"; do
	pkg=${t%%:*}; rest=${t#*:}; name=${rest%%:*}
	pkg=${pkg#./}
	keep=$n; [[ $rest == *:* ]] && keep=$((n / 4))
	src=$cache/$pkg/$name
	dst=$pkg/testdata/fuzz/$name
	[[ -d $src ]] || { echo "no cached corpus for $t"; continue; }
	mkdir -p "$dst"
	# the smallest inputs first: they exercise the most paths per byte
	find "$src" -type f -printf '%s %p\n' | sort -n | head -n "$keep" | while read -r _ f; do
		cp "$f" "$dst/$(basename "$f")"
	done
	echo "$t: $(ls "$dst" | wc -l) inputs in $dst"
done

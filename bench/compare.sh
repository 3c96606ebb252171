#!/usr/bin/env bash
# Compares two ocil binaries on the writers: merge into a folder and a tarball, and copy
# between folders and tarballs, on small generated datasets (bench/mkdata). Each
# measurement alternates the two binaries, RUNS times each, and keeps the fastest;
# the ratio is new/old (below 1: the new one is faster). Warm cache.
#
#   bash bench/compare.sh OLD_OCIL NEW_OCIL
#
# Environment: BENCH_DIR [/tmp/ocil-compare], BENCH_RUNS [5], BENCH_N [8] inputs of
# BENCH_SIZE [4194304] bytes, and BENCH_SMALL_N [64] inputs of 65536 bytes.
set -euo pipefail
export LC_ALL=C
OLD=$(realpath "$1") NEW=$(realpath "$2")
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:-/tmp/ocil-compare}
RUNS=${BENCH_RUNS:-5}
N=${BENCH_N:-8} SIZE=${BENCH_SIZE:-4194304} SMALL_N=${BENCH_SMALL_N:-64}
mkdir -p "$DIR"
go build -o "$DIR/mkdata" ./bench/mkdata
for spec in "big $N $SIZE" "small $SMALL_N 65536"; do
	read -r name n size <<<"$spec"
	if [[ ! -d $DIR/$name ]]; then
		"$DIR/mkdata" -out "$DIR/$name" -inputs "$n" -size "$size" -seed 1 >/dev/null
	fi
	cat "$DIR/$name"/in-*/blobs/sha256/* >/dev/null
done

# time_of CMD...: wall seconds of one run.
time_of() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

# measure LABEL SETUP CMD...: SETUP runs untimed before each run; @OCIL in CMD is the binary.
measure() {
	local label=$1 setup=$2 best_old="" best_new="" t
	shift 2
	for ((r = 0; r < RUNS; r++)); do
		for which in old new; do
			local bin=$OLD
			[[ $which == new ]] && bin=$NEW
			eval "$setup"
			sync
			t=$(time_of "${@//@OCIL/$bin}")
			if [[ $which == old ]]; then
				best_old=$(awk -v a="$t" -v b="$best_old" 'BEGIN { printf "%.6f", (b == "" || a < b) ? a : b }')
			else
				best_new=$(awk -v a="$t" -v b="$best_new" 'BEGIN { printf "%.6f", (b == "" || a < b) ? a : b }')
			fi
		done
	done
	awk -v l="$label" -v o="$best_old" -v n="$best_new" 'BEGIN { printf "%-44s old %8.3f s  new %8.3f s  new/old %.2f\n", l, o, n, n / o }'
}

O=$DIR/out
B=$DIR/big S=$DIR/small
"$NEW" merge -q -o "$DIR/src:v1" "$B"/in-* >/dev/null
"$NEW" copy -q "$DIR/src:v1" "$DIR/src.tar" >/dev/null
rm -f "$DIR/src.tar.lock"
echo "ocil writers, $N x $SIZE bytes (big) and $SMALL_N x 65536 bytes (small), best of $RUNS"
measure "merge big -> folder" "rm -rf $O" @OCIL merge -q -o "$O:v1" "$B"/in-*
measure "merge big -> .tar" "rm -rf $O.tar $O.tar.lock" @OCIL merge -q -o "$O.tar:v1" "$B"/in-*
measure "merge small -> folder" "rm -rf $O" @OCIL merge -q -o "$O:v1" "$S"/in-*
measure "merge small -> .tar" "rm -rf $O.tar $O.tar.lock" @OCIL merge -q -o "$O.tar:v1" "$S"/in-*
measure "copy folder -> folder" "rm -rf $O" @OCIL copy -q "$DIR/src:v1" "$O"
measure "copy folder -> .tar" "rm -rf $O.tar $O.tar.lock" @OCIL copy -q "$DIR/src:v1" "$O.tar"
measure "copy folder -> .tar.gz" "rm -rf $O.tar.gz $O.tar.gz.lock" @OCIL copy -q "$DIR/src:v1" "$O.tar.gz"
measure "copy .tar -> folder" "rm -rf $O" @OCIL copy -q "$DIR/src.tar:v1" "$O"
measure "copy .tar -> .tar" "rm -rf $O.tar $O.tar.lock" @OCIL copy -q "$DIR/src.tar:v1" "$O.tar"
rm -rf "$O" "$O".tar* "$DIR/src"*

#!/usr/bin/env bash
# Tarball benchmarks: ocil copy between a layout folder and .tar / .tar.gz against GNU
# tar on the same folder, ls and resolve on a tarball, and peak RSS from 100 MiB to 2 GiB.
# See BENCHMARKS.md.
#
#   bash bench/tar.sh            (make bench runs it after bench/run.sh)
#
# Environment: BENCH_DIR [/tmp/ocil-bench], BENCH_RUNS [3], BENCH_MD [BENCHMARKS.md;
# empty: only print], BENCH_TAR_SIZES [the layout sizes in MiB for the RSS sweep:
# "100 1024 2048"]. The 1024 MiB layout is the one timed against tar. Warm page cache, as
# in bench/run.sh: the inputs are read once before they are measured.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/ocil-bench}
RUNS=${BENCH_RUNS:-3}
MD=${BENCH_MD-BENCHMARKS.md}
SIZES=${BENCH_TAR_SIZES:-"100 1024 2048"}
GO=${GO:-go}
log() { printf '%s\n' "$*" >&2; }

[[ -x /usr/bin/time ]] || { log "installing GNU time"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2; }
mkdir -p "$BENCH_DIR/bin" "$BENCH_DIR/tar"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
make -s build GO="$GO" >&2
OCIL=$ROOT/bin/ocil
"$GO" build -o "$BENCH_DIR/bin/mkdata" ./bench/mkdata
W=$BENCH_DIR/tar

# layout MiB: a layout folder of about MiB MiB (256 MiB inputs merged, or one input), made once.
layout() {
	local mib=$1 dir=$W/layout-$1
	if [[ ! -f $dir/.complete ]]; then
		rm -rf "$dir" "$W/in-$mib"
		if ((mib >= 256)); then
			"$BENCH_DIR/bin/mkdata" -out "$W/in-$mib" -inputs $((mib / 256)) -size 268435456 -seed 7 >&2
		else
			"$BENCH_DIR/bin/mkdata" -out "$W/in-$mib" -inputs 1 -size $((mib * 1048576)) -seed 7 >&2
		fi
		"$OCIL" merge -q --link copy -o "$dir:bench" "$W/in-$mib"/in-* >/dev/null
		rm -rf "$W/in-$mib"
		touch "$dir/.complete"
	fi
	cat "$dir"/blobs/sha256/* >/dev/null # warm
	echo "$dir"
}

# best CMD...: the fastest wall time of RUNS runs, in seconds; runs cleanup between.
best() {
	local b="" t s e
	for ((i = 0; i < RUNS; i++)); do
		rm -rf "$W/o" "$W/o.tar" "$W/o.tar.gz" "$W/o.tar.lock"
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
		if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$t; fi
	done
	echo "$b"
}

# rss CMD...: peak RSS in MiB of one run.
rss() {
	rm -rf "$W/o" "$W/o.tar" "$W/o.tar.gz"
	/usr/bin/time -f %M -o "$W/rss" "$@" >/dev/null 2>&1
	awk '{ printf "%.1f", $1 / 1024 }' "$W/rss"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<=" ? v <= t : v < t); print (ok ? "PASS" : "MISS") }'; }

L=$(layout 1024)
log "timing the 1 GiB layout"
tar_c=$(best tar -C "$L" --exclude=.complete -cf "$W/o.tar" .)
tar_c_sync=$(best bash -c "tar -C '$L' --exclude=.complete -cf '$W/o.tar' . && sync '$W/o.tar'")
ocil_tar=$(best "$OCIL" copy "$L:bench" "$W/o.tar")
ocil_tar_nv=$(best "$OCIL" copy --no-verify "$L:bench" "$W/o.tar")
tar_cz=$(best tar -C "$L" --exclude=.complete -czf "$W/o.tar.gz" .)
tar_cz_sync=$(best bash -c "tar -C '$L' --exclude=.complete -czf '$W/o.tar.gz' . && sync '$W/o.tar.gz'")
ocil_targz=$(best "$OCIL" copy "$L:bench" "$W/o.tar.gz")
"$OCIL" copy "$L:bench" "$W/keep.tar" >/dev/null
cat "$W/keep.tar" >/dev/null
ocil_untar=$(best "$OCIL" copy "$W/keep.tar:bench" "$W/o")
tar_x=$(best bash -c "mkdir -p '$W/o' && tar -C '$W/o' -xf '$W/keep.tar'")
tar_x_sync=$(best bash -c "mkdir -p '$W/o' && tar -C '$W/o' -xf '$W/keep.tar' && sync -f '$W/o'")
ocil_ls=$(best "$OCIL" ls "$W/keep.tar")
ocil_resolve=$(best "$OCIL" resolve "$W/keep.tar:bench")
rm -f "$W/keep.tar"

log "peak RSS sweep: $SIZES MiB"
rss_rows=""
maxrss=0
for mib in $SIZES; do
	Lm=$(layout "$mib")
	r1=$(rss "$OCIL" copy "$Lm:bench" "$W/o.tar")
	cp "$W/o.tar" "$W/sweep.tar"
	r2=$(rss "$OCIL" copy "$Lm:bench" "$W/o.tar.gz")
	r3=$(rss "$OCIL" copy "$W/sweep.tar:bench" "$W/o")
	r4=$(rss "$OCIL" ls "$W/sweep.tar")
	rm -f "$W/sweep.tar"
	rss_rows+="| $mib MiB | $r1 | $r2 | $r3 | $r4 |"$'\n'
	for r in $r1 $r2 $r3 $r4; do maxrss=$(awk -v a="$r" -v b="$maxrss" 'BEGIN { print (a > b ? a : b) }'); done
done

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
table=$(cat <<MD
Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs ($cpu), $("$GO" env GOVERSION), ocil $(git describe --always --dirty 2>/dev/null);
a 1 GiB layout folder (4 blobs of 256 MiB) on the same file system; best of $RUNS runs, page cache warm.
ocil makes what it writes durable (fsync before the rename that publishes it); tar does not,
so each tar command is also timed followed by \`sync\` of what it wrote ("tar + sync"): the same work.

| operation | tar | tar + sync | ocil | ocil / tar | ocil / (tar + sync) |
|---|--:|--:|--:|--:|--:|
| folder → .tar (ocil verified: every byte hashed) | $tar_c s | $tar_c_sync s | $ocil_tar s | $(ratio "$ocil_tar" "$tar_c") | $(ratio "$ocil_tar" "$tar_c_sync") |
| folder → .tar, ocil --no-verify | $tar_c s | $tar_c_sync s | $ocil_tar_nv s | $(ratio "$ocil_tar_nv" "$tar_c") | $(ratio "$ocil_tar_nv" "$tar_c_sync") |
| folder → .tar.gz (tar -czf: one core; ocil: all cores) | $tar_cz s | $tar_cz_sync s | $ocil_targz s | $(ratio "$ocil_targz" "$tar_cz") | $(ratio "$ocil_targz" "$tar_cz_sync") |
| .tar → folder (ocil verified) | $tar_x s | $tar_x_sync s | $ocil_untar s | $(ratio "$ocil_untar" "$tar_x") | $(ratio "$ocil_untar" "$tar_x_sync") |
| ocil ls on the 1 GiB .tar | | | $ocil_ls s | | |
| ocil resolve on the 1 GiB .tar | | | $ocil_resolve s | | |

Peak RSS (MiB) by layout size:

| layout | folder → .tar | folder → .tar.gz | .tar → folder | ls .tar |
|---|--:|--:|--:|--:|
${rss_rows}
Targets, from this run:

- $(verdict "$(ratio "$ocil_tar" "$tar_c")" 1.0 "<=") folder → .tar verified = $(ratio "$ocil_tar" "$tar_c") × tar -cf (target ≤ 1.0); $(ratio "$ocil_tar" "$tar_c_sync") × tar -cf followed by sync
- $(verdict "$(ratio "$ocil_targz" "$tar_cz")" 0.6 "<=") folder → .tar.gz = $(ratio "$ocil_targz" "$tar_cz") × tar -czf (target ≤ 0.6)
- $(verdict "$maxrss" 50 "<") peak RSS = $maxrss MiB at most, from the smallest to the largest layout (target < 50 MiB, flat)
MD
)
printf '%s\n' "$table"
if [[ -n $MD ]]; then
	awk -v block="$table" '
		/<!-- tar:start -->/ { print; print block; skip = 1; next }
		/<!-- tar:end -->/ { skip = 0 }
		!skip' "$MD" > "$MD.tmp" && mv "$MD.tmp" "$MD"
fi

#!/usr/bin/env bash
# Many-tags benchmark: ls, resolve TAG, tag and validate --fast on a layout folder of
# 100,000 tags (bench/mktags: one manifest per tag, full names, platforms on the
# descriptors; index.json about 30 MB), with wall time, CPU time (user + sys) and peak
# RSS of each. See BENCHMARKS.md, "Many tags".
#
#   bash bench/tags.sh           (make bench runs it after bench/tar.sh)
#
# Environment: BENCH_DIR [/tmp/ocil-bench], BENCH_RUNS [3], BENCH_TAGS [100000],
# BENCH_MD [BENCHMARKS.md; empty: only print]. Warm page cache: the layout is read once
# before it is measured. tag writes a copy of index.json, restored before each run.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/ocil-bench}
RUNS=${BENCH_RUNS:-3}
N=${BENCH_TAGS:-100000}
MD=${BENCH_MD-BENCHMARKS.md}
GO=${GO:-go}
log() { printf '%s\n' "$*" >&2; }

[[ -x /usr/bin/time ]] || { log "installing GNU time"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2; }
mkdir -p "$BENCH_DIR/bin" "$BENCH_DIR/tags"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
make -s build GO="$GO" >&2
OCIL=$ROOT/bin/ocil
W=$BENCH_DIR/tags
L=$W/layout-$N
if [[ ! -f $W/.complete-$N ]]; then
	log "writing a layout of $N tags"
	rm -rf "$L"
	"$GO" run ./bench/mktags -out "$L" -tags "$N"
	touch "$W/.complete-$N"
fi
cp "$L/index.json" "$W/index.json.orig"
find "$L" -type f -exec cat {} + >/dev/null # warm
TAG=registry.example.com/team/app-$(printf %06d $((N / 2))):1.0

# measure CMD...: "wall cpu rss" of the run with the lowest wall time of RUNS runs
# (seconds, seconds, MiB); index.json is restored before each run.
measure() {
	local best="" w c r
	for ((i = 0; i < RUNS; i++)); do
		cp "$W/index.json.orig" "$L/index.json"
		/usr/bin/time -f '%e %U %S %M' -o "$W/t" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
		read -r w u s r < "$W/t"
		c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		r=$(awk -v r="$r" 'BEGIN { printf "%.1f", r / 1024 }')
		if [[ -z $best ]] || awk -v a="$w" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then best="$w $c $r"; fi
	done
	cp "$W/index.json.orig" "$L/index.json"
	echo "$best"
}
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t ? "PASS" : "MISS") }'; }

log "timing $N tags"
read -r ls_w ls_c ls_r < <(measure "$OCIL" ls "$L")
read -r res_w res_c res_r < <(measure "$OCIL" resolve "$L:$TAG")
read -r tag_w tag_c tag_r < <(measure "$OCIL" tag "$L:$TAG" bench-new)
read -r val_w val_c val_r < <(measure "$OCIL" validate --fast "$L")
maxrss=$(printf '%s\n' "$ls_r" "$res_r" "$tag_r" "$val_r" | sort -g | tail -1)
size=$(stat -c %s "$W/index.json.orig")

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(cat <<MD
Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs ($cpu, load average $load), $("$GO" env GOVERSION), ocil $(git describe --always --dirty 2>/dev/null);
a layout folder of $N tags (\`go run ./bench/mktags -tags $N\`: $N manifests, index.json $size bytes);
best wall time of $RUNS runs, page cache warm. CPU is user + sys of that run.

| command | wall | CPU | peak RSS | target (wall) |
|---|--:|--:|--:|--:|
| \`ocil ls LAYOUT\` | $ls_w s | $ls_c s | $ls_r MiB | < 2 s |
| \`ocil resolve LAYOUT:TAG\` | $res_w s | $res_c s | $res_r MiB | < 0.5 s |
| \`ocil tag LAYOUT:TAG NEW\` | $tag_w s | $tag_c s | $tag_r MiB | < 1 s |
| \`ocil validate --fast LAYOUT\` | $val_w s | $val_c s | $val_r MiB | < 3 s |

Targets, from this run:

- $(verdict "$ls_w" 2) ls = $ls_w s (target < 2 s)
- $(verdict "$res_w" 0.5) resolve TAG = $res_w s (target < 0.5 s)
- $(verdict "$tag_w" 1) tag = $tag_w s (target < 1 s)
- $(verdict "$val_w" 3) validate --fast = $val_w s (target < 3 s)
- $(verdict "$maxrss" 300) peak RSS = $maxrss MiB at most (target < 300 MiB)
MD
)
printf '%s\n' "$table"
if [[ -n $MD ]]; then
	if ! grep -q '<!-- tags:start -->' "$MD"; then
		printf '\n## Many tags\n\n<!-- tags:start -->\n<!-- tags:end -->\n' >> "$MD"
	fi
	awk -v block="$table" '
		/<!-- tags:start -->/ { print; print block; skip = 1; next }
		/<!-- tags:end -->/ { skip = 0 }
		!skip' "$MD" > "$MD.tmp" && mv "$MD.tmp" "$MD"
fi

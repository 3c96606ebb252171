#!/usr/bin/env bash
# Data-path benchmarks against peers: ocil copy between folders and tarballs against
# oras cp, regctl image copy/export/import, skopeo copy and GNU tar, measured back to back
# in one run; and ls, resolve, cat and pull on a 2 GiB seekable compressed bundle written
# by ocil. See BENCHMARKS.md.
#
#   bash bench/peers.sh          (make bench runs it after bench/tar.sh)
#
# Environment: BENCH_DIR [/tmp/ocil-bench], BENCH_RUNS [3: the median is kept],
# BENCH_MD [BENCHMARKS.md; empty: only print], BENCH_PEERS_MIB [1024: the copied layout,
# in 256 MiB blobs], BENCH_BUNDLE_MIB [2048: the seekable bundle], BENCH_SKOPEO [1; 0
# leaves out skopeo]. oras and regctl are installed with go install ...@latest into
# $BENCH_DIR/bin, once; skopeo and GNU time from Debian's packages.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-/tmp/ocil-bench}
RUNS=${BENCH_RUNS:-3}
MD=${BENCH_MD-BENCHMARKS.md}
MIB=${BENCH_PEERS_MIB:-1024}
BUNDLE_MIB=${BENCH_BUNDLE_MIB:-2048}
SKOPEO=${BENCH_SKOPEO:-1}
GO=${GO:-go}
log() { printf '%s\n' "$*" >&2; }

mkdir -p "$BENCH_DIR/bin" "$BENCH_DIR/peers"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
export PATH=$BENCH_DIR/bin:$PATH

# --- tools -----------------------------------------------------------------------------
need=()
[[ -x /usr/bin/time ]] || need+=(time)
if [[ $SKOPEO == 1 ]] && ! command -v skopeo >/dev/null; then need+=(skopeo); fi
if ((${#need[@]})); then
	log "installing ${need[*]} from Debian's packages"
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >&2
fi
# The latest releases, installed once into $BENCH_DIR/bin (ahead of PATH); remove them
# there to measure newer ones.
[[ -x $BENCH_DIR/bin/oras ]] || { log "installing oras"; GOBIN=$BENCH_DIR/bin "$GO" install oras.land/oras/cmd/oras@latest; }
[[ -x $BENCH_DIR/bin/regctl ]] || { log "installing regctl"; GOBIN=$BENCH_DIR/bin "$GO" install github.com/regclient/regclient/cmd/regctl@latest; }
make -s build GO="$GO" >&2
OCIL=$ROOT/bin/ocil
"$GO" build -o "$BENCH_DIR/bin/mkdata" ./bench/mkdata
W=$BENCH_DIR/peers

# layout NAME MiB: a layout folder tagged "bench" of MiB / 256 blobs of 256 MiB (and
# their manifests and configs), one platform each, made once.
layout() {
	local dir=$W/$1 n=$(($2 / 256))
	if [[ ! -f $dir/.complete ]]; then
		log "generating $dir: $n x 256 MiB"
		rm -rf "$dir" "$dir.in"
		"$BENCH_DIR/bin/mkdata" -out "$dir.in" -inputs "$n" -size 268435456 -seed 11 >&2
		"$OCIL" merge -q --link copy -o "$dir:bench" "$dir.in"/in-* >/dev/null
		rm -rf "$dir.in"
		touch "$dir/.complete"
	fi
	echo "$dir"
}

clean() { rm -rf "$W/o" "$W/o.tar" "$W/o.tar.lock" "$W/o.tar.gz" "$W/o.tar.gz.lock"; }

# once CMD...: the wall time of one run in seconds, the outputs removed and the disk
# synced before (untimed).
once() {
	local s e
	clean
	sync
	s=$EPOCHREALTIME
	"$@" >/dev/null 2>"$W/err" || { log "failed: $*"; cat "$W/err" >&2; exit 1; }
	e=$EPOCHREALTIME
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# pair NAME "OCIL CMD" "PEER CMD": the two run back to back RUNS times (ocil first, then
# the peer, alternating); T[NAME.ocil] and T[NAME.peer] get the medians.
declare -A T
pair() {
	local name=$1 a=() b=() r
	for ((r = 0; r < RUNS; r++)); do
		a+=("$(once bash -c "$2")")
		b+=("$(once bash -c "$3")")
	done
	T[$name.ocil]=$(median "${a[@]}")
	T[$name.peer]=$(median "${b[@]}")
	T[$name.ocilruns]="${a[*]}"
	T[$name.peerruns]="${b[*]}"
	log "$name: ocil ${a[*]} | peer ${b[*]}"
}

# rss CMD: peak RSS in MiB of one run.
rss() {
	clean
	/usr/bin/time -f %M -o "$W/rss" bash -c "exec $1" >/dev/null 2>&1
	awk '{ printf "%.1f", $1 / 1024 }' "$W/rss"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t ? "PASS" : "MISS") }'; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
L=$(layout "layout-$MIB" "$MIB")
cat "$L"/blobs/sha256/* >/dev/null # warm
[[ -f $W/in.tar && $W/in.tar -nt $L/.complete ]] || "$OCIL" copy -q "$L:bench" "$W/in.tar" >/dev/null
cat "$W/in.tar" >/dev/null

log "folder -> folder"
pair ff_oras "$OCIL copy -q '$L:bench' '$W/o'" "oras cp --from-oci-layout --to-oci-layout '$L:bench' '$W/o:bench'"
pair ff_regctl "$OCIL copy -q '$L:bench' '$W/o'" "regctl image copy 'ocidir://$L:bench' 'ocidir://$W/o:bench'"
log "folder -> .tar"
pair ft_regctl "$OCIL copy -q '$L:bench' '$W/o.tar'" "regctl image export 'ocidir://$L:bench' '$W/o.tar'"
pair ft_tar "$OCIL copy -q '$L:bench' '$W/o.tar'" "tar -C '$L' --exclude=.complete -cf '$W/o.tar' ."
pair ft_tarsync "$OCIL copy -q '$L:bench' '$W/o.tar'" "tar -C '$L' --exclude=.complete -cf '$W/o.tar' . && sync '$W/o.tar'"
if [[ $SKOPEO == 1 ]]; then
	pair ft_skopeo "$OCIL copy -q '$L:bench' '$W/o.tar'" "skopeo copy -q 'oci:$L:bench' 'oci-archive:$W/o.tar'"
fi
log ".tar -> folder"
pair tf_regctl "$OCIL copy -q '$W/in.tar:bench' '$W/o'" "regctl image import 'ocidir://$W/o:bench' '$W/in.tar'"
pair tf_tar "$OCIL copy -q '$W/in.tar:bench' '$W/o'" "mkdir -p '$W/o' && tar -C '$W/o' -xf '$W/in.tar'"

log "peak RSS"
rss_ff=$(rss "$OCIL copy -q '$L:bench' '$W/o'")
rss_ft=$(rss "$OCIL copy -q '$L:bench' '$W/o.tar'")
rss_tf=$(rss "$OCIL copy -q '$W/in.tar:bench' '$W/o'")
rss_fz=$(rss "$OCIL copy -q '$L:bench' '$W/o.tar.gz'")
load_mid=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the seekable bundle -----------------------------------------------------------------
B=$(layout "layout-$BUNDLE_MIB" "$BUNDLE_MIB")
declare -A S
for ext in tar.gz tar.zst; do
	bundle=$W/bundle-$BUNDLE_MIB.$ext
	stamp="$(git rev-parse HEAD:layout/tarfs/seek.go) $BUNDLE_MIB"
	if [[ ! -f $bundle.complete || $(<"$bundle.complete") != "$stamp" ]]; then
		log "writing $bundle"
		rm -f "$bundle"
		S[$ext.write]=$(once "$OCIL" copy -q "$B:bench" "$bundle")
		printf '%s\n' "$stamp" >"$bundle.complete"
	fi
	S[$ext.size]=$(awk -v b="$(stat -c %s "$bundle")" 'BEGIN { printf "%.2f GiB", b / 1073741824 }')
	cat "$bundle" >/dev/null
	runs=()
	for ((r = 0; r < RUNS; r++)); do runs+=("$(once "$OCIL" ls "$bundle")"); done
	S[$ext.ls]=$(median "${runs[@]}")
	runs=()
	for ((r = 0; r < RUNS; r++)); do runs+=("$(once "$OCIL" resolve "$bundle:bench")"); done
	S[$ext.resolve]=$(median "${runs[@]}")
	runs=()
	for ((r = 0; r < RUNS; r++)); do runs+=("$(once "$OCIL" cat --config --platform linux/amd64:el8.0 "$bundle:bench")"); done
	S[$ext.cat]=$(median "${runs[@]}")
	runs=()
	for ((r = 0; r < RUNS; r++)); do runs+=("$(once "$OCIL" pull -q --platform linux/amd64:el8.0 "$bundle:bench" -o "$W/o")"); done
	S[$ext.pull]=$(median "${runs[@]}")
	S[$ext.rss]=$(rss "$OCIL ls '$bundle'")
	# The same bytes without the footer: an ordinary compressed tarball to ocil, read in
	# one decompressing pass. One run.
	foot=50
	[[ $ext == tar.zst ]] && foot=32
	head -c -$foot "$bundle" >"$W/plain.$ext"
	S[$ext.plainls]=$(once "$OCIL" ls "$W/plain.$ext")
	rm -f "$W/plain.$ext"
done
clean
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ------------------------------------------------------------------------------
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
fstype=$(findmnt -n -o FSTYPE -T "$BENCH_DIR" 2>/dev/null || stat -f -c %T "$BENCH_DIR")
# go install builds report their module version in the binary (oras version says
# "1.3.0+unreleased" for a go install build).
modver() { "$GO" version -m "$(command -v "$1")" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'; }
v_oras=$(modver oras)
v_regctl=$(modver regctl)
v_skopeo=$(command -v skopeo >/dev/null && skopeo --version | awk '{ print $3 }')
v_tar=$(tar --version | head -1 | awk '{ print $NF }')
row() { # row LABEL KEY PEERLABEL
	echo "| $1 | ${T[$2.ocil]} s | $3 | ${T[$2.peer]} s | $(ratio "${T[$2.ocil]}" "${T[$2.peer]}") |"
}
report=$(
	echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs ($cpu), $("$GO" env GOVERSION), ocil $(git describe --always --dirty 2>/dev/null);"
	echo "$fstype under $BENCH_DIR; a $MIB MiB layout ($((MIB / 256)) blobs of 256 MiB), page cache warm; each pair run back to back $RUNS times, alternating, median kept."
	echo "Peers: oras $v_oras, regctl $v_regctl, skopeo ${v_skopeo:-not run}, GNU tar $v_tar."
	echo "Load average (1, 5, 15 min): $load_start at the start, $load_mid after the copies, $load_end at the end."
	echo "ocil hashes every byte it copies and syncs what it writes before publishing it; none of the peers does both."
	echo
	echo "| operation | ocil | peer | peer time | ocil / peer |"
	echo "|---|--:|---|--:|--:|"
	row "folder → folder" ff_oras "oras cp --from-oci-layout --to-oci-layout"
	row "folder → folder" ff_regctl "regctl image copy ocidir:// ocidir://"
	row "folder → .tar" ft_regctl "regctl image export"
	row "folder → .tar" ft_tar "tar -cf"
	row "folder → .tar" ft_tarsync "tar -cf, then sync"
	[[ $SKOPEO == 1 ]] && row "folder → .tar" ft_skopeo "skopeo copy oci: oci-archive:"
	row ".tar → folder" tf_regctl "regctl image import"
	row ".tar → folder" tf_tar "tar -xf"
	echo
	echo "Peak RSS of ocil copy: folder → folder $rss_ff MiB, folder → .tar $rss_ft MiB, .tar → folder $rss_tf MiB, folder → .tar.gz $rss_fz MiB."
	echo
	echo "Seekable compressed bundle written by ocil from a $BUNDLE_MIB MiB layout ($((BUNDLE_MIB / 256)) blobs of 256 MiB of random bytes), median of $RUNS:"
	echo
	echo "| bundle | size | ls | resolve | cat --config (one small blob) | pull one 256 MiB layer | ls, footer removed (read whole, one run) | ls peak RSS |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|"
	for ext in tar.gz tar.zst; do
		echo "| .$ext | ${S[$ext.size]} | ${S[$ext.ls]} s | ${S[$ext.resolve]} s | ${S[$ext.cat]} s | ${S[$ext.pull]} s | ${S[$ext.plainls]} s | ${S[$ext.rss]} MiB |"
	done
	echo
	echo "Targets, from this run:"
	echo
	echo "- $(verdict "$(ratio "${T[ff_oras.ocil]}" "${T[ff_oras.peer]}")" 0.5) folder → folder = $(ratio "${T[ff_oras.ocil]}" "${T[ff_oras.peer]}") × oras cp (target ≤ 0.5)"
	echo "- $(verdict "$(ratio "${T[ft_regctl.ocil]}" "${T[ft_regctl.peer]}")" 1.0) folder → .tar = $(ratio "${T[ft_regctl.ocil]}" "${T[ft_regctl.peer]}") × regctl image export (target ≤ 1.0)"
	echo "- $(verdict "$(ratio "${T[ft_tar.ocil]}" "${T[ft_tar.peer]}")" 1.0) folder → .tar = $(ratio "${T[ft_tar.ocil]}" "${T[ft_tar.peer]}") × tar -cf (target ≤ 1.0)"
	echo "- $(verdict "$(ratio "${T[tf_regctl.ocil]}" "${T[tf_regctl.peer]}")" 1.0) .tar → folder = $(ratio "${T[tf_regctl.ocil]}" "${T[tf_regctl.peer]}") × regctl image import (target ≤ 1.0)"
	for ext in tar.gz tar.zst; do
		echo "- $(verdict "${S[$ext.ls]}" 0.05) ls on the .$ext bundle = ${S[$ext.ls]} s, resolve ${S[$ext.resolve]} s (target < 0.05 s)"
	done
	maxrss=$(printf '%s\n' "$rss_ff" "$rss_ft" "$rss_tf" "$rss_fz" "${S[tar.gz.rss]}" "${S[tar.zst.rss]}" | sort -g | tail -1)
	echo "- $(verdict "$maxrss" 49.999) peak RSS = $maxrss MiB at most (target < 50 MiB)"
)
printf '%s\n' "$report"
if [[ -n $MD ]]; then
	awk -v block="$report" '
		/<!-- peers:start -->/ { print; print block; skip = 1; next }
		/<!-- peers:end -->/ { skip = 0 }
		!skip' "$MD" >"$MD.tmp" && mv "$MD.tmp" "$MD"
	log "wrote the results into $MD"
fi

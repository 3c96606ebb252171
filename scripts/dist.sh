#!/usr/bin/env bash
# Builds static ocil binaries and packages them with ocil itself into one multi-platform
# OCI layout tarball: each binary becomes an artifact for its platform (ocil add), and
# the per-platform layouts are merged (ocil merge) into dist/ocil-VERSION.tar:VERSION.
# Each binary is stored in a folder bin/, which ocil add packs as a tar layer that keeps
# its executable mode: ocil pull (and oras pull) write bin/ocil, ready to run.
# The same sources, VERSION and SOURCE_DATE_EPOCH give the same bytes.
#
# usage: scripts/dist.sh [OUTDIR]
# env:   VERSION (default: git describe), SOURCE_DATE_EPOCH (default: the last commit's
#        time), DIST_PLATFORMS (default: linux, darwin and windows on amd64 and arm64), GO
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
platforms=${DIST_PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}

rm -rf "$out"
mkdir -p "$out/bin" "$out/layouts"
# The packaging ocil is the host's build of the same sources.
CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$VERSION" -o "$out/ocil-host" ./cmd/ocil
for p in $platforms; do
	os=${p%/*}; arch=${p#*/}
	exe=ocil; [ "$os" = windows ] && exe=ocil.exe
	dir="$out/bin/$os-$arch/bin"
	mkdir -p "$dir"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false \
		-ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$dir/$exe" ./cmd/ocil
	chmod 0755 "$dir/$exe" # whatever the umask: the mode is stored in the layer
	"$out/ocil-host" add "$out/layouts/$os-$arch" --platform "$p" \
		--artifact-type application/vnd.ocil.binary.v1 \
		--annotation "org.opencontainers.image.version=$VERSION" "$dir" >/dev/null
done
"$out/ocil-host" merge -q -o "$out/ocil-$VERSION.tar:$VERSION" \
	--annotation "org.opencontainers.image.version=$VERSION" \
	--annotation "org.opencontainers.image.source=https://github.com/ocil-dev/ocil" \
	"$out"/layouts/* >/dev/null
rm -f "$out/ocil-$VERSION.tar.lock"
"$out/ocil-host" ls "$out/ocil-$VERSION.tar"
sha256sum "$out/ocil-$VERSION.tar"

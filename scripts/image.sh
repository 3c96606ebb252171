#!/usr/bin/env bash
# Builds ocil's container image with ocil itself: for each platform, a static ocil at
# /usr/local/bin/ocil in one reproducible layer, with an image config whose Entrypoint is
# ocil and whose platform is the platform's (ocil add --image); the platforms share one
# index, tagged VERSION, written as the OCI layout tarball dist/ocil-image-VERSION.tar.
# The same sources, VERSION and SOURCE_DATE_EPOCH give the same bytes.
#
#   skopeo copy --all oci-archive:dist/ocil-image-VERSION.tar:VERSION docker://REGISTRY/ocil:VERSION
#   podman load -i dist/ocil-image-VERSION.tar
#
# usage: scripts/image.sh [OUTDIR]
# env:   VERSION (default: git describe), SOURCE_DATE_EPOCH (default: the last commit's
#        time), IMAGE_PLATFORMS (default: linux/amd64 linux/arm64), GO
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
platforms=${IMAGE_PLATFORMS:-"linux/amd64 linux/arm64"}
work="$out/image-work"
tarball="$out/ocil-image-$VERSION.tar"

rm -rf "$work" "$tarball"
mkdir -p "$work"
# The packaging ocil is the host's build of the same sources.
CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$VERSION" -o "$work/ocil-host" ./cmd/ocil
for p in $platforms; do
	os=${p%/*}; arch=${p#*/}
	bin="$work/bin/$os-$arch/ocil"
	mkdir -p "$(dirname "$bin")"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false \
		-ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$bin" ./cmd/ocil
	chmod 0755 "$bin" # whatever the umask: the mode is stored in the layer
	"$work/ocil-host" add "$work/layout:$VERSION" --platform "$p" --image \
		--entrypoint '["/usr/local/bin/ocil"]' --env PATH=/usr/local/bin \
		--annotation "org.opencontainers.image.version=$VERSION" \
		--annotation "org.opencontainers.image.source=https://github.com/ocil-dev/ocil" \
		"$bin=/usr/local/bin/ocil" >/dev/null
done
"$work/ocil-host" copy -q "$work/layout:$VERSION" "$tarball" >/dev/null
"$work/ocil-host" ls "$tarball"
rm -rf "$work"
sha256sum "$tarball"

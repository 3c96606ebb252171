#!/usr/bin/env bash
# Builds ocil's container image with ocil itself, in two variants, each an OCI layout
# tarball of one tag (podman load and docker load take one image per archive):
#
#   dist/ocil-image-VERSION.tar, tag VERSION:
#                  a static ocil at /usr/local/bin/ocil, nothing else: one reproducible
#                  layer, an image config whose Entrypoint is ocil (ocil add --image).
#   dist/ocil-image-VERSION-debug.tar, tag VERSION-debug:
#                  the same ocil plus Debian's static busybox (scripts/busybox.sh) in
#                  /busybox, with links for the shell and the usual commands there and
#                  /bin/sh, /tmp, and PATH ending in /busybox: what GitLab's Docker and
#                  Kubernetes executors need to run a job's script (kaniko's and
#                  distroless's :debug images are built the same way, under the same name).
#                  Entrypoint is ocil too; a CI job sets entrypoint: [""].
#
# Each tag is an index for linux/amd64 and linux/arm64. The same sources, VERSION,
# SOURCE_DATE_EPOCH and pinned busybox give the same bytes.
#
#   skopeo copy --all oci-archive:dist/ocil-image-VERSION.tar docker://REGISTRY/ocil:VERSION
#   skopeo copy --all oci-archive:dist/ocil-image-VERSION-debug.tar docker://REGISTRY/ocil:VERSION-debug
#   podman load -i dist/ocil-image-VERSION-debug.tar
#
# usage: scripts/image.sh [OUTDIR]
# env:   VERSION (default: git describe), SOURCE_DATE_EPOCH (default: the last commit's
#        time), IMAGE_PLATFORMS (default: linux/amd64 linux/arm64, the two busybox is
#        pinned for), GO, BUSYBOX_CACHE and DEBIAN_MIRROR (see scripts/busybox.sh)
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
debug_tarball="$out/ocil-image-$VERSION-debug.tar"

rm -rf "$work" "$tarball" "$debug_tarball"
mkdir -p "$work"
# The packaging ocil is the host's build of the same sources.
CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$VERSION" -o "$work/ocil-host" ./cmd/ocil
read -r bb_version bb_source_version < <(scripts/busybox.sh --version)
# The busybox applets linked in /busybox: the shell and the commands CI job scripts use.
# A fixed list, so that the image does not depend on the machine that builds it; all are
# applets of Debian's busybox-static (image-check compares them with busybox --list).
applets='[ [[ ash awk base64 basename bunzip2 bzcat bzip2 cat chmod chown cmp cp cut
date dd df diff dirname du echo egrep env expr false fgrep find fold getopt grep gunzip gzip
head hexdump hostname id kill less ln ls md5sum mkdir mktemp more mv nc nproc od paste
patch printf ps pwd readlink realpath rm rmdir sed seq sh sha1sum sha256sum sha512sum
sleep sort stat tail tar tee test time timeout touch tr true truncate tty uname uniq
unxz unzip vi wc wget which whoami xargs xxd xz xzcat yes zcat'
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

	# The shell variant's rootfs, every mode set here (not left to the umask); links are
	# relative, so that an unpacked rootfs works outside a container too.
	root="$work/debug/$os-$arch"
	mkdir -p "$root/busybox" "$root/bin" "$root/tmp" "$root/usr/local/bin" "$root/usr/share/doc/busybox-static"
	scripts/busybox.sh "$arch" "$work/busybox-$arch"
	cp "$work/busybox-$arch/busybox" "$root/busybox/busybox"
	cp "$work/busybox-$arch/copyright" "$root/usr/share/doc/busybox-static/copyright"
	cp "$bin" "$root/usr/local/bin/ocil"
	for a in $applets; do ln -s busybox "$root/busybox/$a"; done
	ln -s ../busybox/busybox "$root/bin/sh"
	find "$root" -type d -exec chmod 0755 {} +
	chmod 1777 "$root/tmp"
	chmod 0755 "$root/busybox/busybox" "$root/usr/local/bin/ocil"
	chmod 0644 "$root/usr/share/doc/busybox-static/copyright"
	"$work/ocil-host" add "$work/layout:$VERSION-debug" --platform "$p" --image \
		--entrypoint '["/usr/local/bin/ocil"]' \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox \
		--annotation "org.opencontainers.image.version=$VERSION" \
		--annotation "org.opencontainers.image.source=https://github.com/ocil-dev/ocil" \
		--annotation "dev.ocil.busybox.package=busybox-static $bb_version (Debian 12, $arch)" \
		--annotation "dev.ocil.busybox.license=GPL-2.0-only" \
		--annotation "dev.ocil.busybox.source=https://snapshot.debian.org/package/busybox/$bb_source_version/" \
		"$root/=/" >/dev/null
done
"$work/ocil-host" copy -q "$work/layout:$VERSION" "$tarball" >/dev/null
"$work/ocil-host" copy -q "$work/layout:$VERSION-debug" "$debug_tarball" >/dev/null
"$work/ocil-host" ls "$tarball"
"$work/ocil-host" ls "$debug_tarball"
rm -rf "$work" "$tarball.lock" "$debug_tarball.lock"
sha256sum "$tarball" "$debug_tarball"

#!/usr/bin/env bash
# Puts Debian's static busybox for one architecture at OUTDIR/busybox, with the package's
# copyright file at OUTDIR/copyright, for the shell variant of ocil's image (scripts/image.sh).
#
# The .deb is pinned below by version and SHA-256: it is taken from CACHE when there,
# else downloaded once from the Debian mirror into CACHE (make keeps CACHE, .cache/deb by
# default, across make clean), so the same pins give the same busybox on every machine and
# an offline build only needs CACHE filled. The binary is checked to be a static ELF
# executable for the architecture before it is used.
#
# usage: scripts/busybox.sh ARCH OUTDIR        (ARCH: amd64 or arm64, GOARCH names)
#        scripts/busybox.sh --fetch            (fills CACHE for every architecture)
#        scripts/busybox.sh --source DIR       (busybox's complete source, Debian's source
#                                               package, into DIR, to publish beside the image)
#        scripts/busybox.sh --version          (prints the pinned binary and source package
#                                               versions, one space between)
# env:   BUSYBOX_CACHE (default: .cache/deb), DEBIAN_MIRROR (default: http://deb.debian.org/debian)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 (bookworm) busybox-static, binary and source package versions, and each .deb's
# SHA-256. Moving to a newer busybox is a change of these lines (and of the digests the
# image gets).
BUSYBOX_DEB_VERSION='1:1.35.0-4+deb12u1+b1'
BUSYBOX_SOURCE_VERSION='1:1.35.0-4+deb12u1'
declare -A BUSYBOX_DEB_SHA256=(
	[amd64]=3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744
	[arm64]=732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5
)
# The source package the binaries are built from (GPL-2.0: the corresponding source), as
# its .dsc lists it.
declare -A BUSYBOX_SOURCE_SHA256=(
	[busybox_1.35.0-4+deb12u1.dsc]=9c01fe128b0eeded371c70e37d474fdb5055f71b5d0a778db44c6b0c62d3a7fa
	[busybox_1.35.0.orig.tar.bz2]=faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694
	[busybox_1.35.0-4+deb12u1.debian.tar.xz]=1cacbe095ef4880ea7879933c8e3c5075d1527cd6fbcb626a9b41e5daefd1a46
)
# readelf's name of each architecture's machine.
declare -A ELF_MACHINE=([amd64]='Advanced Micro Devices X86-64' [arm64]='AArch64')

cache=${BUSYBOX_CACHE:-.cache/deb}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "busybox.sh: $*" >&2; exit 1; }

# cached FILE SHA256: the path of FILE from the mirror's busybox folder in the cache,
# downloaded when missing, checked against SHA256.
cached() {
	local file=$1 want=$2
	local path="$cache/$file" url="$mirror/pool/main/b/busybox/$file"
	if [ ! -f "$path" ]; then
		command -v curl >/dev/null || fail "$path is missing and curl is not installed to fetch $url"
		mkdir -p "$cache"
		echo "downloading $url" >&2
		curl -fsSL --retry 3 -o "$path.part" "$url" || {
			rm -f "$path.part"
			fail "cannot download $url; put the file at $path (Debian keeps every version at https://snapshot.debian.org/package/busybox/${BUSYBOX_SOURCE_VERSION}/)"
		}
		mv "$path.part" "$path"
	fi
	local got
	got=$(sha256sum < "$path"); got=${got%% *}
	[ "$got" = "$want" ] || fail "$path: sha256 $got, want $want (pinned in scripts/busybox.sh); delete it to download it again"
	echo "$path"
}

# deb ARCH: the path of the verified busybox-static .deb for ARCH.
deb() {
	local want=${BUSYBOX_DEB_SHA256[$1]:-}
	[ -n "$want" ] || fail "no busybox pinned for $1 (pinned: ${!BUSYBOX_DEB_SHA256[*]})"
	cached "busybox-static_${BUSYBOX_DEB_VERSION#*:}_$1.deb" "$want"
}

case "${1:-}" in
--fetch)
	for a in "${!BUSYBOX_DEB_SHA256[@]}"; do deb "$a" >/dev/null; done
	exit 0 ;;
--source)
	[ $# -eq 2 ] || fail "usage: scripts/busybox.sh --source DIR"
	mkdir -p "$2"
	for f in "${!BUSYBOX_SOURCE_SHA256[@]}"; do
		src=$(cached "$f" "${BUSYBOX_SOURCE_SHA256[$f]}")
		cp "$src" "$2/$f"
	done
	exit 0 ;;
--version)
	echo "$BUSYBOX_DEB_VERSION $BUSYBOX_SOURCE_VERSION"
	exit 0 ;;
esac
[ $# -eq 2 ] || fail "usage: scripts/busybox.sh ARCH OUTDIR | --fetch | --version"
arch=$1 out=$2
path=$(deb "$arch")
for t in dpkg-deb readelf; do
	command -v "$t" >/dev/null || fail "$t is needed to unpack and check $path (Debian: apt-get install dpkg binutils)"
done
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$path" "$x"
bb="$x/bin/busybox"
[ -f "$bb" ] || fail "$path holds no bin/busybox"
# Static: an ELF executable for ARCH with no program interpreter and no dynamic section.
hdr=$(readelf -h "$bb") || fail "$path: bin/busybox is not an ELF file"
case "$hdr" in *"Type:"*"EXEC"*) ;; *) fail "$path: bin/busybox is not an executable: $hdr" ;; esac
case "$hdr" in *"Machine:"*"${ELF_MACHINE[$arch]}"*) ;; *) fail "$path: bin/busybox is not for $arch: $hdr" ;; esac
if readelf -l "$bb" | grep -q INTERP || readelf -d "$bb" | grep -q NEEDED; then
	fail "$path: bin/busybox is dynamically linked"
fi
mkdir -p "$out"
cp "$bb" "$out/busybox"
cp "$x/usr/share/doc/busybox-static/copyright" "$out/copyright"
chmod 0755 "$out/busybox"
chmod 0644 "$out/copyright"

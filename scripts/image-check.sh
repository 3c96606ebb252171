#!/usr/bin/env bash
# Builds ocil's image (scripts/image.sh) twice and requires the same bytes, then has the
# clients read it: skopeo copies it (as it does when it pushes it with
# skopeo copy oci-archive:...:VERSION docker://...), umoci unpacks the host's platform
# into a rootfs whose ocil runs, and podman loads it with its platform and entrypoint.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VERSION=v0.0.0-check SOURCE_DATE_EPOCH=1700000000
scripts/image.sh "$tmp/a" >/dev/null
scripts/image.sh "$tmp/b" >/dev/null
tarball="$tmp/a/ocil-image-$VERSION.tar"
a=$(sha256sum < "$tarball"); b=$(sha256sum < "$tmp/b/ocil-image-$VERSION.tar")
if [ "$a" != "$b" ]; then
	echo "image is not reproducible: $a vs $b" >&2
	exit 1
fi
fail() { echo "image-check: $*" >&2; exit 1; }
CGO_ENABLED=0 "$GO" build -o "$tmp/ocil" ./cmd/ocil
"$tmp/ocil" validate --for-push --strict -q "$tarball" >/dev/null
arch=$("$GO" env GOARCH)

# skopeo: every platform copied out of the archive.
skopeo copy -q --all "oci-archive:$tarball:$VERSION" "oci:$tmp/skopeo:$VERSION" >/dev/null
index=$(skopeo inspect --raw "oci:$tmp/skopeo:$VERSION")
for p in amd64 arm64; do
	case "$index" in *"\"architecture\":\"$p\""*) ;; *) fail "skopeo's copy lacks linux/$p: $index" ;; esac
done

# umoci: the host's platform unpacked; the rootfs's ocil is executable and runs.
"$tmp/ocil" copy -q "$tarball:$VERSION" "$tmp/host" --platform "linux/$arch" >/dev/null
umoci unpack --rootless --image "$tmp/host:$VERSION" "$tmp/bundle" >/dev/null
got=$("$tmp/bundle/rootfs/usr/local/bin/ocil" version)
case "$got" in "ocil $VERSION linux/$arch "*) ;; *) fail "the unpacked ocil says: $got" ;; esac

# podman: loaded, with the platform and the entrypoint in its config.
name=$(podman load -i "$tarball" 2>/dev/null | sed -n 's/^Loaded image: //p' | head -n 1)
[ -n "$name" ] || fail "podman load named no image"
got=$(podman image inspect --format '{{.Os}}/{{.Architecture}} {{.Config.Entrypoint}}' "$name")
podman rmi "$name" >/dev/null 2>&1 || true
[ "$got" = "linux/$arch [/usr/local/bin/ocil]" ] || fail "podman sees $got"

echo "image reproducible and read by skopeo, umoci and podman: ${a%% *}"

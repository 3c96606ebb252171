#!/usr/bin/env bash
# Builds the release tarball twice, in two folders, and requires the same bytes: the
# release is reproducible under SOURCE_DATE_EPOCH. Two platforms keep it quick.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VERSION=v0.0.0-check SOURCE_DATE_EPOCH=1700000000 DIST_PLATFORMS="linux/amd64 windows/arm64"
scripts/dist.sh "$tmp/a" >/dev/null
scripts/dist.sh "$tmp/b" >/dev/null
a=$(sha256sum < "$tmp/a/ocil-$VERSION.tar"); b=$(sha256sum < "$tmp/b/ocil-$VERSION.tar")
if [ "$a" != "$b" ]; then
	echo "dist is not reproducible: $a vs $b" >&2
	exit 1
fi
# The tarball holds both platforms and validates, as a registry and its clients need.
"$tmp/a/ocil-host" validate --for-push --strict -q "$tmp/a/ocil-$VERSION.tar" >/dev/null
for p in $DIST_PLATFORMS; do
	"$tmp/a/ocil-host" resolve "$tmp/a/ocil-$VERSION.tar:$VERSION" --platform "$p" >/dev/null
done
echo "dist reproducible: ${a%% *}"

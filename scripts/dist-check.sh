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
# A binary pulled back out is executable and runs.
"$tmp/a/ocil-host" pull -q "$tmp/a/ocil-$VERSION.tar:$VERSION" --platform linux/amd64 -o "$tmp/pulled" >/dev/null
[ -x "$tmp/pulled/bin/ocil" ] || { echo "dist: the pulled bin/ocil is not executable" >&2; exit 1; }
if [ "$("${GO:-go}" env GOARCH 2>/dev/null || echo amd64)" = amd64 ]; then
	got=$("$tmp/pulled/bin/ocil" version)
	case "$got" in "ocil $VERSION linux/amd64 "*) ;; *) echo "dist: the pulled ocil says: $got" >&2; exit 1 ;; esac
fi
echo "dist reproducible: ${a%% *}"

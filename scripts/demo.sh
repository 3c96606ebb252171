#!/usr/bin/env bash
# A short tour of ocil on the layouts bundled in testdata/fixtures (made by oras, umoci,
# skopeo, regctl and crane). Run through `make demo`.
set -euo pipefail
ocil=${1:-bin/ocil}
fx=testdata/fixtures
step() { printf '\n$ %s\n' "$*"; "$@" || echo "(exit $?)"; }

step "$ocil" version
# An untagged single-platform layout as `oras push --oci-layout` writes it: the platform
# lives only in the config blob, and ocil reads it from there.
step "$ocil" ls "$fx/oras-linux-arm64-v8-el8"
step "$ocil" resolve "$fx/oras-linux-arm64-v8-el8"
# A tagged nested index (regctl) and a Docker manifest list (skopeo --format v2s2).
step "$ocil" ls "$fx/regctl-index"
step "$ocil" resolve "$fx/docker-list:v1" --platform linux/arm64
# Two images and no tag: ocil refuses to guess, lists the candidates, exits 1 ...
step "$ocil" resolve "$fx/umoci-image"
# ... and a platform picks one. os.version is matched too (el8 vs el9).
step "$ocil" resolve "$fx/umoci-image" --platform linux/arm64
step "$ocil" resolve "$fx/crane-flat" --platform linux/arm64/v8:el8 --format json
step "$ocil" cat "$fx/crane-flat" --platform linux/amd64:el8 --config
echo

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
# The CI fan-in: four untagged per-platform layouts into one tagged multi-platform index.
out=demo-out
rm -rf "$out"; mkdir -p "$out"
step "$ocil" merge -o "$out/merged:1.2" --annotation org.opencontainers.image.version=1.2 \
	"$fx/oras-linux-amd64-el8" "$fx/oras-linux-amd64-el9" "$fx/oras-linux-arm64-v8-el8" "$fx/oras-linux-arm64-v8-el9"
step "$ocil" ls "$out/merged"
step "$ocil" resolve "$out/merged:1.2" --platform linux/arm64/v8:el9
# Air-gapped: keep only what the far side runs, as one reproducible tarball.
step "$ocil" copy "$out/merged:1.2" "$out/site-b.tar.gz" --platform linux/amd64
step "$ocil" ls "$out/site-b.tar.gz"
# The pre-push gate.
step "$ocil" validate --for-push "$out/merged" "$out/site-b.tar.gz"
# Compose an artifact step by step, then get a file back.
printf 'hello from amd64\n' > "$out/hello-amd64"; printf 'hello from arm64\n' > "$out/hello-arm64"
step "$ocil" add "$out/hello:v1" --platform linux/amd64 --artifact-type application/vnd.example.hello.v1 "$out/hello-amd64"
step "$ocil" add "$out/hello:v1" --platform linux/arm64 --artifact-type application/vnd.example.hello.v1 "$out/hello-arm64"
step "$ocil" pull "$out/hello:v1" --platform linux/arm64 -o "$out/pulled"
step cat "$out/pulled/hello-arm64"
echo

#!/usr/bin/env bash
# cosign-proof.sh: a cosign signature survives ocil copy and still verifies.
#
# On a registry bound to loopback (distribution's `registry`), an image is signed with
# `cosign sign --key` (no transparency log: offline). regctl copies the image with its
# referrers into a layout folder; ocil copies that into a tarball (the air-gap hop);
# the tarball is unpacked and regctl pushes it, referrers included, under another name;
# cosign verify then checks the signature there. As a control, the same hop with
# `ocil copy --no-referrers` must leave cosign with no signature to verify.
#
# Needs ocil ($OCIL, default bin/ocil), registry, cosign and regctl on PATH or in
# $(go env GOPATH)/bin (make cosign-proof installs them). Nothing leaves 127.0.0.1.
set -euo pipefail

OCIL=${OCIL:-bin/ocil}
OCIL=$(cd "$(dirname "$OCIL")" && pwd)/$(basename "$OCIL")
export PATH="$PATH:$(go env GOPATH | cut -d: -f1)/bin"
for t in registry cosign regctl; do
	command -v "$t" >/dev/null || { echo "cosign-proof: $t not found (make cosign-proof installs it)" >&2; exit 1; }
done
root=$(pwd)
work=$(mktemp -d)
export HOME="$work/home" # regctl's and cosign's configuration stay here
mkdir -p "$HOME"
regpid=
cleanup() {
	if [ -n "$regpid" ]; then kill "$regpid" 2>/dev/null || true; wait "$regpid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

port=${COSIGN_PROOF_PORT:-$((20000 + RANDOM % 20000))}
reg=127.0.0.1:$port
cat >"$work/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $reg
EOF
registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
regpid=$!
for _ in $(seq 1 100); do
	if curl -fsS "http://$reg/v2/" >/dev/null 2>&1; then break; fi
	sleep 0.1
done
curl -fsS "http://$reg/v2/" >/dev/null || { cat "$work/registry.log" >&2; exit 1; }
regctl registry set --tls disabled "$reg" >/dev/null

step() { printf '\n== %s\n' "$*"; }
step "push an image and sign it with cosign sign --key"
regctl image copy "ocidir://$root/testdata/fixtures/umoci-image:latest" "$reg/app:v1" >/dev/null
dig=$(regctl image digest "$reg/app:v1")
echo "image $reg/app@$dig"
(cd "$work" && COSIGN_PASSWORD= cosign generate-key-pair >/dev/null 2>&1)
COSIGN_PASSWORD= cosign sign --key "$work/cosign.key" --use-signing-config=false --tlog-upload=false --allow-http-registry --yes "$reg/app@$dig"
cosign verify --key "$work/cosign.pub" --insecure-ignore-tlog --allow-http-registry "$reg/app@$dig" >/dev/null
echo "verifies at the source"

step "regctl copies it with its referrers into a layout; ocil copies that into a tarball"
regctl image copy --referrers --digest-tags "$reg/app:v1" "ocidir://$work/src:v1" >/dev/null
"$OCIL" ls "$work/src"
"$OCIL" copy -q "$work/src:v1" "$work/site.tar"
"$OCIL" copy -q --no-referrers "$work/src:v1" "$work/bare.tar"
"$OCIL" validate "$work/site.tar"
"$OCIL" ls "$work/site.tar:v1"

step "on the far side: unpack, push with referrers, verify"
for name in site bare; do
	mkdir "$work/$name"
	tar -C "$work/$name" -xf "$work/$name.tar"
	regctl image copy --referrers --digest-tags "ocidir://$work/$name:v1" "$reg/$name:v1" >/dev/null
done
cosign verify --key "$work/cosign.pub" --insecure-ignore-tlog --allow-http-registry "$reg/site@$dig"
echo "the signature carried by ocil copy verifies"
if cosign verify --key "$work/cosign.pub" --insecure-ignore-tlog --allow-http-registry "$reg/bare@$dig" >/dev/null 2>&1; then
	echo "cosign-proof: the copy without referrers verified too: the control failed" >&2
	exit 1
fi
echo "control: after ocil copy --no-referrers there is no signature to verify"

#!/usr/bin/env bash
# cosign-proof.sh: a cosign signature survives ocil copy and still verifies.
#
# On a registry bound to loopback (distribution's `registry`), an image is signed with
# `cosign sign --key` (no transparency log: offline). regctl copies the image with its
# referrers into a layout folder; ocil copies that into a tarball (the air-gap hop);
# the tarball is unpacked and regctl pushes it, referrers included, under another name;
# cosign verify then checks the signature there. As a control, the same hop with
# `ocil copy --no-referrers` must leave cosign with no signature to verify. This is done
# twice: with cosign 3's bundle, an OCI 1.1 referrer, and with the tag-based signature
# of cosign 2 (--new-bundle-format=false: a manifest tagged sha256-<hex>.sig).
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
(cd "$work" && COSIGN_PASSWORD= cosign generate-key-pair >/dev/null 2>&1)

# proof NAME SOURCE-IMAGE COSIGN-FLAGS...: sign, carry, push, verify, and the control.
proof() {
	local name=$1 image=$2
	shift 2
	step "$name: push an image and sign it with cosign sign --key $*"
	regctl image copy "ocidir://$root/testdata/fixtures/$image" "$reg/$name:v1" >/dev/null
	local dig
	dig=$(regctl image digest "$reg/$name:v1")
	echo "image $reg/$name@$dig"
	COSIGN_PASSWORD= cosign sign --key "$work/cosign.key" "$@" --use-signing-config=false --tlog-upload=false --allow-http-registry --yes "$reg/$name@$dig"
	cosign verify --key "$work/cosign.pub" "$@" --insecure-ignore-tlog --allow-http-registry "$reg/$name@$dig" >/dev/null
	echo "verifies at the source"

	step "$name: regctl copies it with its referrers into a layout; ocil copies that into a tarball"
	regctl image copy --referrers --digest-tags "$reg/$name:v1" "ocidir://$work/$name-src:v1" >/dev/null
	"$OCIL" ls "$work/$name-src"
	"$OCIL" copy -q "$work/$name-src:v1" "$work/$name-site.tar"
	"$OCIL" copy -q --no-referrers "$work/$name-src:v1" "$work/$name-bare.tar"
	"$OCIL" validate "$work/$name-site.tar"
	"$OCIL" ls "$work/$name-site.tar"

	step "$name: on the far side: unpack, push with referrers, verify"
	for kind in site bare; do
		mkdir "$work/$name-$kind"
		tar -C "$work/$name-$kind" -xf "$work/$name-$kind.tar"
		regctl image copy --referrers --digest-tags "ocidir://$work/$name-$kind:v1" "$reg/$name-$kind:v1" >/dev/null
	done
	cosign verify --key "$work/cosign.pub" "$@" --insecure-ignore-tlog --allow-http-registry "$reg/$name-site@$dig" >/dev/null
	echo "the signature carried by ocil copy verifies at $reg/$name-site@$dig"
	if cosign verify --key "$work/cosign.pub" "$@" --insecure-ignore-tlog --allow-http-registry "$reg/$name-bare@$dig" >/dev/null 2>&1; then
		echo "cosign-proof: $name: the copy without referrers verified too: the control failed" >&2
		exit 1
	fi
	echo "control: after ocil copy --no-referrers there is no signature to verify"
}

proof bundle umoci-image:latest
proof tag umoci-image:arm64 --new-bundle-format=false
printf '\ncosign-proof: both signatures survived ocil copy and verify\n'

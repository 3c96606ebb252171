#!/usr/bin/env bash
# Baseline of the merge benchmarks (bench/run.sh): the jq + cp merge that ocil merge
# replaces, copied unchanged below this header from /work/shared/bench/merge-jq.sh.
# Do not tune it; it stands for the script as it was used.
# The seed's GitLab CI merge job (jq + cp), generalized from 2 inputs to N and with the
# platform copied from each manifest's config, as the seed's step 2 describes.
# usage: merge-jq.sh OUT IN...
set -euo pipefail
out=$1; shift
rm -rf "$out"; mkdir -p "$out/blobs/sha256"
jq -nc '{imageLayoutVersion: "1.0.0"}' > "$out/oci-layout"
parts=(); idx_tmp=$(mktemp)
for in in "$@"; do
  idx="$in/index.json"
  if jq -e '.manifests[0].mediaType == "application/vnd.oci.image.index.v1+json"' "$idx" >/dev/null; then
    idx="$in/blobs/$(jq -r '.manifests[0].digest' "$idx" | tr ':' '/')"
  fi
  # add platform from each manifest's config
  tmp=$(mktemp)
  jq -c '.manifests[]' "$idx" | while read -r d; do
    m="$in/blobs/$(jq -r .digest <<<"$d" | tr ':' '/')"
    c="$in/blobs/$(jq -r .config.digest "$m" | tr ':' '/')"
    jq -c --slurpfile c "$c" '. + {platform: ($c[0] | {architecture, os} + (if .variant then {variant} else {} end) + (if .["os.version"] then {"os.version": .["os.version"]} else {} end))}' <<<"$d"
  done > "$tmp"
  parts+=("$tmp")
  cp "$in"/blobs/sha256/* "$out/blobs/sha256/"
done
jq -s '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: .,
        annotations: {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}}' "${parts[@]}" > "$idx_tmp"
rm -f "${parts[@]}"
sum=$(sha256sum "$idx_tmp" | cut -d' ' -f1); size=$(stat -c %s "$idx_tmp")
mv "$idx_tmp" "$out/blobs/sha256/$sum"
jq -n --arg d "sha256:$sum" --argjson s "$size" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
               annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' > "$out/index.json"

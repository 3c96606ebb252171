// Package merge combines several OCI layouts (or entries of layouts) into one layout whose
// index.json holds one entry, optionally tagged, pointing at a nested OCI image index that
// lists every input's manifests with their platforms filled in: the fan-in step of a CI
// pipeline that builds one platform per job.
//
// # What goes into the nested index
//
// Each input is a reference resolved as layout.Resolve does. An input that resolves to a
// manifest contributes that manifest; one that resolves to an index (or Docker manifest
// list) contributes its children, each with its descriptor as it is (platform,
// annotations, artifactType kept). Attestations (buildkit's unknown/unknown entries and
// entries annotated vnd.docker.reference.type=attestation-manifest) stay with the image
// they describe and are never platforms of their own. Children of an index keep all their
// annotations, org.opencontainers.image.ref.name included (Homebrew names each child so);
// a manifest taken from index.json itself loses its ref.name, which is that layout's tag.
//
// An input named without tag or digest whose index.json lists several images (a flat
// layout, as jq scripts and crane index append write) is ambiguous, unless
// Input.AllImages: then every image of it (every layout.Entry with Root set) contributes.
//
// A child's platform comes from, in order: the platform the caller states for that input
// (Input.Platform); the platform on its descriptor; its config, when that is an OCI or
// Docker image config with os and architecture (oras push --artifact-platform writes it
// there); the land.oras.artifact.platform.* annotations of the manifest. A child with none
// of these is an error naming the input, unless AllowNoPlatform. A stated platform must
// agree with what the manifest says, if it says anything: another os, architecture or
// variant (after normalization), or another os.version when both have one, is
// ErrConflict naming both, unless OverridePlatform. Adding an os.version the manifest
// does not state is not a contradiction.
//
// Identity is (digest, platform): one manifest listed or stated for two platforms (a
// noarch artifact built once per platform) is two children. The same digest with the same
// normalized platform is kept once. Two different manifests with the same normalized
// platform (os.version included) are an error naming both inputs, unless OnDuplicate says
// to keep the first or the last.
//
// # Order
//
// Children are in canonical order (layout.SortChildren), whatever the order of the
// inputs: a retried CI job that renames its folder, or concurrent adds, give the same
// index. Images with a platform come first, by normalized os, architecture, variant,
// os.version and os.features, each compared byte by byte, then by digest; then children
// without a platform, by digest; then attestations, in the order of the images they
// describe. KeepInputOrder keeps the order of the inputs (and of each index input's
// children) instead.
//
// # Determinism
//
// The same inputs and options give a byte-identical nested index and index.json entry: no
// time stamp is added unless Options.Created is set.
//
// # Blobs
//
// Every blob reachable from the chosen manifests is copied into the output with
// layout.CopyBlob (reflink, hard link, kernel copy or streaming copy, see
// layout.LinkMode), several at a time. Every source byte is hashed once and a blob that
// does not match its digest fails the merge, unless Options.NoVerify says to trust the
// inputs.
//
// # Failure
//
// Everything that can be checked before writing is checked first. Blobs are written
// before index.json, and index.json changes in one locked layout.UpdateIndex at the end:
// a failed merge leaves index.json as it was (at worst with unreferenced blobs, which gc
// removes).
package merge

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
// they describe and are never platforms of their own. The org.opencontainers.image.ref.name
// annotation is removed from children: names belong in index.json only.
//
// A child's platform comes from, in order: the platform the caller states for that input
// (Input.Platform); the platform on its descriptor; its config, when that is an OCI or
// Docker image config with os and architecture (oras push --artifact-platform writes it
// there); the land.oras.artifact.platform.* annotations of the manifest. A child with none
// of these is an error naming the input, unless AllowNoPlatform.
//
// The same digest twice is kept once. Two different manifests with the same normalized
// platform (os.version included) are an error naming both inputs, unless OnDuplicate says
// to keep the first or the last. Children keep the order of the inputs.
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

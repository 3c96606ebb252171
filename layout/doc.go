// Package layout reads and writes OCI image layouts: a folder holding oci-layout,
// index.json and blobs/<alg>/<encoded>, as oras, skopeo, regctl, crane, umoci and buildx
// write them, or a tarball of one (read in place through package tarfs).
//
// # Reading
//
// Open checks oci-layout and index.json and tolerates what real layouts contain: an
// index.json without mediaType (umoci, containerd), unknown files and folders (ingest/,
// lock files, manifest.json), Docker manifest lists and schema 2 manifests (read like
// their OCI twins), unknown media types (skipped). A Layout reads through an fs.FS, so any
// source that serves the layout's files reads the same way.
//
// Every blob is read through one verified path (OpenBlob, ReadBlob): the read stops at
// the descriptor's size, trailing or missing bytes give ErrSizeMismatch, and bytes that do
// not hash to the digest give ErrDigestMismatch. A digest is checked against the OCI
// grammar before it becomes a path (BlobPath), so no descriptor can point outside blobs/.
// JSON documents are capped at MaxJSONSize (index.json at MaxIndexSize, 64 MiB, which a
// layout of 100,000 tags fits) before they are parsed, and index and manifest
// documents are refused when other tools would read them differently (duplicate or
// case-variant member names) or when they are ambiguous (CVE-2021-41190); see
// DecodeIndex.
//
// A folder is read through FolderFS, which treats every path in it as hostile: a symbolic
// link is followed only while it stays inside the folder (one leading outside gives
// ErrUnsafeFile, naming the file and the link), and a FIFO, device or socket is never
// opened, so no read waits on one. A blob must be a regular file of its descriptor's size
// before any byte of it is read.
//
// # Writing
//
//   - Blobs: WriteBlob copies into a temp file beside the final one (in the kernel, with
//     copy_file_range, when the bytes lie in a file, the copy hashed on another core as it
//     lands; else hashed while streamed), checks size and digest, makes the blob
//     read-only, fsyncs and renames. Output.Transfer into a folder holds its blobs in
//     their temp files and syncs them all in parallel before it renames any. A blob
//     already present with the right size is not written again. The blob folders are
//     synced once per UpdateIndex, before index.json is written: a blob is durable before
//     anything references it, at the cost of one folder sync per change, not per blob.
//     CopyBlob brings a blob from another layout by reflink, hard link or kernel copy
//     where it can, with the same temp-file, fsync and rename steps (a hard link shares
//     the source's file and keeps its mode). Nothing else writes under blobs/.
//   - Outputs: OpenOutput is how every writer (copy, merge, add, tag, untag, rm) opens
//     what it writes: a folder or a tarball, created when missing, locked, its other
//     entries kept. Output.Transfer copies blobs several at a time; a tarball output is
//     staged beside the tarball, reading through to it, and written anew at Commit.
//   - Files are put in place by package internal/atomicfile (temp file, fsync, rename,
//     folder sync), for index.json, blobs, tarballs and pulled files alike.
//   - index.json: UpdateIndex takes an exclusive flock on index.json.lock (the file
//     buildkit locks too), reads index.json fresh, applies the caller's change and writes
//     the result atomically and durably. Readers take no lock: they see the old file or
//     the new one. A failed change leaves index.json as it was.
//
// # References and resolution
//
// A reference is PATH, PATH:TAG, PATH@DIGEST or PATH:TAG@DIGEST (see Reference). Resolve
// turns one into a descriptor: a tag names an index.json entry (never a name inside a
// nested index); a reference with neither tag nor digest names the layout's single root,
// where entries that are part of another entry, referrers and sha256-<hex> referrer tags
// are not roots. A platform (package platform) narrows an index to one manifest, reading
// the manifest's config when its descriptor has no platform. Several candidates give an
// *AmbiguousError listing them; nothing is ever picked silently, and the host's platform
// is never a default.
//
// # Errors
//
// Errors wrap one of the Err* classes with the file, reference or digest they concern,
// in the form "verb object: cause"; test them with errors.Is.
package layout

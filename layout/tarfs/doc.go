// Package tarfs serves an OCI image layout packed in a tarball (.tar, .tar.gz, .tar.zst)
// as an fs.FS, without extracting it, after checking every entry of the archive.
//
//	fsys, err := tarfs.Open("image.tar", tarfs.Options{})
//	if err != nil {
//		return err // errors.Is(err, tarfs.ErrHostile), ErrNotLayout, ErrCorrupt
//	}
//	defer fsys.Close()
//	b, err := fs.ReadFile(fsys, "index.json")
//
// The FS holds oci-layout, index.json and blobs/<alg>/<encoded>, the files a layout is
// made of, with the folders blobs and blobs/<alg>. Opened files also implement
// io.ReaderAt and io.Seeker. The FS checks names, types and bounds; it hashes blobs
// only while decompressing (see below), and otherwise leaves content to the layout
// package, which verifies every blob against its digest when it reads it.
//
// # What is accepted
//
// Entry names are taken relative to the archive root, with a leading "./" dropped and
// path.Clean applied, so the archives of skopeo, regctl, oras, crane, containerd, docker
// save (Docker 25 and later), buildkit and `tar -C dir -cf x.tar .` all read. Besides the
// layout's own files an archive may hold, and the FS leaves out:
//
//   - any other file at the root, such as manifest.json and repositories from docker
//     save or regctl;
//   - folders other than blobs at the root, and anything in them, such as the ingest/
//     folder oras leaves; they are accepted only next to a root oci-layout and
//     index.json, because without those the archive is refused anyway;
//   - folder entries, including "./";
//   - PAX and GNU long-name headers, and a global PAX header with a comment.
//
// # What is refused, and why
//
// An archive is refused whole, before anything of it is served, when one entry breaks a
// rule. The error names the archive and the entry:
//
//	open tarball x.tar: entry "../evil": hostile archive: name holds a ".." component
//
// ErrHostile is the class for entries a layout never needs and that have been used to
// attack readers that extract archives:
//
//   - Names that point elsewhere or read differently on another system: absolute names,
//     a ".." component anywhere, a backslash, a ":" (C:x), a NUL byte, names that are not
//     UTF-8, Windows device names (CON, NUL, COM1...), a component longer than 255 bytes
//     or a name longer than 4096. These are the zip-slip class (CVE-2021-21272 in oras).
//     A NUL cannot reach a name through archive/tar: it ends a ustar or GNU name field,
//     and a PAX record carrying one is a malformed header (ErrCorrupt).
//   - Names under blobs/ that are not blobs/<alg>/<encoded> with both parts in the OCI
//     digest grammar; sha256 and sha512 names must be 64 or 128 lowercase hex characters.
//     oci-layout and index.json must be files, blobs and blobs/<alg> folders.
//   - Entry types other than regular files and folders: symlinks (save the links of a
//     docker save archive, below), hard links, character
//     and block devices, FIFOs, GNU sparse files (old format and PAX). Links are how
//     extraction was led outside its folder in CVE-2014-6407, CVE-2014-9356,
//     CVE-2020-27833 (chained relative symlinks), CVE-2021-32760 and the oras-go link
//     bugs fixed in v2.6.2 (a hard link resolved against the working folder, symlink
//     chains). Sparse files are refused because their data is not stored in one piece.
//   - Two entries with the same name after cleaning (./index.json and index.json), and a
//     name that is a file in one entry and a folder in another. Readers disagree on which
//     entry wins, so a checker that reads the first could be bypassed by the last.
//   - A global PAX header that sets a path or size: some readers apply it to the
//     entries that follow and others do not.
//   - More than Options.MaxEntries entries; an oci-layout or index.json over
//     Options.MaxJSONSize (20 MiB, containerd's cap since CVE-2023-25153); a header
//     over archive/tar's 1 MiB cap on PAX and long-name data (CVE-2022-2879).
//   - A compressed archive that decompresses to more than Options.MaxRatio times its own
//     size (100 by default; never below RatioFloor, 64 MiB) or to more than
//     Options.MaxUncompressed (256 GiB by default): a decompression bomb
//     (CVE-2017-14992). gzip cannot compress better than about 1032:1, so 1 GiB of zeros
//     is at least 1 MB of .tar.gz and is refused after about 100 MB; a zstd bomb, which
//     can reach 32000:1, after 64 MiB. Reading stops at the bound, so no more than the
//     bound is ever decompressed or written. The environment variables
//     OCIL_TAR_MAX_RATIO and OCIL_TAR_MAX_BYTES raise the defaults for a program. A zstd
//     stream that asks for a window over 128 MiB (zstd --long=31 writes these).
//   - In a compressed archive, a sha256 or sha512 blob whose bytes do not hash to its
//     name, even one index.json never mentions (see below).
//
// ErrNotLayout is for an archive that is well formed but holds no layout at its root:
// an archive without oci-layout or index.json there (and without the manifest.json of a
// docker save archive, below); and a layout packed inside a
// top-level folder (mylayout/index.json), which no other tool reads either. The error
// for the latter says how to re-create the archive: tar -C mylayout -cf x.tar .
//
// ErrCorrupt is for bytes that are not a complete archive: a truncated tar, gzip or zstd
// stream, a bad header or checksum, data after the end of a compressed stream that is
// not another stream, an empty file or one that is not a regular file, or compression
// other than gzip and zstd (xz, bzip2 and lz4 are named in the error).
//
// # docker save archives
//
// An archive in the format docker save wrote before Docker 25 (and skopeo's and podman's
// docker-archive still write: manifest.json, repositories, <id>.json, <id>/layer.tar,
// no oci-layout or index.json) is served as the OCI layout it stands for: each config
// and layer file is a blob, each image gets an OCI manifest built in memory, and
// index.json lists every RepoTag (registry.example.com/team/app:7) as a tag, with the
// platform of its config. An uncompressed layer is named by its diff ID, so the layout
// package verifies it when it reads it; a gzip or zstd layer is hashed while opening.
// FS.IsDockerSave tells such an archive; writers never rewrite one.
//
// The symbolic links docker save writes for shared layers (<id>/layer.tar ->
// ../<other>/layer.tar) are the one exception to the rule on links: until the archive
// shows a layout file, a link is held back, and at the end each is resolved, relative to
// its folder, when it names another regular file of the same archive. A link to a name
// outside the archive, an absolute one, a folder, another link, itself or a name the
// archive does not hold refuses the archive as hostile, whether manifest.json uses it or
// not; in an archive that holds an OCI layout every link is refused, as before. Hard links
// are refused in both.
//
// # Uncompressed archives
//
// Open reads the headers only: the data of an entry is skipped by seeking, so indexing a
// tarball of 1 GiB takes about as long as indexing one of 1 KiB. Reads are then served
// from the archive file itself, each file a section of it. The blobs' bytes are not
// hashed here; the layout package verifies each blob when it is read. If the archive file
// is changed while the FS is open, reads return what the file then holds.
//
// # Compressed archives
//
// The compression is told by the first bytes, never by the file name: gzip (1f 8b) and
// zstd (28 b5 2f fd). Open decompresses the archive once, in a streaming pass, writes the
// data of the layout's files (and nothing of the entries it leaves out) into a temp file
// in Options.TempDir and serves reads from that file. On Linux and macOS the
// temp file is unlinked as soon as it is created, so nothing is left behind even if the
// process dies; elsewhere Close removes it. Open writes nothing else anywhere.
//
// Since every byte passes through memory during that pass anyway, every sha256 and
// sha512 blob is hashed on the way and the archive is refused if one does not match its
// name. Blobs of other algorithms are left to the reader.
//
// # Seekable compressed archives
//
// A compressed archive written by SeekableWriter (what ocil writes for .tar.gz and
// .tar.zst) holds every entry in a gzip member or zstd frame of its own, a last entry
// SeekIndexName listing where each is, and a footer that other readers skip (see
// SeekIndexName). Open then reads the footer and the index only, and each file read
// decompresses that file's own piece, checking its tar header against the index and
// hashing a sha256 or sha512 blob as it goes (the read that reaches its end fails on a
// mismatch); Seekable
// reports it. An index that breaks a rule (pieces outside the file, out of order or
// overlapping, names or sizes the rules above refuse, sizes past the bomb bounds) is not
// used: the archive is decompressed whole as any other.
//
// # Split tarballs
//
// A tarball may be stored as parts, PATH.001, PATH.002, ... (PartName: one more digit
// than the count of parts past 99, so that the glob PATH.0* takes them all in order),
// with PATH.sha256 listing their sha256 in the format of sha256sum (ParseSums,
// FormatSums). When PATH does not exist but its parts do (SplitExists), Open reads PATH
// from them as one file, each part opened once, never concatenated; everything above
// applies to the bytes they make, and a seekable archive's pieces may span parts.
// FindSplit's checks come first and read no data: the listed parts all there and no
// other file PATH.0* takes in beside them, or without a checksum file the files PATH.0*
// takes in, numbered from 1 without a gap; regular files only (a symbolic link, FIFO or device is refused as
// ErrHostile and never opened); every part but the last of one size and the last no
// larger; a plain tar ending with its end-of-archive blocks. Parts are hashed
// (Split.Verify) only when they do not make an archive Open can read, so that the error
// names the damaged part; FS.Split gives them to callers that check them all (ocil
// validate), and FS.PartsOf names the parts a file's bytes come from, for messages.
//
// # Bounds
//
// Memory does not grow with the size of the entries: headers are read one at a time,
// data is copied through fixed buffers (a few hundred KiB), and a zstd stream may not
// use a window over 128 MiB (what `zstd -d` accepts by default). The index holds, per
// layout file, its name, offset, size and time, and per other entry two 64-bit hashes of
// its name (for the duplicate check); the number of entries is capped by
// Options.MaxEntries. Disk use is the temp file: the size of the layout's files in a
// compressed archive, capped by the bounds above, and nothing for an uncompressed one.
package tarfs

// Package artifact turns files into artifacts in a layout and back: Put stores files and
// folders as the layers of an artifact manifest (what ocil add writes), Pull writes an
// artifact's titled layers out as files (what ocil pull does). It works through the
// exported API of package layout, whose store it uses.
//
// # Putting
//
// Each file becomes a layer titled with its base name (org.opencontainers.image.title); a
// folder is packed as a reproducible tar.gz layer (entries sorted, owner 0:0, one time
// stamp, regular files and folders only) with oras's unpack annotations, so oras pull
// unpacks it too. Nothing is time-stamped unless asked: the same files and options give
// the same digests. Media types and annotations are checked before any blob is written.
//
// # Pulling: extraction safety
//
// Pull writes only inside the folder it is given, and only what it has checked:
//
//   - Names. Every title and every entry of every packed folder is checked before
//     anything is created: a relative slash-separated path, no empty, "." or ".."
//     component, no NUL or backslash, not absolute, local on this system
//     (filepath.IsLocal); no two titles equal or one inside another; a packed entry is a
//     regular file or folder under its layer's title, named once ("./" prefixes
//     allowed). Links, devices, FIFOs and duplicates are refused, and so is a packed
//     folder of more than 1<<20 entries. One bad name refuses the whole pull, and the
//     output folder is not even created.
//   - Bytes. Every layer is read through the verified blob path (layout.OpenBlob): at
//     most its descriptor's size, hashed, a mismatch refused before the bytes get their
//     name. A packed folder is read twice, to check it and to extract it; an entry that
//     differs the second time ends the pull (ErrDigestMismatch).
//   - Writes. Every write goes through an os.Root opened on the output folder, so no
//     name, and no link planted meanwhile, leads outside it. Files are staged beside
//     their names as temp files (internal/atomicfile: fsync, rename), so a file appears
//     whole or not at all. An existing file is not overwritten without force
//     (ErrConflict, naming it).
//   - Indexes. Pull takes one manifest; an index gives an *layout.AmbiguousError listing
//     its manifests with their platforms.
package artifact

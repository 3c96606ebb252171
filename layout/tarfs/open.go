package tarfs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/internal/safeopen"
)

// Open indexes the layout tarball at path and returns the file system that serves it.
// The whole archive is checked before Open returns: any entry that breaks the rules in the
// package documentation refuses the archive, and nothing of it is served.
//
// Compression is told by the first bytes (gzip 1f 8b, zstd 28 b5 2f fd), never by the
// name. An uncompressed archive is indexed in one pass over its headers that seeks past
// entry data, and served from the archive file itself. A compressed archive is
// decompressed once, in a streaming pass bounded by opts.MaxRatio and
// opts.MaxUncompressed; the layout's files (nothing else) go into an unnamed temp file in
// opts.TempDir, and every sha256 and sha512 blob is hashed on the way through.
//
// When path does not exist but its parts do (path.001, ..., written by ocil copy
// --split-size; see SplitExists), the parts are read as the one archive they make, in
// place and each opened once: FindSplit's checks first, then everything above.
func Open(path string, opts Options) (*FS, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open tarball %s: %w", path, err)
	}
	if SplitExists(path) {
		return openSplit(path, opts)
	}
	// A FIFO, device or socket is refused before it is opened: opening or reading one
	// could wait for ever.
	f, fi, err := safeopen.Open(path)
	if err != nil {
		var nr *safeopen.NotRegularError
		if errors.As(err, &nr) {
			return nil, fmt.Errorf("open tarball %s: %w: %s, not a regular file", path, ErrCorrupt, safeopen.Describe(nr.Mode))
		}
		return nil, fmt.Errorf("open tarball %s: %w", path, err)
	}
	return open(path, f, fi.Size(), opts)
}

// openSplit opens the split tarball path from its parts (see FindSplit). When the parts
// do not make a tarball Open can read and the checksum file lists them, each part is
// hashed, so that the error names the damaged part rather than the entry it broke.
func openSplit(path string, opts Options) (*FS, error) {
	s, err := FindSplit(path)
	if err != nil {
		return nil, err
	}
	pf, err := s.open()
	if err != nil {
		return nil, err
	}
	fsys, err := open(path, pf, pf.size(), opts)
	if err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrHostile) || errors.Is(err, ErrNotLayout) {
			if errs := s.Verify(context.Background()); len(errs) > 0 {
				return nil, fmt.Errorf("open tarball %s: %w", path, errors.Join(errs...))
			}
		}
		return nil, err
	}
	if fsys.compression == compressionNone && !zeroTail(pf) {
		// archive/tar ends quietly at a header boundary without the end-of-archive
		// blocks, so a last part cut there would read as a smaller layout.
		fsys.Close()
		last := s.Parts[len(s.Parts)-1].Path
		return nil, fmt.Errorf("open tarball %s: %s: %w: the tar does not end with its two zero blocks: is the last part cut short?", path, last, ErrCorrupt)
	}
	fsys.split = s
	return fsys, nil
}

// zeroTail reports whether the archive ends with the two zero blocks that end a tar.
func zeroTail(pf *partsFile) bool {
	if pf.size() < 1024 {
		return false
	}
	b := make([]byte, 1024)
	if n, err := pf.ReadAt(b, pf.size()-1024); n != len(b) && err != nil {
		return false
	}
	return bytes.Count(b, []byte{0}) == len(b)
}

// open indexes the archive f of size bytes (see Open) and serves it; f is closed on
// failure, or once a compressed archive's temp file serves the reads.
func open(path string, f archiveFile, size int64, opts Options) (*FS, error) {
	if size == 0 {
		f.Close()
		return nil, fmt.Errorf("open tarball %s: %w: empty file", path, ErrCorrupt)
	}
	var magic [6]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("open tarball %s: %w", path, err)
	}
	compression, err := sniff(magic[:n])
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open tarball %s: %w: %v", path, ErrCorrupt, err)
	}
	ix := newIndexer(path, opts, compression)
	var fsys *FS
	if compression == compressionNone {
		fsys, err = ix.scanPlain(f, size)
	} else {
		// A seekable archive written by ocil is read in place, through its index; any
		// other, or one whose index is not usable, is decompressed whole.
		fsys, err = ix.openSeekable(f, size)
		if errors.Is(err, errSeekIndex) {
			ix = newIndexer(path, opts, compression)
			fsys, err = ix.scanCompressed(io.NewSectionReader(f, 0, size), size)
			f.Close() // the temp file serves the reads from here on
		} else if err != nil {
			f.Close()
			return nil, err
		}
	}
	if err != nil {
		if compression == compressionNone {
			f.Close()
		}
		return nil, err
	}
	return fsys, nil
}

// indexer holds what one pass over an archive has seen.
type indexer struct {
	path        string
	opts        Options
	compression string

	count int               // tar headers read
	files map[string]*entry // the layout's files
	dirs  map[string]*dir   // the layout's folders

	// Every name in the archive, the ignored ones too, for duplicates and clashes.
	fileNames, dirNames *nameSet
	folders             *nameSet // folders: entries and the parents of every name

	folderIndex map[string]bool // top-level folders with an index.json inside (a few)
	extras      map[string]bool // root-level extras (a few), for hints
	last        string          // the raw name of the last entry, for messages

	// Until the archive shows a layout file, its other regular files and its symbolic
	// links are kept: it may be a docker save archive (see dockersave.go).
	saved      map[string]*entry
	links      []savedLink
	dockerSave bool // the archive is a docker save archive, served as a layout

	dr *boundedReader // the decompressing pass's bound; nil for an uncompressed archive
}

func newIndexer(path string, opts Options, compression string) *indexer {
	return &indexer{
		path:        path,
		opts:        opts,
		compression: compression,
		files:       map[string]*entry{},
		dirs:        map[string]*dir{},
		fileNames:   newNameSet(),
		dirNames:    newNameSet(),
		folders:     newNameSet(),
		folderIndex: map[string]bool{},
		extras:      map[string]bool{},
		saved:       map[string]*entry{},
	}
}

// entryErr describes what is wrong with one entry.
func (ix *indexer) entryErr(raw string, class error, format string, args ...any) error {
	return fmt.Errorf("open tarball %s: entry %q: %w: %s", ix.path, raw, class, fmt.Sprintf(format, args...))
}

// streamErr describes a failure to read the archive's bytes: where is the entry being
// read (or the header after it) and err what the tar reader or decompressor said.
func (ix *indexer) streamErr(where string, err error) error {
	switch {
	case errors.As(err, new(*tempWriteError)):
		return fmt.Errorf("open tarball %s: decompress to %s: %w", ix.path, ix.opts.TempDir, err)
	case errors.Is(err, errBomb) && ix.dr.byRatio:
		return fmt.Errorf("open tarball %s: %s: %w: decompresses to more than %d bytes, a decompression bomb (the bound is %d times the archive's %d bytes, and at least %d MiB; %s raises the ratio)",
			ix.path, where, ErrHostile, ix.dr.max, ix.opts.MaxRatio, ix.dr.compressed, RatioFloor>>20, EnvMaxRatio)
	case errors.Is(err, errBomb):
		return fmt.Errorf("open tarball %s: %s: %w: decompresses to more than %d bytes (the bound on a compressed archive; %s raises it)", ix.path, where, ErrHostile, ix.opts.MaxUncompressed, EnvMaxUncompressed)
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		return fmt.Errorf("open tarball %s: %s: %w: the zstd stream needs a window over %d MiB (zstd --long=31 writes these); decompress it first", ix.path, where, ErrHostile, maxZstdWindow>>20)
	case errors.Is(err, tar.ErrFieldTooLong):
		return fmt.Errorf("open tarball %s: %s: %w: %w", ix.path, where, ErrHostile, err)
	case ix.last == "" && errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("open tarball %s: %w: not a tar archive (%w)", ix.path, ErrCorrupt, err)
	}
	return fmt.Errorf("open tarball %s: %s: %w: %w", ix.path, where, ErrCorrupt, err)
}

// next reads the next header. It returns io.EOF at the end of the archive.
func (ix *indexer) next(tr *tar.Reader) (*tar.Header, error) {
	hdr, err := tr.Next()
	if errors.Is(err, tar.ErrInsecurePath) && hdr != nil {
		err = nil // GODEBUG=tarinsecurepath=0: the header is checked below like any other
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		// Next first skips what is left of the last entry, then reads the next header.
		where := "first header"
		if ix.last != "" {
			where = fmt.Sprintf("entry %q or the header after it", ix.last)
		}
		return nil, ix.streamErr(where, err)
	}
	ix.count++
	if ix.count > ix.opts.MaxEntries {
		return nil, ix.entryErr(hdr.Name, ErrHostile, "more than %d entries", ix.opts.MaxEntries)
	}
	return hdr, nil
}

// check applies the rules to one header and records it. off is where its data starts.
// It returns the entry when it is a layout file.
func (ix *indexer) check(hdr *tar.Header, off int64) (*entry, error) {
	raw := hdr.Name
	ix.last = raw
	if ix.saved != nil && ix.isLayoutStart() {
		ix.saved = nil // a layout: no docker save archive
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	case tar.TypeSymlink:
		if ix.saved == nil {
			return nil, ix.entryErr(raw, ErrHostile, "%s", typeName(hdr))
		}
		// Perhaps a docker save archive's shared layer: held back until the end.
		if why := unsafeName(raw); why != "" {
			return nil, ix.entryErr(raw, ErrHostile, "%s", why)
		}
		name, k, why := classify(raw, false)
		if why == "" && (k == kindLayoutFile || k == kindBlob) {
			why = typeName(hdr)
		}
		if why != "" {
			return nil, ix.entryErr(raw, ErrHostile, "%s", why)
		}
		if err := ix.claim(raw, name, false); err != nil {
			return nil, err
		}
		ix.links = append(ix.links, savedLink{raw: raw, name: name, target: hdr.Linkname})
		return nil, nil
	case tar.TypeXGlobalHeader:
		// Readers disagree on whether these records apply to the entries that follow,
		// so none that changes a name or a size is accepted; others (a comment) are.
		for k := range hdr.PAXRecords {
			if k == "path" || k == "linkpath" || k == "size" || strings.HasPrefix(k, "GNU.sparse.") {
				return nil, ix.entryErr(raw, ErrHostile, "a global PAX header sets %q for the entries that follow", k)
			}
		}
		return nil, nil
	default:
		return nil, ix.entryErr(raw, ErrHostile, "%s", typeName(hdr))
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return nil, ix.entryErr(raw, ErrHostile, "a sparse file (GNU PAX format)")
		}
	}
	if why := unsafeName(raw); why != "" {
		return nil, ix.entryErr(raw, ErrHostile, "%s", why)
	}
	isDir := hdr.Typeflag == tar.TypeDir
	name, k, why := classify(raw, isDir)
	if why != "" {
		return nil, ix.entryErr(raw, ErrHostile, "%s", why)
	}
	if err := ix.claim(raw, name, isDir); err != nil {
		return nil, err
	}
	switch k {
	case kindRoot:
		ix.dirs["."] = &dir{name: ".", modTime: hdr.ModTime}
	case kindBlobsDir, kindAlgDir:
		ix.dirs[name] = &dir{name: name, modTime: hdr.ModTime}
	case kindLayoutFile, kindBlob:
		if k == kindLayoutFile && hdr.Size > ix.opts.MaxJSONSize {
			return nil, ix.entryErr(raw, ErrHostile, "%d bytes, over the %d-byte cap for %s", hdr.Size, ix.opts.MaxJSONSize, name)
		}
		e := &entry{name: name, raw: raw, off: off, size: hdr.Size, modTime: hdr.ModTime}
		ix.files[name] = e
		return e, nil
	case kindExtra:
		if len(ix.extras) < 8 {
			ix.extras[name] = true
		}
	case kindForeign:
		if top, rest, ok := strings.Cut(name, "/"); ok && rest == "index.json" && !isDir && len(ix.folderIndex) < 8 {
			ix.folderIndex[top] = true
		}
	}
	if (k == kindExtra || k == kindForeign) && !isDir && ix.saved != nil {
		e := &entry{name: name, raw: raw, off: off, size: hdr.Size, modTime: hdr.ModTime}
		ix.saved[name] = e
		return e, nil
	}
	return nil, nil
}

// claim records a cleaned name and refuses a second entry for it, or a name that is both
// a file and a folder. Readers differ on which of two entries wins, so an archive that
// has both could show one thing to this package and another to the next tool.
func (ix *indexer) claim(raw, name string, isDir bool) error {
	switch {
	case isDir && ix.dirNames.has(name), !isDir && ix.fileNames.has(name):
		first := ""
		if e, ok := ix.files[name]; ok && e.raw != raw {
			first = fmt.Sprintf(" (the first is %q)", e.raw)
		}
		return ix.entryErr(raw, ErrHostile, "a second entry for %q%s", name, first)
	case isDir && ix.fileNames.has(name):
		return ix.entryErr(raw, ErrHostile, "%q is a file elsewhere in the archive", name)
	case !isDir && ix.folders.has(name):
		return ix.entryErr(raw, ErrHostile, "%q is a folder elsewhere in the archive", name)
	}
	p := name
	if !isDir {
		p = path.Dir(name)
	}
	for ; p != "." && !ix.folders.has(p); p = path.Dir(p) {
		if ix.fileNames.has(p) {
			return ix.entryErr(raw, ErrHostile, "%q is a file elsewhere in the archive", p)
		}
		ix.folders.add(p) // and, once one is known, so are those above it
	}
	if isDir {
		ix.dirNames.add(name)
	} else {
		ix.fileNames.add(name)
	}
	return nil
}

// scanPlain indexes an uncompressed archive. Only headers are read: the tar reader skips
// entry data by seeking, so the pass costs the same for a 1 GiB blob as for an empty one.
func (ix *indexer) scanPlain(f archiveFile, size int64) (*FS, error) {
	ra := newReadAhead(f)
	tr := tar.NewReader(ra)
	for {
		hdr, err := ix.next(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		e, err := ix.check(hdr, ra.off)
		if err != nil {
			return nil, err
		}
		if e != nil && e.size > size-e.off {
			return nil, ix.entryErr(hdr.Name, ErrCorrupt, "truncated: %d bytes of data, the file ends %d bytes after the header", e.size, size-e.off)
		}
	}
	if err := ix.finish(f); err != nil {
		return nil, err
	}
	return ix.fs(f, ""), nil
}

// createTemp makes the temp file of a compressed archive (tests watch what goes into it).
var createTemp = os.CreateTemp

// scanCompressed decompresses a compressed archive in one pass. The data of the layout's
// files, and only theirs, goes into a temp file, where each is indexed by its offset;
// every blob whose algorithm is known is hashed on the way through. Entries the layout
// ignores are read and dropped. size is the archive's size, or -1 for a stream (standard
// input), whose ratio bound then grows with the compressed bytes read so far.
func (ix *indexer) scanCompressed(src io.Reader, size int64) (fsys *FS, err error) {
	var counted *countReader
	if size < 0 {
		counted = &countReader{r: src}
		src = counted
	}
	progress.Begin("decompress", max(size, 0))
	dec, err := decompressor(ix.compression, progress.Reader(src))
	if err != nil {
		return nil, fmt.Errorf("open tarball %s: %w: %s: %w", ix.path, ErrCorrupt, ix.compression, err)
	}
	defer dec.Close()
	tmp, err := createTemp(ix.opts.TempDir, "ocil-tarfs-*.tar")
	if err != nil {
		return nil, fmt.Errorf("open tarball %s: decompress: %w", ix.path, err)
	}
	tempName := tmp.Name()
	// Unlinked at once where the system allows it (Linux, macOS): no name is left behind
	// even if the process dies. Elsewhere the name goes when the FS is closed.
	if os.Remove(tempName) == nil {
		tempName = ""
	}
	defer func() {
		if err != nil {
			tmp.Close()
			if tempName != "" {
				os.Remove(tempName)
			}
		}
	}()

	dr := newBoundedReader(dec, size, ix.opts.MaxRatio, ix.opts.MaxUncompressed)
	dr.stream = counted
	ix.dr = dr
	w := &countingWriter{w: bufio.NewWriterSize(tmp, 256<<10)}
	tr := tar.NewReader(dr)
	buf := make([]byte, 64<<10)
	hashes := map[string]hash.Hash{"sha256": sha256.New(), "sha512": sha512.New()}
	for {
		hdr, err := ix.next(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		e, err := ix.check(hdr, w.n)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue // not part of the layout: tr.Next reads past its data, which is not kept
		}
		var dst io.Writer = w
		alg, encoded, isBlob := strings.Cut(strings.TrimPrefix(e.name, "blobs/"), "/")
		isBlob = isBlob && strings.HasPrefix(e.name, "blobs/")
		h, known := hashes[alg]
		if known = isBlob && known; known {
			h.Reset()
			dst = io.MultiWriter(w, h)
		}
		if _, err := io.CopyBuffer(dst, tr, buf); err != nil {
			return nil, ix.streamErr(fmt.Sprintf("entry %q", hdr.Name), err)
		}
		if known {
			if got := hex.EncodeToString(h.Sum(nil)); got != encoded {
				return nil, ix.entryErr(hdr.Name, ErrHostile, "its bytes hash to %s:%s, not to the digest it is named after", alg, got)
			}
		}
	}
	if err := w.w.Flush(); err != nil {
		return nil, fmt.Errorf("open tarball %s: decompress to %s: %w", ix.path, ix.opts.TempDir, err)
	}
	// The tar stream has ended; the rest of the decompressed stream is read (not kept) so
	// that a truncated or damaged end of the compressed stream is still caught.
	if _, err := io.CopyBuffer(io.Discard, dr, buf); err != nil {
		return nil, ix.streamErr("after the end of the tar stream", err)
	}
	if err := ix.finish(tmp); err != nil {
		return nil, err
	}
	return ix.fs(tmp, tempName), nil
}

// countingWriter writes to the temp file and counts, so that the count is the offset at
// which the next layout file's data starts.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		return n, &tempWriteError{err}
	}
	return n, nil
}

// tempWriteError is a failure to write the temp file, told apart from a failure to read
// the archive.
type tempWriteError struct{ err error }

func (e *tempWriteError) Error() string { return e.err.Error() }
func (e *tempWriteError) Unwrap() error { return e.err }

// finish checks that what the pass saw is a layout, or builds the layout a docker save
// archive stands for; r reads the bytes the entries' offsets point into.
func (ix *indexer) finish(r io.ReaderAt) error {
	_, hasIndex := ix.files["index.json"]
	_, hasHeader := ix.files["oci-layout"]
	dockerSave := !hasIndex && !hasHeader && ix.saved["manifest.json"] != nil
	if err := ix.checkLinks(dockerSave); err != nil {
		return err
	}
	switch {
	case dockerSave:
		ix.dockerSave = true
		return ix.fromDockerSave(r)
	case hasIndex && hasHeader:
		return nil
	case !hasIndex && len(ix.folderIndex) == 1:
		var top string
		for top = range ix.folderIndex {
		}
		return fmt.Errorf("open tarball %s: entry %q: %w: the layout sits in folder %q, not at the archive root; "+
			"re-create the tarball from inside the folder: tar -C %s -cf %s .",
			ix.path, top+"/index.json", ErrNotLayout, top+"/", top, path.Base(ix.path))
	case !hasIndex && !hasHeader:
		return fmt.Errorf("open tarball %s: %w: no oci-layout/index.json at the archive root, nor the manifest.json of a docker save archive", ix.path, ErrNotLayout)
	case !hasIndex:
		return fmt.Errorf("open tarball %s: %w: no index.json at the archive root", ix.path, ErrNotLayout)
	default:
		return fmt.Errorf("open tarball %s: %w: no oci-layout at the archive root", ix.path, ErrNotLayout)
	}
}

// fs builds the file system from the index.
func (ix *indexer) fs(f archiveFile, tempName string) *FS {
	names := make([]string, 0, len(ix.files))
	for name := range ix.files {
		names = append(names, name)
		// A folder implied by a blob that has no entry of its own.
		if alg := path.Dir(name); alg != "." {
			if _, ok := ix.dirs[alg]; !ok {
				ix.dirs[alg] = &dir{name: alg}
			}
			if _, ok := ix.dirs["blobs"]; !ok {
				ix.dirs["blobs"] = &dir{name: "blobs"}
			}
		}
	}
	sort.Strings(names)
	if _, ok := ix.dirs["."]; !ok {
		ix.dirs["."] = &dir{name: "."}
	}
	return &FS{
		path:        ix.path,
		compression: ix.compression,
		f:           f,
		tempName:    tempName,
		files:       ix.files,
		names:       names,
		dirs:        ix.dirs,
		dockerSave:  ix.dockerSave,
	}
}

// typeName says what kind of entry a refused type is, and why it is refused.
func typeName(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		return fmt.Sprintf("a symlink (to %q); a layout holds regular files and folders only", hdr.Linkname)
	case tar.TypeLink:
		return fmt.Sprintf("a hard link (to %q); a layout holds regular files and folders only", hdr.Linkname)
	case tar.TypeChar:
		return "a character device"
	case tar.TypeBlock:
		return "a block device"
	case tar.TypeFifo:
		return "a FIFO"
	case tar.TypeGNUSparse:
		return "a sparse file (old GNU format)"
	case tar.TypeCont:
		return "a contiguous file"
	}
	return fmt.Sprintf("entry type %q; a layout holds regular files and folders only", hdr.Typeflag)
}

// nameSet is a set of names held as 128-bit keyed hashes, so that the index of an archive
// with many ignored entries stays small whatever their names.
type nameSet struct {
	seeds [2]maphash.Seed
	m     map[[2]uint64]struct{}
}

func newNameSet() *nameSet {
	return &nameSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[[2]uint64]struct{}{}}
}

func (s *nameSet) key(name string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], name), maphash.String(s.seeds[1], name)}
}

func (s *nameSet) has(name string) bool { _, ok := s.m[s.key(name)]; return ok }
func (s *nameSet) add(name string)      { s.m[s.key(name)] = struct{}{} }

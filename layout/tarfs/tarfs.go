package tarfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Error classes. Every error Open returns for an archive it refuses wraps one of these,
// with the archive's path and, where there is one, the entry at fault; test them with
// errors.Is. Errors of the operating system (a missing file, a full disk) are returned
// wrapped as they are.
var (
	// ErrHostile: an entry no layout archive needs and that a careless reader could be
	// led astray by: an unsafe name or type, a duplicate, an oversized document, a
	// decompression bomb, a blob whose bytes do not match its name.
	ErrHostile = errors.New("hostile archive")
	// ErrNotLayout: a well-formed archive that does not hold an OCI layout at its root.
	ErrNotLayout = errors.New("not an OCI layout")
	// ErrCorrupt: bytes that are not a complete tar archive (or gzip or zstd stream).
	ErrCorrupt = errors.New("corrupt archive")
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxEntries      = 1 << 20
	DefaultMaxJSONSize     = 20 << 20
	DefaultMaxUncompressed = 256 << 30
	DefaultMaxRatio        = 100
	// RatioFloor is the decompressed size every compressed archive may reach whatever its
	// ratio: small archives of small files (tar headers are mostly zeros) compress far
	// better than 100:1 without being bombs.
	RatioFloor = 64 << 20
)

// The environment variables that raise the bounds on a compressed archive for a whole
// program (and the ocil command line): the value of a zero Options field. A whole
// number, of bytes for EnvMaxUncompressed (with an optional KiB, MiB, GiB or TiB).
const (
	EnvMaxRatio        = "OCIL_TAR_MAX_RATIO"
	EnvMaxUncompressed = "OCIL_TAR_MAX_BYTES"
)

// Options bound what Open accepts. A zero field takes its default.
type Options struct {
	// MaxEntries caps the number of tar entries (files, folders and headers of any kind).
	MaxEntries int
	// MaxJSONSize caps the size of the oci-layout and index.json entries.
	MaxJSONSize int64
	// MaxUncompressed caps the decompressed size of a compressed archive, which is also
	// the most the temp file can grow to. Zero takes $OCIL_TAR_MAX_BYTES, else
	// DefaultMaxUncompressed.
	MaxUncompressed int64
	// MaxRatio caps the decompressed size of a compressed archive at MaxRatio times the
	// size of the archive file (but never below RatioFloor): a decompression bomb is
	// refused after a bounded amount of work however large it claims to be. Zero takes
	// $OCIL_TAR_MAX_RATIO, else DefaultMaxRatio.
	MaxRatio int64
	// TempDir is where a compressed archive is decompressed to; os.TempDir() if empty.
	TempDir string
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxJSONSize <= 0 {
		o.MaxJSONSize = DefaultMaxJSONSize
	}
	if o.MaxUncompressed <= 0 || o.MaxRatio <= 0 {
		env, err := LimitsFromEnv()
		if err != nil {
			return o, err
		}
		if o.MaxUncompressed <= 0 {
			o.MaxUncompressed = env.MaxUncompressed
		}
		if o.MaxRatio <= 0 {
			o.MaxRatio = env.MaxRatio
		}
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	return o, nil
}

// LimitsFromEnv returns the bounds on a compressed archive that the environment sets
// (EnvMaxRatio, EnvMaxUncompressed), with the defaults for those it leaves unset or empty, in
// MaxRatio and MaxUncompressed. A value that is not a whole number of at least 1 is an
// error naming the variable; programs check it at start.
func LimitsFromEnv() (Options, error) {
	o := Options{MaxRatio: DefaultMaxRatio, MaxUncompressed: DefaultMaxUncompressed}
	if v := os.Getenv(EnvMaxRatio); v != "" {
		n, err := parseLimit(v, false)
		if err != nil {
			return o, fmt.Errorf("%s=%q: %w: want a whole number of at least 1, such as 1000", EnvMaxRatio, v, err)
		}
		o.MaxRatio = n
	}
	if v := os.Getenv(EnvMaxUncompressed); v != "" {
		n, err := parseLimit(v, true)
		if err != nil {
			return o, fmt.Errorf("%s=%q: %w: want a whole number of bytes of at least 1, such as 1099511627776 or 1TiB", EnvMaxUncompressed, v, err)
		}
		o.MaxUncompressed = n
	}
	return o, nil
}

// ErrInvalidLimit is the class of a bound in the environment that is not a number.
var ErrInvalidLimit = errors.New("invalid limit")

func parseLimit(v string, units bool) (int64, error) {
	num, mult := v, int64(1)
	if units {
		for i, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
			if strings.HasSuffix(v, u) {
				num, mult = strings.TrimSuffix(v, u), int64(1)<<(10*(i+1))
				break
			}
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || num[0] == '+' || n > math.MaxInt64/mult {
		return 0, ErrInvalidLimit
	}
	return n * mult, nil
}

// FS serves the layout inside a tarball: oci-layout, index.json and blobs/<alg>/<encoded>,
// read straight from the archive (or from its decompressed copy) without extracting
// anything. It implements fs.FS, fs.ReadDirFS and fs.StatFS; the files it opens also
// implement io.ReaderAt and io.Seeker. It is safe for concurrent use. Close releases it.
type FS struct {
	path        string
	compression string
	f           archiveFile // the archive (its parts, when split), or the temp file holding it decompressed
	tempName    string      // the temp file's name while it still has one, removed by Close
	files       map[string]*entry
	names       []string        // files' keys, sorted
	dirs        map[string]*dir // ".", "blobs", "blobs/<alg>"
	seekable    bool            // read in place through a seek index
	closed      atomic.Bool
	closeOnce   sync.Once
	closeErr    error
	dockerSave  bool // served from a docker save archive's manifest.json
	split       *Split
}

// archiveFile is what an FS reads: the archive file, the parts of a split tarball read
// as one, or the temp file holding a compressed archive decompressed.
type archiveFile interface {
	io.ReaderAt
	io.Closer
}

// Split returns the parts the archive was read from, or nil when it was read from one
// file.
func (f *FS) Split() *Split { return f.split }

// entry is a regular file of the layout: where its bytes are in f.
type entry struct {
	name    string
	raw     string // the name in the archive, for messages
	off     int64
	size    int64
	modTime time.Time
	data    []byte // the bytes of a file built in memory (docker save archives), or nil
	piece   *piece // in a seekable archive: the compressed piece holding the entry
}

// dir is a folder of the layout, from its tar entry or implied by the files under it.
type dir struct {
	name    string
	modTime time.Time
}

// Compression is how the archive is compressed: "none", "gzip" or "zstd".
func (f *FS) Compression() string { return f.compression }

// Entries returns the names of the layout's files (oci-layout, index.json and every
// blob), sorted. Entries the layout ignores are not among them.
func (f *FS) Entries() []string { return append([]string(nil), f.names...) }

// Size returns the size of the named file and whether it exists.
func (f *FS) Size(name string) (int64, bool) {
	e, ok := f.files[name]
	if !ok {
		return 0, false
	}
	return e.size, true
}

// Close closes the archive and removes the temp file, if any. Files opened from f can no
// longer be read. It may be called more than once.
func (f *FS) Close() error {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		f.closeErr = f.f.Close()
		if f.tempName != "" {
			if err := os.Remove(f.tempName); err != nil && f.closeErr == nil {
				f.closeErr = err
			}
		}
	})
	return f.closeErr
}

// Open opens the named file or folder for reading.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if f.closed.Load() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrClosed}
	}
	if e, ok := f.files[name]; ok {
		if e.data != nil {
			return &file{e: e, r: dataReader(e)}, nil
		}
		if e.piece != nil {
			return newSeekFile(f, e), nil
		}
		return &file{e: e, r: io.NewSectionReader(f.f, e.off, e.size), archive: f.f}, nil
	}
	if d, ok := f.dirs[name]; ok {
		return &openDir{d: d, entries: f.readDir(name)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Stat describes the named file or folder.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if e, ok := f.files[name]; ok {
		return fileInfo{e}, nil
	}
	if d, ok := f.dirs[name]; ok {
		return dirInfo{d}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists the named folder, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if _, ok := f.dirs[name]; !ok {
		if _, ok := f.files[name]; ok {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
		}
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return f.readDir(name), nil
}

var errNotDir = errors.New("not a directory")

// readDir lists a folder that exists. Folders hold few names except blobs/<alg>, whose
// files are found by a binary search of the sorted names, so no listing is kept.
func (f *FS) readDir(name string) []fs.DirEntry {
	var out []fs.DirEntry
	add := func(child string) {
		if e, ok := f.files[child]; ok {
			out = append(out, fs.FileInfoToDirEntry(fileInfo{e}))
		} else if d, ok := f.dirs[child]; ok {
			out = append(out, fs.FileInfoToDirEntry(dirInfo{d}))
		}
	}
	switch {
	case name == ".":
		for _, child := range []string{"blobs", "index.json", "oci-layout"} {
			add(child)
		}
	case name == "blobs":
		var algs []string
		for d := range f.dirs {
			if path.Dir(d) == "blobs" {
				algs = append(algs, d)
			}
		}
		sort.Strings(algs)
		for _, a := range algs {
			add(a)
		}
	default: // blobs/<alg>
		prefix := name + "/"
		i := sort.SearchStrings(f.names, prefix)
		for ; i < len(f.names) && strings.HasPrefix(f.names[i], prefix); i++ {
			add(f.names[i])
		}
	}
	return out
}

type fileInfo struct{ e *entry }

func (i fileInfo) Name() string       { return path.Base(i.e.name) }
func (i fileInfo) Size() int64        { return i.e.size }
func (i fileInfo) Mode() fs.FileMode  { return 0o444 }
func (i fileInfo) ModTime() time.Time { return i.e.modTime }
func (i fileInfo) IsDir() bool        { return false }
func (i fileInfo) Sys() any           { return nil }

type dirInfo struct{ d *dir }

func (i dirInfo) Name() string       { return path.Base(i.d.name) }
func (i dirInfo) Size() int64        { return 0 }
func (i dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (i dirInfo) ModTime() time.Time { return i.d.modTime }
func (i dirInfo) IsDir() bool        { return true }
func (i dirInfo) Sys() any           { return nil }

// file is an open layout file. Each has its own offset; ReadAt does not move it.
type file struct {
	e       *entry
	r       *io.SectionReader
	archive archiveFile // what holds the bytes at e.off as they are; nil when they are in memory
	closed  bool
}

// Extent returns the file that holds the rest of this file's bytes as they are (the
// archive, the one part of a split archive that holds them all, or the temp file holding
// an archive decompressed) and the offset in it of the next byte Read would return, so
// that the kernel can copy them (copy_file_range); ok is false when the bytes are in
// memory or span parts, or f is closed.
func (f *file) Extent() (archive *os.File, off int64, ok bool) {
	if f.closed || f.archive == nil {
		return nil, 0, false
	}
	pos, err := f.r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0, false
	}
	switch a := f.archive.(type) {
	case *os.File:
		return a, f.e.off + pos, true
	case *partsFile:
		return a.extent(f.e.off+pos, f.e.size-pos)
	}
	return nil, 0, false
}

func (f *file) Stat() (fs.FileInfo, error) { return fileInfo{f.e}, nil }

func (f *file) Read(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.e.name, Err: fs.ErrClosed}
	}
	return f.r.Read(p)
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.e.name, Err: fs.ErrClosed}
	}
	return f.r.ReadAt(p, off)
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.e.name, Err: fs.ErrClosed}
	}
	return f.r.Seek(offset, whence)
}

func (f *file) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.e.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

// openDir is an open folder.
type openDir struct {
	d       *dir
	entries []fs.DirEntry
	pos     int
	closed  bool
}

func (d *openDir) Stat() (fs.FileInfo, error) { return dirInfo{d.d}, nil }

func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.d.name, Err: errors.New("is a directory")}
}

func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.d.name, Err: fs.ErrClosed}
	}
	rest := d.entries[d.pos:]
	if n <= 0 {
		d.pos = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.pos += n
	return rest[:n], nil
}

func (d *openDir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

package layout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/atomicfile"
	"github.com/ocil-dev/ocil/internal/capped"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// File names inside a layout.
const (
	LayoutFile = ocispec.ImageLayoutFile // "oci-layout"
	IndexFile  = "index.json"
	BlobsDir   = ocispec.ImageBlobsDir // "blobs"
	// LockFile guards every change of index.json. It is the file buildkit's layout writer
	// locks too, so ocil and buildx exclude each other. It is never deleted.
	LockFile = "index.json.lock"
)

// DefaultLockTimeout bounds how long a write waits for another writer's lock.
const DefaultLockTimeout = 2 * time.Minute

// Layout is an OCI image layout opened for reading and, when it is a folder, for writing.
// Reads go through an fs.FS, so a folder and a tarball's entry index read the same way. A
// folder Layout holds no open files; a tarball Layout holds the archive (and, for a
// compressed one, its decompressed copy) until Close. There is no cached index.json:
// every call sees the files as they are, and a Layout is safe for concurrent use.
type Layout struct {
	path        string // as the caller named it, for messages
	dir         string // the folder on disk; "" when the source cannot be written
	fsys        fs.FS
	lockTimeout time.Duration
	// scratch marks a tarball output's stage: nothing written there is fsynced, since it
	// counts only once the tarball written from it is (see OpenOutput).
	scratch bool
	stdin   io.Reader // what the path "-" reads; os.Stdin when nil

	// What CopyBlob's auto mode learned does not work into this folder, so it is not
	// tried again for every blob: reflinks (per file system), hard links (per source).
	noReflink  atomic.Bool
	noHardlink sync.Map // source folder -> struct{}

	deltas deltaCache // the delta record, for errors about left-out blobs (delta.go)
}

// Option changes how a layout is opened.
type Option func(*Layout)

// WithLockTimeout sets how long UpdateIndex waits for the layout lock (DefaultLockTimeout
// if unset; zero or less waits until the context ends).
func WithLockTimeout(d time.Duration) Option { return func(l *Layout) { l.lockTimeout = d } }

// Close releases what the layout holds open (a tarball's file and scratch space). A
// folder layout holds nothing; Close is then a no-op. Safe to call more than once.
func (l *Layout) Close() error {
	if c, ok := l.fsys.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// IsDockerSave reports whether the layout is served from a docker save archive in the
// format before Docker 25 (manifest.json, <id>/layer.tar): a tarball read as the OCI
// layout it stands for, never rewritten.
func (l *Layout) IsDockerSave() bool {
	t, ok := l.fsys.(*tarfs.FS)
	return ok && t.IsDockerSave()
}

// Path is the layout's path as it was given to Open or Create.
func (l *Layout) Path() string { return l.path }

// Dir is the layout's folder on disk, or "" when it is not a writable folder.
func (l *Layout) Dir() string { return l.dir }

// Open opens the layout at path: a folder, for reading and writing, or a layout tarball
// (.tar, gzip or zstd, told by its bytes), read in place through package tarfs and
// read-only. It checks that oci-layout says version 1.0.0 and that index.json exists; it
// does not read index.json (Index does) and tolerates a missing blobs/ folder and any
// unknown files. A folder is read through FolderFS: a symbolic link that leads outside
// it, a FIFO, a device or a socket is never read (ErrUnsafeFile). A path that does not
// exist gives ErrNotFound, one that is not a layout ErrNotLayout, an unsafe or damaged
// tarball (or a FIFO, device or socket given as one) ErrInvalidArchive. The path "-" is a
// tarball read from standard input (see WithStdin and openStdin). Close the layout when
// done.
func Open(path string, opts ...Option) (*Layout, error) {
	l := &Layout{path: path, dir: path, lockTimeout: DefaultLockTimeout}
	for _, o := range opts {
		o(l)
	}
	if path == Stdio {
		t, err := openStdin(l.stdin)
		if err != nil {
			return nil, archiveError(err)
		}
		l.dir, l.fsys = "", t
	} else {
		fi, err := os.Stat(path)
		switch {
		case err != nil && tarfs.SplitExists(path):
			// A split tarball: path.001, path.002, ... and path.sha256, read as one.
			t, err := tarfs.Open(path, tarfs.Options{MaxJSONSize: MaxIndexSize})
			if err != nil {
				return nil, archiveError(err)
			}
			l.dir, l.fsys = "", t
		case err != nil && errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("open layout %s: %w", path, ErrNotFound)
		case err != nil:
			return nil, fmt.Errorf("open layout %s: %w", path, err)
		case fi.IsDir():
			l.fsys = folderFS{dir: path, blobs: &blobDirs{}}
		default:
			t, err := tarfs.Open(path, tarfs.Options{MaxJSONSize: MaxIndexSize})
			if err != nil {
				if dir, ok := layoutFolderOf(path); ok {
					return nil, fmt.Errorf("open layout %s: %w: it is a file of the layout folder %s; name the folder", path, ErrNotLayout, dir)
				}
				if whole, ok := tarfs.PartOf(path); ok {
					return nil, fmt.Errorf("open layout %s: %w: it is a part of the split tarball %s; name that, and ocil reads every part", path, ErrNotLayout, whole)
				}
				return nil, archiveError(err)
			}
			l.dir, l.fsys = "", t
		}
	}
	if err := l.checkHeader(); err != nil {
		l.Close()
		return nil, fmt.Errorf("open layout %s: %w", path, err)
	}
	if _, err := fs.Stat(l.fsys, IndexFile); err != nil {
		l.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open layout %s: %w: index.json is missing", path, ErrNotLayout)
		}
		return nil, fmt.Errorf("open layout %s: %w", path, err)
	}
	return l, nil
}

// layoutFolderOf finds the layout folder a file that is not a tarball belongs to: its own
// folder when it is named index.json or oci-layout, else the nearest of the three folders
// above it (blobs/sha256/<hex>) that has an oci-layout file.
func layoutFolderOf(file string) (string, bool) {
	dir := filepath.Dir(file)
	if base := filepath.Base(file); base == IndexFile || base == LayoutFile {
		return dir, true
	}
	for range 3 {
		if fi, err := os.Stat(filepath.Join(dir, LayoutFile)); err == nil && fi.Mode().IsRegular() {
			return dir, true
		}
		dir = filepath.Dir(dir)
	}
	return "", false
}

// archiveError classes an error of package tarfs.
func archiveError(err error) error {
	switch {
	case errors.Is(err, tarfs.ErrNotLayout):
		return fmt.Errorf("%w: %w", ErrNotLayout, err)
	case errors.Is(err, tarfs.ErrHostile), errors.Is(err, tarfs.ErrCorrupt):
		return fmt.Errorf("%w: %w", ErrInvalidArchive, err)
	}
	return err
}

// checkHeader reads oci-layout: a JSON object whose imageLayoutVersion is the string "1.0.0".
func (l *Layout) checkHeader() error {
	b, err := capped.ReadFile(l.fsys, LayoutFile, 1<<20)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: oci-layout is missing", ErrNotLayout)
		}
		return fmt.Errorf("read oci-layout: %w", err)
	}
	var hdr map[string]any
	if err := json.Unmarshal(b, &hdr); err != nil {
		return fmt.Errorf("%w: oci-layout is not a JSON object: %v", ErrNotLayout, err)
	}
	if v, ok := hdr["imageLayoutVersion"].(string); !ok || v != ocispec.ImageLayoutVersion {
		return fmt.Errorf("%w: oci-layout imageLayoutVersion is %v, want %q", ErrNotLayout, hdr["imageLayoutVersion"], ocispec.ImageLayoutVersion)
	}
	return nil
}

// Create makes dir an empty layout (oci-layout, an empty index.json, blobs/) and opens it.
// It is idempotent and safe to run from several processes at once: the files of an existing
// layout are left as they are. A folder that exists, is not empty and is not a layout is
// refused with ErrNotLayout, so a mistyped output path never litters a source tree.
//
// A name that ends in a tarball suffix (IsTarballPath: .tar, .tar.gz, .tgz, .tar.zst,
// .tzst) is refused with ErrInvalidOption unless it is already a layout folder: it names
// a tarball, and a writer that was given one must write a tarball or refuse it.
func Create(dir string, opts ...Option) (*Layout, error) {
	if err := checkFolderName(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create layout %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("create layout %s: %w", dir, err)
	}
	for _, e := range ents {
		// What another process creating the same layout at this moment may have made.
		switch name := e.Name(); {
		case name == LayoutFile, name == IndexFile, name == BlobsDir, name == LockFile, strings.HasPrefix(name, TempPrefix):
		default:
			if _, err := os.Stat(filepath.Join(dir, LayoutFile)); err != nil {
				return nil, fmt.Errorf("create layout %s: %w: the folder is not empty (%s) and has no oci-layout", dir, ErrNotLayout, name)
			}
		}
	}
	hdr := filepath.Join(dir, LayoutFile)
	if _, err := os.Stat(hdr); errors.Is(err, fs.ErrNotExist) {
		b, _ := EncodeJSON(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		if err := atomicfile.WriteFile(hdr, b, 0o644); err != nil {
			return nil, fmt.Errorf("create layout %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, BlobsDir), 0o755); err != nil {
		return nil, fmt.Errorf("create layout %s: %w", dir, err)
	}
	l := &Layout{path: dir, dir: dir, fsys: folderFS{dir: dir, blobs: &blobDirs{}}, lockTimeout: DefaultLockTimeout}
	for _, o := range opts {
		o(l)
	}
	if err := l.checkHeader(); err != nil {
		return nil, fmt.Errorf("create layout %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, IndexFile)); errors.Is(err, fs.ErrNotExist) {
		// UpdateIndex writes an empty index when there is none, under the lock, so two
		// processes creating the same layout cannot overwrite each other's first entry.
		if err := l.UpdateIndex(context.Background(), func(*ocispec.Index) error { return nil }); err != nil {
			return nil, fmt.Errorf("create layout %s: %w", dir, err)
		}
	}
	return l, nil
}

// Index reads and checks index.json (see DecodeIndex). A missing mediaType is accepted
// (umoci and containerd write none); a mediaType other than the OCI index type is not.
func (l *Layout) Index(ctx context.Context) (*ocispec.Index, error) {
	idx, _, err := l.readIndex()
	return idx, err
}

func (l *Layout) readIndex() (*ocispec.Index, []byte, error) {
	b, err := capped.ReadFile(l.fsys, IndexFile, MaxIndexSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("read %s: %w: index.json is missing", l.path, ErrNotLayout)
		}
		return nil, nil, fmt.Errorf("read %s: %w", l.indexName(), err)
	}
	idx, err := decodeIndexJSON(b)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", l.indexName(), err)
	}
	return idx, b, nil
}

func decodeIndexJSON(b []byte) (*ocispec.Index, error) {
	idx, err := DecodeIndex(b)
	if err != nil {
		return nil, err
	}
	if idx.MediaType != "" && idx.MediaType != ocispec.MediaTypeImageIndex {
		return nil, fmt.Errorf("%w: index.json mediaType must be %q, not %q", ErrInvalidDocument, ocispec.MediaTypeImageIndex, idx.MediaType)
	}
	return idx, nil
}

func (l *Layout) indexName() string { return filepath.Join(l.path, IndexFile) }

// checkFolderName refuses the names that must never become a layout folder: "-"
// (standard output) and a name that ends like a tarball, unless it already is a layout
// folder.
func checkFolderName(dir string) error {
	if dir == Stdio {
		return fmt.Errorf("create layout %s: %w: - is standard output, which takes a tarball (ocil copy SRC -); a folder named - is ./-", dir, ErrInvalidReference)
	}
	if IsTarballPath(filepath.Clean(dir)) {
		if fi, err := os.Stat(filepath.Join(dir, LayoutFile)); err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("create layout %s: %w: the name ends like a tarball (.tar, .tar.gz, .tgz, .tar.zst, .tzst), so it is not made a folder: to write a tarball, name it without a trailing /; else choose a folder name", dir, ErrInvalidOption)
		}
	}
	return nil
}

package validate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// source is the layout's files as validation reads them. It is not a layout.Layout:
// validation must see what Open refuses (a broken oci-layout) and what it hides (the
// names under blobs/ and at the root), and it must go on past every error.
type source struct {
	fsys fs.FS
	// folder is true for a layout folder; a tarball's FS shows only the layout's files.
	folder bool
	// hashed is true when every sha256 and sha512 blob was already checked against its
	// name while the source was opened (a compressed tarball), so hashing it again would
	// only repeat that work.
	hashed bool
	closer io.Closer
	// path is the path as given; root is a folder's real path, with every symlink
	// resolved (empty when that fails: nothing then counts as outside it).
	path string
	root string
	// split is the parts a split tarball was read from; nil for anything else.
	split *tarfs.Split
}

func (s *source) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// openSource opens a layout folder or tarball. A path that does not exist gives
// ErrNotFound. A folder with neither oci-layout nor index.json, a file that is not a
// layout tarball, or one the tarball reader refuses gives ErrNotLayout (and, for an
// unsafe or damaged tarball, ErrInvalidArchive as layout.Open does): there is nothing to
// validate. The path "-" is a tarball read from standard input (tarfs.OpenReader), whose
// blobs are all hashed while it is read.
func openSource(path string) (*source, error) {
	if path == layout.Stdio {
		t, err := tarfs.OpenReader("standard input", os.Stdin, tarfs.Options{MaxJSONSize: layout.MaxIndexSize})
		if err != nil {
			return nil, tarballError(err)
		}
		return &source{fsys: t, hashed: true, closer: t, path: path}, nil
	}
	fi, err := os.Stat(path)
	if err != nil && tarfs.SplitExists(path) {
		t, err := tarfs.Open(path, tarfs.Options{MaxJSONSize: layout.MaxIndexSize})
		if err != nil {
			return nil, tarballError(err)
		}
		return &source{fsys: t, hashed: t.Compression() != "none", closer: t, path: path, split: t.Split()}, nil
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("validate %s: %w", path, layout.ErrNotFound)
		}
		return nil, &unreadableError{fmt.Errorf("validate %s: %w", path, err), []error{layout.ErrNotLayout}}
	}
	if fi.IsDir() {
		fsys := layout.OpenFolderFS(path)
		if !present(fsys, layout.LayoutFile) && !present(fsys, layout.IndexFile) {
			fsys.Close()
			return nil, fmt.Errorf("validate %s: %w: the folder has neither oci-layout nor index.json", path, layout.ErrNotLayout)
		}
		root, err := filepath.Abs(path)
		if err == nil {
			root, err = filepath.EvalSymlinks(root)
		}
		if err != nil {
			root = ""
		}
		return &source{fsys: fsys, folder: true, path: path, root: root, closer: fsys}, nil
	}
	t, err := tarfs.Open(path, tarfs.Options{MaxJSONSize: layout.MaxIndexSize})
	if err != nil {
		return nil, tarballError(err)
	}
	return &source{fsys: t, hashed: t.Compression() != "none", closer: t, path: path}, nil
}

// tarballError classes an error of the tarball reader.
func tarballError(err error) error {
	classes := []error{layout.ErrNotLayout}
	if errors.Is(err, tarfs.ErrHostile) || errors.Is(err, tarfs.ErrCorrupt) {
		classes = append(classes, layout.ErrInvalidArchive)
	}
	return &unreadableError{err, classes}
}

func present(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// unreadableError keeps the message of an error that stops reading and adds error
// classes to it.
type unreadableError struct {
	err     error
	classes []error
}

func (e *unreadableError) Error() string   { return e.err.Error() }
func (e *unreadableError) Unwrap() []error { return append(e.classes, e.err) }

// outside tells whether name, a slash-separated path in a layout folder, is a symlink
// that resolves outside the folder, and to what. It looks at name itself only, not at
// its parent folders; a dangling link is not outside (it is missing).
func (s *source) outside(name string) (target string, out bool) {
	if !s.folder || s.root == "" {
		return "", false
	}
	full := filepath.Join(s.root, filepath.FromSlash(name))
	fi, err := os.Lstat(full)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return "", false
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(s.root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return real, true
	}
	return "", false
}

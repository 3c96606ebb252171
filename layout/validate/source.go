package validate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

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
// validate.
func openSource(path string) (*source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("validate %s: %w", path, layout.ErrNotFound)
		}
		return nil, &unreadableError{fmt.Errorf("validate %s: %w", path, err), []error{layout.ErrNotLayout}}
	}
	if fi.IsDir() {
		fsys := layout.FolderFS(path)
		if !present(fsys, layout.LayoutFile) && !present(fsys, layout.IndexFile) {
			return nil, fmt.Errorf("validate %s: %w: the folder has neither oci-layout nor index.json", path, layout.ErrNotLayout)
		}
		return &source{fsys: fsys, folder: true}, nil
	}
	t, err := tarfs.Open(path, tarfs.Options{MaxJSONSize: layout.MaxJSONSize})
	if err != nil {
		classes := []error{layout.ErrNotLayout}
		if errors.Is(err, tarfs.ErrHostile) || errors.Is(err, tarfs.ErrCorrupt) {
			classes = append(classes, layout.ErrInvalidArchive)
		}
		return nil, &unreadableError{err, classes}
	}
	return &source{fsys: t, hashed: t.Compression() != "none", closer: t}, nil
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

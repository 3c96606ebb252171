package layout

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ocil-dev/ocil/internal/safeopen"
)

// UnsafeFileError is a name in a layout folder that ocil does not read: a symbolic link
// that does not lead to a file inside the folder (an absolute target, "..", a chain of
// links that ends outside, a loop), or something that is neither a regular file nor a
// folder (a FIFO, a device, a socket). It matches ErrUnsafeFile.
type UnsafeFileError struct {
	// Path is slash-separated and relative to the layout folder: the file read, or the
	// link on its way that leads outside (blobs, when blobs/ is such a link).
	Path string
	// Link is the symbolic link's target as it is written, "" when Path is not a link.
	Link string
	// Resolved is where the link chain leads, when it can be followed at all.
	Resolved string
	// Mode is the file's type when Path is not a link.
	Mode fs.FileMode
	// Dir is the layout folder, when known: messages name Path inside it.
	Dir string
	// Inside says that the link does lead inside the layout: readers follow such a link,
	// but writers and gc refuse a linked blobs/ folder all the same.
	Inside bool
}

// name is the file the error is about, inside Dir when Dir is known.
func (e *UnsafeFileError) name() string {
	if e.Dir == "" {
		return e.Path
	}
	return filepath.Join(e.Dir, filepath.FromSlash(e.Path))
}

func (e *UnsafeFileError) Error() string {
	if e.Link == "" {
		return fmt.Sprintf("%s: %s is %s, not a regular file", ErrUnsafeFile, e.name(), safeopen.Describe(e.Mode))
	}
	to := ""
	if e.Resolved != "" && e.Resolved != e.Link {
		to = fmt.Sprintf(" (resolving to %s)", e.Resolved)
	}
	if e.Inside {
		return fmt.Sprintf("%s: %s is a symbolic link to %q%s; ocil reads through such a link but never writes or removes blobs through one", ErrUnsafeFile, e.name(), e.Link, to)
	}
	return fmt.Sprintf("%s: %s is a symbolic link to %q%s, which does not lead to a file inside the layout", ErrUnsafeFile, e.name(), e.Link, to)
}

// Is makes errors.Is(err, ErrUnsafeFile) true.
func (e *UnsafeFileError) Is(target error) bool { return target == ErrUnsafeFile }

// FolderFS is the file system through which ocil reads a layout folder. Every name is
// resolved through an os.Root: a symbolic link that stays inside dir is followed (some
// tools deduplicate blobs with such links), one that leads outside, or any name that
// does, gives an *UnsafeFileError naming it and its target. Open opens regular files and
// folders only and never blocks: the type is checked before the open, the open does not
// wait for a FIFO's writer, and the opened file must be the one that was checked. Stat
// follows the same links and reports any type.
func FolderFS(dir string) fs.FS { return folderFS{dir: dir} }

// OpenFolderFS is FolderFS for a reader of many blobs: each blobs/<alg>/ folder, once
// checked, is held open and blobs are opened relative to it (see blobDirs). Close
// releases the folders.
func OpenFolderFS(dir string) interface {
	fs.FS
	io.Closer
} {
	return folderFS{dir: dir, blobs: &blobDirs{}}
}

type folderFS struct {
	dir   string
	blobs *blobDirs // nil: every name is checked component by component
}

// Close releases the blob folders a layout's folderFS keeps open.
func (f folderFS) Close() error {
	if f.blobs != nil {
		return f.blobs.Close()
	}
	return nil
}

func (f folderFS) Open(name string) (fs.File, error) {
	file, err := f.open(name, true)
	if err != nil {
		return nil, err
	}
	return file, nil
}

func (f folderFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if f.blobs != nil {
		if fi := f.blobs.stat(f, name); fi != nil {
			return fi, nil
		}
	}
	fi, linked, err := f.lstat(name)
	if err != nil || !linked {
		return fi, err
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fi, err = root.Stat(name)
	if err != nil {
		return nil, f.explain(root, "stat", name, err)
	}
	return fi, nil
}

// lstat looks at each component of name in turn without following links. When none is
// a link (linked false), fi describes name itself and name is inside the folder; when one
// is, the caller resolves name through an os.Root.
func (f folderFS) lstat(name string) (fi fs.FileInfo, linked bool, err error) {
	if name == "." {
		fi, err = os.Stat(f.dir)
		return fi, false, err
	}
	p := f.dir
	for part := range strings.SplitSeq(name, "/") {
		p = filepath.Join(p, part)
		fi, err = os.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, false, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
			}
			return nil, false, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, true, nil
		}
	}
	return fi, false, nil
}

// open opens name when it is a regular file (or, with dirOK, a folder) inside the layout.
// Without a link on the way, it is opened by its path and must be the file lstat saw;
// with one, it is resolved and opened through an os.Root.
func (f folderFS) open(name string, dirOK bool) (*os.File, error) {
	// index.json is replaced by rename while readers, who take no lock, open it: a name
	// replaced between the stat and the open is looked at again, a few times, before it
	// is refused. Each attempt checks the new file as the first checked the old one.
	for attempt := 1; ; attempt++ {
		file, err := f.openOnce(name, dirOK)
		var re *safeopen.ReplacedError
		if err == nil || !errors.As(err, &re) || attempt == 5 {
			return file, err
		}
	}
}

func (f folderFS) openOnce(name string, dirOK bool) (*os.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if f.blobs != nil {
		if file := f.blobs.open(f, name); file != nil {
			return file, nil
		}
	}
	fi, linked, err := f.lstat(name)
	if err != nil {
		return nil, err
	}
	if !linked {
		if err := f.openable(name, fi, dirOK); err != nil {
			return nil, err
		}
		file, err := os.OpenFile(filepath.Join(f.dir, filepath.FromSlash(name)), os.O_RDONLY|safeopen.NonBlock, 0)
		if err != nil {
			return nil, err
		}
		return checkOpened(file, name, fi)
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fi, err = root.Stat(name)
	if err != nil {
		return nil, f.explain(root, "open", name, err)
	}
	if err := f.openable(name, fi, dirOK); err != nil {
		return nil, err
	}
	file, err := root.OpenFile(name, os.O_RDONLY|safeopen.NonBlock, 0)
	if err != nil {
		return nil, f.explain(root, "open", name, err)
	}
	return checkOpened(file, name, fi)
}

func (f folderFS) openable(name string, fi fs.FileInfo, dirOK bool) error {
	if !fi.Mode().IsRegular() && !(dirOK && fi.IsDir()) {
		return &UnsafeFileError{Path: name, Mode: fi.Mode().Type(), Dir: f.dir}
	}
	return nil
}

// checkOpened makes sure file is the one fi describes: a name replaced between the stat
// and the open (by a link, a FIFO) is refused.
func checkOpened(file *os.File, name string, fi fs.FileInfo) (*os.File, error) {
	if _, err := safeopen.Same(file, fi); err != nil {
		file.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return file, nil
}

// explain turns the error of resolving name in root into an *UnsafeFileError when a link
// on the way leads outside the folder (or nowhere), naming that link; a name that is
// simply missing keeps fs.ErrNotExist.
func (f folderFS) explain(root *os.Root, op, name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if _, serr := root.Stat(p); serr == nil || errors.Is(serr, fs.ErrNotExist) {
			continue
		}
		lfi, lerr := root.Lstat(p)
		if lerr != nil || lfi.Mode()&fs.ModeSymlink == 0 {
			break
		}
		target, rerr := root.Readlink(p)
		if rerr != nil {
			break
		}
		e := &UnsafeFileError{Path: p, Link: target, Dir: f.dir}
		if resolved, err := filepath.EvalSymlinks(filepath.Join(f.dir, filepath.FromSlash(p))); err == nil {
			e.Resolved = resolved
		}
		return e
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

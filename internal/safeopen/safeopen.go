// Package safeopen opens files that must be regular files (a layout's blobs and
// documents, a tarball given on the command line) without ever blocking on a FIFO or
// opening a device: the type is checked with a stat before the open, the open itself
// does not wait for a FIFO's writer (O_NONBLOCK on Unix), and the file that was opened is
// checked to be the one the stat saw, so a name swapped in between is refused too.
package safeopen

import (
	"fmt"
	"io/fs"
	"os"
)

// NotRegularError is a name that is something other than a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Describe(e.Mode))
}

// ReplacedError is a name that was replaced between its stat and its open.
type ReplacedError struct{ Path string }

func (e *ReplacedError) Error() string {
	return fmt.Sprintf("%s was replaced while it was opened", e.Path)
}

// Open opens path for reading when it is a regular file, following symbolic links (the
// path is the user's to choose). Anything else gives a *NotRegularError before it is
// opened. The returned info is the opened file's.
func Open(path string) (*os.File, fs.FileInfo, error) {
	return open(path, os.Stat, 0)
}

// OpenNoFollow is Open for a name ocil derives rather than one the user gave (the parts
// of a split tarball): a symbolic link there is refused like a FIFO, with a
// *NotRegularError, and is never followed, not even when it is swapped in after the
// check (O_NOFOLLOW on Unix).
func OpenNoFollow(path string) (*os.File, fs.FileInfo, error) {
	return open(path, os.Lstat, noFollow)
}

// open is Open and OpenNoFollow: stat (os.Stat or os.Lstat) must show a regular file,
// which is then opened with flags added and checked to be the same file.
func open(path string, stat func(string) (fs.FileInfo, error), flags int) (*os.File, fs.FileInfo, error) {
	fi, err := stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|NonBlock|flags, 0)
	if err != nil {
		return nil, nil, err
	}
	ofi, err := Same(f, fi)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, ofi, nil
}

// Same checks that the open file f is the file before describes (its stat taken before
// the open) and still of the same type, and returns f's own info. A regular file is put
// back in blocking mode.
func Same(f *os.File, before fs.FileInfo) (fs.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(before, fi) || fi.Mode().Type() != before.Mode().Type() {
		return nil, &ReplacedError{Path: f.Name()}
	}
	if fi.Mode().IsRegular() {
		blocking(f)
	}
	return fi, nil
}

// Describe names the type of a file mode for messages: "a FIFO", "a character device".
func Describe(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeDir != 0:
		return "a folder"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

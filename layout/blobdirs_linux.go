package layout

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ocil-dev/ocil/internal/safeopen"
)

// openDirNoFollow opens the folder rel of dir, which fi (from lstat) describes, without
// following a link; nil when it is no longer that folder.
func openDirNoFollow(dir, rel string, fi fs.FileInfo) *os.File {
	fd, err := unix.Open(filepath.Join(dir, filepath.FromSlash(rel)), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	d := os.NewFile(uintptr(fd), rel)
	if _, err := safeopen.Same(d, fi); err != nil {
		d.Close()
		return nil
	}
	return d
}

// statRegularAt describes name in the folder d without following a link, when it is a
// regular file.
func statRegularAt(d *os.File, name string) fs.FileInfo {
	var st unix.Stat_t
	if unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	ts := func(t unix.Timespec) syscall.Timespec { return syscall.Timespec{Sec: t.Sec, Nsec: t.Nsec} }
	return blobInfo{name: name, st: syscall.Stat_t{Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, Uid: st.Uid, Gid: st.Gid,
		Rdev: st.Rdev, Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks, Atim: ts(st.Atim), Mtim: ts(st.Mtim), Ctim: ts(st.Ctim)}}
}

// blobInfo is the fs.FileInfo of a regular file from fstatat; Sys is its
// *syscall.Stat_t, as os.Lstat gives.
type blobInfo struct {
	name string
	st   syscall.Stat_t
}

func (i blobInfo) Name() string       { return i.name }
func (i blobInfo) Size() int64        { return i.st.Size }
func (i blobInfo) Mode() fs.FileMode  { return fs.FileMode(i.st.Mode & 0o777) }
func (i blobInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i blobInfo) IsDir() bool        { return false }
func (i blobInfo) Sys() any           { return &i.st }

// openRegularAt opens name in the folder d without following a link and without waiting
// (a FIFO), and keeps it only when it is a regular file.
func openRegularAt(d *os.File, name, display string) *os.File {
	fd, err := unix.Openat(int(d.Fd()), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	// O_NONBLOCK changes nothing for a regular file, so it is left set.
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), display)
}

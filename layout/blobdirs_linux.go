package layout

import (
	"io/fs"
	"os"
	"path/filepath"

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

//go:build !windows

package lock

import (
	"errors"
	"syscall"
)

// Open flags: a lock never follows a symbolic link at its path, and a folder lock opens
// a folder only.
const (
	oNoFollow  = syscall.O_NOFOLLOW
	oDirectory = syscall.O_DIRECTORY
)

// dirLocks says whether AcquireDir locks the folder itself on this platform.
const dirLocks = true

// dirLockUnsupported tells a file system that cannot flock a folder (NFS emulates flock
// with POSIX locks, which need a descriptor open for writing) from a real failure.
func dirLockUnsupported(err error) bool {
	for _, e := range []syscall.Errno{syscall.EBADF, syscall.EISDIR, syscall.ENOLCK, syscall.EOPNOTSUPP, syscall.EINVAL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

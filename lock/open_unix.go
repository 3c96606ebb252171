//go:build !windows

package lock

import "syscall"

// Open flags: a lock never follows a symbolic link at its path, and a folder lock opens
// a folder only.
const (
	oNoFollow  = syscall.O_NOFOLLOW
	oDirectory = syscall.O_DIRECTORY
)

// dirLocks says whether AcquireDir locks the folder itself on this platform.
const dirLocks = true

//go:build !windows

package safeopen

import (
	"os"
	"syscall"
)

// NonBlock is or'ed into the flags of an open that must not wait: opening a FIFO for
// reading otherwise blocks until a writer comes. For a regular file it changes nothing.
const NonBlock = syscall.O_NONBLOCK

// noFollow makes an open fail on a symbolic link at the path's last component.
const noFollow = syscall.O_NOFOLLOW

// blocking clears O_NONBLOCK again once f is known to be a regular file, so that reads
// behave as usual on every file system.
func blocking(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { syscall.SetNonblock(int(fd), false) })
	}
}

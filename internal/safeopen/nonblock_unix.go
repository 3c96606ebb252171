//go:build !windows

package safeopen

import "syscall"

// NonBlock is or'ed into the flags of an open that must not wait: opening a FIFO for
// reading otherwise blocks until a writer comes. For a regular file it changes nothing.
const NonBlock = syscall.O_NONBLOCK

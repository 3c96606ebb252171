//go:build windows

package safeopen

import "os"

// NonBlock is zero: opening a named pipe or device on Windows does not wait for a peer.
const NonBlock = 0

// noFollow is zero: OpenNoFollow's lstat is the check on Windows.
const noFollow = 0

func blocking(*os.File) {}

//go:build windows

package safeopen

import "os"

// NonBlock is zero: opening a named pipe or device on Windows does not wait for a peer.
const NonBlock = 0

func blocking(*os.File) {}

//go:build !linux

package layout

import (
	"io/fs"
	"os"
)

// Elsewhere every blob is opened the checked way.
func openDirNoFollow(string, string, fs.FileInfo) *os.File { return nil }

func openRegularAt(*os.File, string, string) *os.File { return nil }

func statRegularAt(*os.File, string) fs.FileInfo { return nil }

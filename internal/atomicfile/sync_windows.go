//go:build windows

package atomicfile

import "os"

// SyncDir is a no-op: Windows has no directory fsync, and renames are journaled by NTFS.
func SyncDir(string) error { return nil }

func syncOpenDir(*os.File) error { return nil }

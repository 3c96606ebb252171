//go:build windows

package layout

// syncDir is a no-op: Windows has no directory fsync, and renames are journaled by NTFS.
func syncDir(string) error { return nil }

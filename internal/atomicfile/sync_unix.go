//go:build !windows

package atomicfile

import "os"

// SyncDir makes the renames in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func syncOpenDir(d *os.File) error { return d.Sync() }

package layout

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames the folder from to to unless to exists, which gives an error
// wrapping fs.ErrExist.
func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST), errors.Is(err, unix.ENOTEMPTY):
		return fmt.Errorf("rename to %s: %w", to, fs.ErrExist)
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL):
		return renameIfMissing(from, to) // a file system without RENAME_NOREPLACE
	}
	return fmt.Errorf("rename to %s: %w", to, err)
}

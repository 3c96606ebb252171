package layout

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// cloneFile makes dst share src's extents (FICLONE). A file system that cannot gives a
// *notPossibleError.
func cloneFile(dst, src *os.File) error {
	err := unix.IoctlFileClone(int(dst.Fd()), int(src.Fd()))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EXDEV), errors.Is(err, unix.EINVAL),
		errors.Is(err, unix.ENOTTY), errors.Is(err, unix.ENOSYS):
		// EXDEV: two file systems (or two mounts); EINVAL, ENOTTY: no FICLONE here.
		return &notPossibleError{"reflinks are not supported on this file system", err}
	}
	return err
}

// linkNotPossible tells a hard link the file systems refuse (across file systems, no hard
// links at all, too many links, links forbidden by policy) from a failure to report.
func linkNotPossible(err error) bool {
	return errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EMLINK) ||
		errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS)
}

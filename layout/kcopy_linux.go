package layout

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// copyFileRange copies n bytes of src at srcOff to dst at dstOff with copy_file_range(2):
// the bytes move from page cache to page cache (or are shared, where the file system can)
// without passing through user space, and neither file's offset moves. It returns how
// many bytes it copied; fewer than n with a nil error means src ended. When the kernel
// cannot copy between these files at all (across file systems on older kernels, a file
// system without support), the first call fails and the error is errNoKernelCopy, with
// nothing copied, so the caller can copy another way.
func copyFileRange(dst *os.File, dstOff int64, src *os.File, srcOff int64, n int64) (int64, error) {
	var done int64
	for done < n {
		in, out := srcOff+done, dstOff+done
		// At most 1 GiB per call, well within what every kernel accepts.
		m, err := unix.CopyFileRange(int(src.Fd()), &in, int(dst.Fd()), &out, int(min(n-done, 1<<30)), 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			if done == 0 && (errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) ||
				errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBADF)) {
				return 0, errNoKernelCopy
			}
			return done, &os.PathError{Op: "copy_file_range", Path: dst.Name(), Err: err}
		}
		if m == 0 {
			break
		}
		done += int64(m)
	}
	return done, nil
}

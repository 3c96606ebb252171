//go:build !linux

package layout

import "os"

// copyFileRange reports that the kernel cannot copy here: only Linux's copy_file_range
// is wired up, and the callers copy through user space instead.
func copyFileRange(dst *os.File, dstOff int64, src *os.File, srcOff int64, n int64) (int64, error) {
	return 0, errNoKernelCopy
}

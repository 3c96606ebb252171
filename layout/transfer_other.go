//go:build !linux

package layout

import (
	"errors"
	"os"
)

// cloneFile reports that reflinks are not supported: only the Linux FICLONE is wired up.
func cloneFile(dst, src *os.File) error {
	return &notPossibleError{"reflinks are not supported on this system", errors.ErrUnsupported}
}

// linkNotPossible treats every failed hard link as one the file systems refuse, since
// systems differ in how they say so; a copy that follows meets any real failure again.
func linkNotPossible(err error) bool { return true }

//go:build !linux

package layout

import "os"

// earlyWriteback is the file itself where the kernel offers no way to start writeback
// early; the final fsync does all the work.
type earlyWriteback struct{ *os.File }

func newEarlyWriteback(f *os.File) *earlyWriteback { return &earlyWriteback{f} }

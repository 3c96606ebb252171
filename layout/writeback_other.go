//go:build !linux

package layout

import "os"

// earlyWriteback is the file itself where the kernel offers no way to start writeback
// early; the final fsync does all the work.
type earlyWriteback struct{ *os.File }

func newEarlyWriteback(f *os.File) *earlyWriteback { return &earlyWriteback{f} }

// writebackBehind does nothing where the kernel offers no way to start writeback early.
type writebackBehind struct{ f *os.File }

func (w *writebackBehind) advance(int64) {}

package layout

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackChunk is how much is written before the kernel is asked to start writing it
// out. A file that will be fsynced anyway then reaches the disk while the rest of it is
// still being produced, so the final fsync waits for the last two chunks only.
const writebackChunk = 16 << 20

// earlyWriteback wraps f so that written data is handed to the disk every
// writebackChunk bytes, one chunk behind the write (sync_file_range,
// SYNC_FILE_RANGE_WRITE: start writeback, do not wait). It changes nothing about
// durability: the caller still fsyncs.
type earlyWriteback struct {
	f       *os.File
	written int64
	started int64
}

func newEarlyWriteback(f *os.File) *earlyWriteback { return &earlyWriteback{f: f} }

func (w *earlyWriteback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	// Writeback starts one chunk behind the point being written, never on the pages
	// still being filled: a write into a page under writeback waits for it.
	for w.written-w.started >= 2*writebackChunk {
		startWriteback(w.f, w.started, writebackChunk)
		w.started += writebackChunk
	}
	return n, err
}

// startWriteback asks the kernel to start writing n bytes of f at off to the disk. A
// failure only loses the head start; the caller's fsync reports real errors.
var startWriteback = func(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// writebackBehind starts the writeback of a file written at offsets (pwrite,
// copy_file_range) one chunk behind its end, as earlyWriteback does for a stream.
type writebackBehind struct {
	f       *os.File
	started int64
}

// advance says the file is written up to end.
func (w *writebackBehind) advance(end int64) {
	for end-w.started >= 2*writebackChunk {
		startWriteback(w.f, w.started, writebackChunk)
		w.started += writebackChunk
	}
}

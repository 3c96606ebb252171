package layout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/progress"
)

// errNoKernelCopy says that copy_file_range cannot copy between two files (see
// copyFileRange); nothing was copied, and the bytes go through user space instead.
var errNoKernelCopy = errors.New("the kernel cannot copy between these files")

// kernelCopyRange is copyFileRange; a test replaces it to see the copies the kernel
// refuses (EXDEV between file systems) take the user-space path.
var kernelCopyRange = copyFileRange

// kernelCopyChunk is how much one copy_file_range call moves before the copier looks at
// its context, reports progress, lets the hash catch up and starts writeback (the same
// 16 MiB as writebackChunk, which only Linux has).
const kernelCopyChunk = 16 << 20

// kernelCopies counts the blobs kernelCopyBlob copied, for the tests to see which way
// bytes went.
var kernelCopies atomic.Int64

// hashSlots bounds how many goroutines hash copied bytes at once, across every kernel
// copy of the process: one per CPU, so that the copies (mostly kernel time) and the
// hashes share the cores instead of crowding them.
var hashSlots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 2))

// fileExtent is a reader whose bytes lie, stored plainly, in a file at an offset: a blob
// inside a plain tarball (tarfs). The kernel can copy them from there.
type fileExtent interface {
	Extent() (f *os.File, off int64, ok bool)
}

// sourceExtent returns where the bytes r yields lie, when the kernel can copy them: an
// *os.File that is a regular file, from its current offset (whole: the blob is the rest
// of the file, so a byte past it means the file is longer than the blob), or a fileExtent
// (a part of a larger file).
func sourceExtent(r io.Reader) (f *os.File, off int64, whole, ok bool) {
	switch s := r.(type) {
	case *os.File:
		fi, err := s.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return nil, 0, false, false
		}
		off, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, false, false
		}
		return s, off, true, true
	case fileExtent:
		f, off, ok := s.Extent()
		return f, off, false, ok
	}
	return nil, 0, false, false
}

// checkSourceEnd refuses a source file that goes on past the blob's d.Size bytes at off
// (it grew since it was checked): the stream copy reads one byte more to see the same.
func checkSourceEnd(src *os.File, off int64, d ocispec.Descriptor) error {
	var one [1]byte
	m, err := src.ReadAt(one[:], off+d.Size)
	if m > 0 {
		return fmt.Errorf("%w: more bytes, descriptor says %d", ErrSizeMismatch, d.Size)
	}
	if err != nil && err != io.EOF {
		return err
	}
	return nil
}

// copiedHash hashes the bytes of one blob in the file they are being copied into, while
// the copy goes on: the copier reports how far it got (advance) and that it stopped
// (finish); the hash reads what is there (pread), so it checks the very bytes that were
// written, not a second read of the source. Every copier must call finish, whatever
// happens, or wait never returns.
type copiedHash struct {
	ctx  context.Context
	f    *os.File
	off  int64 // where the blob starts in f
	d    ocispec.Descriptor
	mu   sync.Mutex
	cond *sync.Cond
	have int64 // bytes from off that are in f
	end  bool
	err  error
	done chan struct{}
}

// hashCopied starts hashing the blob d as it is copied into f at off (see copiedHash).
func hashCopied(ctx context.Context, f *os.File, off int64, d ocispec.Descriptor) *copiedHash {
	c := &copiedHash{ctx: ctx, f: f, off: off, d: d, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go func() {
		defer close(c.done)
		c.err = c.run()
	}()
	return c
}

// advance says that the first n bytes of the blob are in the file.
func (c *copiedHash) advance(n int64) {
	c.mu.Lock()
	c.have = n
	c.mu.Unlock()
	c.cond.Signal()
}

// finish says that no more bytes will come.
func (c *copiedHash) finish() {
	c.mu.Lock()
	c.end = true
	c.mu.Unlock()
	c.cond.Signal()
}

// wait returns the verdict once the copy finished and every copied byte is hashed: nil
// when exactly d.Size bytes came and they hash to d.Digest.
func (c *copiedHash) wait() error {
	<-c.done
	return c.err
}

func (c *copiedHash) run() error {
	// Wait for the first bytes before taking a slot, so a hash waiting for its copy to
	// start holds nothing.
	if have, end := c.next(0); end && have == 0 && c.d.Size > 0 {
		return checkRead(c.d, 0, nil)
	}
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	bp := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(bp)
	buf := *bp
	h := c.d.Digest.Algorithm().Hash()
	var n int64
	for {
		have, end := c.next(n)
		for n < have {
			if err := c.ctx.Err(); err != nil {
				return err
			}
			m, err := c.f.ReadAt(buf[:min(int64(len(buf)), have-n)], c.off+n)
			h.Write(buf[:m])
			n += int64(m)
			if err != nil && !(err == io.EOF && m > 0) {
				return fmt.Errorf("read back %s: %w", c.f.Name(), err)
			}
		}
		if end && n >= have {
			return checkRead(c.d, n, h)
		}
	}
}

// next waits until more than n bytes are in the file or the copy finished, and returns
// how many are there and whether the copy finished.
func (c *copiedHash) next(n int64) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.have <= n && !c.end {
		c.cond.Wait()
	}
	return c.have, c.end
}

// kernelCopyBlob copies the blob d, d.Size bytes of src from srcOff, to dst at dstOff with
// copy_file_range, starting the disk writeback of dst one chunk behind the copy (wb, when
// not nil). With verify, the copied bytes are hashed in dst on another core as they land
// (hashCopied) and the returned hash gives the verdict; without, it is nil. errNoKernelCopy
// means nothing was copied and the caller should copy through user space. A source that
// ends early is ErrSizeMismatch; whether it goes on past d.Size is the caller's to check.
func kernelCopyBlob(ctx context.Context, dst *os.File, dstOff int64, src *os.File, srcOff int64, d ocispec.Descriptor, verify bool, wb *writebackBehind) (*copiedHash, error) {
	var h *copiedHash
	if verify {
		h = hashCopied(ctx, dst, dstOff, d)
	}
	finish := func() {
		if h != nil {
			h.finish()
		}
	}
	var n int64
	for n < d.Size {
		if err := ctx.Err(); err != nil {
			finish()
			return nil, err
		}
		m, err := kernelCopyRange(dst, dstOff+n, src, srcOff+n, min(kernelCopyChunk, d.Size-n))
		if err == nil && m == 0 && n == 0 {
			// Some file systems (FUSE, network ones) copy nothing and say so with 0 rather
			// than an error (Go's own io.Copy falls back then too): the bytes go through
			// user space instead, which also tells a source that is really empty.
			err = errNoKernelCopy
		}
		if err != nil {
			finish()
			if h != nil {
				h.wait()
			}
			return nil, err
		}
		n += m
		progress.Add(int(m))
		if h != nil {
			h.advance(n)
		}
		if wb != nil {
			wb.advance(dstOff + n)
		}
		if m == 0 {
			break
		}
	}
	finish()
	kernelCopies.Add(1)
	if n != d.Size {
		if h != nil {
			h.wait()
		}
		return nil, fmt.Errorf("%w: %d bytes, descriptor says %d", ErrSizeMismatch, n, d.Size)
	}
	return h, nil
}

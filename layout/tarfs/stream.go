package tarfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression names, as Compression reports them.
const (
	compressionNone = "none"
	compressionGzip = "gzip"
	compressionZstd = "zstd"
)

// maxZstdWindow is the largest zstd window accepted: what `zstd -d` accepts without
// --memory. The window is the decoder's memory, so it is the bound that matters.
const maxZstdWindow = 128 << 20

// sniff says how the archive is compressed, from its first bytes. Formats that are
// recognised but not read get an error that says so.
func sniff(magic []byte) (string, error) {
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return compressionGzip, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return compressionZstd, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return "", errors.New("xz compression is not read (gzip and zstd are); decompress it first")
	case bytes.HasPrefix(magic, []byte("BZh")):
		return "", errors.New("bzip2 compression is not read (gzip and zstd are); decompress it first")
	case bytes.HasPrefix(magic, []byte{0x04, 0x22, 0x4d, 0x18}):
		return "", errors.New("lz4 compression is not read (gzip and zstd are); decompress it first")
	}
	return compressionNone, nil
}

// decompressor opens the decompressing reader for a compressed archive.
func decompressor(compression string, r io.Reader) (io.ReadCloser, error) {
	switch compression {
	case compressionNone: // a stream that cannot seek (OpenReader) is spooled as it is
		return io.NopCloser(r), nil
	case compressionGzip:
		return gzip.NewReader(bufio.NewReaderSize(r, 64<<10))
	case compressionZstd:
		d, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1), // decode in this goroutine, one block in flight
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression %q", compression)
}

// errBomb ends the pass over a compressed archive that decompresses past its bound.
var errBomb = errors.New("decompression bound reached")

// boundedReader sits between the decompressor and the tar reader and counts the
// decompressed bytes. It stops once more than max bytes have come out of the
// decompressor, having read at most one byte past the bound. max is the lower of the total bound and the ratio
// bound (ratio times the archive's compressed size, at least RatioFloor).
type boundedReader struct {
	r          io.Reader
	n          int64 // bytes read so far: the offset in the decompressed stream
	max        int64
	byRatio    bool  // max is the ratio bound
	compressed int64 // the archive's size, or the compressed bytes of a stream read so far
	ratio      int64
	total      int64
	stream     *countReader // the compressed stream, when its size is not known up front
}

func newBoundedReader(r io.Reader, compressed, ratio, total int64) *boundedReader {
	s := &boundedReader{r: r, ratio: ratio, total: total}
	s.bound(compressed)
	return s
}

// bound sets max from the compressed size: the lower of the total bound and ratio times
// compressed (at least RatioFloor). A negative size (a stream not yet counted) is 0.
func (s *boundedReader) bound(compressed int64) {
	compressed = max(compressed, 0)
	s.compressed, s.max, s.byRatio = compressed, s.total, false
	byRatio := int64(math.MaxInt64)
	if compressed <= math.MaxInt64/s.ratio {
		byRatio = max(s.ratio*compressed, RatioFloor)
	}
	if byRatio < s.total {
		s.max, s.byRatio = byRatio, true
	}
}

func (s *boundedReader) Read(p []byte) (int, error) {
	if s.stream != nil {
		s.bound(s.stream.n)
	}
	if s.n > s.max {
		return 0, errBomb
	}
	if rem := s.max - s.n; rem < math.MaxInt64 && int64(len(p)) > rem+1 {
		p = p[:rem+1]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.stream != nil {
		s.bound(s.stream.n)
	}
	if s.n > s.max {
		return 0, errBomb
	}
	return n, err
}

// countReader counts the compressed bytes of a stream read so far.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readAhead reads an uncompressed archive for the tar reader. It serves the small reads
// of headers from a window of the file and turns the tar reader's skips over entry data
// into seeks, so an entry larger than the window is never read. It tracks the offset, so
// that once a header has been read, off is where the entry's data starts.
type readAhead struct {
	f     io.ReaderAt
	buf   []byte
	start int64 // file offset of buf[0]
	off   int64 // current offset
}

func newReadAhead(f io.ReaderAt) *readAhead {
	return &readAhead{f: f, buf: make([]byte, 0, 32<<10)}
}

func (r *readAhead) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.off < r.start || r.off >= r.start+int64(len(r.buf)) {
		r.start = r.off
		n, err := r.f.ReadAt(r.buf[:cap(r.buf)], r.off)
		r.buf = r.buf[:n]
		if n == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off-r.start:])
	r.off += int64(n)
	return n, nil
}

// Seek moves the offset. archive/tar uses it to skip entry data.
func (r *readAhead) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	default:
		return 0, errors.New("seek: unsupported whence")
	}
	if abs < 0 {
		return 0, errors.New("seek: negative offset")
	}
	r.off = abs
	return abs, nil
}

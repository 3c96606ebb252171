package tarfs

import (
	"bufio"
	"fmt"
	"io"
)

// OpenReader indexes a layout tarball read from r, a stream that cannot seek (standard
// input), and returns the file system that serves it; name stands for r in messages. The
// stream is read once, to its end: decompressed when it is gzip or zstd, copied into an
// unnamed temp file in opts.TempDir as it goes and checked as Open checks a compressed
// archive (every rule of the package, every sha256 and sha512 blob hashed), within
// opts.MaxUncompressed bytes whatever the compression, and, when compressed, within
// opts.MaxRatio times the compressed bytes read so far (at least RatioFloor). Nothing of it is served unless
// all of it passes.
func OpenReader(name string, r io.Reader, opts Options) (*FS, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open tarball %s: %w", name, err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(6)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("open tarball %s: %w", name, err)
	}
	if len(magic) == 0 {
		return nil, fmt.Errorf("open tarball %s: %w: empty stream", name, ErrCorrupt)
	}
	compression, err := sniff(magic)
	if err != nil {
		return nil, fmt.Errorf("open tarball %s: %w: %v", name, ErrCorrupt, err)
	}
	return newIndexer(name, opts, compression).scanCompressed(br, -1)
}

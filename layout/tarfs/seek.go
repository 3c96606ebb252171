package tarfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// A seekable archive is a compressed tarball that is still one standard stream (tar -xzf,
// tar --zstd -xf, skopeo and podman read it as any other) but is made of independent
// pieces: every tar entry is a gzip member or a zstd frame of its own, which a reader can
// decompress without the ones before it. The last entry of the tar, SeekIndexName, lists
// where each entry's piece starts and how long it is; after the tar's end comes a
// footer that says where that list is:
//
//   - gzip: one more gzip member holding no data, whose header carries the footer in an
//     extra field (subfield "OS"): FooterSizeGzip bytes. gzip readers skip extra fields.
//   - zstd: a skippable frame (magic 0x184D2A5E), which zstd readers skip:
//     FooterSizeZstd bytes.
//
// Both footers hold the same 24 bytes: "OCILSEEK", then the offset and the length of the
// piece holding the list, little-endian 64-bit.
const (
	SeekIndexName  = "ocil-seek-index.json"
	FooterSizeGzip = 50
	FooterSizeZstd = 32
)

var seekMagic = [8]byte{'O', 'C', 'I', 'L', 'S', 'E', 'E', 'K'}

const zstdSkippableMagic = 0x184D2A5E

// maxSeekHeader bounds the tar header bytes (PAX records included) in front of an entry's
// data in one piece.
const maxSeekHeader = 64 << 10

// seekIndex is the content of SeekIndexName.
type seekIndex struct {
	Version int          `json:"ocilSeekIndex"`
	Entries []seekRecord `json:"entries"`
}

// seekRecord is one piece: the entry's name and size as in its tar header, and where its
// compressed piece is in the file.
type seekRecord struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
}

// SeekableWriter writes a seekable compressed tarball (see SeekIndexName) to w: one piece
// per entry, then the index entry, the end of the tar and the footer. gzip pieces are
// compressed on every core, zstd pieces at zstd's default level.
type SeekableWriter struct {
	cw    *countWriter
	tw    *tar.Writer
	sw    switchWriter
	gz    *pgzip.Writer
	zw    *zstd.Encoder
	index seekIndex
	err   error
}

// NewSeekableWriter starts a seekable tarball on w, compressed with "gzip" or "zstd".
func NewSeekableWriter(w io.Writer, compression string) (*SeekableWriter, error) {
	s := &SeekableWriter{cw: &countWriter{w: w}, index: seekIndex{Version: 1}}
	switch compression {
	case compressionGzip:
		gz, err := pgzip.NewWriterLevel(io.Discard, pgzip.DefaultCompression)
		if err != nil {
			return nil, err
		}
		if err := gz.SetConcurrency(1<<20, max(2*runtime.GOMAXPROCS(0), 4)); err != nil {
			return nil, err
		}
		s.gz = gz
	case compressionZstd:
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			return nil, err
		}
		s.zw = zw
	default:
		return nil, fmt.Errorf("seekable tarball: unknown compression %q", compression)
	}
	s.tw = tar.NewWriter(&s.sw)
	return s, nil
}

// switchWriter passes the tar writer's bytes to the piece being written.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// piece runs fn with the tar writer writing into a new piece, and ends the piece.
func (s *SeekableWriter) piece(fn func() error) (off, length int64, err error) {
	if s.err != nil {
		return 0, 0, s.err
	}
	off = s.cw.n
	var end func() error
	if s.gz != nil {
		s.gz.Reset(s.cw)
		s.sw.w, end = s.gz, s.gz.Close
	} else {
		s.zw.Reset(s.cw)
		s.sw.w, end = s.zw, s.zw.Close
	}
	err = fn()
	if err == nil {
		err = end()
	}
	if err != nil {
		s.err = err
		return 0, 0, err
	}
	return off, s.cw.n - off, nil
}

// WriteEntry writes hdr, a regular file, and its hdr.Size bytes from data as one piece.
func (s *SeekableWriter) WriteEntry(hdr *tar.Header, data func(w io.Writer) error) error {
	off, length, err := s.piece(func() error {
		if err := s.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if err := data(s.tw); err != nil {
			return err
		}
		return s.tw.Flush() // the padding, in this piece
	})
	if err != nil {
		return err
	}
	s.index.Entries = append(s.index.Entries, seekRecord{Name: hdr.Name, Size: hdr.Size, Offset: off, Length: length})
	return nil
}

// Close writes the index entry (with hdr's mode and time), the end of the tar and the
// footer. It does not close the underlying writer.
func (s *SeekableWriter) Close(hdr tar.Header) error {
	body, err := json.Marshal(s.index)
	if err != nil {
		return err
	}
	return s.closeWith(hdr, body)
}

// closeWith writes body as the index entry, the end of the tar and the footer.
func (s *SeekableWriter) closeWith(hdr tar.Header, body []byte) error {
	hdr.Typeflag, hdr.Name, hdr.Size = tar.TypeReg, SeekIndexName, int64(len(body))
	off, length, err := s.piece(func() error {
		if err := s.tw.WriteHeader(&hdr); err != nil {
			return err
		}
		if _, err := s.tw.Write(body); err != nil {
			return err
		}
		return s.tw.Close() // padding and the two zero blocks that end the tar
	})
	if err != nil {
		return err
	}
	_, err = s.cw.Write(seekFooter(s.gz != nil, off, length))
	return err
}

// seekFooter encodes the footer that points at the index piece.
func seekFooter(gzipped bool, off, length int64) []byte {
	payload := make([]byte, 0, 24)
	payload = append(payload, seekMagic[:]...)
	payload = binary.LittleEndian.AppendUint64(payload, uint64(off))
	payload = binary.LittleEndian.AppendUint64(payload, uint64(length))
	var b []byte
	if gzipped {
		// Header: magic, deflate, FEXTRA, no time, no extra flags, unknown OS; XLEN; the
		// subfield "OS" of 24 bytes; an empty final deflate block; CRC-32 and size, 0.
		b = append(b, 0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff)
		b = binary.LittleEndian.AppendUint16(b, 4+24)
		b = append(b, 'O', 'S')
		b = binary.LittleEndian.AppendUint16(b, 24)
		b = append(b, payload...)
		b = append(b, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	} else {
		b = binary.LittleEndian.AppendUint32(b, zstdSkippableMagic)
		b = binary.LittleEndian.AppendUint32(b, 24)
		b = append(b, payload...)
	}
	return b
}

// parseFooter reads the footer at the end of a compressed archive of size bytes. ok is
// false when there is none.
func parseFooter(f io.ReaderAt, size int64, compression string) (off, length int64, ok bool) {
	n := int64(FooterSizeZstd)
	if compression == compressionGzip {
		n = FooterSizeGzip
	}
	if size < n {
		return 0, 0, false
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, size-n); err != nil {
		return 0, 0, false
	}
	want := seekFooter(compression == compressionGzip, 0, 0)
	var payload []byte
	if compression == compressionGzip {
		if !bytes.Equal(b[:16], want[:16]) || !bytes.Equal(b[40:], want[40:]) {
			return 0, 0, false
		}
		payload = b[16:40]
	} else {
		if !bytes.Equal(b[:8], want[:8]) {
			return 0, 0, false
		}
		payload = b[8:32]
	}
	if !bytes.Equal(payload[:8], seekMagic[:]) {
		return 0, 0, false
	}
	o, l := binary.LittleEndian.Uint64(payload[8:]), binary.LittleEndian.Uint64(payload[16:])
	if o > math.MaxInt64 || l > math.MaxInt64 || int64(o) > size-n || int64(o)+int64(l) != size-n || l == 0 {
		return 0, 0, false
	}
	return int64(o), int64(l), true
}

// errSeekIndex: the seek index is not usable. Open then reads the archive as any other.
var errSeekIndex = errors.New("unusable seek index")

// openSeekable indexes a seekable archive from its footer and index entry alone. It
// returns errSeekIndex (wrapped) when the archive has no footer or the index breaks a
// rule: the caller then decompresses the whole archive as for any other, so an index can
// never make an archive readable that the full pass refuses to index. Everything the
// index says is checked here against the file (pieces inside it, in order, without gaps
// or overlaps, names and sizes by the rules of the package, the total under the bomb
// bounds), and each piece's own tar header is checked against the index when it is read.
func (ix *indexer) openSeekable(f archiveFile, size int64) (*FS, error) {
	off, length, ok := parseFooter(f, size, ix.compression)
	if !ok {
		return nil, errSeekIndex
	}
	r, err := openPiece(ix.compression, f, off, length, ix.opts.MaxJSONSize+maxSeekHeader)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSeekIndex, err)
	}
	defer r.Close()
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil || hdr.Typeflag != tar.TypeReg || hdr.Name != SeekIndexName || hdr.Size > ix.opts.MaxJSONSize {
		return nil, fmt.Errorf("%w: no index entry", errSeekIndex)
	}
	body, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSeekIndex, err)
	}
	if _, err := tr.Next(); err != io.EOF { // the tar ends right after the index
		return nil, fmt.Errorf("%w: entries after the index", errSeekIndex)
	}
	var idx seekIndex
	if err := json.Unmarshal(body, &idx); err != nil || idx.Version != 1 {
		return nil, fmt.Errorf("%w: not a version 1 index", errSeekIndex)
	}
	if len(idx.Entries) > ix.opts.MaxEntries {
		return nil, fmt.Errorf("%w: too many entries", errSeekIndex)
	}
	dr := newBoundedReader(nil, size, ix.opts.MaxRatio, ix.opts.MaxUncompressed)
	var next, total int64
	for _, rec := range idx.Entries {
		if rec.Offset != next || rec.Length <= 0 || rec.Size < 0 || rec.Size > math.MaxInt64/2 {
			return nil, fmt.Errorf("%w: entry %q: pieces not in order", errSeekIndex, rec.Name)
		}
		next += rec.Length
		if next > off {
			return nil, fmt.Errorf("%w: entry %q: past the index", errSeekIndex, rec.Name)
		}
		if total += rec.Size + maxSeekHeader; total > dr.max {
			return nil, fmt.Errorf("%w: over the decompression bound", errSeekIndex)
		}
		if unsafeName(rec.Name) != "" {
			return nil, fmt.Errorf("%w: entry %q: unsafe name", errSeekIndex, rec.Name)
		}
		name, k, why := classify(rec.Name, false)
		if why == "" && k == kindExtra {
			continue // manifest.json and repositories beside the layout (copy --docker)
		}
		if why != "" || (k != kindLayoutFile && k != kindBlob) {
			return nil, fmt.Errorf("%w: entry %q: not a layout file", errSeekIndex, rec.Name)
		}
		if k == kindLayoutFile && rec.Size > ix.opts.MaxJSONSize {
			return nil, fmt.Errorf("%w: entry %q: too large", errSeekIndex, rec.Name)
		}
		if _, dup := ix.files[name]; dup {
			return nil, fmt.Errorf("%w: entry %q: listed twice", errSeekIndex, rec.Name)
		}
		ix.files[name] = &entry{name: name, raw: rec.Name, size: rec.Size, piece: &piece{off: rec.Offset, length: rec.Length}}
	}
	if next != off {
		return nil, fmt.Errorf("%w: a gap before the index", errSeekIndex)
	}
	if err := ix.finish(f); err != nil {
		return nil, fmt.Errorf("%w: %v", errSeekIndex, err)
	}
	fsys := ix.fs(f, "")
	fsys.seekable = true
	return fsys, nil
}

// piece is where an entry's own gzip member or zstd frame is in a seekable archive.
type piece struct {
	off, length int64
}

// openPiece decompresses the piece at off, length bytes of f, to at most limit bytes:
// past them reads fail with errBomb.
func openPiece(compression string, f io.ReaderAt, off, length, limit int64) (io.ReadCloser, error) {
	sr := io.NewSectionReader(f, off, length)
	var dec io.ReadCloser
	switch compression {
	case compressionGzip:
		z, err := gzip.NewReader(sr)
		if err != nil {
			return nil, err
		}
		z.Multistream(false)
		dec = z
	case compressionZstd:
		d, err := zstd.NewReader(sr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, err
		}
		dec = d.IOReadCloser()
	default:
		return nil, fmt.Errorf("unknown compression %q", compression)
	}
	return &limitedPiece{r: dec, left: limit}, nil
}

type limitedPiece struct {
	r    io.ReadCloser
	left int64
}

func (l *limitedPiece) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errBomb
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedPiece) Close() error { return l.r.Close() }

// seekFile is a file of a seekable archive, decompressed from its piece as it is read. A
// read behind the point decompressed so far starts again from the piece's start. The
// bytes of a sha256 or sha512 blob are hashed as they are decompressed, and the read that
// reaches the end fails if they do not match the blob's name.
type seekFile struct {
	fsys   *FS
	e      *entry
	mu     sync.Mutex
	pos    int64 // Read's offset
	dec    io.ReadCloser
	tr     *tar.Reader
	at     int64 // how far the data has been decompressed
	h      hash.Hash
	want   string
	err    error // a failure that every later read returns
	closed bool
}

func newSeekFile(fsys *FS, e *entry) *seekFile {
	s := &seekFile{fsys: fsys, e: e}
	if alg, encoded, ok := strings.Cut(strings.TrimPrefix(e.name, "blobs/"), "/"); ok && strings.HasPrefix(e.name, "blobs/") {
		switch alg {
		case "sha256":
			s.h, s.want = sha256.New(), encoded
		case "sha512":
			s.h, s.want = sha512.New(), encoded
		}
	}
	return s
}

func (s *seekFile) Stat() (fs.FileInfo, error) { return fileInfo{s.e}, nil }

// start (re)opens the piece and checks its tar header against the index.
func (s *seekFile) start() error {
	if s.dec != nil {
		s.dec.Close()
		s.dec = nil
	}
	dec, err := openPiece(s.fsys.compression, s.fsys.f, s.e.piece.off, s.e.piece.length, s.e.size+maxSeekHeader+512)
	if err != nil {
		return s.fail(fmt.Errorf("%w: %s: %v", ErrCorrupt, s.fsys.compression, err))
	}
	s.dec = dec
	tr := tar.NewReader(dec)
	hdr, err := tr.Next()
	if err != nil {
		if errors.Is(err, errBomb) {
			return s.fail(fmt.Errorf("%w: its piece decompresses past its size", ErrHostile))
		}
		return s.fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Name != s.e.raw || hdr.Size != s.e.size || len(hdr.PAXRecords) > 0 && hasSparse(hdr) {
		return s.fail(fmt.Errorf("%w: the seek index says a file %q of %d bytes, the archive holds %q (%s, %d bytes)",
			ErrHostile, s.e.raw, s.e.size, hdr.Name, string(hdr.Typeflag), hdr.Size))
	}
	s.tr, s.at = tr, 0
	if s.h != nil {
		s.h.Reset()
	}
	if s.e.size == 0 {
		if _, err := s.advance(nil); err != io.EOF {
			return err
		}
	}
	return nil
}

func hasSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func (s *seekFile) fail(err error) error {
	s.err = &fs.PathError{Op: "read", Path: s.e.name, Err: fmt.Errorf("tarball %s: %w", s.fsys.path, err)}
	return s.err
}

// advance decompresses up to p's length at the current point, hashing and checking.
func (s *seekFile) advance(p []byte) (int, error) {
	n, err := s.tr.Read(p)
	if s.h != nil {
		s.h.Write(p[:n])
	}
	s.at += int64(n)
	if err != nil && err != io.EOF {
		if errors.Is(err, errBomb) {
			return n, s.fail(fmt.Errorf("%w: its piece decompresses past its size", ErrHostile))
		}
		return n, s.fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	if s.at == s.e.size || err == io.EOF {
		if s.at != s.e.size {
			return n, s.fail(fmt.Errorf("%w: %d bytes, its header says %d", ErrCorrupt, s.at, s.e.size))
		}
		if s.h != nil {
			if got := hex.EncodeToString(s.h.Sum(nil)); got != s.want {
				return n, s.fail(fmt.Errorf("%w: its bytes hash to %s, not to the digest it is named after", ErrHostile, got))
			}
		}
		return n, io.EOF
	}
	return n, nil
}

// readAt serves len(p) bytes at off; the caller holds mu.
func (s *seekFile) readAt(p []byte, off int64) (int, error) {
	if s.closed {
		return 0, &fs.PathError{Op: "read", Path: s.e.name, Err: fs.ErrClosed}
	}
	if s.fsys.closed.Load() {
		return 0, &fs.PathError{Op: "read", Path: s.e.name, Err: fs.ErrClosed}
	}
	if s.err != nil {
		return 0, s.err
	}
	// The piece's header is checked before any answer, even one past the end.
	if s.dec == nil || off < s.at {
		if err := s.start(); err != nil {
			return 0, err
		}
	}
	if off >= s.e.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	var skip [32 << 10]byte
	for s.at < off {
		if _, err := s.advance(skip[:min(int64(len(skip)), off-s.at)]); err != nil && err != io.EOF {
			return 0, err
		}
	}
	done := 0
	for done < len(p) {
		n, err := s.advance(p[done:])
		done += n
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, s.fail(fmt.Errorf("%w: no progress", ErrCorrupt))
		}
	}
	return done, nil
}

func (s *seekFile) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if rem := s.e.size - s.pos; rem >= 0 && int64(len(p)) > rem {
		p = p[:max(rem, 0)]
		if len(p) == 0 {
			_, err := s.readAt(nil, s.pos)
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
	}
	n, err := s.readAt(p, s.pos)
	s.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (s *seekFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: s.e.name, Err: errors.New("negative offset")}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := len(p)
	if rem := s.e.size - off; int64(want) > rem {
		p = p[:max(rem, 0)]
	}
	n, err := s.readAt(p, off)
	if err == nil && n < want {
		err = io.EOF
	}
	return n, err
}

func (s *seekFile) Seek(offset int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, &fs.PathError{Op: "seek", Path: s.e.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.e.size
	default:
		return 0, errors.New("seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	s.pos = offset
	return offset, nil
}

func (s *seekFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &fs.PathError{Op: "close", Path: s.e.name, Err: fs.ErrClosed}
	}
	s.closed = true
	if s.dec != nil {
		s.dec.Close()
	}
	return nil
}

// Seekable reports whether the archive is a seekable compressed archive read in place
// through its seek index (see SeekIndexName), rather than decompressed whole when opened.
func (f *FS) Seekable() bool { return f.seekable }

package layout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/ctxio"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// OpenBlob opens the blob d describes for reading, through the one verified read path:
// the reader stops at d.Size bytes, and at EOF reports ErrSizeMismatch if the blob is
// shorter or longer and ErrDigestMismatch if its bytes do not hash to d.Digest. Nothing
// read from it may be trusted until it has returned io.EOF. A missing blob gives
// ErrNotFound; an algorithm that cannot be verified, ErrUnsupportedAlgorithm.
func (l *Layout) OpenBlob(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if err := VerifiableDigest(d.Digest); err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d.Digest, err)
	}
	if d.Size < 0 {
		return nil, fmt.Errorf("open blob %s: %w: negative size %d", d.Digest, ErrSizeMismatch, d.Size)
	}
	p, _ := BlobPath(d.Digest)
	f, err := l.fsys.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// A delta leaves out no index or manifest (see Delta), so a walk that meets many
			// missing documents does not look at the record for each.
			if IsIndex(d.MediaType) || IsManifest(d.MediaType) {
				return nil, fmt.Errorf("open blob %s in %s: %w", d.Digest, l.path, ErrNotFound)
			}
			if lo := l.leftOutError(d.Digest); lo != nil {
				return nil, fmt.Errorf("open blob %s in %s: %w", d.Digest, l.path, lo)
			}
			return nil, fmt.Errorf("open blob %s in %s: %w", d.Digest, l.path, ErrNotFound)
		}
		return nil, fmt.Errorf("open blob %s in %s: %w", d.Digest, l.path, err)
	}
	if err := checkBlobFile(f, p, d); err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob %s in %s: %w", d.Digest, l.path, err)
	}
	return newVerifier(f, d, l.blobWhere(p)), nil
}

// blobWhere names where the blob file p is read from, for messages: the layout's path,
// and for a split tarball the parts that hold the blob.
func (l *Layout) blobWhere(p string) string {
	if s, ok := l.fsys.(*stageFS); ok {
		if src := s.source(p); src != nil {
			return src.blobWhere(p) // a tarball output's blob is read from its source
		}
	}
	if t, ok := l.fsys.(*tarfs.FS); ok {
		if parts := t.PartsOf(p); parts != "" {
			return l.path + " (" + parts + ")"
		}
	}
	return l.path
}

// checkBlobFile checks the opened blob file f at p before a byte of it is read: a
// regular file of exactly d.Size bytes. Every read of a blob stops at d.Size (and one
// byte more to see that there is none), so this bounds what any reader takes from it.
func checkBlobFile(f fs.File, p string, d ocispec.Descriptor) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &UnsafeFileError{Path: p, Mode: fi.Mode().Type()}
	}
	if fi.Size() != d.Size {
		return fmt.Errorf("%w: %d bytes on disk, descriptor says %d", ErrSizeMismatch, fi.Size(), d.Size)
	}
	return nil
}

// ReadBlob reads a whole blob of at most MaxJSONSize bytes through the verified read path.
// It is meant for JSON documents; stream larger blobs with OpenBlob.
func (l *Layout) ReadBlob(ctx context.Context, d ocispec.Descriptor) ([]byte, error) {
	if d.Size > MaxJSONSize {
		return nil, fmt.Errorf("read blob %s: %w: %d bytes, over the %d-byte cap for documents", d.Digest, ErrTooLarge, d.Size, MaxJSONSize)
	}
	rc, err := l.OpenBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// One buffer of the size the descriptor gives, and a byte more so that the end of
	// the blob is seen without growing it (the verifier refuses any other size).
	b := make([]byte, 0, max(d.Size, 0)+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rc.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// HasBlob reports whether the blob of d is present with the size d gives. It does not
// hash the bytes.
func (l *Layout) HasBlob(d ocispec.Descriptor) (bool, error) {
	p, err := BlobPath(d.Digest)
	if err != nil {
		return false, err
	}
	fi, err := fs.Stat(l.fsys, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return fi.Mode().IsRegular() && fi.Size() == d.Size, nil
}

// verifier is the reader OpenBlob returns.
type verifier struct {
	r      io.ReadCloser
	d      ocispec.Descriptor
	where  string
	h      hash.Hash
	n      int64
	err    error // sticky result once the end is reached
	closed bool
}

func newVerifier(r io.ReadCloser, d ocispec.Descriptor, where string) *verifier {
	return &verifier{r: r, d: d, where: where, h: d.Digest.Algorithm().Hash()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if rem := v.d.Size - v.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = v.r.Read(p)
		v.h.Write(p[:n])
		v.n += int64(n)
	}
	switch {
	case v.n == v.d.Size:
		v.err = v.finish()
		if n > 0 && v.err == io.EOF {
			return n, nil
		}
		return n, v.err
	case err == io.EOF:
		v.err = fmt.Errorf("read blob %s in %s: %w", v.d.Digest, v.where, checkRead(v.d, v.n, nil))
		return n, v.err
	case err != nil:
		v.err = fmt.Errorf("read blob %s in %s: %w", v.d.Digest, v.where, err)
		return n, v.err
	}
	return n, nil
}

// finish runs once d.Size bytes have been read: no byte may follow, and the hash must match.
func (v *verifier) finish() error {
	var one [1]byte
	for {
		n, err := v.r.Read(one[:])
		if n > 0 {
			return fmt.Errorf("read blob %s in %s: %w", v.d.Digest, v.where, checkRead(v.d, v.n+1, nil))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read blob %s in %s: %w", v.d.Digest, v.where, err)
		}
	}
	if err := checkRead(v.d, v.n, v.h); err != nil {
		return fmt.Errorf("read blob %s in %s: %w", v.d.Digest, v.where, err)
	}
	return io.EOF
}

func (v *verifier) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	return v.r.Close()
}

// WriteBlob stores the bytes r yields as the blob expected describes, through the one
// blob write path: a temp file in blobs/<alg>/, size and digest checked, mode 0444,
// fsync, rename onto the final name. When r's bytes lie in a file (an *os.File from its
// offset, or a blob of a plain tarball), blobs of 1 MiB or more are copied by the kernel
// (copy_file_range) and the copy is hashed on another core as it lands; otherwise the
// bytes are hashed while they are copied. (Inside Output.Transfer the fsync and rename
// wait for the Transfer's other blobs, and are made together.) The folder is synced by
// the next UpdateIndex, before index.json can reference the blob. A blob that is already
// present with the right size is not written again and r is not read; written reports
// which happened. On any failure nothing is left under blobs/ but, at worst, a temp
// file whose name cannot be taken for a blob. WriteBlob is idempotent and safe to call from
// several processes for the same blob.
func (l *Layout) WriteBlob(ctx context.Context, expected ocispec.Descriptor, r io.Reader) (written bool, err error) {
	if l.dir == "" {
		return false, fmt.Errorf("write blob %s to %s: %w", expected.Digest, l.path, ErrReadOnly)
	}
	if err := VerifiableDigest(expected.Digest); err != nil {
		return false, fmt.Errorf("write blob %s: %w", expected.Digest, err)
	}
	if expected.Size < 0 {
		return false, fmt.Errorf("write blob %s: %w: negative size %d", expected.Digest, ErrSizeMismatch, expected.Size)
	}
	if ok, err := l.HasBlob(expected); err != nil {
		return false, fmt.Errorf("write blob %s to %s: %w", expected.Digest, l.path, err)
	} else if ok {
		return false, nil
	}
	rel, _ := BlobPath(expected.Digest)
	final := filepath.Join(l.dir, filepath.FromSlash(rel))
	algDir := filepath.Dir(final)
	if err := mkdirBlobDirs(algDir); err != nil {
		return false, fmt.Errorf("write blob %s to %s: %w", expected.Digest, l.path, err)
	}
	f, err := newTempBlob(algDir)
	if err != nil {
		return false, fmt.Errorf("write blob %s to %s: %w", expected.Digest, l.path, err)
	}
	defer f.Discard()
	if err := copyBlobInto(ctx, f.File, r, expected); err != nil {
		return false, fmt.Errorf("write blob %s to %s: %w", expected.Digest, l.path, err)
	}
	if err := commitBlob(ctx, l, f, final); err != nil {
		return false, fmt.Errorf("write blob %s to %s: %w", expected.Digest, l.path, err)
	}
	return true, nil
}

// copyBlobInto copies the blob d from r into the new file f, checking its size and
// digest: in the kernel when r's bytes lie in a file (sourceExtent), the copied bytes
// hashed in f on another core as they land, else through user space, hashed while
// copied (verifiedCopy). Either way it starts the disk writeback behind the copy.
func copyBlobInto(ctx context.Context, f *os.File, r io.Reader, d ocispec.Descriptor) error {
	if sf, off, whole, ok := sourceExtent(r); ok && d.Size >= kernelCopyMin {
		h, err := kernelCopyBlob(ctx, f, 0, sf, off, d, true, &writebackBehind{f: f})
		if err == nil {
			err = h.wait()
			if err == nil && whole {
				err = checkSourceEnd(sf, off, d)
			}
			return err
		}
		if !errors.Is(err, errNoKernelCopy) {
			return err
		}
	}
	return verifiedCopy(ctx, newEarlyWriteback(f), r, d, true)
}

func sizeSeen(n, want int64) string {
	if n > want {
		return "more bytes"
	}
	return fmt.Sprintf("%d bytes", n)
}

// PutBlob stores b as a blob of the given media type and returns its sha256 descriptor.
func (l *Layout) PutBlob(ctx context.Context, mediaType string, b []byte) (ocispec.Descriptor, error) {
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if _, err := l.WriteBlob(ctx, d, bytes.NewReader(b)); err != nil {
		return ocispec.Descriptor{}, err
	}
	return d, nil
}

// Ingest stores the bytes r yields as a sha256 blob whose digest is learned while they
// are copied, through the same temp-file, fsync and rename steps as WriteBlob. If the
// blob was already there, the copy is dropped and the existing file kept.
func (l *Layout) Ingest(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error) {
	if l.dir == "" {
		return ocispec.Descriptor{}, fmt.Errorf("write blob to %s: %w", l.path, ErrReadOnly)
	}
	algDir := filepath.Join(l.dir, BlobsDir, string(digest.SHA256))
	if err := mkdirBlobDirs(algDir); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("write blob to %s: %w", l.path, err)
	}
	f, err := newTempBlob(algDir)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("write blob to %s: %w", l.path, err)
	}
	defer f.Discard()
	h := digest.SHA256.Digester()
	n, err := copyHashing(newEarlyWriteback(f.File), ctxio.NewReader(ctx, r), h.Hash())
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("write blob to %s: %w", l.path, err)
	}
	d := ocispec.Descriptor{MediaType: mediaType, Digest: h.Digest(), Size: n}
	if ok, _ := l.HasBlob(d); ok {
		return d, nil
	}
	final := filepath.Join(algDir, d.Digest.Encoded())
	if err := commitBlob(ctx, l, f, final); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("write blob %s to %s: %w", d.Digest, l.path, err)
	}
	return d, nil
}

package layout

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/atomicfile"
	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout/tarfs"
	"github.com/ocil-dev/ocil/lock"
)

// IsTarballPath reports whether an output path names a tarball rather than a folder:
// it ends in .tar, .tar.gz, .tgz, .tar.zst or .tzst. No writer ever makes a folder of
// such a name (Create refuses it; see OpenOutput).
func IsTarballPath(p string) bool {
	return strings.HasSuffix(p, ".tar") || IsGzipPath(p) || IsZstdPath(p)
}

// IsGzipPath reports whether an output tarball path asks for gzip: .tar.gz or .tgz.
func IsGzipPath(p string) bool {
	return strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz")
}

// IsZstdPath reports whether an output tarball path asks for zstd: .tar.zst or .tzst.
func IsZstdPath(p string) bool {
	return strings.HasSuffix(p, ".tar.zst") || strings.HasSuffix(p, ".tzst")
}

// TarOptions say how WriteTarball writes.
type TarOptions struct {
	// Gzip compresses the tarball, on all cores.
	Gzip bool
	// Zstd compresses the tarball with zstd (the default level); Gzip wins if both are set.
	Zstd bool
	// Verify hashes every blob while it is written and fails on a mismatch.
	Verify bool
	// ModTime is the time stamp of every entry; zero means the Unix epoch. Callers pass
	// SOURCE_DATE_EPOCH here (see SourceDateEpoch).
	ModTime time.Time
	// Extra holds blobs that are not in the source layout (a rewritten index), by digest.
	// A blob listed in blobs is taken from here when it is here.
	Extra map[digest.Digest][]byte
	// Progress, when set, is called after each blob with the bytes done and in all.
	Progress func(done, total int64)
	// Files are written after oci-layout and index.json, before the blobs: the
	// manifest.json and repositories of the Docker part (see DockerOptions).
	Files []TarFile
	// LockTimeout bounds the wait for another writer of the same tarball (0:
	// DefaultLockTimeout).
	LockTimeout time.Duration
	// SplitSize, when above 0, writes the tarball as parts of at most SplitSize bytes,
	// path.001, path.002, ..., and their sha256 in path.sha256 (see writeSplitTarball);
	// the parts together are the bytes of the whole tarball.
	SplitSize int64
}

// TarFile is a small file a tarball carries beside the layout.
type TarFile struct {
	Name string
	Data []byte
}

// SourceDateEpoch reads SOURCE_DATE_EPOCH: the time it gives, or the zero time when it is
// unset or empty.
func SourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Time{}, nil
	}
	var sec int64
	if _, err := fmt.Sscanf(v, "%d", &sec); err != nil || fmt.Sprint(sec) != v {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w: want whole seconds since 1970", v, ErrInvalidOption)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// WriteTarball writes a layout tarball at path holding oci-layout, the given index.json
// bytes and the blobs of src that blobs lists. The bytes depend only on the inputs: entry
// names are relative without "./", oci-layout and index.json come first, then the blobs
// sorted by name; every entry is a regular file with mode 0644, owner 0:0, no user or
// group name, and ModTime. It is written to a temp file beside path, fsynced and renamed
// at the end, so path holds the old tarball or the new one, never a part. Blobs are read
// straight from src (each byte once); with Verify they are hashed on the way and a
// mismatch fails the write. In an uncompressed tarball, blobs of 1 MiB or more that lie
// in a file are copied into it by the kernel (copy_file_range), and with Verify the
// bytes copied are hashed in the new tarball on the other cores while the next blob is
// copied. It holds path+".lock" exclusively while it writes (as an
// Output on a tarball does), and removes what killed writers of path left beside it.
// With opts.SplitSize the same bytes go into parts (see TarOptions.SplitSize), put in
// place as a set; a whole write removes the parts of an older split write of path.
func WriteTarball(ctx context.Context, path string, src *Layout, indexJSON []byte, blobs []ocispec.Descriptor, opts TarOptions) (err error) {
	release, err := lockTarball(ctx, path, opts.LockTimeout)
	if err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	defer func() { release(err) }()
	return writeTarball(ctx, path, src, indexJSON, blobs, opts)
}

// lockTarball takes the exclusive lock of the tarball path (path+".lock", never through a
// symbolic link) and then removes the leftovers of writers of path that were killed: temp
// files and stage folders beside it. Every writer of path holds this lock, so once it is
// held nothing else is using them.
//
// release takes the write's outcome: when the write failed and left no tarball at path,
// a lock file this call created is removed before the lock is released, so a failed
// write into a new name leaves nothing beside it. Removing it is safe: a writer waiting
// on the removed file finds, once it holds it, that the path no longer names it, and
// takes the lock anew (package lock re-checks the path after every acquisition).
func lockTarball(ctx context.Context, path string, timeout time.Duration) (release func(error), err error) {
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	lockPath := path + ".lock"
	_, statErr := os.Lstat(lockPath)
	created := errors.Is(statErr, fs.ErrNotExist)
	lk, err := lock.Acquire(ctx, lockPath, lock.Exclusive, timeout)
	if err != nil {
		return nil, err
	}
	if err := removeTarballLeftovers(path); err != nil {
		lk.Release()
		return nil, err
	}
	return func(failed error) {
		if failed != nil && created {
			if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) && !tarfs.SplitExists(path) {
				os.Remove(lockPath)
			}
		}
		lk.Release()
	}, nil
}

// Leftovers of a write of the tarball path are named TempPrefix+base+"-"+digits (the temp
// file of writeTarball), TempPrefix+base+"-stage-"+digits (the stage folder of an
// Output on a tarball) or TempPrefix+base+"-parts-"+digits (the parts of a split write), digits being what os.CreateTemp and os.MkdirTemp put for their "*". Nothing
// else matches: not another tarball's leftovers, even one named base+"-1.tar".
func tarballLeftover(base, name string) bool {
	if splitLeftover(base, name) {
		return true
	}
	rest, ok := strings.CutPrefix(name, TempPrefix+base+"-")
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, "stage-")
	if rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeTarballLeftovers removes the leftovers of earlier writes of the tarball path (see
// tarballLeftover). The caller holds the tarball's lock. A link among them is removed,
// not followed.
func removeTarballLeftovers(path string) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if tarballLeftover(base, e.Name()) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove the leftover of an earlier write: %w", err)
			}
		}
	}
	return nil
}

// writeTarball is WriteTarball once the tarball's lock is held.
func writeTarball(ctx context.Context, path string, src *Layout, indexJSON []byte, blobs []ocispec.Descriptor, opts TarOptions) (err error) {
	if _, err := DecodeIndex(indexJSON); err != nil {
		return fmt.Errorf("write tarball %s: index.json: %w", path, err)
	}
	if opts.SplitSize > 0 {
		return writeSplitTarball(ctx, path, src, indexJSON, blobs, opts)
	}
	f, err := atomicfile.Create(filepath.Dir(path), filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	defer f.Discard()
	if err := writeTar(ctx, newEarlyWriteback(f.File), f.File, path, src, indexJSON, blobs, opts); err != nil {
		return err
	}
	if err := f.Commit(path, 0o644, true); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	// The parts of an older split write of path would be stale beside it.
	if err := removeSplit(path); err != nil {
		return fmt.Errorf("write tarball %s: written, but %w", path, err)
	}
	return nil
}

// WriteTarballTo writes the tarball WriteTarball writes, the same bytes, to w (standard
// output, a pipe); name stands for w in messages. What w has taken when an error comes
// cannot be taken back: index.json is checked before the first byte, and a blob that
// fails its check ends the stream short, so that no reader takes it for a whole archive.
func WriteTarballTo(ctx context.Context, w io.Writer, name string, src *Layout, indexJSON []byte, blobs []ocispec.Descriptor, opts TarOptions) error {
	if _, err := DecodeIndex(indexJSON); err != nil {
		return fmt.Errorf("write tarball %s: index.json: %w", name, err)
	}
	return writeTar(ctx, w, nil, name, src, indexJSON, blobs, opts)
}

// writeTar writes the tarball's bytes to out (see WriteTarball). When out is a new file
// (file, which out writes to) and the tarball is not compressed, the file is written at
// offsets instead, and large blobs are copied into it by the kernel (fileTarWriter).
func writeTar(ctx context.Context, out io.Writer, file *os.File, path string, src *Layout, indexJSON []byte, blobs []ocispec.Descriptor, opts TarOptions) (err error) {
	seen := map[digest.Digest]bool{}
	type entry struct {
		name string
		d    ocispec.Descriptor
	}
	var entries []entry
	for _, d := range blobs {
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		p, err := BlobPath(d.Digest)
		if err != nil {
			return fmt.Errorf("write tarball %s: %w", path, err)
		}
		entries = append(entries, entry{p, d})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	bw := bufio.NewWriterSize(out, 1<<20)
	var ew tarEntryWriter
	switch {
	case opts.Gzip, opts.Zstd:
		// Compressed tarballs are seekable: one gzip member or zstd frame per entry and a
		// seek index, still one standard stream for every other reader (see tarfs).
		compression := "zstd"
		if opts.Gzip {
			compression = "gzip"
		}
		sw, err := tarfs.NewSeekableWriter(bw, compression)
		if err != nil {
			return fmt.Errorf("write tarball %s: %w", path, err)
		}
		ew = sw
	case file != nil:
		fw := newFileTarWriter(ctx, file)
		defer func() {
			if err != nil {
				fw.abort()
			}
		}()
		ew = fw
	default:
		ew = plainTarWriter{tar.NewWriter(bw)}
	}
	mtime := opts.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	header := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: mtime.UTC()}
	}
	layoutHdr, _ := EncodeJSON(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	for _, small := range append([]TarFile{{LayoutFile, layoutHdr}, {IndexFile, indexJSON}}, opts.Files...) {
		if err := ew.WriteEntry(header(small.Name, int64(len(small.Data))), func(w io.Writer) error {
			_, err := w.Write(small.Data)
			return err
		}); err != nil {
			return fmt.Errorf("write tarball %s: %w", path, err)
		}
	}
	var total, done int64
	for _, e := range entries {
		total += e.d.Size
	}
	progress.Begin("write "+filepath.Base(path), total)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if data, ok := opts.Extra[e.d.Digest]; ok {
			if int64(len(data)) != e.d.Size || digest.FromBytes(data) != e.d.Digest {
				return fmt.Errorf("write tarball %s: blob %s: %w", path, e.d.Digest, ErrDigestMismatch)
			}
			if err := ew.WriteEntry(header(e.name, e.d.Size), func(w io.Writer) error {
				_, err := w.Write(data)
				return err
			}); err != nil {
				return fmt.Errorf("write tarball %s: %w", path, err)
			}
			continue
		}
		var err error
		if fw, ok := ew.(*fileTarWriter); ok {
			err = fw.writeBlob(header(e.name, e.d.Size), src, e.d, opts.Verify)
		} else {
			err = ew.WriteEntry(header(e.name, e.d.Size), func(w io.Writer) error {
				return src.copyBlobTo(ctx, w, e.d, opts.Verify)
			})
		}
		if err != nil {
			return fmt.Errorf("write tarball %s: %w", path, err)
		}
		if done += e.d.Size; opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	if err := ew.Close(*header("", 0)); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write tarball %s: %w", path, err)
	}
	return nil
}

// tarEntryWriter writes the entries of a tarball: a plain tar, or a seekable compressed
// one (tarfs.SeekableWriter).
type tarEntryWriter interface {
	WriteEntry(hdr *tar.Header, data func(w io.Writer) error) error
	Close(hdr tar.Header) error
}

type plainTarWriter struct{ tw *tar.Writer }

func (p plainTarWriter) WriteEntry(hdr *tar.Header, data func(w io.Writer) error) error {
	if err := p.tw.WriteHeader(hdr); err != nil {
		return err
	}
	return data(p.tw)
}

func (p plainTarWriter) Close(tar.Header) error { return p.tw.Close() }

// openBlobForCopy opens the blob d for a copy of its bytes: a digest ocil can verify, a
// regular file of d's size (checkBlobFile), the errors naming the blob and the layout.
// It returns the file and its path in the layout.
func (l *Layout) openBlobForCopy(d ocispec.Descriptor) (fs.File, string, error) {
	if err := VerifiableDigest(d.Digest); err != nil {
		return nil, "", fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	p, _ := BlobPath(d.Digest)
	f, err := l.fsys.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("blob %s in %s: %w", d.Digest, l.blobWhere(p), ErrNotFound)
		}
		return nil, "", fmt.Errorf("blob %s in %s: %w", d.Digest, l.blobWhere(p), err)
	}
	if err := checkBlobFile(f, p, d); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("blob %s in %s: %w", d.Digest, l.blobWhere(p), err)
	}
	return f, p, nil
}

// copyBlobTo copies the blob d to w, exactly d.Size bytes, hashing them when verify is set.
// Without verify it reads the file raw (the caller trusts it); the size is always checked.
func (l *Layout) copyBlobTo(ctx context.Context, w io.Writer, d ocispec.Descriptor, verify bool) error {
	f, p, err := l.openBlobForCopy(d)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := verifiedCopy(ctx, w, f, d, verify); err != nil {
		return fmt.Errorf("blob %s in %s: %w", d.Digest, l.blobWhere(p), err)
	}
	return nil
}

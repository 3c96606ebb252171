package layout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/progress"
)

// LinkMode says how CopyBlob may make a blob of one layout present in another.
type LinkMode string

// Link modes.
const (
	// LinkAuto takes the cheapest method that works: a reflink, else a hard link (same file
	// system), else a copy (see LinkCopy).
	LinkAuto LinkMode = "auto"
	// LinkReflink only clones the file (FICLONE: a new inode sharing the source's extents
	// until one is written); it fails where the file system cannot.
	LinkReflink LinkMode = "reflink"
	// LinkHardlink only makes a hard link to the source file; it fails across file systems.
	LinkHardlink LinkMode = "hardlink"
	// LinkCopy always copies the bytes, in the kernel (copy_file_range) where it can. With
	// Verify the copy goes through WriteBlob, which hashes the copied bytes in the new file
	// on another core as they land (or, where the kernel cannot copy, hashes while it
	// copies through user space), so the source is read once either way.
	LinkCopy LinkMode = "copy"
)

// ParseLinkMode turns a user's word into a LinkMode. Only the four lowercase names are
// accepted; anything else, the empty string included, gives ErrInvalidOption.
func ParseLinkMode(s string) (LinkMode, error) {
	switch m := LinkMode(s); m {
	case LinkAuto, LinkReflink, LinkHardlink, LinkCopy:
		return m, nil
	}
	return "", fmt.Errorf("%w: link mode %q (want auto, reflink, hardlink or copy)", ErrInvalidOption, s)
}

// TransferOptions tune CopyBlob.
type TransferOptions struct {
	// Mode is how the blob may arrive; "" means LinkAuto.
	Mode LinkMode
	// Verify hashes every source byte once and refuses a source whose bytes do not match
	// the descriptor (ErrDigestMismatch, ErrSizeMismatch); nothing is then added to the
	// destination. Without Verify the source layout is trusted: a reflink, hard link or
	// kernel copy reads no byte in user space and carries a corrupt source blob over as it
	// is. Only its size is checked.
	Verify bool
}

// TransferMethod says how a blob arrived.
type TransferMethod string

// Transfer methods.
const (
	TransferExisting   TransferMethod = "existing"    // already present with the right size; nothing done
	TransferReflink    TransferMethod = "reflink"     // cloned (FICLONE)
	TransferHardlink   TransferMethod = "hardlink"    // hard link to the source's file
	TransferKernelCopy TransferMethod = "kernel-copy" // (*os.File).ReadFrom: copy_file_range where the kernel can
	TransferStream     TransferMethod = "stream"      // hashed and written through WriteBlob (copied by the kernel and hashed on another core where it can)
	TransferTarball    TransferMethod = "tarball"     // read from the source as a tarball output is written (Output.Transfer)
)

// TransferResult reports one CopyBlob.
type TransferResult struct {
	Method TransferMethod
	// Bytes is the blob's size when this call made it present, 0 when it was there already.
	Bytes int64
}

// CopyBlob makes the blob d of src present in l, without hashing it unless opts.Verify says
// so (see TransferOptions and LinkMode).
//
// A blob already in l with d's size is left alone (TransferExisting). Otherwise the source
// file must exist (ErrNotFound) and have d's size (ErrSizeMismatch) before anything is done.
// Whatever the method, the blob appears under its final name in one rename of a temp file
// made in l's blobs/<alg>/, after an fsync of the file (not needed for a hard link); the
// folder is synced by the next UpdateIndex. On failure the temp file is removed. Reflinked and
// copied blobs are read-only (0444).
//
// A hard link shares the source's inode: the blob keeps the source file's mode, owner and
// modification time, and any later change of the source file shows in l too. CopyBlob
// never changes a linked file's mode, since that would change the source layout's file.
//
// When src is not a folder the blob is streamed through WriteBlob, and only LinkAuto and
// LinkCopy are possible. A reflink or hard link that the file systems cannot make gives an
// error matching errors.ErrUnsupported when it was asked for by name; LinkAuto moves on to
// the next method. CopyBlob is idempotent and safe to run from several processes at once.
func (l *Layout) CopyBlob(ctx context.Context, src *Layout, d ocispec.Descriptor, opts TransferOptions) (TransferResult, error) {
	res, err := l.copyBlob(ctx, src, d, opts)
	if err != nil {
		from := src.path
		if p, perr := BlobPath(d.Digest); perr == nil {
			from = src.blobWhere(p)
		}
		return TransferResult{}, fmt.Errorf("copy blob %s from %s to %s: %w", d.Digest, from, l.path, err)
	}
	return res, nil
}

func (l *Layout) copyBlob(ctx context.Context, src *Layout, d ocispec.Descriptor, opts TransferOptions) (TransferResult, error) {
	if l.dir == "" {
		return TransferResult{}, ErrReadOnly
	}
	mode := opts.Mode
	if mode == "" {
		mode = LinkAuto
	}
	if _, err := ParseLinkMode(string(mode)); err != nil {
		return TransferResult{}, err
	}
	if err := VerifiableDigest(d.Digest); err != nil {
		return TransferResult{}, err
	}
	if d.Size < 0 {
		return TransferResult{}, fmt.Errorf("%w: negative size %d", ErrSizeMismatch, d.Size)
	}
	if err := ctx.Err(); err != nil {
		return TransferResult{}, err
	}
	if ok, err := l.HasBlob(d); err != nil {
		return TransferResult{}, err
	} else if ok {
		return TransferResult{Method: TransferExisting}, nil
	}

	rel, _ := BlobPath(d.Digest)
	c := &blobCopy{ctx: ctx, l: l, d: d, verify: opts.Verify}
	c.final = filepath.Join(l.dir, filepath.FromSlash(rel))
	c.algDir = filepath.Dir(c.final)

	if src.dir == "" {
		if mode == LinkReflink || mode == LinkHardlink {
			return TransferResult{}, fmt.Errorf("%w: a %s needs a source layout folder", errors.ErrUnsupported, mode)
		}
		f, err := src.fsys.Open(rel)
		if err != nil {
			return TransferResult{}, sourceOpenError(err, src, d.Digest)
		}
		defer f.Close()
		if err := checkSourceSize(f, d, src); err != nil {
			return TransferResult{}, err
		}
		return c.stream(f)
	}

	c.srcPath = filepath.Join(src.dir, filepath.FromSlash(rel))
	sf, err := folderFS{dir: src.dir}.open(rel, false)
	if err != nil {
		return TransferResult{}, sourceOpenError(err, src, d.Digest)
	}
	defer sf.Close()
	if err := checkSourceSize(sf, d, src); err != nil {
		return TransferResult{}, err
	}
	c.src = sf
	if err := mkdirBlobDirs(c.algDir); err != nil {
		return TransferResult{}, err
	}

	switch mode {
	case LinkReflink:
		return c.reflink()
	case LinkHardlink:
		return c.hardlink()
	case LinkCopy:
		if c.verify {
			return c.stream(sf)
		}
		return c.kernelCopy()
	}
	// LinkAuto: each link attempt checks the source's bytes (with Verify) only once the link
	// exists, so a method that turns out impossible has read nothing and no byte is hashed
	// twice.
	// What proved impossible once is not tried again for every blob.
	if !l.noReflink.Load() {
		res, err := c.reflink()
		if err == nil || !errors.Is(err, errors.ErrUnsupported) {
			return res, err
		}
		l.noReflink.Store(true)
		if err := ctx.Err(); err != nil {
			return TransferResult{}, err
		}
	}
	if _, no := l.noHardlink.Load(src.dir); !no {
		res, err := c.hardlink()
		if err == nil || !errors.Is(err, errors.ErrUnsupported) {
			return res, err
		}
		l.noHardlink.Store(src.dir, struct{}{})
		if err := ctx.Err(); err != nil {
			return TransferResult{}, err
		}
	}
	if c.verify {
		return c.stream(sf)
	}
	// (*os.File).ReadFrom falls back to a read/write loop by itself when the kernel refuses
	// copy_file_range, so an error from the kernel copy is one a streaming copy would meet
	// too: it is returned, not retried.
	return c.kernelCopy()
}

// sourceOpenError reports a source blob that cannot be opened.
func sourceOpenError(err error, src *Layout, d digest.Digest) error {
	if errors.Is(err, fs.ErrNotExist) {
		if lo := src.leftOutError(d); lo != nil {
			return fmt.Errorf("%w (in %s)", lo, src.path)
		}
		return fmt.Errorf("%w in %s", ErrNotFound, src.path)
	}
	return err
}

// checkSourceSize refuses a source file that is not a regular file of d's size.
func checkSourceSize(f fs.File, d ocispec.Descriptor, src *Layout) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("source blob in %s is not a regular file (%s)", src.path, fi.Mode().Type())
	}
	if fi.Size() != d.Size {
		return fmt.Errorf("%w: %d bytes in %s, descriptor says %d", ErrSizeMismatch, fi.Size(), src.path, d.Size)
	}
	return nil
}

// blobCopy is one CopyBlob from a source folder, once the arguments are checked.
type blobCopy struct {
	ctx     context.Context
	l       *Layout
	d       ocispec.Descriptor
	verify  bool
	srcPath string   // the source blob's file
	src     *os.File // srcPath, open, checked to be a regular file of d.Size bytes
	final   string   // the blob's path in l
	algDir  string   // l's blobs/<alg>/
}

// notPossibleError is a link the file systems cannot make. It matches errors.ErrUnsupported
// and the system's error.
type notPossibleError struct {
	what string
	err  error
}

func (e *notPossibleError) Error() string   { return e.what + ": " + e.err.Error() }
func (e *notPossibleError) Unwrap() []error { return []error{errors.ErrUnsupported, e.err} }

// reflink clones the source into a temp file, checks the source when verifying, and
// commits the clone.
func (c *blobCopy) reflink() (TransferResult, error) {
	f, err := newTempBlob(c.algDir)
	if err != nil {
		return TransferResult{}, err
	}
	defer f.Discard()
	if err := cloneFile(f.File, c.src); err != nil {
		return TransferResult{}, err
	}
	if fi, err := f.Stat(); err != nil {
		return TransferResult{}, err
	} else if fi.Size() != c.d.Size {
		return TransferResult{}, fmt.Errorf("%w: the clone has %d bytes, descriptor says %d (the source changed)", ErrSizeMismatch, fi.Size(), c.d.Size)
	}
	if err := c.checkSource(); err != nil {
		return TransferResult{}, err
	}
	if err := commitBlob(c.ctx, c.l, f, c.final); err != nil {
		return TransferResult{}, err
	}
	return TransferResult{Method: TransferReflink, Bytes: c.d.Size}, nil
}

// hardlink links the source file under a temp name, checks it when verifying, and renames
// the link onto the blob's name.
func (c *blobCopy) hardlink() (TransferResult, error) {
	tmp, err := c.linkTemp()
	if err != nil {
		return TransferResult{}, err
	}
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	// os.Link does not follow a symbolic link: make sure the new name is the file that was
	// opened and checked, not a link to it or a file that replaced it since.
	lfi, err := os.Lstat(tmp)
	if err != nil {
		return TransferResult{}, err
	}
	sfi, err := c.src.Stat()
	if err != nil {
		return TransferResult{}, err
	}
	if !os.SameFile(lfi, sfi) {
		return TransferResult{}, &notPossibleError{"hard link not possible", errors.New("the source blob's name is a symbolic link or was replaced")}
	}
	if err := c.checkSource(); err != nil {
		return TransferResult{}, err
	}
	err = os.Rename(tmp, c.final)
	// Renaming one name of an inode onto another name of the same inode does nothing and
	// succeeds, leaving tmp behind; that happens when a concurrent copy linked the same
	// source file first.
	os.Remove(tmp)
	done = true
	if err != nil {
		return TransferResult{}, err
	}
	return TransferResult{Method: TransferHardlink, Bytes: c.d.Size}, nil
}

// linkTemp makes a hard link to the source file under a fresh temp name in algDir.
func (c *blobCopy) linkTemp() (string, error) {
	for range 100 {
		tmp := filepath.Join(c.algDir, TempPrefix+strconv.FormatUint(rand.Uint64(), 36))
		err := os.Link(c.srcPath, tmp)
		if err == nil {
			return tmp, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if linkNotPossible(err) {
			return "", &notPossibleError{"hard link not possible", systemError(err)}
		}
		return "", err
	}
	return "", fmt.Errorf("no free temp name in %s", c.algDir)
}

// systemError strips the paths an *os.LinkError or *fs.PathError repeats.
func systemError(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// kernelCopy copies the source into a temp file with (*os.File).ReadFrom, which uses
// copy_file_range where it can, and commits the copy. The source is trusted: it is not
// hashed.
func (c *blobCopy) kernelCopy() (TransferResult, error) {
	f, err := newTempBlob(c.algDir)
	if err != nil {
		return TransferResult{}, err
	}
	defer f.Discard()
	// Chunks let a cancelled context stop a long copy. io.CopyN hands (*os.File).ReadFrom an
	// *io.LimitedReader over the source file, which it still copies in the kernel.
	const chunk = 16 << 20
	var n int64
	for n < c.d.Size {
		if err := c.ctx.Err(); err != nil {
			return TransferResult{}, err
		}
		m, err := io.CopyN(f.File, c.src, min(chunk, c.d.Size-n))
		n += m
		progress.Add(int(m))
		if err == io.EOF {
			break
		}
		if err != nil {
			return TransferResult{}, err
		}
	}
	if n != c.d.Size {
		return TransferResult{}, fmt.Errorf("%w: copied %d bytes, descriptor says %d (the source changed)", ErrSizeMismatch, n, c.d.Size)
	}
	if err := commitBlob(c.ctx, c.l, f, c.final); err != nil {
		return TransferResult{}, err
	}
	return TransferResult{Method: TransferKernelCopy, Bytes: c.d.Size}, nil
}

// stream copies r through WriteBlob, which hashes while copying and checks size and digest.
func (c *blobCopy) stream(r io.Reader) (TransferResult, error) {
	written, err := c.l.WriteBlob(c.ctx, c.d, r)
	if err != nil {
		return TransferResult{}, err
	}
	if !written {
		// Another writer stored the blob since HasBlob looked.
		return TransferResult{Method: TransferExisting}, nil
	}
	return TransferResult{Method: TransferStream, Bytes: c.d.Size}, nil
}

// checkSource hashes the source file in one read when verifying; see hashFile.
func (c *blobCopy) checkSource() error {
	if !c.verify {
		return nil
	}
	return hashFile(c.ctx, c.src, c.d)
}

// hashBuffers holds the buffers of hashFile: large reads keep a hash of a big blob bound by
// the hash, not by system calls.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// hashFile reads f from its start (whatever its offset) and checks that it holds exactly
// d.Size bytes that hash to d.Digest.
func hashFile(ctx context.Context, f *os.File, d ocispec.Descriptor) error {
	if err := verifiedCopy(ctx, io.Discard, io.NewSectionReader(f, 0, d.Size+1), d, true); err != nil {
		return fmt.Errorf("the source: %w", err)
	}
	return nil
}

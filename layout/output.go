package layout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/lock"
)

// OutputOptions say how an Output is opened and written.
type OutputOptions struct {
	// Existing refuses an output that does not exist yet (ErrNotFound) instead of creating
	// it: tag, untag and rm change a layout, they do not make one.
	Existing bool
	// Transfer says how Transfer brings blobs and whether it hashes them. Into a tarball,
	// blobs are linked into its stage and hashed once on the way into the new tarball.
	Transfer TransferOptions
	// Jobs is how many blobs Transfer copies at once (0: the number of CPUs, at least 2).
	Jobs int
	// LockTimeout bounds the wait for another writer of the output (0: DefaultLockTimeout).
	LockTimeout time.Duration
	// ModTime stamps the entries of a tarball output (zero: the Unix epoch).
	ModTime time.Time
	// Progress, when set, is called after each blob Transfer brings, with the bytes done
	// and in all.
	Progress func(done, total int64)
}

// Output is the one way ocil's writers change a layout: a folder, or a layout tarball
// (.tar, .tar.gz, .tgz, .tar.zst, .tzst), created when missing. Every writer (copy, merge,
// add, tag, untag, rm) writes through it, so each accepts each form and keeps the other
// entries of either.
//
// A folder output holds the writers' shared ingest lock (Session) from OpenOutput to
// Close; each SetEntry or UpdateIndex of its Layout changes index.json in one locked,
// atomic step, and Commit has nothing left to do.
//
// A tarball output holds path+".lock" exclusively from OpenOutput to Close. Its Layout is
// a stage folder beside the tarball that reads through to the tarball's current content
// (read in place, never unpacked): new blobs and index.json are written to the stage, and
// Commit writes the tarball anew from both (WriteTarball: deterministic bytes, every blob
// reachable from index.json, hashed once on the way unless Transfer.Verify is off,
// renamed into place). Until Commit the tarball is as it was; Close without Commit leaves
// it so, and Close removes the stage.
type Output struct {
	// Path is the output's path, Tag the tag the reference named ("" if none).
	Path, Tag string

	l       *Layout // where blobs and index.json are written
	opts    OutputOptions
	tarball bool
	base    *Layout // a tarball output's current content; nil when it is new
	scratch string  // a tarball output's stage folder
	release []func()
}

// ParseOutput reads an output reference OUT[:TAG]: a digest is refused (a destination
// takes a tag) and the tag must follow the ref.name grammar.
func ParseOutput(s string) (Reference, error) {
	ref, err := ParseReference(s)
	if err != nil {
		return Reference{}, err
	}
	if ref.Digest != "" {
		return Reference{}, fmt.Errorf("%s: %w: a destination takes a tag, not a digest", s, ErrInvalidReference)
	}
	if ref.Tag != "" {
		if err := ValidateRefName(ref.Tag); err != nil {
			return Reference{}, fmt.Errorf("%s: %w", s, err)
		}
	}
	return ref, nil
}

// OpenOutput opens the output reference dst, OUT[:TAG] (see ParseOutput and Output). OUT
// is a folder when it is one or when it is missing and its name does not end like a
// tarball's; a tarball otherwise, or whatever its name after oci-archive:. A tarball is
// compressed as its name says (.tar.gz, .tgz: gzip; .tar.zst, .tzst: zstd); one named
// otherwise after oci-archive: keeps the compression it has (none when new). An existing
// file whose name does not end like a tarball's is refused without oci-archive:
// (ErrInvalidOption), so nothing else is ever rewritten as one. "-" is refused: standard
// output is not a layout that can be changed.
// Close the output when done, whatever happened.
func OpenOutput(ctx context.Context, dst string, opts OutputOptions) (*Output, error) {
	ref, err := ParseOutput(dst)
	if err != nil {
		return nil, err
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if ref.Path == Stdio {
		return nil, fmt.Errorf("create layout -: %w: - is standard output, which takes a tarball (ocil copy SRC -); a folder named - is ./-", ErrInvalidReference)
	}
	o := &Output{Path: ref.Path, Tag: ref.Tag, opts: opts}
	fi, statErr := os.Stat(ref.Path)
	switch {
	case statErr == nil && fi.IsDir() && ref.IsArchive():
		return nil, fmt.Errorf("write %s: %w: oci-archive: names a tarball, and this is a folder", ref.Path, ErrInvalidReference)
	case statErr == nil && fi.IsDir():
	case statErr == nil && !IsTarballPath(ref.Path) && !ref.IsArchive():
		return nil, fmt.Errorf("write %s: %w: a tarball output's name ends in .tar, .tar.gz, .tgz, .tar.zst or .tzst, which says how to compress it", ref.Path, ErrInvalidOption)
	case statErr == nil:
		o.tarball = true
	case !errors.Is(statErr, fs.ErrNotExist):
		return nil, fmt.Errorf("write %s: %w", ref.Path, statErr)
	case opts.Existing:
		return nil, fmt.Errorf("open layout %s: %w", ref.Path, ErrNotFound)
	default:
		o.tarball = IsTarballPath(ref.Path) || ref.IsArchive()
	}
	if o.tarball {
		err = o.openTarball(ctx)
	} else {
		err = o.openFolder(ctx)
	}
	if err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

func (o *Output) openFolder(ctx context.Context) error {
	var err error
	if o.opts.Existing {
		o.l, err = Open(o.Path, WithLockTimeout(o.opts.LockTimeout))
		if err == nil && o.l.dir == "" {
			err = fmt.Errorf("write %s: %w", o.Path, ErrReadOnly)
		}
	} else {
		o.l, err = Create(o.Path, WithLockTimeout(o.opts.LockTimeout))
	}
	if err != nil {
		return err
	}
	end, err := o.l.Session(ctx)
	if err != nil {
		return err
	}
	o.release = append(o.release, end)
	return nil
}

func (o *Output) openTarball(ctx context.Context) error {
	lk, err := lock.Acquire(ctx, o.Path+".lock", lock.Exclusive, o.opts.LockTimeout)
	if err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	o.release = append(o.release, func() { lk.Release() })
	if _, err := os.Stat(o.Path); err == nil {
		if o.base, err = Open(o.Path); err != nil {
			return err
		}
		if o.base.dir != "" {
			return fmt.Errorf("write %s: %w: it became a folder meanwhile", o.Path, ErrConflict)
		}
		if _, err := o.base.Index(ctx); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", o.Path, err)
	} else if o.opts.Existing {
		return fmt.Errorf("open layout %s: %w", o.Path, ErrNotFound)
	}
	o.scratch, err = os.MkdirTemp(filepath.Dir(o.Path), TempPrefix+filepath.Base(o.Path)+"-stage-")
	if err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	hdr, _ := EncodeJSON(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := os.WriteFile(filepath.Join(o.scratch, LayoutFile), hdr, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	if err := os.Mkdir(filepath.Join(o.scratch, BlobsDir), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	var fsys fs.FS = os.DirFS(o.scratch)
	if o.base != nil {
		fsys = overlayFS{upper: fsys, lower: o.base.fsys}
	}
	o.l = &Layout{path: o.Path, dir: o.scratch, fsys: fsys, lockTimeout: o.opts.LockTimeout}
	return nil
}

// Layout is the layout the output's changes are made in: the folder, or a tarball's stage.
// Its methods that write (PutBlob, CopyBlob, SetEntry, UpdateIndex, Tag, Untag, ...) are
// the output's; for a tarball they take effect at Commit.
func (o *Output) Layout() *Layout { return o.l }

// IsTarball reports whether the output is a layout tarball.
func (o *Output) IsTarball() bool { return o.tarball }

// PutBlob stores b as a blob of the output (see (*Layout).PutBlob).
func (o *Output) PutBlob(ctx context.Context, mediaType string, b []byte) (ocispec.Descriptor, error) {
	return o.l.PutBlob(ctx, mediaType, b)
}

// SetEntry puts d into the output's index.json under tag (see (*Layout).SetEntry).
func (o *Output) SetEntry(ctx context.Context, tag string, d ocispec.Descriptor) error {
	return o.l.SetEntry(ctx, tag, d)
}

// TransferBlob is one blob for Transfer: the blob Blob of the layout From.
type TransferBlob struct {
	From *Layout
	Blob ocispec.Descriptor
	// Name, when set, starts the message of an error about this blob ("input in-1").
	Name string
}

// TransferStats count what Transfer did.
type TransferStats struct {
	Blobs   int                    `json:"blobs"`
	Bytes   int64                  `json:"bytes"`
	Methods map[TransferMethod]int `json:"methods"`
}

// Transfer makes the blobs present in the output, several at a time (OutputOptions.Jobs),
// largest first so the long copies start early; a digest listed twice is brought once.
// Each blob arrives through CopyBlob. The first failure cancels the rest and is returned;
// blobs already present stay (nothing references them until index.json does).
func (o *Output) Transfer(ctx context.Context, blobs []TransferBlob) (TransferStats, error) {
	st := TransferStats{Methods: map[TransferMethod]int{}}
	var jobs []TransferBlob
	seen := map[digest.Digest]bool{}
	for _, b := range blobs {
		if !seen[b.Blob.Digest] {
			seen[b.Blob.Digest] = true
			jobs = append(jobs, b)
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Blob.Size > jobs[j].Blob.Size })
	var total int64
	for _, j := range jobs {
		total += j.Blob.Size
	}
	topts := o.opts.Transfer
	if o.tarball {
		topts.Verify = false // hashed once, on the way into the tarball (Commit)
	}
	n := o.opts.Jobs
	if n <= 0 {
		n = max(runtime.GOMAXPROCS(0), 2)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan TransferBlob)
	for range min(n, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				r, err := o.l.CopyBlob(ctx, j.From, j.Blob, topts)
				mu.Lock()
				if err != nil {
					if firstErr == nil && !errors.Is(err, context.Canceled) {
						firstErr = err
						if j.Name != "" {
							firstErr = fmt.Errorf("%s: %w", j.Name, err)
						}
					}
					cancel()
				} else {
					st.Methods[r.Method]++
					st.Blobs++
					st.Bytes += j.Blob.Size
					if o.opts.Progress != nil {
						o.opts.Progress(st.Bytes, total)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		select {
		case work <- j:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return st, firstErr
	}
	return st, ctx.Err()
}

// Commit makes the output's changes final. A folder's changes are final already (each
// index.json change is one atomic step); a tarball is written anew from its stage and
// renamed into place, unless its index.json did not change.
func (o *Output) Commit(ctx context.Context) error {
	if !o.tarball {
		return nil
	}
	idx, raw, err := o.l.readIndex()
	if err != nil {
		if !(errors.Is(err, ErrNotLayout) && isMissing(o.l.fsys, IndexFile)) {
			return fmt.Errorf("write %s: %w", o.Path, err)
		}
		idx = &ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
		idx.SchemaVersion = 2
		if raw, err = EncodeJSON(idx); err != nil {
			return err
		}
	}
	if o.base != nil {
		if _, old, err := o.base.readIndex(); err == nil && bytes.Equal(old, raw) {
			return nil
		}
	}
	blobs, err := o.l.Blobs(ctx, idx.Manifests)
	if err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	topts := TarOptions{Gzip: IsGzipPath(o.Path), Zstd: IsZstdPath(o.Path), Verify: o.opts.Transfer.Verify, ModTime: o.opts.ModTime}
	if !IsTarballPath(o.Path) && o.base != nil {
		if t, ok := o.base.fsys.(interface{ Compression() string }); ok {
			topts.Gzip, topts.Zstd = t.Compression() == "gzip", t.Compression() == "zstd"
		}
	}
	return WriteTarball(ctx, o.Path, o.l, raw, blobs, topts)
}

// Close ends the output: it releases its locks, closes a tarball's current content and
// removes its stage. Changes not committed are dropped (a folder's are already made).
// Safe to call more than once.
func (o *Output) Close() error {
	if o.base != nil {
		o.base.Close()
		o.base = nil
	}
	if o.scratch != "" {
		os.RemoveAll(o.scratch)
		o.scratch = ""
	}
	for i := len(o.release) - 1; i >= 0; i-- {
		o.release[i]()
	}
	o.release = nil
	if o.l != nil && !o.tarball {
		o.l.Close()
	}
	return nil
}

// overlayFS reads a tarball output's stage (upper) and, for what the stage lacks, the
// tarball's current content (lower).
type overlayFS struct{ upper, lower fs.FS }

func (f overlayFS) Open(name string) (fs.File, error) {
	file, err := f.upper.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return f.lower.Open(name)
	}
	return file, err
}

func (f overlayFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(f.upper, name)
	if errors.Is(err, fs.ErrNotExist) {
		return fs.Stat(f.lower, name)
	}
	return fi, err
}

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

	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout/tarfs"
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
	// Docker, for a tarball output, also writes the manifest.json and repositories of
	// docker save (Docker 25 and later) for every entry (see DockerOptions).
	Docker *DockerOptions
	// SplitSize, for a tarball output, writes it as parts of at most SplitSize bytes and
	// their checksum file (see TarOptions.SplitSize). Zero keeps the form the tarball
	// has: an existing split tarball is written again in parts of the size of its first
	// part, anything else whole.
	SplitSize int64
}

// Output is the one way ocil's writers change a layout: a folder, or a layout tarball
// (.tar, .tar.gz, .tgz, .tar.zst, .tzst), created when missing. Every writer (copy, merge,
// add, tag, untag, rm) writes through it, so each accepts each form and keeps the other
// entries of either. The change is made by Write's function, through the layout it is
// given and the output's Transfer, PutBlob and SetEntry.
//
// A folder output is written as Write (the package function) writes: inside a Session,
// each SetEntry or UpdateIndex changing index.json in one locked, atomic step; a missing
// folder is built in a stage beside it and published only when the change succeeded.
//
// A tarball output holds path+".lock" exclusively from OpenOutput to Close. Its layout is
// a stage folder beside the tarball that reads through to the tarball's current content
// (read in place, never unpacked): new blobs and index.json are written to the stage, and
// once the change succeeded the tarball is written anew from both (deterministic bytes,
// every blob reachable from index.json, hashed once on the way unless Transfer.Verify is
// off, renamed into place). Until then the tarball is as it was; Close removes the stage.
type Output struct {
	// Path is the output's path, Tag the tag the reference named ("" if none).
	Path, Tag string

	l         *Layout // where blobs and index.json are written, during Write
	opts      OutputOptions
	tarball   bool
	stage     *Layout // a tarball output's stage
	stageFS   *stageFS
	committed bool    // a tarball output was written
	base      *Layout // a tarball output's current content; nil when it is new
	scratch   string  // a tarball output's stage folder
	release   []func()
}

// errNotCommitted is the outcome of a tarball output closed without being written.
var errNotCommitted = errors.New("not written")

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
	if statErr != nil && tarfs.SplitExists(ref.Path) {
		fi, statErr = nil, nil // its parts: a tarball (tarfs.FindSplit)
	}
	switch {
	case fi == nil && statErr == nil && !IsTarballPath(ref.Path) && !ref.IsArchive():
		return nil, fmt.Errorf("write %s: %w: a tarball output's name ends in .tar, .tar.gz, .tgz, .tar.zst or .tzst, which says how to compress it", ref.Path, ErrInvalidOption)
	case fi == nil && statErr == nil:
		o.tarball = true
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
	if opts.SplitSize > 0 && !o.tarball {
		return nil, fmt.Errorf("write %s: %w: --split-size splits a tarball (DST.tar, .tar.gz, .tar.zst); %s is a folder", ref.Path, ErrInvalidOption, ref.Path)
	}
	if opts.Docker != nil && !o.tarball {
		return nil, fmt.Errorf("write %s: %w: --docker writes a tarball (DST.tar, .tar.gz, .tar.zst), for docker load, podman load and ctr import", ref.Path, ErrInvalidOption)
	}
	if o.tarball {
		err = o.openTarball(ctx)
	} else {
		err = checkFolderName(o.Path)
	}
	if err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

func (o *Output) openTarball(ctx context.Context) error {
	release, err := lockTarball(ctx, o.Path, o.opts.LockTimeout)
	if err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	o.release = append(o.release, func() {
		var failed error
		if !o.committed {
			failed = errNotCommitted // a lock file made for a tarball never written goes
		}
		release(failed)
	})
	if exists(o.Path) {
		var err error
		if o.base, err = Open(o.Path); err != nil {
			return err
		}
		if o.base.dir != "" {
			return fmt.Errorf("write %s: %w: it became a folder meanwhile", o.Path, ErrConflict)
		}
		if o.base.IsDockerSave() {
			return fmt.Errorf("write %s: %w: it is a docker save archive, which ocil reads but does not rewrite; copy it to an OCI layout first (ocil copy %s NEW.tar)", o.Path, ErrReadOnly, o.Path)
		}
		if _, err := o.base.Index(ctx); err != nil {
			return err
		}
	} else if _, err := os.Stat(o.Path); !errors.Is(err, fs.ErrNotExist) {
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
	o.stageFS = &stageFS{upper: os.DirFS(o.scratch), from: map[string]*Layout{}}
	if o.base != nil {
		o.stageFS.lower = o.base.fsys
	}
	o.stage = &Layout{path: o.Path, dir: o.scratch, fsys: o.stageFS, lockTimeout: o.opts.LockTimeout, scratch: true}
	return nil
}

// Write makes the output's change: fn makes it through l, the layout being written (the
// folder, a new folder's stage, or a tarball's stage), whose writing methods (PutBlob,
// CopyBlob, SetEntry, UpdateIndex, Tag, Untag, AddToIndex, ...) and the output's Transfer,
// PutBlob and SetEntry all write there; then the change is committed (see Output). If fn
// fails, nothing is committed: a folder that did not exist is not made, a tarball is left
// as it was. When another writer creates a missing folder meanwhile, fn runs again on that
// folder as it now is, so fn must be safe to run twice.
func (o *Output) Write(ctx context.Context, fn func(l *Layout) error) error {
	run := func(l *Layout) error {
		o.l = l
		defer func() { o.l = nil }()
		return fn(l)
	}
	if o.tarball {
		if err := run(o.stage); err != nil {
			return err
		}
		return o.commitTarball(ctx)
	}
	lopts := []Option{WithLockTimeout(o.opts.LockTimeout)}
	if o.opts.Existing {
		l, err := Open(o.Path, lopts...)
		if err != nil {
			return err
		}
		defer l.Close()
		if l.dir == "" {
			return fmt.Errorf("write %s: %w", o.Path, ErrReadOnly)
		}
		end, err := l.Session(ctx)
		if err != nil {
			return err
		}
		defer end()
		return run(l)
	}
	return Write(ctx, o.Path, run, lopts...)
}

// IsTarball reports whether the output is a layout tarball.
func (o *Output) IsTarball() bool { return o.tarball }

// PutBlob stores b as a blob of the output (see (*Layout).PutBlob); only inside Write.
func (o *Output) PutBlob(ctx context.Context, mediaType string, b []byte) (ocispec.Descriptor, error) {
	return o.l.PutBlob(ctx, mediaType, b)
}

// SetEntry puts d into the output's index.json under tag (see (*Layout).SetEntry); only
// inside Write.
func (o *Output) SetEntry(ctx context.Context, tag string, d ocispec.Descriptor) error {
	return o.l.SetEntry(ctx, tag, d)
}

// SetEntryWithReferrers is SetEntry that also records refs, in the same index.json
// change, as untagged entries and under their fallback tags (see
// (*Layout).SetEntryWithReferrers); their blobs must have been brought by Transfer first.
// Only inside Write.
func (o *Output) SetEntryWithReferrers(ctx context.Context, tag string, d ocispec.Descriptor, refs []Referrer) error {
	return o.l.SetEntryWithReferrers(ctx, tag, d, refs)
}

// SetEntries is SetEntryWithReferrers for several entries, and an index change before
// them, in one index.json change (see (*Layout).SetEntries). Only inside Write.
func (o *Output) SetEntries(ctx context.Context, change func(*ocispec.Index) error, entries ...EntryToSet) error {
	return o.l.SetEntries(ctx, change, entries...)
}

// TransferBlob is one blob for Transfer: the blob Blob of the layout From, which must stay
// open until Write returns (a tarball output reads it only when it is written).
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
// Each blob arrives through CopyBlob. Into a folder, the blobs it writes are held in
// their temp files, unsynced, until all are written; then they are synced in parallel and
// only then renamed onto their digests, so no fsync waits for another and no blob is ever
// named before its bytes are on the disk (a crash leaves temp files, which gc removes).
// The first failure cancels the rest and is returned, and every held blob is removed;
// blobs already present stay (nothing references them until index.json does). Only
// inside Write.
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
	if o.tarball {
		return o.transferToTarball(ctx, jobs) // the bytes move when the tarball is written
	}
	progress.Begin("copy", total)
	topts := o.opts.Transfer
	n := o.opts.Jobs
	if n <= 0 {
		n = max(runtime.GOMAXPROCS(0), 2)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batch := &syncBatch{l: o.l, testHook: transferTestHook}
	ctx = withSyncBatch(ctx, batch)
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
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		batch.discard()
		return st, firstErr
	}
	// The copies are written; now they are synced together and named (see syncBatch).
	if err := batch.flush(); err != nil {
		return st, fmt.Errorf("write %s: %w", o.Path, err)
	}
	return st, nil
}

// transferTestHook, when set by a test, runs before each blob a Transfer holds (see
// syncBatch.testHook).
var transferTestHook func(n int) error

// commitTarball writes the tarball anew from its stage and renames it into place, unless
// its index.json did not change.
func (o *Output) commitTarball(ctx context.Context) error {
	idx, raw, err := o.stage.readIndex()
	if err != nil {
		if !(errors.Is(err, ErrNotLayout) && isMissing(o.stage.fsys, IndexFile)) {
			return fmt.Errorf("write %s: %w", o.Path, err)
		}
		idx = &ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
		idx.SchemaVersion = 2
		if raw, err = EncodeJSON(idx); err != nil {
			return err
		}
	}
	split, baseSplit := o.opts.SplitSize, int64(0)
	if o.base != nil {
		if t, ok := o.base.fsys.(*tarfs.FS); ok && t.Split() != nil {
			baseSplit = t.Split().PartSize()
		}
	}
	if split == 0 {
		split = baseSplit // a split tarball stays split
	}
	if o.base != nil && o.opts.Docker == nil && split == baseSplit {
		if _, old, err := o.base.readIndex(); err == nil && bytes.Equal(old, raw) {
			return nil
		}
	}
	blobs, err := o.stage.Blobs(ctx, idx.Manifests)
	if err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	all := len(blobs)
	if blobs, err = o.withoutLeftOut(idx, blobs); err != nil {
		return fmt.Errorf("write %s: %w", o.Path, err)
	}
	if o.opts.Docker != nil && len(blobs) < all {
		return fmt.Errorf("write %s: %w: --docker: %s is a delta that lacks %s its base holds, and docker load needs every layer in the tarball; write a full tarball instead",
			o.Path, ErrInvalidOption, o.Path, count(all-len(blobs), "blob", "blobs"))
	}
	topts := TarOptions{Gzip: IsGzipPath(o.Path), Zstd: IsZstdPath(o.Path), Verify: o.opts.Transfer.Verify, ModTime: o.opts.ModTime,
		Progress: o.opts.Progress, SplitSize: split}
	if o.opts.Docker != nil {
		manifest, repos, err := dockerFiles(ctx, o.stage, idx, *o.opts.Docker)
		if err != nil {
			return fmt.Errorf("write %s: %w", o.Path, err)
		}
		topts.Files = []TarFile{{"manifest.json", manifest}, {"repositories", repos}}
	}
	if !IsTarballPath(o.Path) && o.base != nil {
		if t, ok := o.base.fsys.(interface{ Compression() string }); ok {
			topts.Gzip, topts.Zstd = t.Compression() == "gzip", t.Compression() == "zstd"
		}
	}
	if err := writeTarball(ctx, o.Path, o.stage, raw, blobs, topts); err != nil {
		return err
	}
	o.committed = true
	return nil
}

// withoutLeftOut drops from blobs those a delta output's index.json records as left out
// and that it does not hold (see Delta): they stay with the base.
func (o *Output) withoutLeftOut(idx *ocispec.Index, blobs []ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	d, err := DeltaOf(idx)
	if err != nil || d == nil {
		return blobs, err
	}
	left := d.set()
	var keep []ocispec.Descriptor
	for _, b := range blobs {
		if _, ok := left[b.Digest]; ok {
			has, err := o.stage.HasBlob(b)
			if err != nil {
				return nil, err
			}
			if !has {
				continue
			}
		}
		keep = append(keep, b)
	}
	return keep, nil
}

// Close ends the output: it releases a tarball's lock, closes its current content and
// removes its stage.
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
	return nil
}

// transferToTarball brings nothing into a tarball output's stage: each blob's source is
// checked (a regular file of the descriptor's size) and recorded, and the tarball is
// written from the sources at the end, each byte read once and hashed on the way
// (TransferTarball). A blob the tarball or its stage has already is TransferExisting.
func (o *Output) transferToTarball(ctx context.Context, jobs []TransferBlob) (TransferStats, error) {
	st := TransferStats{Methods: map[TransferMethod]int{}}
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := o.recordSource(j); err != nil {
			err = fmt.Errorf("copy blob %s from %s to %s: %w", j.Blob.Digest, j.From.path, o.Path, err)
			if j.Name != "" {
				err = fmt.Errorf("%s: %w", j.Name, err)
			}
			return st, err
		}
	}
	for _, j := range jobs {
		if o.stageFS.recorded(j.Blob.Digest) {
			st.Methods[TransferTarball]++
		} else {
			st.Methods[TransferExisting]++
		}
		st.Blobs++
		st.Bytes += j.Blob.Size
	}
	return st, nil
}

func (o *Output) recordSource(j TransferBlob) error {
	d := j.Blob
	if err := VerifiableDigest(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: negative size %d", ErrSizeMismatch, d.Size)
	}
	if ok, err := o.stage.HasBlob(d); err != nil || ok {
		return err
	}
	rel, _ := BlobPath(d.Digest)
	f, err := j.From.fsys.Open(rel)
	if err != nil {
		return sourceOpenError(err, j.From, d.Digest)
	}
	defer f.Close()
	if err := checkSourceSize(f, d, j.From); err != nil {
		return err
	}
	o.stageFS.record(rel, j.From)
	return nil
}

// stageFS reads a tarball output's stage: its folder (upper), then the blobs Transfer
// recorded in their source layouts (from), then the tarball's current content (lower,
// nil for a new tarball).
type stageFS struct {
	upper, lower fs.FS
	mu           sync.RWMutex
	from         map[string]*Layout // blob path -> the layout it comes from
}

func (f *stageFS) record(name string, src *Layout) {
	f.mu.Lock()
	f.from[name] = src
	f.mu.Unlock()
}

func (f *stageFS) recorded(d digest.Digest) bool {
	rel, _ := BlobPath(d)
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, ok := f.from[rel]
	return ok
}

// source is the layout a blob Transfer recorded comes from, nil for any other file.
func (f *stageFS) source(name string) *Layout {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.from[name]
}

// next is the file system after upper that serves name, nil when none does.
func (f *stageFS) next(name string) fs.FS {
	f.mu.RLock()
	src := f.from[name]
	f.mu.RUnlock()
	if src != nil {
		return src.fsys
	}
	return f.lower
}

func (f *stageFS) Open(name string) (fs.File, error) {
	file, err := f.upper.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		if next := f.next(name); next != nil {
			return next.Open(name)
		}
	}
	return file, err
}

func (f *stageFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(f.upper, name)
	if errors.Is(err, fs.ErrNotExist) {
		if next := f.next(name); next != nil {
			return fs.Stat(next, name)
		}
	}
	return fi, err
}

package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/atomicfile"
	"github.com/ocil-dev/ocil/internal/safeopen"
	"github.com/ocil-dev/ocil/lock"
)

// GCOptions say what GC may remove.
type GCOptions struct {
	// DryRun lists what would be removed and removes nothing.
	DryRun bool
	// Grace spares blobs and temp files changed less than this long ago. ocil's own
	// writers are kept out by the ingest lock; the grace period protects writers that
	// do not know it (oras, buildkit, skopeo) between writing a blob and index.json.
	// Zero removes everything unreachable.
	Grace time.Duration
}

// Removed is one file GC removed (or, in a dry run, would remove).
type Removed struct {
	Path string `json:"path"` // slash-separated, relative to the layout
	Size int64  `json:"size"`
	// Kind is "blob" (unreachable from index.json) or "temp" (left by a killed writer).
	Kind string `json:"kind"`
}

// GCResult lists what GC did.
type GCResult struct {
	Removed []Removed `json:"removed"`
	Bytes   int64     `json:"bytes"`
	// Spared counts unreachable files kept because they are younger than the grace period.
	Spared int `json:"spared"`
	// Referrers lists the index.json entries dropped because their subject is gone:
	// untagged referrer entries and fallback tags (see Layout.Referrers).
	Referrers []ocispec.Descriptor `json:"referrers,omitempty"`
}

// GC removes the blobs that nothing in index.json reaches and the temp files killed
// writers left, in sorted order. It takes the ingest lock exclusively (see Session), so no
// ocil writer is between writing a blob and referencing it while GC decides, and the
// index.json lock, so no writer is between writing index.json's temp file and renaming
// it; it waits for running writers at most the lock timeout.
//
// GC removes nothing unless it can tell garbage from what is in use: an index or manifest
// that is missing or cannot be read stops it (ErrNotFound or the read error, naming the
// blob), since the blobs it references would look unreachable. It removes only what is
// the layout's own, and never through a symbolic link: a blobs/ folder or a folder in it
// that is a link refuses the whole run (ErrUnsafeFile, naming it); in blobs/<alg>/ only
// regular files are removed, for a known algorithm (sha256, sha512, blake3), and only
// when the name is that algorithm's hex encoding or a temp file (.ocil-tmp-*); in the
// layout folder, only the temp files of index.json and oci-layout. A symbolic link is
// never removed, nor a file that one in blobs/ leads to. Other files (other tools'
// folders, lock files, notes) are never touched.
func (l *Layout) GC(ctx context.Context, opts GCOptions) (*GCResult, error) {
	if l.dir == "" {
		return nil, fmt.Errorf("gc %s: %w", l.path, ErrReadOnly)
	}
	release, err := l.lockIngest(ctx, lock.Exclusive)
	if err != nil {
		return nil, fmt.Errorf("gc %s: %w", l.path, err)
	}
	defer release()
	// The index lock too, taken after the ingest lock as writers take them: no writer is
	// between its temp files and its index.json change while gc removes temp files.
	releaseIndex, err := l.lockIndex(ctx)
	if err != nil {
		return nil, fmt.Errorf("gc %s: %w", l.path, err)
	}
	defer releaseIndex()

	idx, dropped, err := l.gcReferrers(ctx, opts.DryRun)
	if err != nil {
		return nil, fmt.Errorf("gc %s: %w", l.path, err)
	}
	live := map[digest.Digest]bool{}
	err = l.Walk(ctx, idx.Manifests, func(ctx context.Context, n *Node) error {
		if n.Missing {
			return fmt.Errorf("%w: %s %s is missing, so the blobs it references cannot be told from garbage; restore it or remove the entries that reach it",
				ErrNotFound, kindOf(n.Descriptor.MediaType), n.Descriptor.Digest)
		}
		live[n.Descriptor.Digest] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gc %s: nothing removed: %w", l.path, err)
	}

	s := &sweep{l: l, opts: opts, now: time.Now(), live: live}
	defer s.close()
	if err := s.find(); err != nil {
		return nil, fmt.Errorf("gc %s: nothing removed: %w", l.path, err)
	}
	res := &GCResult{Removed: []Removed{}, Spared: s.spared, Referrers: dropped}
	sort.Slice(s.doomed, func(i, j int) bool { return s.doomed[i].Path < s.doomed[j].Path })
	synced := map[*os.Root]bool{}
	for _, c := range s.doomed {
		if !opts.DryRun {
			if err := c.dir.Remove(c.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, fmt.Errorf("gc %s: %w", l.path, err)
			}
			synced[c.dir] = false
		}
		res.Removed = append(res.Removed, c.Removed)
		res.Bytes += c.Size
	}
	for dir := range synced {
		atomicfile.SyncDir(dir.Name())
	}
	return res, nil
}

// sweep finds what GC removes. Every folder is opened as an os.Root and every name is
// looked at and removed relative to it, so a folder replaced by a link while GC runs
// cannot redirect a removal.
type sweep struct {
	l      *Layout
	opts   GCOptions
	now    time.Time
	live   map[digest.Digest]bool
	roots  []*os.Root
	doomed []candidate
	spared int
	// linked are the files symbolic links in blobs/ lead to; they are kept.
	linked []fs.FileInfo
}

type candidate struct {
	Removed
	dir  *os.Root
	name string
}

func (s *sweep) close() {
	for _, r := range s.roots {
		r.Close()
	}
}

func (s *sweep) find() error {
	root, err := os.OpenRoot(s.l.dir)
	if err != nil {
		return err
	}
	s.roots = append(s.roots, root)
	ents, err := readDirIn(root)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if isLayoutTemp(e.Name()) && e.Type().IsRegular() {
			s.consider(root, e.Name(), e.Name(), "temp")
		}
	}
	blobs, err := s.openFolder(root, BlobsDir, BlobsDir)
	if err != nil || blobs == nil {
		return err
	}
	algs, err := readDirIn(blobs)
	if err != nil {
		return err
	}
	for _, a := range algs {
		rel := path.Join(BlobsDir, a.Name())
		n, known := encodedLength(a.Name())
		if !known && a.Type()&fs.ModeSymlink == 0 {
			continue // not an algorithm's folder: not ocil's to clean
		}
		dir, err := s.openFolder(blobs, a.Name(), rel)
		if err != nil || dir == nil {
			return err
		}
		ents, err := readDirIn(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			name := e.Name()
			switch {
			case e.Type()&fs.ModeSymlink != 0:
				// A link inside the layout is how some tools share one file between
				// blobs: what it leads to stays. One leading outside is refused by
				// every read; it is not followed here either.
				if fi, err := root.Stat(path.Join(rel, name)); err == nil {
					s.linked = append(s.linked, fi)
				}
			case !e.Type().IsRegular():
			case strings.HasPrefix(name, TempPrefix):
				s.consider(dir, path.Join(rel, name), name, "temp")
			case isLowerHex(name, n) && !s.live[digest.Digest(a.Name()+":"+name)]:
				s.consider(dir, path.Join(rel, name), name, "blob")
			}
		}
	}
	kept := s.doomed[:0]
	for _, c := range s.doomed {
		if !s.isLinked(c.dir, c.name) {
			kept = append(kept, c)
		}
	}
	s.doomed = kept
	return nil
}

// openFolder opens the folder name of parent as a root of its own, refusing a symbolic
// link. It returns nil when there is no such folder.
func (s *sweep) openFolder(parent *os.Root, name, rel string) (*os.Root, error) {
	fi, err := parent.Lstat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := parent.Readlink(name)
		return nil, fmt.Errorf("%w: %s is a symbolic link to %q; gc removes nothing through a link", ErrUnsafeFile, rel, target)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is %s, not a folder", ErrUnsafeFile, rel, safeopen.Describe(fi.Mode()))
	}
	r, err := parent.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	s.roots = append(s.roots, r)
	if now, err := r.Stat("."); err != nil || !os.SameFile(fi, now) {
		return nil, fmt.Errorf("%w: %s was replaced while gc ran", ErrUnsafeFile, rel)
	}
	return r, nil
}

// consider adds a file to what is removed, unless the grace period spares it.
func (s *sweep) consider(dir *os.Root, rel, name, kind string) {
	fi, err := dir.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	if s.opts.Grace > 0 && s.now.Sub(changed(fi)) < s.opts.Grace {
		s.spared++
		return
	}
	s.doomed = append(s.doomed, candidate{Removed{Path: rel, Size: fi.Size(), Kind: kind}, dir, name})
}

func (s *sweep) isLinked(dir *os.Root, name string) bool {
	if len(s.linked) == 0 {
		return false
	}
	fi, err := dir.Lstat(name)
	if err != nil {
		return true
	}
	for _, t := range s.linked {
		if os.SameFile(fi, t) {
			return true
		}
	}
	return false
}

func readDirIn(r *os.Root) ([]fs.DirEntry, error) {
	f, err := r.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// isLayoutTemp reports whether name, in the layout folder, is the temp file of an
// index.json or oci-layout write (see atomicfile.WriteFile). Other temp files there may be a
// tarball being written beside the layout under its own lock.
func isLayoutTemp(name string) bool {
	return strings.HasPrefix(name, TempPrefix+IndexFile+"-") || strings.HasPrefix(name, TempPrefix+LayoutFile+"-")
}

// encodedLength is the length of the hex encoding of a known algorithm's digests.
func encodedLength(alg string) (int, bool) {
	if n, ok := verifiable[digest.Algorithm(alg)]; ok {
		return n, true
	}
	n, ok := registeredLength[alg]
	return n, ok
}

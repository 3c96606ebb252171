package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

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
// ocil writer is between writing a blob and referencing it while GC decides; it waits for
// running writers at most the lock timeout. Index and manifest blobs that cannot be read
// stop GC before it removes anything: an unreadable graph could hide what is reachable.
// Files GC does not know (other tools' folders, lock files) are never touched.
func (l *Layout) GC(ctx context.Context, opts GCOptions) (*GCResult, error) {
	if l.dir == "" {
		return nil, fmt.Errorf("gc %s: %w", l.path, ErrReadOnly)
	}
	release, err := l.lockIngest(ctx, lock.Exclusive)
	if err != nil {
		return nil, fmt.Errorf("gc %s: %w", l.path, err)
	}
	defer release()

	idx, dropped, err := l.gcReferrers(ctx, opts.DryRun)
	if err != nil {
		return nil, fmt.Errorf("gc %s: nothing removed: %w", l.path, err)
	}
	live := map[digest.Digest]bool{}
	err = l.Walk(ctx, idx.Manifests, func(ctx context.Context, n *Node) error {
		live[n.Descriptor.Digest] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gc %s: nothing removed: %w", l.path, err)
	}
	res := &GCResult{Removed: []Removed{}, Referrers: dropped}
	now := time.Now()
	blobsDir := filepath.Join(l.dir, BlobsDir)
	algs, err := os.ReadDir(blobsDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return res, nil
		}
		return nil, fmt.Errorf("gc %s: %w", l.path, err)
	}
	var doomed []Removed
	for _, a := range algs {
		if !a.IsDir() {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(blobsDir, a.Name()))
		if err != nil {
			return nil, fmt.Errorf("gc %s: %w", l.path, err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			kind := ""
			switch {
			case strings.HasPrefix(e.Name(), TempPrefix):
				kind = "temp"
			case ValidateDigest(digest.Digest(a.Name()+":"+e.Name())) == nil:
				if !live[digest.Digest(a.Name()+":"+e.Name())] {
					kind = "blob"
				}
			}
			if kind == "" {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			if opts.Grace > 0 && now.Sub(changed(fi)) < opts.Grace {
				res.Spared++
				continue
			}
			doomed = append(doomed, Removed{Path: path.Join(BlobsDir, a.Name(), e.Name()), Size: fi.Size(), Kind: kind})
		}
	}
	sort.Slice(doomed, func(i, j int) bool { return doomed[i].Path < doomed[j].Path })
	for _, r := range doomed {
		if !opts.DryRun {
			if err := os.Remove(filepath.Join(l.dir, filepath.FromSlash(r.Path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, fmt.Errorf("gc %s: %w", l.path, err)
			}
		}
		res.Removed = append(res.Removed, r)
		res.Bytes += r.Size
	}
	if !opts.DryRun && len(res.Removed) > 0 {
		for _, a := range algs {
			if a.IsDir() {
				syncDir(filepath.Join(blobsDir, a.Name()))
			}
		}
	}
	return res, nil
}

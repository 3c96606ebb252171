package layout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/atomicfile"
)

// UpdateIndex is the one way index.json changes. It takes the layout's exclusive lock
// (the layout folder and index.json.lock, waiting at most the lock timeout), reads index.json fresh, lets fn
// change it, and writes the result atomically and durably. Entry order is what fn leaves;
// nothing is re-sorted or rebuilt from a map. The written file always has schemaVersion 2
// and the OCI index mediaType. If fn returns an error, or the result has an invalid
// descriptor, index.json is left as it was. A missing index.json is treated as an empty
// index (so Create can use this too). Readers need no lock: they see the old file or the new.
func (l *Layout) UpdateIndex(ctx context.Context, fn func(*ocispec.Index) error) error {
	if l.dir == "" {
		return fmt.Errorf("update %s: %w", l.indexName(), ErrReadOnly)
	}
	release, err := l.lockIndex(ctx)
	if err != nil {
		return fmt.Errorf("update %s: %w", l.indexName(), err)
	}
	defer release()
	return l.updateIndexLocked(fn)
}

// updateIndexLocked is UpdateIndex for a caller that holds the index lock already (gc).
func (l *Layout) updateIndexLocked(fn func(*ocispec.Index) error) error {
	idx, old, err := l.readIndex()
	switch {
	case err == nil:
	case errors.Is(err, ErrNotLayout) && isMissing(l.fsys, IndexFile):
		idx, old = &ocispec.Index{}, nil
	default:
		return fmt.Errorf("update %s: %w", l.indexName(), err)
	}
	if err := fn(idx); err != nil {
		return err
	}
	idx.SchemaVersion = 2
	idx.MediaType = ocispec.MediaTypeImageIndex
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	for i, d := range idx.Manifests {
		if err := checkDescriptor(d); err != nil {
			return fmt.Errorf("update %s: manifests[%d]: %w", l.indexName(), i, err)
		}
	}
	b, err := EncodeJSON(idx)
	if err != nil {
		return fmt.Errorf("update %s: %w", l.indexName(), err)
	}
	if old != nil && bytes.Equal(b, old) {
		return nil
	}
	if l.scratch {
		// A tarball output's stage: the tarball written from it is made durable instead.
		f, err := atomicfile.Create(l.dir, IndexFile+"-*")
		if err != nil {
			return fmt.Errorf("update %s: %w", l.indexName(), err)
		}
		defer f.Discard()
		f.NoSync = true
		if _, err := f.Write(b); err != nil {
			return fmt.Errorf("update %s: %w", l.indexName(), err)
		}
		if err := f.Commit(filepath.Join(l.dir, IndexFile), 0o644, false); err != nil {
			return fmt.Errorf("update %s: %w", l.indexName(), err)
		}
		return nil
	}
	if err := l.syncBlobDirs(); err != nil {
		return fmt.Errorf("update %s: %w", l.indexName(), err)
	}
	if err := atomicfile.WriteFile(filepath.Join(l.dir, IndexFile), b, 0o644); err != nil {
		return fmt.Errorf("update %s: %w", l.indexName(), err)
	}
	return nil
}

func isMissing(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return errors.Is(err, fs.ErrNotExist)
}

// syncBlobDirs makes every blob renamed into place so far durable: blob writes rename
// without syncing their folder, and this runs once before index.json may reference them.
func (l *Layout) syncBlobDirs() error {
	blobs := filepath.Join(l.dir, BlobsDir)
	ents, err := os.ReadDir(blobs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := atomicfile.SyncDir(filepath.Join(blobs, e.Name())); err != nil {
				return fmt.Errorf("sync %s: %w", filepath.Join(blobs, e.Name()), err)
			}
		}
	}
	return atomicfile.SyncDir(blobs)
}

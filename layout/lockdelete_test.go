//go:build !windows

package layout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

// Deleting index.json.lock while a writer holds it does not let a second writer into the
// read-modify-write: the layout folder is locked too. With only the file locked, the
// second writer would lock a new index.json.lock and both would write index.json.
func TestIndexLockSurvivesDeletedLockFile(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	d1 := b.Blob("text/plain", []byte("one"))
	d2 := b.Blob("text/plain", []byte("two"))
	l1, _ := layout.Open(b.Dir)
	inside, finish := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- l1.UpdateIndex(ctx, func(idx *ocispec.Index) error {
			close(inside)
			<-finish
			idx.Manifests = append(idx.Manifests, tl.Tag(d1, "one"))
			return nil
		})
	}()
	<-inside
	if err := os.Remove(filepath.Join(b.Dir, layout.LockFile)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	l2, _ := layout.Open(b.Dir, layout.WithLockTimeout(200*time.Millisecond))
	err := l2.SetEntry(ctx, "two", d2)
	if !errors.Is(err, layout.ErrLocked) {
		t.Fatalf("a second writer got in while the first held the lock: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(b.Dir, "index.json")); !bytes.Equal(before, now) {
		t.Fatalf("index.json changed under the first writer: %s", now)
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l3, _ := layout.Open(b.Dir)
	if err := l3.SetEntry(ctx, "two", d2); err != nil {
		t.Fatal(err)
	}
	idx, err := l3.Index(ctx)
	if err != nil || len(idx.Manifests) != 2 {
		t.Fatalf("index.json lists %+v, %v; want both entries", idx, err)
	}
}

// Deleting ocil-ingest.lock while a writer is in its session does not let gc in: blobs/
// is locked too, so gc waits and the writer's unreferenced blob is kept.
func TestIngestLockSurvivesDeletedLockFile(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	l, _ := layout.Open(b.Dir)
	end, err := l.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	d, err := l.PutBlob(ctx, "text/plain", []byte("not referenced yet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(b.Dir, layout.IngestLockFile)); err != nil {
		t.Fatal(err)
	}
	gcl, _ := layout.Open(b.Dir, layout.WithLockTimeout(200*time.Millisecond))
	res, err := gcl.GC(ctx, layout.GCOptions{})
	if !errors.Is(err, layout.ErrLocked) {
		t.Fatalf("gc ran while a writer was in its session: %+v, %v", res, err)
	}
	if ok, err := l.HasBlob(d); !ok || err != nil {
		t.Fatalf("the writer's blob is gone: %v", err)
	}
	if err := l.SetEntry(ctx, "fresh", d); err != nil {
		t.Fatal(err)
	}
	end()
	if _, err := gcl.GC(ctx, layout.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.HasBlob(d); !ok {
		t.Fatal("gc removed a referenced blob")
	}
}

package layout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name  string
		setup func(b *tl.Builder)
		want  error // nil: opens and reads index.json
	}{
		{"A1 empty index", func(b *tl.Builder) {}, nil},
		{"A2 blobs missing (readers tolerate it)", func(b *tl.Builder) { os.RemoveAll(filepath.Join(b.Dir, "blobs")) }, nil},
		{"A3 version 1.1.0", func(b *tl.Builder) { b.WriteFile("oci-layout", []byte(`{"imageLayoutVersion":"1.1.0"}`)) }, layout.ErrNotLayout},
		{"A3 version number", func(b *tl.Builder) { b.WriteFile("oci-layout", []byte(`{"imageLayoutVersion":1.0}`)) }, layout.ErrNotLayout},
		{"A3 array", func(b *tl.Builder) { b.WriteFile("oci-layout", []byte(`[]`)) }, layout.ErrNotLayout},
		{"A3 missing", func(b *tl.Builder) { os.Remove(filepath.Join(b.Dir, "oci-layout")) }, layout.ErrNotLayout},
		{"A4 extra fields", func(b *tl.Builder) { b.WriteFile("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0","x":1}`)) }, nil},
		{"A5 index.json with Docker list type", func(b *tl.Builder) {
			b.WriteFile("index.json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}`))
		}, layout.ErrInvalidDocument},
		{"A6 manifests null", func(b *tl.Builder) { b.WriteFile("index.json", []byte(`{"schemaVersion":2,"manifests":null}`)) }, layout.ErrInvalidDocument},
		{"A9 extra root files", func(b *tl.Builder) {
			for _, f := range []string{"manifest.json", "repositories", ".ocil.lock", "README", "ingest/x"} {
				b.WriteFile(f, []byte("x"))
			}
		}, nil},
		{"index.json missing", func(b *tl.Builder) { os.Remove(filepath.Join(b.Dir, "index.json")) }, layout.ErrNotLayout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tl.New(t)
			tt.setup(b)
			l, err := layout.Open(b.Dir)
			if err == nil {
				_, err = l.Index(context.Background())
			}
			if tt.want == nil && err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := layout.Open(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("missing path: %v, want ErrNotFound", err)
	}
}

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "layout")
	l, err := layout.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := os.ReadFile(filepath.Join(dir, "oci-layout"))
	idx, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if string(hdr) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Fatalf("oci-layout = %s", hdr)
	}
	if string(idx) != `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}` {
		t.Fatalf("index.json = %s", idx)
	}
	if fi, err := os.Stat(filepath.Join(dir, "blobs")); err != nil || !fi.IsDir() {
		t.Fatalf("blobs/: %v", err)
	}
	// Idempotent: a layout with content is left as it is.
	d, err := l.PutBlob(context.Background(), ocispec.MediaTypeImageManifest, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.UpdateIndex(context.Background(), func(i *ocispec.Index) error {
		i.Manifests = append(i.Manifests, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if _, err := layout.Create(dir); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Fatalf("Create rewrote index.json: %s", after)
	}
	// A folder with other content is not turned into a layout.
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main"), 0o644)
	if _, err := layout.Create(src); !errors.Is(err, layout.ErrNotLayout) {
		t.Fatalf("Create in a source folder: %v, want ErrNotLayout", err)
	}
	if ents, _ := os.ReadDir(src); len(ents) != 1 {
		t.Fatalf("Create wrote into the folder it refused: %d entries", len(ents))
	}
}

func TestWalk(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	m := b.Image(tl.P("linux", "amd64", "", ""), "a")
	idx := b.Index(m, m) // the same manifest twice
	l, _ := layout.Open(b.Dir)
	var visits []string
	err := l.Walk(ctx, []ocispec.Descriptor{idx}, func(ctx context.Context, n *layout.Node) error {
		kind := "blob"
		switch {
		case layout.IsIndex(n.Descriptor.MediaType):
			kind = "index"
		case layout.IsManifest(n.Descriptor.MediaType):
			kind = "manifest"
		}
		if !n.Seen && (kind == "blob") != (n.Raw == nil) {
			t.Errorf("%s: Raw set for a leaf or missing for a document", n.Descriptor.Digest)
		}
		if n.Seen {
			kind += "(seen)"
		}
		visits = append(visits, kind)
		return nil
	})
	want := []string{"index", "manifest", "blob", "blob", "manifest(seen)"}
	if err != nil || len(visits) != len(want) {
		t.Fatalf("visits %v, %v; want %v", visits, err, want)
	}
	for i := range want {
		if visits[i] != want[i] {
			t.Fatalf("visits %v, want %v", visits, want)
		}
	}

	// A missing manifest is reported, not fatal.
	gone := b.Image(nil, "gone")
	os.Remove(filepath.Join(b.Dir, "blobs", "sha256", gone.Digest.Encoded()))
	missing := false
	if err := l.Walk(ctx, []ocispec.Descriptor{b.Index(gone)}, func(ctx context.Context, n *layout.Node) error {
		missing = missing || n.Missing
		return nil
	}); err != nil || !missing {
		t.Fatalf("missing manifest: walk %v, reported %v", err, missing)
	}
}

func TestWalkDepth(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	l, _ := layout.Open(b.Dir)
	// A chain of MaxDepth+2 nested indexes.
	d := b.Image(nil, "leaf")
	for i := 0; i < layout.MaxDepth+2; i++ {
		d = b.Index(d)
	}
	if err := l.Walk(ctx, []ocispec.Descriptor{d}, func(context.Context, *layout.Node) error { return nil }); !errors.Is(err, layout.ErrTooDeep) {
		t.Fatalf("deep chain: %v, want ErrTooDeep", err)
	}
	// MaxDepth levels are fine.
	d = b.Image(nil, "leaf")
	for i := 0; i < layout.MaxDepth; i++ {
		d = b.Index(d)
	}
	if err := l.Walk(ctx, []ocispec.Descriptor{d}, func(context.Context, *layout.Node) error { return nil }); err != nil {
		t.Fatalf("chain of MaxDepth: %v", err)
	}
}

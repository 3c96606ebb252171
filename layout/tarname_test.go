package layout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocil-dev/ocil/layout"
)

// TestCreateRefusesTarballNames: Create never makes a folder whose name ends like a
// tarball, with or without a trailing slash; an existing layout folder of such a name
// (made by an older ocil) still opens.
func TestCreateRefusesTarballNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"x.tar", "x.tar.gz", "x.tgz", "x.tar.zst", "x.tzst", "x.tar/", "sub/x.tar.zst"} {
		p := filepath.Join(dir, name)
		if name[len(name)-1] == '/' {
			p += "/"
		}
		_, err := layout.Create(p)
		if !errors.Is(err, layout.ErrInvalidOption) {
			t.Errorf("Create(%q) = %v, want ErrInvalidOption", name, err)
		}
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Create(%q) made it (%v)", name, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "sub")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create made the parent folder (%v)", err)
	}
	for _, name := range []string{"x.tar.d", "x.zst", "tar", "x.tarball"} {
		if _, err := layout.Create(filepath.Join(dir, name)); err != nil {
			t.Errorf("Create(%q) = %v", name, err)
		}
	}
	old := filepath.Join(dir, "old.tar")
	os.MkdirAll(filepath.Join(old, "blobs"), 0o755)
	os.WriteFile(filepath.Join(old, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(old, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`), 0o644)
	if _, err := layout.Create(old); err != nil {
		t.Errorf("Create on an existing layout folder named old.tar = %v", err)
	}
}

// TestCopyToZstdTarball: copy to .tar.zst writes a zstd tarball that reads back with the
// same entries, and the same inputs give the same bytes.
func TestCopyToZstdTarball(t *testing.T) {
	ctx := context.Background()
	src := "../testdata/fixtures/regctl-index:v1"
	var first []byte
	for i := range 2 {
		out := filepath.Join(t.TempDir(), "out.tar.zst")
		res, err := layout.ResolveRef(ctx, src, layout.ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = layout.Copy(ctx, res, out, layout.CopyOptions{})
		res.Layout.Close()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			t.Fatalf("out.tar.zst starts % x, not with the zstd magic", b[:4])
		}
		l, err := layout.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Resolve(ctx, layout.Reference{Path: out, Tag: "v1"}, layout.ResolveOptions{}); err != nil {
			t.Errorf("resolve v1 in the copy: %v", err)
		}
		l.Close()
		if i == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Error("two copies differ")
		}
	}
}

package layout_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// TestDockerPartKeepsTarballSeekable: the manifest.json and repositories a --docker
// output adds to a .tar.gz or .tar.zst do not cost it its seek index: it is still read in
// place, and they are not among the layout's files.
func TestDockerPartKeepsTarballSeekable(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	layer := b.Blob(ocispec.MediaTypeImageLayer, []byte("not really a tar, never unpacked here"))
	cfg := b.JSON(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{string(layer.Digest)}}})
	img := b.Manifest(ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}})
	img.Annotations = map[string]string{ocispec.AnnotationRefName: "registry.example.com/team/app:1"}
	b.SetIndex(img)
	src, err := layout.ResolveRef(ctx, b.Dir+":registry.example.com/team/app:1", layout.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Layout.Close()
	for _, name := range []string{"out.tar.gz", "out.tar.zst"} {
		out := filepath.Join(t.TempDir(), name)
		if _, err := layout.Copy(ctx, src, out, layout.CopyOptions{Docker: &layout.DockerOptions{}, Transfer: layout.TransferOptions{Verify: true}}); err != nil {
			t.Fatal(err)
		}
		fsys, err := tarfs.Open(out, tarfs.Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if !fsys.Seekable() {
			t.Errorf("%s is not read in place", name)
		}
		for _, extra := range []string{"manifest.json", "repositories"} {
			if _, err := fs.Stat(fsys, extra); err == nil {
				t.Errorf("%s: %s is served as a layout file", name, extra)
			}
		}
		fsys.Close()
	}
}

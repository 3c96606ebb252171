package artifact_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/artifact"
)

// pullLayer is one layer of a manifest built for a pull test.
type pullLayer struct {
	title   *string // nil: no title annotation
	body    []byte
	packed  bool // a gzipped tar marked for unpacking
	corrupt bool // the blob's bytes do not match its digest
}

func title(s string) *string { return &s }

// packTar builds a gzipped tar of hand-written headers and bodies.
func packTar(t *testing.T, ents ...tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, h := range ents {
		body := []byte(strings.Repeat("x", int(h.Size)))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

// pullManifest writes a manifest of the given layers into a new layout.
func pullManifest(t *testing.T, layers ...pullLayer) (*layout.Layout, ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	l, err := layout.Create(filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cfg, err := l.PutBlob(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, ArtifactType: "application/vnd.example"}
	m.SchemaVersion = 2
	for _, pl := range layers {
		mt := "application/octet-stream"
		if pl.packed {
			mt = ocispec.MediaTypeImageLayerGzip
		}
		d, err := l.PutBlob(ctx, mt, pl.body)
		if err != nil {
			t.Fatal(err)
		}
		if pl.corrupt {
			p := filepath.Join(l.Dir(), "blobs", "sha256", d.Digest.Encoded())
			b := append([]byte(nil), pl.body...)
			b[len(b)-1] ^= 1
			os.Chmod(p, 0o644)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d.Annotations = map[string]string{}
		if pl.title != nil {
			d.Annotations[ocispec.AnnotationTitle] = *pl.title
		}
		if pl.packed {
			d.Annotations[artifact.AnnotationUnpack] = "true"
		}
		m.Layers = append(m.Layers, d)
	}
	b, err := layout.EncodeJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.PutBlob(ctx, ocispec.MediaTypeImageManifest, b)
	if err != nil {
		t.Fatal(err)
	}
	return l, d
}

// TestPullRefusesUnsafeNames: a bad title or packed entry anywhere in the manifest, even
// after good layers, refuses the pull with an error naming it, and the output folder is
// not created; an existing output folder keeps exactly what it held.
func TestPullRefusesUnsafeNames(t *testing.T) {
	good := pullLayer{title: title("ok.txt"), body: []byte("good file")}
	goodPack := pullLayer{title: title("dir"), packed: true}
	for _, tc := range []struct {
		name    string
		layer   pullLayer
		mention string
	}{
		{"dot", pullLayer{title: title("."), body: []byte("a")}, `"."`},
		{"dot-dot", pullLayer{title: title(".."), body: []byte("a")}, `".."`},
		{"sub-dot-dot", pullLayer{title: title("sub/.."), body: []byte("a")}, `"sub/.."`},
		{"inner dot-dot", pullLayer{title: title("a/../b"), body: []byte("a")}, `"a/../b"`},
		{"dot-slash", pullLayer{title: title("./x"), body: []byte("a")}, `"./x"`},
		{"empty", pullLayer{title: title(""), body: []byte("a")}, `title ""`},
		{"absolute", pullLayer{title: title("/etc/evil"), body: []byte("a")}, `"/etc/evil"`},
		{"nul", pullLayer{title: title("a\x00b"), body: []byte("a")}, "NUL"},
		{"backslash", pullLayer{title: title(`..\evil`), body: []byte("a")}, "backslash"},
		{"trailing slash", pullLayer{title: title("x/"), body: []byte("a")}, `"x/"`},
		{"duplicate", pullLayer{title: title("ok.txt"), body: []byte("other")}, `two layers have the title "ok.txt"`},
		{"inside another", pullLayer{title: title("ok.txt/inner"), body: []byte("other")}, `inside the title "ok.txt"`},
		{"entry dot-dot", pullLayer{title: title("pkg"), packed: true, body: nil}, `"../evil"`},
		{"entry absolute", pullLayer{title: title("pkg"), packed: true}, `"/abs"`},
		{"entry symlink", pullLayer{title: title("pkg"), packed: true}, `"pkg/link"`},
		{"entry hard link", pullLayer{title: title("pkg"), packed: true}, `"pkg/hard"`},
		{"entry outside its folder", pullLayer{title: title("pkg"), packed: true}, `"other/file"`},
		{"entry twice", pullLayer{title: title("pkg"), packed: true}, "second entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch tc.name {
			case "entry dot-dot":
				tc.layer.body = packTar(t, tar.Header{Name: "pkg/", Typeflag: tar.TypeDir, Mode: 0o755}, tar.Header{Name: "pkg/a", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644}, tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
			case "entry absolute":
				tc.layer.body = packTar(t, tar.Header{Name: "pkg/a", Typeflag: tar.TypeReg, Size: 3}, tar.Header{Name: "/abs", Typeflag: tar.TypeReg, Size: 3})
			case "entry symlink":
				tc.layer.body = packTar(t, tar.Header{Name: "pkg/a", Typeflag: tar.TypeReg, Size: 3}, tar.Header{Name: "pkg/link", Typeflag: tar.TypeSymlink, Linkname: "../../../etc"})
			case "entry hard link":
				tc.layer.body = packTar(t, tar.Header{Name: "pkg/a", Typeflag: tar.TypeReg, Size: 3}, tar.Header{Name: "pkg/hard", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"})
			case "entry outside its folder":
				tc.layer.body = packTar(t, tar.Header{Name: "pkg/a", Typeflag: tar.TypeReg, Size: 3}, tar.Header{Name: "other/file", Typeflag: tar.TypeReg, Size: 3})
			case "entry twice":
				tc.layer.body = packTar(t, tar.Header{Name: "pkg/a", Typeflag: tar.TypeReg, Size: 3}, tar.Header{Name: "./pkg/a", Typeflag: tar.TypeReg, Size: 5})
			}
			goodPack.body = packTar(t, tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}, tar.Header{Name: "dir/f", Typeflag: tar.TypeReg, Size: 4, Mode: 0o644})
			l, d := pullManifest(t, good, goodPack, tc.layer)

			out := filepath.Join(t.TempDir(), "out")
			files, err := artifact.Pull(context.Background(), l, d, out, false)
			if err == nil {
				t.Fatalf("Pull wrote %v", files)
			}
			if !errors.Is(err, layout.ErrInvalidDocument) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("Pull = %v, want ErrInvalidDocument naming %s", err, tc.mention)
			}
			if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the output folder was created (%v)", err)
			}

			// An existing folder is left as it was, with --force too.
			existing := t.TempDir()
			os.WriteFile(filepath.Join(existing, "keep"), []byte("mine"), 0o600)
			if _, err := artifact.Pull(context.Background(), l, d, existing, true); err == nil {
				t.Fatal("Pull into an existing folder succeeded")
			}
			ents, _ := os.ReadDir(existing)
			if len(ents) != 1 || ents[0].Name() != "keep" {
				t.Errorf("the existing folder now holds %v", ents)
			}
		})
	}
}

// TestPullCorruptLayerWritesNothing: a packed folder whose blob does not match its digest
// is caught while its entries are checked, before any file (of any layer) is written.
func TestPullCorruptLayerWritesNothing(t *testing.T) {
	packed := packTar(t, tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}, tar.Header{Name: "dir/f", Typeflag: tar.TypeReg, Size: 4, Mode: 0o644})
	l, d := pullManifest(t, pullLayer{title: title("ok.txt"), body: []byte("good")}, pullLayer{title: title("dir"), packed: true, body: packed, corrupt: true})
	out := filepath.Join(t.TempDir(), "out")
	_, err := artifact.Pull(context.Background(), l, d, out, false)
	if !errors.Is(err, layout.ErrDigestMismatch) && !errors.Is(err, layout.ErrSizeMismatch) {
		t.Fatalf("Pull = %v, want a digest mismatch", err)
	}
	if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the output folder was created (%v)", err)
	}
}

// TestPullWritesSafeNames: nested titles, a packed folder with "./" entries and an
// untitled layer: the files land with their bytes, in manifest order, and no temp file
// is left.
func TestPullWritesSafeNames(t *testing.T) {
	// A folder entry may come again, or after what is in it (GNU tar's order for an
	// appended folder).
	packed := packTar(t, tar.Header{Name: "./dir/", Typeflag: tar.TypeDir, Mode: 0o755}, tar.Header{Name: "./dir/sub/f", Typeflag: tar.TypeReg, Size: 4, Mode: 0o755},
		tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}, tar.Header{Name: "dir/sub/", Typeflag: tar.TypeDir, Mode: 0o755})
	l, d := pullManifest(t,
		pullLayer{title: title("bin/tool"), body: []byte("#!/bin/sh\n")},
		pullLayer{body: []byte("untitled")},
		pullLayer{title: title("dir"), packed: true, body: packed},
		pullLayer{title: title("README"), body: []byte("read me")})
	out := filepath.Join(t.TempDir(), "out")
	files, err := artifact.Pull(context.Background(), l, d, out, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	if strings.Join(got, " ") != "bin/tool dir README" {
		t.Errorf("Pull listed %v", got)
	}
	for name, want := range map[string]string{"bin/tool": "#!/bin/sh\n", "dir/sub/f": "xxxx", "README": "read me"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v", name, b, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "dir/sub/f")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("dir/sub/f: %v, %v", fi, err)
	}
	for _, sub := range []string{".", "bin"} {
		ents, _ := os.ReadDir(filepath.Join(out, sub))
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), layout.TempPrefix) {
				t.Errorf("temp file %s left in %s", e.Name(), sub)
			}
		}
	}
	// Pulled again without --force: the first existing name is a conflict, nothing changes.
	if _, err := artifact.Pull(context.Background(), l, d, out, false); !errors.Is(err, layout.ErrConflict) {
		t.Errorf("second Pull = %v, want ErrConflict", err)
	}
	if _, err := artifact.Pull(context.Background(), l, d, out, true); err != nil {
		t.Errorf("Pull --force = %v", err)
	}
}

package layout_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

// treeOf lists every file under dir with its bytes, symbolic links as "-> target".
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			files[rel] = "-> " + target
			return nil
		}
		if !d.Type().IsRegular() {
			files[rel] = d.Type().String()
			return nil
		}
		b, err := os.ReadFile(p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	delete(after, "index.json.lock") // the locks a writer or gc takes
	delete(after, "ocil-ingest.lock")
	if len(before) != len(after) {
		t.Errorf("%s: %d files before, %d after: %v", what, len(before), len(after), after)
	}
	for name, data := range before {
		if got, ok := after[name]; !ok || got != data {
			t.Errorf("%s: %s changed or went away", what, name)
		}
	}
}

// A blob that is a symbolic link is read when it leads to a regular file inside the
// layout, and refused, naming the blob and the link, when it leads outside: absolutely,
// through "..", through a chain of links, or through a linked blobs/sha256 folder.
func TestSymlinkedBlobs(t *testing.T) {
	data := []byte("the layer's bytes")
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(data), Size: int64(len(data))}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir, blob string) // makes the blob's file a link
		bad   string                               // "" when the blob must read; else the link named
	}{
		{"inside", func(t *testing.T, dir, blob string) {
			os.WriteFile(filepath.Join(dir, "store"), data, 0o444)
			symlink(t, "../../store", blob)
		}, ""},
		{"inside, chained", func(t *testing.T, dir, blob string) {
			os.WriteFile(filepath.Join(dir, "store"), data, 0o444)
			symlink(t, "../store", filepath.Join(dir, "blobs", "alias"))
			symlink(t, "../alias", blob)
		}, ""},
		{"inside, linked folder", func(t *testing.T, dir, blob string) {
			os.MkdirAll(filepath.Join(dir, "store"), 0o755)
			os.WriteFile(filepath.Join(dir, "store", filepath.Base(blob)), data, 0o444)
			os.RemoveAll(filepath.Dir(blob))
			symlink(t, "../store", filepath.Dir(blob))
		}, ""},
		{"absolute", func(t *testing.T, dir, blob string) { symlink(t, outside, blob) }, "-> " + outside},
		{"dot-dot", func(t *testing.T, dir, blob string) {
			rel, _ := filepath.Rel(filepath.Dir(blob), outside)
			symlink(t, rel, blob)
		}, "-> ../"},
		{"chain", func(t *testing.T, dir, blob string) {
			symlink(t, outside, filepath.Join(dir, "blobs", "alias"))
			symlink(t, "../alias", blob)
		}, "-> ../alias (" + outside + ")"},
		{"linked folder", func(t *testing.T, dir, blob string) {
			store := t.TempDir()
			os.WriteFile(filepath.Join(store, filepath.Base(blob)), data, 0o444)
			os.RemoveAll(filepath.Dir(blob))
			symlink(t, store, filepath.Dir(blob))
		}, "blobs/sha256 -> " + ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b := tl.New(t)
			blob := filepath.Join(b.Dir, "blobs", "sha256", d.Digest.Encoded())
			tc.setup(t, b.Dir, blob)
			l, err := layout.Open(b.Dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readVerified(ctx, l, d)
			dst := transferDest(t, "")
			_, cerr := dst.CopyBlob(ctx, l, d, layout.TransferOptions{})
			if tc.bad == "" {
				if err != nil || !bytes.Equal(got, data) || cerr != nil {
					t.Fatalf("read %q, %v; copy: %v", got, err, cerr)
				}
				return
			}
			for _, err := range []error{err, cerr} {
				var ue *layout.UnsafeFileError
				if !errors.Is(err, layout.ErrUnsafeFile) || !errors.As(err, &ue) || !strings.Contains(err.Error(), d.Digest.String()) {
					t.Fatalf("%v, want ErrUnsafeFile naming %s", err, d.Digest)
				}
				shown := ue.Path + " -> " + ue.Link
				if ue.Resolved != "" && ue.Resolved != ue.Link {
					shown += " (" + ue.Resolved + ")"
				}
				if !strings.Contains(shown, tc.bad) || !strings.Contains(err.Error(), ue.Link) {
					t.Errorf("%v: the link is %q, want %q", err, shown, tc.bad)
				}
			}
			assertUntouched(t, dst, d)
		})
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
}

// index.json and oci-layout that lead outside the layout are refused too.
func TestSymlinkedLayoutFilesOutside(t *testing.T) {
	b := tl.New(t)
	other := tl.New(t)
	os.Remove(filepath.Join(b.Dir, "index.json"))
	symlink(t, filepath.Join(other.Dir, "index.json"), filepath.Join(b.Dir, "index.json"))
	if _, err := layout.Open(b.Dir); !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), "index.json is a symbolic link to") {
		t.Fatalf("index.json: %v", err)
	}
	os.Remove(filepath.Join(b.Dir, "oci-layout"))
	symlink(t, filepath.Join(other.Dir, "oci-layout"), filepath.Join(b.Dir, "oci-layout"))
	if _, err := layout.Open(b.Dir); !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), "oci-layout is a symbolic link to") {
		t.Fatalf("oci-layout: %v", err)
	}
}

// A blob is read no further than its descriptor's size: a file longer than that is
// refused before a byte of it is written into a tarball.
func TestTarballRefusesLongerBlob(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	m := b.Image(tl.P("linux", "amd64", "", ""), "the layer")
	b.SetIndex(tl.Tag(m, "v1"))
	layer := digest.FromString("the layer")
	f, err := os.OpenFile(filepath.Join(b.Dir, "blobs", "sha256", layer.Encoded()), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(" and more")
	f.Close()
	l, _ := layout.Open(b.Dir)
	idx, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	i, _ := l.Index(ctx)
	blobs, err := l.Blobs(ctx, i.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.tar")
	for _, verify := range []bool{true, false} {
		err = layout.WriteTarball(ctx, out, l, idx, blobs, layout.TarOptions{Verify: verify})
		if !errors.Is(err, layout.ErrSizeMismatch) || !strings.Contains(err.Error(), layer.String()) || !strings.Contains(err.Error(), "18 bytes on disk, descriptor says 9") {
			t.Fatalf("verify %v: %v", verify, err)
		}
		if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 0 {
			t.Fatalf("verify %v: left %v", verify, ents)
		}
	}
}

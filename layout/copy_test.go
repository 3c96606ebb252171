package layout_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
	"github.com/ocil-dev/ocil/layout/tarfs"
	"github.com/ocil-dev/ocil/layout/validate"
)

// multi builds a tagged index of three images (amd64, arm64, arm/v7) plus an attestation
// of the amd64 one, each with a layer of its own and one shared layer.
func multi(t *testing.T) (*tl.Builder, map[string]ocispec.Descriptor) {
	b := tl.New(t)
	shared := b.Blob(ocispec.MediaTypeImageLayer, []byte("shared layer"))
	ds := map[string]ocispec.Descriptor{}
	var children []ocispec.Descriptor
	for _, p := range []*ocispec.Platform{tl.P("linux", "amd64", "", ""), tl.P("linux", "arm64", "", ""), tl.P("linux", "arm", "v7", "")} {
		m := b.Manifest(ocispec.Manifest{Config: b.Config(p), Layers: []ocispec.Descriptor{shared, b.Blob(ocispec.MediaTypeImageLayer, []byte("own layer of "+p.Architecture))}})
		ds[p.Architecture] = m
		children = append(children, tl.WithPlatform(m, *p))
	}
	att := b.Manifest(ocispec.Manifest{Config: b.Config(nil), Layers: []ocispec.Descriptor{b.Blob("application/vnd.in-toto+json", []byte(`{"provenance":1}`))}})
	attD := tl.WithPlatform(att, *tl.P("unknown", "unknown", "", ""))
	attD.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(ds["amd64"].Digest)}
	ds["attestation"] = att
	children = append(children[:1], append([]ocispec.Descriptor{attD}, children[1:]...)...)
	idx := b.Index(children...)
	ds["index"] = idx
	b.SetIndex(tl.Tag(idx, "v1"))
	return b, ds
}

func resolveIn(t *testing.T, ref string) *layout.Resolved {
	t.Helper()
	r, err := layout.ResolveRef(context.Background(), ref, layout.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func blobSet(t *testing.T, dir string) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	ents, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	for _, e := range ents {
		set[e.Name()] = true
	}
	return set
}

func TestCopyFolderUnfiltered(t *testing.T) {
	b, ds := multi(t)
	dst := filepath.Join(t.TempDir(), "dst")
	res, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), dst, layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != ds["index"].Digest || res.Tag != "v1" {
		t.Fatalf("= %+v", res)
	}
	// Every blob of the source is there, identical.
	for name := range blobSet(t, b.Dir) {
		x, _ := os.ReadFile(filepath.Join(b.Dir, "blobs", "sha256", name))
		y, err := os.ReadFile(filepath.Join(dst, "blobs", "sha256", name))
		if err != nil || !bytes.Equal(x, y) {
			t.Fatalf("blob %s: %v", name, err)
		}
	}
	r := resolveIn(t, dst+":v1")
	if r.Descriptor.Digest != ds["index"].Digest {
		t.Fatalf("dst:v1 = %s", r.Descriptor.Digest)
	}
}

func TestCopyFiltered(t *testing.T) {
	ctx := context.Background()
	b, ds := multi(t)
	amd, _ := platform.Parse("linux/amd64")
	armv7, _ := platform.Parse("linux/arm/v7")
	for _, keepAtt := range []bool{false, true} {
		dst := filepath.Join(t.TempDir(), "dst")
		res, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), dst+":only", layout.CopyOptions{Platforms: []ocispec.Platform{amd, armv7}, KeepAttestations: keepAtt})
		if err != nil {
			t.Fatal(err)
		}
		want := []digest.Digest{ds["amd64"].Digest, ds["arm"].Digest}
		if keepAtt {
			want = []digest.Digest{ds["amd64"].Digest, ds["attestation"].Digest, ds["arm"].Digest}
		}
		var nested ocispec.Index
		raw, _ := os.ReadFile(filepath.Join(dst, "blobs", "sha256", res.Descriptor.Digest.Encoded()))
		json.Unmarshal(raw, &nested)
		var got []digest.Digest
		for _, m := range nested.Manifests {
			got = append(got, m.Digest)
		}
		if len(got) != len(want) || res.Descriptor.Digest == ds["index"].Digest || res.Tag != "only" {
			t.Fatalf("keepAtt=%v: nested %v, want %v; %+v", keepAtt, got, want, res)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("keepAtt=%v: nested %v, want %v", keepAtt, got, want)
			}
		}
		// The filtered copy validates.
		if rep, err := validate.Layout(ctx, dst, validate.Options{}); err != nil || rep.Errors > 0 {
			t.Fatalf("validate the filtered copy: %v %+v", err, rep)
		}
		// No blob that only the arm64 image has.
		have := blobSet(t, dst)
		if have[ds["arm64"].Digest.Encoded()] || have[digest.FromString("own layer of arm64").Encoded()] {
			t.Fatal("a blob of the dropped platform was copied")
		}
		if !have[digest.FromString("own layer of arm").Encoded()] || !have[digest.FromString("shared layer").Encoded()] {
			t.Fatal("a blob of a kept platform is missing")
		}
		if have[digest.FromString(`{"provenance":1}`).Encoded()] != keepAtt {
			t.Fatalf("attestation layer copied = %v, want %v", !keepAtt, keepAtt)
		}
		// The result resolves per platform, and the dropped one is gone.
		arm64, _ := platform.Parse("linux/arm64")
		if _, err := layout.ResolveRef(ctx, dst+":only", layout.ResolveOptions{Platform: &arm64}); !errors.Is(err, layout.ErrNotFound) {
			t.Fatalf("arm64 in the filtered copy: %v", err)
		}
	}
	// A platform that matches nothing is an error, and nothing is written.
	s390x, _ := platform.Parse("linux/s390x")
	dst := filepath.Join(t.TempDir(), "dst")
	_, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), dst, layout.CopyOptions{Platforms: []ocispec.Platform{amd, s390x}})
	if !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), "linux/s390x") || !strings.Contains(err.Error(), "linux/arm64") {
		t.Fatalf("= %v, want ErrNotFound naming linux/s390x and what there is", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed copy created %s", dst)
	}
}

// readTar returns the entries of a (possibly gzipped) tarball, checking the fixed header
// fields on the way.
func readTar(t *testing.T, path string, mtime time.Time) ([]string, map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	tr := tar.NewReader(r)
	var names []string
	data := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(mtime) {
			t.Fatalf("entry %s: header %+v", h.Name, h)
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name)
		data[h.Name] = b
	}
	return names, data
}

func TestCopyToTarball(t *testing.T) {
	ctx := context.Background()
	b, ds := multi(t)
	tmp := t.TempDir()
	for _, name := range []string{"x.tar", "x.tar.gz"} {
		var outs [][]byte
		for i := 0; i < 2; i++ {
			p := filepath.Join(tmp, name)
			res, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), p, layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Descriptor.Digest != ds["index"].Digest {
				t.Fatalf("%s: %+v", name, res)
			}
			raw, _ := os.ReadFile(p)
			outs = append(outs, raw)
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Fatalf("%s: two writes differ", name)
		}
		names, data := readTar(t, filepath.Join(tmp, name), time.Unix(0, 0))
		if names[0] != "oci-layout" || names[1] != "index.json" {
			t.Fatalf("%s: entries start %v", name, names[:2])
		}
		if strings.HasSuffix(name, ".gz") {
			// A compressed tarball ends with its seek index (see tarfs.SeekableWriter).
			if names[len(names)-1] != tarfs.SeekIndexName {
				t.Fatalf("%s: entries end %v", name, names[len(names)-1])
			}
			names = names[:len(names)-1]
		}
		for i := 3; i < len(names); i++ {
			if names[i-1] >= names[i] {
				t.Fatalf("%s: blobs not sorted: %v", name, names)
			}
		}
		srcBlobs := blobSet(t, b.Dir)
		if len(names)-2 != len(srcBlobs) {
			t.Fatalf("%s: %d blobs, source has %d", name, len(names)-2, len(srcBlobs))
		}
		for _, n := range names[2:] {
			sum := sha256.Sum256(data[n])
			if n != "blobs/sha256/"+hex.EncodeToString(sum[:]) {
				t.Fatalf("%s: %s does not hold its digest", name, n)
			}
		}
		var idx ocispec.Index
		json.Unmarshal(data["index.json"], &idx)
		if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != ds["index"].Digest || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "v1" {
			t.Fatalf("%s: index.json %s", name, data["index.json"])
		}
	}
	// SOURCE_DATE_EPOCH sets the entries' time.
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	mt, err := layout.SourceDateEpoch()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tmp, "dated.tar")
	if _, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), p, layout.CopyOptions{ModTime: mt}); err != nil {
		t.Fatal(err)
	}
	readTar(t, p, time.Unix(1700000000, 0))
	t.Setenv("SOURCE_DATE_EPOCH", "soon")
	if _, err := layout.SourceDateEpoch(); !errors.Is(err, layout.ErrInvalidOption) {
		t.Fatalf("bad SOURCE_DATE_EPOCH: %v", err)
	}
}

func TestCopyToTarballFailsCleanly(t *testing.T) {
	ctx := context.Background()
	b, ds := multi(t)
	// Corrupt the arm layer (same size): a verified tarball write fails and leaves the
	// previous tarball in place, with no temp file.
	tmp := t.TempDir()
	p := filepath.Join(tmp, "x.tar")
	// A file that is not a layout tarball is refused and left as it is.
	os.WriteFile(p, []byte("previous"), 0o644)
	_, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), p, layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}})
	if !errors.Is(err, layout.ErrInvalidArchive) {
		t.Fatalf("over a file that is no tarball: %v, want ErrInvalidArchive", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "previous" {
		t.Fatalf("the target was replaced: %q", got)
	}
	// So is a file whose name does not say how to compress it.
	img := filepath.Join(tmp, "x.img")
	os.WriteFile(img, []byte("previous"), 0o644)
	if _, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), img, layout.CopyOptions{}); !errors.Is(err, layout.ErrInvalidOption) {
		t.Fatalf("over x.img: %v, want ErrInvalidOption", err)
	}
	if got, _ := os.ReadFile(img); string(got) != "previous" {
		t.Fatalf("x.img was replaced: %q", got)
	}
	os.Remove(img)
	os.Remove(p)
	// The previous tarball holds amd64 only, so the arm layer must come from the source.
	amd64 := []ocispec.Platform{*tl.P("linux", "amd64", "", "")}
	if _, err := layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), p+":prev", layout.CopyOptions{Platforms: amd64, Transfer: layout.TransferOptions{Verify: true}}); err != nil {
		t.Fatal(err)
	}
	previous, _ := os.ReadFile(p)
	layer := filepath.Join(b.Dir, "blobs", "sha256", digest.FromString("own layer of arm").Encoded())
	os.Chmod(layer, 0o644)
	os.WriteFile(layer, []byte("OWN LAYER OF ARM"), 0o644)
	_, err = layout.Copy(ctx, resolveIn(t, b.Dir+":v1"), p, layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}})
	if !errors.Is(err, layout.ErrDigestMismatch) {
		t.Fatalf("= %v, want ErrDigestMismatch", err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, previous) {
		t.Fatal("the target was replaced")
	}
	// Only the tarball and its lock file (which every writer of x.tar takes) are there.
	if ents, _ := os.ReadDir(tmp); len(ents) != 2 || ents[0].Name() != "x.tar" || ents[1].Name() != "x.tar.lock" {
		t.Fatalf("left behind: %v", ents)
	}
	_ = ds
}

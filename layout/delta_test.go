package layout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/validate"
)

const (
	dgA = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	dgB = "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7"
)

func TestParseDelta(t *testing.T) {
	base := `{"name":"v1.tar","index":"` + dgA + `"}`
	blob := `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + dgB + `","size":3}`
	good := []string{
		`{"bases":[` + base + `],"blobs":[` + blob + `]}`,
		`{"bases":[` + base + `],"blobs":[]}`,
		`{"bases":[` + base + `],"blobs":[` + blob + `],"later":true}`, // members of later versions are read past
	}
	for _, s := range good {
		d, err := layout.ParseDelta(s)
		if err != nil {
			t.Errorf("ParseDelta(%s): %v", s, err)
			continue
		}
		enc, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := layout.ParseDelta(enc)
		if err != nil || len(again.Blobs) != len(d.Blobs) || again.Bases[0] != d.Bases[0] {
			t.Errorf("ParseDelta(Encode()) = %+v, %v", again, err)
		}
	}
	bad := []string{
		``,
		`null`,
		`[]`,
		`{"bases":[],"blobs":[]}`,
		`{"blobs":[` + blob + `]}`,
		`{"bases":[{"name":"","index":"` + dgA + `"}],"blobs":[]}`,
		`{"bases":[{"name":"v1","index":"sha256:abc"}],"blobs":[]}`,
		`{"bases":[` + base + `],"blobs":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + dgB + `","size":-1}]}`,
		`{"bases":[` + base + `],"blobs":[{"mediaType":"not a type","digest":"` + dgB + `","size":1}]}`,
		`{"bases":[` + base + `],"blobs":[{"mediaType":"application/x","digest":"sha256:XYZ","size":1}]}`,
		`{"bases":[` + base + `],"blobs":[` + blob + `,` + blob + `]}`,
		`{"bases":[` + base + `],"bases":[` + base + `],"blobs":[]}`,
		`{"bases":[` + base + `],"blobs":[]} trailing`,
		`{"bases":[{"name":"a\u0000b","index":"` + dgA + `"}],"blobs":[]}`,
	}
	for _, s := range bad {
		if _, err := layout.ParseDelta(s); !errors.Is(err, layout.ErrInvalidDocument) {
			t.Errorf("ParseDelta(%q) = %v, want ErrInvalidDocument", s, err)
		}
	}
}

// FuzzParseDelta: whatever the bytes, ParseDelta accepts or refuses with
// ErrInvalidDocument; what it accepts encodes to a record it accepts again, equal.
func FuzzParseDelta(f *testing.F) {
	f.Add(`{"bases":[{"name":"v1.tar","index":"` + dgA + `"}],"blobs":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + dgB + `","size":3}]}`)
	f.Add(`{"bases":[{"name":"v1.tar","index":"` + dgA + `"},{"name":"v0","index":"` + dgB + `"}],"blobs":[]}`)
	f.Add(`{"bases":[{"name":"x","index":"` + dgA + `"}],"blobs":[{"mediaType":"a/b","digest":"` + dgA + `","size":0,"annotations":{"k":"v"},"urls":["http://x"]}]}`)
	f.Add(`{"bases":null,"blobs":null}`)
	f.Add(`{"Bases":[{"name":"x","index":"` + dgA + `"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := layout.ParseDelta(s)
		if err != nil {
			if !errors.Is(err, layout.ErrInvalidDocument) {
				t.Fatalf("ParseDelta: %v, not ErrInvalidDocument", err)
			}
			return
		}
		enc, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := layout.ParseDelta(enc)
		if err != nil {
			t.Fatalf("ParseDelta(%q) of an accepted record: %v", enc, err)
		}
		enc2, _ := again.Encode()
		if enc2 != enc {
			t.Fatalf("encoding is not stable: %q, then %q", enc, enc2)
		}
		for _, b := range again.Blobs {
			if b.Size < 0 || layout.ValidateDigest(b.Digest) != nil || len(b.Annotations) > 0 || len(b.URLs) > 0 {
				t.Fatalf("accepted blob %+v", b)
			}
		}
	})
}

// deltaPair builds a base layout and a source sharing one layer with it; the source's
// own layer, config and manifest are new.
func deltaPair(t *testing.T) (base, src *tl.Builder, shared, own ocispec.Descriptor) {
	base = tl.New(t)
	shared = base.Blob(ocispec.MediaTypeImageLayer, []byte("the shared layer"))
	bm := base.Manifest(ocispec.Manifest{Config: base.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{shared, base.Blob(ocispec.MediaTypeImageLayer, []byte("old layer"))}})
	base.SetIndex(tl.Tag(bm, "v1"))
	src = tl.New(t)
	s2 := src.Blob(ocispec.MediaTypeImageLayer, []byte("the shared layer"))
	own = src.Blob(ocispec.MediaTypeImageLayer, []byte("new layer"))
	sm := src.Manifest(ocispec.Manifest{Config: src.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{s2, own}})
	src.SetIndex(tl.Tag(sm, "v2"))
	return base, src, shared, own
}

// TestCopyDeltaLibrary: CopyAll with Bases leaves out the shared layer only, records it,
// and reading it from the delta says it is left out; the far side's check names it.
func TestCopyDeltaLibrary(t *testing.T) {
	ctx := context.Background()
	baseB, srcB, shared, own := deltaPair(t)
	for _, dstName := range []string{"delta", "delta.tar", "delta.tar.zst"} {
		t.Run(dstName, func(t *testing.T) {
			base, err := layout.OpenBase(ctx, baseB.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer base.Layout.Close()
			dst := filepath.Join(t.TempDir(), dstName)
			res, err := layout.Copy(ctx, resolveIn(t, srcB.Dir+":v2"), dst, layout.CopyOptions{Bases: []*layout.Base{base}, Transfer: layout.TransferOptions{Verify: true}})
			if err != nil {
				t.Fatal(err)
			}
			if res.LeftOut != 1 || res.LeftOutBytes != shared.Size || res.Blobs != 3 {
				t.Errorf("result %+v: want 3 blobs copied (manifest, config, new layer) and the shared layer left out", res)
			}
			l, err := layout.Open(dst)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			d, err := l.Delta(ctx)
			if err != nil || d == nil || len(d.Blobs) != 1 || d.Blobs[0].Digest != shared.Digest || d.Bases[0].Name != baseB.Dir {
				t.Fatalf("Delta() = %+v, %v", d, err)
			}
			if ok, _ := l.HasBlob(own); !ok {
				t.Error("the new layer is not in the delta")
			}
			_, err = l.OpenBlob(ctx, shared)
			if !errors.Is(err, layout.ErrLeftOut) || !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), baseB.Dir) {
				t.Errorf("OpenBlob(left out) = %v, want ErrLeftOut and ErrNotFound naming the base", err)
			}
			if l.Dir() != "" {
				// Once index.json no longer records it, the same layout says only that
				// the blob is not there.
				other, _ := layout.Open(dst)
				if err := other.UpdateIndex(ctx, func(idx *ocispec.Index) error { delete(idx.Annotations, layout.AnnotationDelta); return nil }); err != nil {
					t.Fatal(err)
				}
				_, err = l.OpenBlob(ctx, shared)
				if !errors.Is(err, layout.ErrNotFound) || errors.Is(err, layout.ErrLeftOut) {
					t.Errorf("OpenBlob(left out) after the record went = %v, want ErrNotFound only", err)
				}
				if err := other.UpdateIndex(ctx, func(idx *ocispec.Index) error {
					v, err := d.Encode()
					idx.Annotations = map[string]string{layout.AnnotationDelta: v}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if _, err = l.OpenBlob(ctx, shared); !errors.Is(err, layout.ErrLeftOut) {
					t.Errorf("OpenBlob(left out) with the record back = %v, want ErrLeftOut", err)
				}
			}
			rep, err := validate.Layout(ctx, dst, validate.Options{})
			if err != nil || rep.Errors != 0 {
				t.Errorf("validate: %v %+v", err, rep.Findings)
			}
			rep, _ = validate.Layout(ctx, dst, validate.Options{ForPush: true})
			if rep.Errors == 0 {
				t.Error("validate --for-push passed a delta")
			}

			// The far side: a layout without the shared layer is refused, one with it
			// takes the delta.
			site := t.TempDir()
			jobs := []layout.TransferBlob{{From: l, Blob: shared}, {From: l, Blob: own}}
			err = layout.CheckDeltaSources(ctx, site, jobs)
			if !errors.Is(err, layout.ErrLeftOut) || !strings.Contains(err.Error(), string(shared.Digest)) || strings.Contains(err.Error(), string(own.Digest)) {
				t.Errorf("CheckDeltaSources(empty site) = %v, want ErrLeftOut naming only %s", err, shared.Digest)
			}
			if err := layout.CheckDeltaSources(ctx, baseB.Dir, jobs); err != nil {
				t.Errorf("CheckDeltaSources(base) = %v", err)
			}
			full := filepath.Join(t.TempDir(), "full")
			if _, err := layout.Copy(ctx, resolveIn(t, baseB.Dir+":v1"), full, layout.CopyOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := layout.Copy(ctx, resolveIn(t, dst+":v2"), full, layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}}); err != nil {
				t.Fatalf("copy the delta onto its base: %v", err)
			}
			rep, err = validate.Layout(ctx, full, validate.Options{})
			if err != nil || rep.Errors != 0 || len(rep.Findings) != 0 {
				t.Errorf("validate the site: %v %+v", err, rep.Findings)
			}
		})
	}
}

// TestDeltaOfDelta: a base that is itself a delta counts what it left out as held, so
// next month's delta against this month's leaves out last month's layers too.
func TestDeltaOfDelta(t *testing.T) {
	ctx := context.Background()
	baseB, srcB, shared, _ := deltaPair(t)
	open := func(p string) *layout.Base {
		b, err := layout.OpenBase(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Layout.Close() })
		return b
	}
	d1 := filepath.Join(t.TempDir(), "d1.tar")
	if _, err := layout.Copy(ctx, resolveIn(t, srcB.Dir+":v2"), d1, layout.CopyOptions{Bases: []*layout.Base{open(baseB.Dir)}}); err != nil {
		t.Fatal(err)
	}
	d2 := filepath.Join(t.TempDir(), "d2.tar")
	res, err := layout.Copy(ctx, resolveIn(t, srcB.Dir+":v2"), d2, layout.CopyOptions{Bases: []*layout.Base{open(d1)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.LeftOut != 2 || res.Blobs != 2 {
		t.Errorf("delta against a delta: %+v, want both layers left out (one held by d1, one left out of it)", res)
	}
	l, _ := layout.Open(d2)
	defer l.Close()
	d, _ := l.Delta(ctx)
	if _, ok := d.Find(shared.Digest); !ok || len(d.Bases) != 1 || d.Bases[0].Name != d1 {
		t.Errorf("record %+v", d)
	}
}

// TestOpenBaseRefused: a base that is not a layout, or standard input, is named.
func TestOpenBaseRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.tar"), []byte("not a tarball"), 0o644)
	for _, p := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "x.tar"), "-"} {
		if _, err := layout.OpenBase(context.Background(), p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("OpenBase(%s) = %v, want an error naming it", p, err)
		}
	}
}

// TestValidateDelta: a missing blob the record names is a note, one it does not name an
// error; a record that does not parse, or gives another size, is delta.record.
func TestValidateDelta(t *testing.T) {
	ctx := context.Background()
	baseB, srcB, shared, own := deltaPair(t)
	base, err := layout.OpenBase(ctx, baseB.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Layout.Close()
	checks := func(dir string) map[string]int {
		rep, err := validate.Layout(ctx, dir, validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, f := range rep.Findings {
			m[f.Check+" "+f.Object]++
		}
		return m
	}
	setRecord := func(dir, v string) {
		l, err := layout.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.UpdateIndex(ctx, func(idx *ocispec.Index) error { idx.Annotations[layout.AnnotationDelta] = v; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	fresh := func() string {
		dst := filepath.Join(t.TempDir(), "delta")
		if _, err := layout.Copy(ctx, resolveIn(t, srcB.Dir+":v2"), dst, layout.CopyOptions{Bases: []*layout.Base{base}}); err != nil {
			t.Fatal(err)
		}
		return dst
	}

	dst := fresh()
	if got := checks(dst); len(got) != 1 || got["delta.base index.json"] != 1 {
		t.Errorf("a delta: %v, want the one note", got)
	}
	p, _ := layout.BlobPath(own.Digest)
	os.Chmod(filepath.Join(dst, filepath.FromSlash(p)), 0o644)
	if err := os.Remove(filepath.Join(dst, filepath.FromSlash(p))); err != nil {
		t.Fatal(err)
	}
	if got := checks(dst); got["blob.missing "+string(own.Digest)] != 1 || got["delta.base index.json"] != 1 || got["blob.missing "+string(shared.Digest)] != 0 {
		t.Errorf("a delta lacking a blob it does not record: %v", got)
	}

	dst = fresh()
	setRecord(dst, `{"bases":[]}`)
	if got := checks(dst); got["delta.record index.json"] != 1 || got["blob.missing "+string(shared.Digest)] != 1 {
		t.Errorf("a record that does not parse: %v, want delta.record and blob.missing", got)
	}
	dst = fresh()
	d := &layout.Delta{Bases: []layout.DeltaBase{{Name: "v1", Index: shared.Digest}}, Blobs: []ocispec.Descriptor{{MediaType: shared.MediaType, Digest: shared.Digest, Size: shared.Size + 1}}}
	v, _ := d.Encode()
	setRecord(dst, v)
	if got := checks(dst); got["delta.record "+string(shared.Digest)] != 1 {
		t.Errorf("a record with another size: %v, want delta.record", got)
	}
}

// TestCheckDeltaSourcesNamesTen: with more missing blobs than an error lists, the first
// ten are named with the count of the rest.
func TestCheckDeltaSourcesNamesTen(t *testing.T) {
	ctx := context.Background()
	base := tl.New(t)
	src := tl.New(t)
	var layers []ocispec.Descriptor
	for i := range 13 {
		data := []byte(strings.Repeat("x", i+1))
		base.Blob(ocispec.MediaTypeImageLayer, data)
		layers = append(layers, src.Blob(ocispec.MediaTypeImageLayer, data))
	}
	m := src.Manifest(ocispec.Manifest{Config: src.Config(tl.P("linux", "amd64", "", "")), Layers: layers})
	src.SetIndex(tl.Tag(m, "v2"))
	b, err := layout.OpenBase(ctx, base.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Layout.Close()
	delta := filepath.Join(t.TempDir(), "delta.tar")
	res, err := layout.Copy(ctx, resolveIn(t, src.Dir+":v2"), delta, layout.CopyOptions{Bases: []*layout.Base{b}})
	if err != nil || res.LeftOut != 13 {
		t.Fatalf("copy --base: %+v %v", res, err)
	}
	site := filepath.Join(t.TempDir(), "site")
	_, err = layout.Copy(ctx, resolveIn(t, delta+":v2"), site, layout.CopyOptions{})
	if !errors.Is(err, layout.ErrLeftOut) || !strings.Contains(err.Error(), "13 blobs") || !strings.Contains(err.Error(), "and 3 more") {
		t.Fatalf("copy into an empty site = %v, want the count, ten digests and 3 more", err)
	}
	named := 0
	for _, l := range layers {
		if strings.Contains(err.Error(), string(l.Digest)) {
			named++
		}
	}
	if named != 10 {
		t.Errorf("%d digests named, want 10", named)
	}
	if _, statErr := os.Stat(site); statErr == nil {
		t.Error("a refused copy made the site")
	}
	// The same copy onto the base succeeds, bringing only the manifest and config.
	res, err = layout.Copy(ctx, resolveIn(t, delta+":v2"), base.Dir, layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}})
	if err != nil {
		t.Fatalf("copy onto the base: %v", err)
	}
	rep, err := validate.Layout(ctx, base.Dir, validate.Options{})
	if err != nil || rep.Errors != 0 {
		t.Errorf("validate the base after the delta: %v %+v", err, rep.Findings)
	}
}

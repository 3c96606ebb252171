package validate_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/validate"
)

const (
	mtManifest     = ocispec.MediaTypeImageManifest
	mtIndex        = ocispec.MediaTypeImageIndex
	mtLayer        = ocispec.MediaTypeImageLayer
	mtEmpty        = ocispec.MediaTypeEmptyJSON
	mtDockerList   = layout.MediaTypeDockerManifestList
	mtDockerImage  = layout.MediaTypeDockerManifest
	mtDockerConfig = layout.MediaTypeDockerConfig
	mtForeign      = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	artifactType   = "application/vnd.example.thing.v1"
)

// parts is an image built piece by piece, so that tests can break one piece.
type parts struct {
	manifest, config, layer ocispec.Descriptor
}

// newImage stores an image for p with one layer and returns its pieces.
func newImage(b *tl.Builder, p *ocispec.Platform, layerText string) parts {
	cfg := b.Config(p)
	layer := b.Blob(mtLayer, []byte(layerText))
	m := b.Manifest(ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}})
	return parts{manifest: m, config: cfg, layer: layer}
}

// bare is a layout holding an image config and a layer, and nothing that lists them.
func bare(t *testing.T) (b *tl.Builder, config, layer ocispec.Descriptor) {
	b = tl.New(t)
	return b, b.Config(tl.P("linux", "amd64", "", "")), b.Blob(mtLayer, []byte("layer"))
}

// tagged is a layout with one image tagged v1.
func tagged(t *testing.T) (*tl.Builder, parts) {
	b := tl.New(t)
	img := newImage(b, tl.P("linux", "amd64", "", ""), "layer")
	b.SetIndex(tl.Tag(img.manifest, "v1"))
	return b, img
}

func blobFile(b *tl.Builder, d digest.Digest) string {
	return filepath.Join(b.Dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, name string) {
	t.Helper()
	if err := os.RemoveAll(name); err != nil {
		t.Fatal(err)
	}
}

// descJSON is a descriptor as JSON, for hand-written documents.
func descJSON(t *testing.T, d ocispec.Descriptor) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// indexJSON writes index.json with the given raw entries.
func indexJSON(b *tl.Builder, entries ...string) {
	b.WriteFile("index.json", []byte(`{"schemaVersion":2,"mediaType":"`+mtIndex+`","manifests":[`+strings.Join(entries, ",")+`]}`))
}

// rawEntry is an index.json entry pointing at d with one member replaced by raw JSON.
func rawEntry(t *testing.T, d ocispec.Descriptor, member, raw string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(descJSON(t, d)), &m); err != nil {
		t.Fatal(err)
	}
	m[member] = json.RawMessage(raw)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// artifact stores an artifact manifest with the empty config and one empty layer.
func artifact(b *tl.Builder, subject *ocispec.Descriptor) ocispec.Descriptor {
	empty := b.Blob(mtEmpty, []byte("{}"))
	return b.Manifest(ocispec.Manifest{ArtifactType: artifactType, Config: empty, Layers: []ocispec.Descriptor{empty}, Subject: subject})
}

// foreignBlob is a descriptor for bytes that are not stored.
func foreignBlob(mediaType, text string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromString(text), Size: int64(len(text))}
}

type vcase struct {
	name  string
	build func(t *testing.T) string // returns the path to validate
	opts  validate.Options
	// want lists the findings as "severity check", in any order, exactly.
	want []string
	// class is the exit code the CLI gives for the layout: 0 no error, 1 errors or not
	// found, 2 not a layout.
	class int
}

// classOf is the CLI's exit class for one layout.
func classOf(rep *validate.Report, err error) int {
	switch {
	case errors.Is(err, layout.ErrNotFound):
		return 1
	case err != nil:
		return 2
	case rep.Errors > 0:
		return 1
	}
	return 0
}

func findings(rep *validate.Report) []string {
	out := []string{}
	for _, f := range rep.Findings {
		out = append(out, string(f.Severity)+" "+f.Check)
	}
	slices.Sort(out)
	return out
}

func runCases(t *testing.T, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.build(t)
			rep, err := validate.Layout(context.Background(), path, tc.opts)
			if rep == nil {
				t.Fatalf("no report (error %v)", err)
			}
			want := slices.Clone(tc.want)
			if want == nil {
				want = []string{}
			}
			slices.Sort(want)
			if got := findings(rep); !slices.Equal(got, want) {
				t.Errorf("findings %q, want %q\n%s", got, want, describe(rep))
			}
			if got := classOf(rep, err); got != tc.class {
				t.Errorf("exit class %d, want %d (error %v)\n%s", got, tc.class, err, describe(rep))
			}
			if tc.class == 2 && !errors.Is(err, layout.ErrNotLayout) {
				t.Errorf("error %v, want ErrNotLayout", err)
			}
		})
	}
}

func describe(rep *validate.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", f.Severity, f.Check, f.Object, f.Message)
	}
	return b.String()
}

// A: layout structure (SPEC-NOTES section 9, cases 1-15).
func TestLayoutStructure(t *testing.T) {
	header := func(text string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b, _ := tagged(t)
			b.WriteFile("oci-layout", []byte(text))
			return b.Dir
		}
	}
	index := func(text string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			b.WriteFile("index.json", []byte(text))
			return b.Dir
		}
	}
	runCases(t, []vcase{
		{name: "A1 empty index and blobs", build: func(t *testing.T) string { return tl.New(t).Dir }},
		{name: "A2 blobs missing", build: func(t *testing.T) string {
			b := tl.New(t)
			remove(t, filepath.Join(b.Dir, "blobs"))
			return b.Dir
		}, want: []string{"error layout.blobs"}, class: 1},
		{name: "A2 blobs is a file", build: func(t *testing.T) string {
			b := tl.New(t)
			remove(t, filepath.Join(b.Dir, "blobs"))
			b.WriteFile("blobs", []byte("x"))
			return b.Dir
		}, want: []string{"error layout.blobs"}, class: 1},
		{name: "A3 version 1.1.0", build: header(`{"imageLayoutVersion":"1.1.0"}`), want: []string{"error layout.version"}, class: 1},
		{name: "A3 version a number", build: header(`{"imageLayoutVersion":1.0}`), want: []string{"error layout.version"}, class: 1},
		{name: "A3 version missing", build: header(`{}`), want: []string{"error layout.version"}, class: 1},
		{name: "A3 not an object", build: header(`[]`), want: []string{"error layout.header"}, class: 1},
		{name: "A3 null", build: header(`null`), want: []string{"error layout.header"}, class: 1},
		{name: "A3 oci-layout missing", build: func(t *testing.T) string {
			b, _ := tagged(t)
			remove(t, filepath.Join(b.Dir, "oci-layout"))
			return b.Dir
		}, want: []string{"error layout.header"}, class: 1},
		{name: "A4 extra members", build: header(`{"imageLayoutVersion":"1.0.0","x":1}`)},
		{name: "A5 index.json without mediaType", build: func(t *testing.T) string {
			b, img := tagged(t)
			b.WriteFile("index.json", []byte(`{"schemaVersion":2,"manifests":[`+descJSON(t, tl.Tag(img.manifest, "v1"))+`]}`))
			return b.Dir
		}},
		{name: "A5 index.json a Docker list", build: index(`{"schemaVersion":2,"mediaType":"` + mtDockerList + `","manifests":[]}`), want: []string{"error index.mediatype"}, class: 1},
		{name: "A5 index.json of another type", build: index(`{"schemaVersion":2,"mediaType":"application/json","manifests":[]}`), want: []string{"error index.mediatype"}, class: 1},
		{name: "A6 manifests null", build: index(`{"schemaVersion":2,"manifests":null}`), want: []string{"error index.null-manifests"}, class: 1},
		{name: "A6 manifests missing", build: index(`{"schemaVersion":2}`), want: []string{"error index.schema"}, class: 1},
		{name: "A6 manifests not an array", build: index(`{"schemaVersion":2,"manifests":{}}`), want: []string{"error index.schema"}, class: 1},
		{name: "A6 schemaVersion 1", build: index(`{"schemaVersion":1,"manifests":[]}`), want: []string{"error index.schema"}, class: 1},
		{name: "A6 schemaVersion a string", build: index(`{"schemaVersion":"2","manifests":[]}`), want: []string{"error index.schema"}, class: 1},
		{name: "A6 not JSON", build: index(`{"schemaVersion":2,`), want: []string{"error index.schema"}, class: 1},
		{name: "A6 index.json missing", build: func(t *testing.T) string {
			b := tl.New(t)
			remove(t, filepath.Join(b.Dir, "index.json"))
			return b.Dir
		}, want: []string{"error layout.index"}, class: 1},
		{name: "A7 duplicate manifests", build: index(`{"schemaVersion":2,"manifests":[],"manifests":[]}`), want: []string{"error index.schema"}, class: 1},
		{name: "A7 case variant Manifests", build: index(`{"schemaVersion":2,"Manifests":[]}`), want: []string{"error index.schema"}, class: 1},
		{name: "A8 index, manifest and application/xml entries", build: func(t *testing.T) string {
			b := tl.New(t)
			amd := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			arm := newImage(b, tl.P("linux", "arm64", "v8", ""), "arm64")
			idx := b.Index(tl.WithPlatform(amd.manifest, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(arm.manifest, *tl.P("linux", "arm64", "v8", "")))
			single := newImage(b, tl.P("linux", "s390x", "", ""), "s390x")
			xml := b.Blob("application/xml", []byte("<x/>"))
			b.SetIndex(tl.Tag(idx, "multi"), tl.Tag(single.manifest, "single"), xml)
			return b.Dir
		}},
		{name: "A9 extra root files", build: func(t *testing.T) string {
			b, _ := tagged(t)
			for _, name := range []string{"manifest.json", "repositories", ".ocil.lock", "README", "ingest/x", "index.json.lock", "ocil-ingest.lock"} {
				b.WriteFile(name, []byte("x"))
			}
			return b.Dir
		}, want: []string{"note layout.unknown", "note layout.unknown", "note layout.unknown", "note layout.unknown", "note layout.unknown"}},
		{name: "A9 unknown names under blobs", build: func(t *testing.T) string {
			b, _ := tagged(t)
			b.WriteFile("blobs/README", []byte("x"))
			b.WriteFile("blobs/sha256/sub/x", []byte("x"))
			return b.Dir
		}, want: []string{"note layout.unknown", "note layout.unknown"}},
		{name: "A10 unreferenced blob", build: func(t *testing.T) string {
			b, _ := tagged(t)
			b.Blob(mtLayer, []byte("nobody lists me"))
			return b.Dir
		}, want: []string{"note blob.unreferenced"}},
		{name: "A11 layer missing", build: func(t *testing.T) string {
			b, img := tagged(t)
			remove(t, blobFile(b, img.layer.Digest))
			return b.Dir
		}, want: []string{"error blob.missing"}, class: 1},
		{name: "A11 layer missing, for push", opts: validate.Options{ForPush: true}, build: func(t *testing.T) string {
			b, img := tagged(t)
			remove(t, blobFile(b, img.layer.Digest))
			return b.Dir
		}, want: []string{"error blob.missing"}, class: 1},
		{name: "A11 config missing", build: func(t *testing.T) string {
			b, img := tagged(t)
			remove(t, blobFile(b, img.config.Digest))
			return b.Dir
		}, want: []string{"error blob.missing"}, class: 1},
		{name: "A11 manifest missing", build: func(t *testing.T) string {
			b, img := tagged(t)
			remove(t, blobFile(b, img.manifest.Digest))
			return b.Dir
		}, want: []string{"error blob.missing"}, class: 1},
		{name: "A11 foreign layer with urls missing", build: foreignLayout, want: []string{"warning blob.missing-external"}},
		{name: "A11 foreign layer with urls missing, for push", opts: validate.Options{ForPush: true}, build: foreignLayout,
			want: []string{"warning blob.missing-external", "warning push.urls"}},
		{name: "A11 non-distributable layer missing", build: func(t *testing.T) string {
			b := tl.New(t)
			layer := foreignBlob("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "kept elsewhere")
			m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("windows", "amd64", "", "")), Layers: []ocispec.Descriptor{layer}})
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"warning blob.missing-external"}},
		{name: "A12 layer bytes changed", build: func(t *testing.T) string {
			b, img := tagged(t)
			writeFile(t, blobFile(b, img.layer.Digest), []byte("LAYER"))
			return b.Dir
		}, want: []string{"error blob.digest"}, class: 1},
		{name: "A12 layer size changed", build: func(t *testing.T) string {
			b, img := tagged(t)
			writeFile(t, blobFile(b, img.layer.Digest), []byte("layer+"))
			return b.Dir
		}, want: []string{"error blob.size", "error blob.digest"}, class: 1},
		{name: "A12 layer bytes changed, fast", opts: validate.Options{Fast: true}, build: func(t *testing.T) string {
			b, img := tagged(t)
			writeFile(t, blobFile(b, img.layer.Digest), []byte("LAYER"))
			return b.Dir
		}},
		{name: "A12 layer size changed, fast", opts: validate.Options{Fast: true}, build: func(t *testing.T) string {
			b, img := tagged(t)
			writeFile(t, blobFile(b, img.layer.Digest), []byte("lay"))
			return b.Dir
		}, want: []string{"error blob.size"}, class: 1},
		{name: "A12 manifest bytes changed, fast", opts: validate.Options{Fast: true}, build: func(t *testing.T) string {
			b, img := tagged(t)
			raw, _ := os.ReadFile(blobFile(b, img.manifest.Digest))
			writeFile(t, blobFile(b, img.manifest.Digest), bytes.Replace(raw, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1))
			return b.Dir
		}, want: []string{"error blob.digest"}, class: 1},
		{name: "A12 descriptors disagree on a size", build: func(t *testing.T) string {
			b, img := tagged(t)
			wrong := img.layer
			wrong.Size++
			m2 := b.Manifest(ocispec.Manifest{Config: img.config, Layers: []ocispec.Descriptor{wrong}})
			b.SetIndex(tl.Tag(img.manifest, "v1"), tl.Tag(m2, "v2"))
			return b.Dir
		}, want: []string{"error blob.size"}, class: 1},
		{name: "A13 stray names under blobs", build: func(t *testing.T) string {
			b, img := tagged(t)
			b.WriteFile("blobs/sha256/"+img.layer.Digest.Encoded()+".tmp", []byte("x"))
			b.WriteFile("blobs/sha256/.DS_Store", []byte("x"))
			b.WriteFile("blobs/SHA256/"+img.layer.Digest.Encoded(), []byte("layer"))
			b.WriteFile("blobs/sha256/"+strings.ToUpper(img.layer.Digest.Encoded()), []byte("layer"))
			b.WriteFile("blobs/sha256/.ocil-tmp-1234", []byte("half a blob"))
			b.WriteFile(".ocil-tmp-index.json-1234", []byte("{"))
			return b.Dir
		}, want: []string{"warning layout.blob-name", "warning layout.blob-name", "warning layout.blob-name", "warning layout.blob-name", "note layout.temp", "note layout.temp"}},
		{name: "A14 manifest with manifests", build: func(t *testing.T) string {
			b, cfg, layer := bare(t)
			m := b.Blob(mtManifest, []byte(`{"schemaVersion":2,"mediaType":"`+mtManifest+`","config":`+descJSON(t, cfg)+`,"layers":[`+descJSON(t, layer)+`],"manifests":[]}`))
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"error manifest.ambiguous"}, class: 1},
		{name: "A14 index with layers", build: func(t *testing.T) string {
			b, img := tagged(t)
			idx := b.Blob(mtIndex, []byte(`{"schemaVersion":2,"mediaType":"`+mtIndex+`","manifests":[`+descJSON(t, tl.WithPlatform(img.manifest, *tl.P("linux", "amd64", "", "")))+`],"layers":[]}`))
			b.SetIndex(tl.Tag(idx, "v1"))
			return b.Dir
		}, want: []string{"error index.ambiguous"}, class: 1},
		{name: "A15 manifest descriptor over an index document", build: func(t *testing.T) string {
			b, img := tagged(t)
			idx := b.Index(img.manifest)
			idx.MediaType = mtManifest
			b.SetIndex(tl.Tag(idx, "v1"))
			return b.Dir
		}, want: []string{"error manifest.mediatype-mismatch"}, class: 1},
		{name: "A15 Docker list descriptor over an OCI index", build: func(t *testing.T) string {
			b, img := tagged(t)
			idx := b.Index(tl.WithPlatform(img.manifest, *tl.P("linux", "amd64", "", "")))
			idx.MediaType = mtDockerList
			b.SetIndex(tl.Tag(idx, "v1"))
			return b.Dir
		}, want: []string{"error index.mediatype-mismatch"}, class: 1},
		{name: "A15 the same manifest listed with two types", build: func(t *testing.T) string {
			b, img := tagged(t)
			docker := img.manifest
			docker.MediaType = mtDockerImage
			b.SetIndex(tl.Tag(img.manifest, "v1"), tl.Tag(docker, "v2"))
			return b.Dir
		}, want: []string{"error manifest.mediatype-mismatch"}, class: 1},
		{name: "index nested too deep", build: func(t *testing.T) string {
			b := tl.New(t)
			cur := newImage(b, tl.P("linux", "amd64", "", ""), "deep").manifest
			for range layout.MaxDepth + 2 {
				cur = b.Index(cur)
			}
			b.SetIndex(tl.Tag(cur, "v1"))
			return b.Dir
		}, want: []string{"error index.depth"}, class: 1},
	})
}

func foreignLayout(t *testing.T) string {
	b := tl.New(t)
	layer := foreignBlob(mtForeign, "windows base layer")
	layer.URLs = []string{"https://example.com/layer.tar.gz"}
	cfg := b.Blob(mtDockerConfig, []byte(`{"os":"windows","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}`))
	m := b.Manifest(ocispec.Manifest{MediaType: mtDockerImage, Config: cfg, Layers: []ocispec.Descriptor{layer}})
	b.SetIndex(tl.Tag(m, "v1"))
	return b.Dir
}

// B: descriptors and digests (cases 16-25).
func TestDescriptors(t *testing.T) {
	// entries writes index.json with one entry per raw value of member, each pointing at a
	// plain blob.
	entries := func(member string, raws ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			d := b.Blob("application/octet-stream", []byte("payload"))
			var es []string
			for i, raw := range raws {
				es = append(es, rawEntry(t, tl.Tag(d, fmt.Sprintf("t%d", i)), member, raw))
			}
			indexJSON(b, es...)
			return b.Dir
		}
	}
	// layerDigest stores a manifest whose layer has the digest d, with a file for it.
	layerDigest := func(d string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			layer := ocispec.Descriptor{MediaType: mtLayer, Digest: digest.Digest(d), Size: 5}
			b.WriteFile("blobs/"+layer.Digest.Algorithm().String()+"/"+layer.Digest.Encoded(), []byte("layer"))
			m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{layer}})
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}
	}
	hex64 := strings.Repeat("ab", 32)
	// data builds an artifact whose config is the empty descriptor with data set.
	data := func(value string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			empty := b.Blob(mtEmpty, []byte("{}"))
			cfg := rawEntry(t, empty, "data", `"`+value+`"`)
			m := b.Blob(mtManifest, []byte(`{"schemaVersion":2,"mediaType":"`+mtManifest+`","artifactType":"`+artifactType+`","config":`+cfg+`,"layers":[`+descJSON(t, empty)+`]}`))
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}
	}
	sha512Layer := func(t *testing.T) string {
		b := tl.New(t)
		sum := sha512.Sum512([]byte("layer"))
		layer := ocispec.Descriptor{MediaType: mtLayer, Digest: digest.NewDigestFromEncoded(digest.SHA512, hex.EncodeToString(sum[:])), Size: 5}
		b.WriteFile("blobs/sha512/"+layer.Digest.Encoded(), []byte("layer"))
		m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{layer}})
		b.SetIndex(tl.Tag(m, "v1"))
		return b.Dir
	}
	runCases(t, []vcase{
		{name: "B16 sha256 with 63 hex", build: entries("digest", `"sha256:`+strings.Repeat("a", 63)+`"`), want: []string{"error descriptor.digest"}, class: 1},
		{name: "B16 sha256 uppercase", build: entries("digest", `"sha256:`+strings.Repeat("AB", 32)+`"`), want: []string{"error descriptor.digest"}, class: 1},
		{name: "B16 digest not a string", build: entries("digest", `12`), want: []string{"error descriptor.digest"}, class: 1},
		{name: "B17 sha512", build: sha512Layer},
		{name: "B18 blake3", build: layerDigest("blake3:" + hex64), want: []string{"warning descriptor.algorithm"}},
		{name: "B18 sha384", build: layerDigest("sha384:" + strings.Repeat("ab", 48)), want: []string{"warning descriptor.algorithm"}},
		{name: "B18 blake3 of the wrong length", build: layerDigest("blake3:" + hex64[:62]), want: []string{"error descriptor.digest", "warning layout.blob-name"}, class: 1},
		{name: "B19 multihash", build: layerDigest("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"), want: []string{"warning descriptor.algorithm"}},
		{name: "B19 multihash, for push", opts: validate.Options{ForPush: true}, build: layerDigest("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"), want: []string{"error push.algorithm"}, class: 1},
		{name: "B20 digests that would leave blobs/", build: entries("digest", `"sha256:../../etc/passwd"`, `"sha256/../x:y"`, `":abc"`, `"sha256:"`),
			want: []string{"error descriptor.digest", "error descriptor.digest", "error descriptor.digest", "error descriptor.digest"}, class: 1},
		{name: "B21 sizes", build: entries("size", `-1`, `1.5`, `"12"`, `null`),
			want: []string{"error descriptor.size", "error descriptor.size", "error descriptor.size", "error descriptor.size"}, class: 1},
		{name: "B22 media types", build: entries("mediaType", `"application/json; charset=utf-8"`, `"text/ plain"`, `"application/`+strings.Repeat("a", 128)+`"`, `7`),
			want: []string{"error descriptor.mediatype", "error descriptor.mediatype", "error descriptor.mediatype", "error descriptor.mediatype"}, class: 1},
		{name: "B22 media type of 127 characters a side", build: entries("mediaType", `"`+strings.Repeat("a", 127)+`/`+strings.Repeat("b", 127)+`"`)},
		{name: "B22 media type missing", build: func(t *testing.T) string {
			b := tl.New(t)
			d := b.Blob("application/octet-stream", []byte("payload"))
			indexJSON(b, fmt.Sprintf(`{"digest":%q,"size":%d}`, d.Digest, d.Size))
			return b.Dir
		}, want: []string{"error descriptor.mediatype"}, class: 1},
		{name: "B22 artifactType", build: entries("artifactType", `"not a type"`), want: []string{"error descriptor.artifact-type"}, class: 1},
		{name: "B23 empty descriptor with data", build: data("e30=")},
		{name: "B23 data that does not match", build: data("W10="), want: []string{"error descriptor.data"}, class: 1},
		{name: "B23 data of another size", build: data("e319"), want: []string{"error descriptor.data"}, class: 1},
		{name: "B23 URL-safe base64", build: data("e3-_"), want: []string{"error descriptor.data"}, class: 1},
		{name: "B24 annotation not a string", build: entries("annotations", `{"a":1}`), want: []string{"error descriptor.annotations"}, class: 1},
		{name: "B24 empty annotation", build: entries("annotations", `{"a":""}`)},
		{name: "B25 empty platform", build: entries("platform", `{}`), want: []string{"error descriptor.platform"}, class: 1},
		{name: "B25 platform without architecture", build: entries("platform", `{"os":"linux"}`), want: []string{"error descriptor.platform"}, class: 1},
		{name: "B25 platform with features", build: entries("platform", `{"os":"linux","architecture":"amd64","features":["sse4"]}`)},
		{name: "B25 platform not an object", build: entries("platform", `"linux/amd64"`), want: []string{"error descriptor.platform"}, class: 1},
		{name: "urls", build: entries("urls", `["https://example.com/x"]`, `["not a url"]`, `"https://example.com/x"`),
			want: []string{"error descriptor.urls", "error descriptor.urls"}, class: 1},
		{name: "descriptor not an object", build: func(t *testing.T) string {
			b := tl.New(t)
			indexJSON(b, `"sha256:abc"`)
			return b.Dir
		}, want: []string{"error index.schema"}, class: 1},
	})
}

// C: references, and roots.
func TestReferences(t *testing.T) {
	names := func(names ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b, img := tagged(t)
			var es []ocispec.Descriptor
			for _, n := range names {
				es = append(es, tl.Tag(img.manifest, n))
			}
			b.SetIndex(es...)
			return b.Dir
		}
	}
	untagged := func(t *testing.T) string {
		b := tl.New(t)
		amd := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
		arm := newImage(b, tl.P("linux", "arm64", "", ""), "arm64")
		b.SetIndex(amd.manifest, arm.manifest)
		return b.Dir
	}
	runCases(t, []vcase{
		{name: "C26 valid names", build: names("latest", "v1.0.0-vendor.0", "docker.io/library/alpine:3.19", "foo--bar", "a@b+c", "1.0")},
		{name: "C27 invalid names", build: names("", "-x", "x-", "a__b", "a---b", "a//b", "/a", "a b", "tag:", "ümlaut"),
			want: slices.Repeat([]string{"warning ref.name"}, 10)},
		{name: "C28 names that are not registry tags, for push", opts: validate.Options{ForPush: true},
			build: names("docker.io/library/alpine:3.19", "a:b", strings.Repeat("a", 129), "v1"),
			want:  []string{"error push.tag", "error push.tag", "error push.tag"}, class: 1},
		{name: "C28 a tag that is not a ref.name, for push", opts: validate.Options{ForPush: true}, build: names("_foo"), want: []string{"warning ref.name"}},
		{name: "C29 one name, two digests", build: func(t *testing.T) string {
			b := tl.New(t)
			amd := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			arm := newImage(b, tl.P("linux", "arm64", "", ""), "arm64")
			b.SetIndex(tl.Tag(amd.manifest, "v1"), tl.Tag(arm.manifest, "v1"))
			return b.Dir
		}, want: []string{"error ref.conflict"}, class: 1},
		{name: "C29 one name twice, one digest", build: names("v1", "v1")},
		{name: "C30 ref.name inside a nested index", build: func(t *testing.T) string {
			b := tl.New(t)
			amd := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			idx := b.Index(tl.Tag(tl.WithPlatform(amd.manifest, *tl.P("linux", "amd64", "", "")), "inner"))
			b.SetIndex(tl.Tag(idx, "v1"))
			return b.Dir
		}, want: []string{"note ref.nested"}},
		{name: "C31 one untagged image", build: func(t *testing.T) string {
			b := tl.New(t)
			b.SetIndex(newImage(b, tl.P("linux", "amd64", "", ""), "amd64").manifest)
			return b.Dir
		}},
		{name: "C32 two untagged images", build: untagged, want: []string{"warning ref.untagged-roots"}},
		{name: "C32 two untagged images, strict", opts: validate.Options{Strict: true}, build: untagged, want: []string{"error ref.untagged-roots"}, class: 1},
		{name: "C33 oras-style: index, its children and a referrer", build: func(t *testing.T) string {
			b := tl.New(t)
			amd := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			arm := newImage(b, tl.P("linux", "arm64", "", ""), "arm64")
			idx := b.Index(tl.WithPlatform(amd.manifest, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(arm.manifest, *tl.P("linux", "arm64", "", "")))
			ref := artifact(b, &idx)
			b.SetIndex(tl.Tag(idx, "v1"), amd.manifest, arm.manifest, ref)
			return b.Dir
		}},
		{name: "C34 referrers tag beside an untagged image", build: func(t *testing.T) string {
			b := tl.New(t)
			amd := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			other := newImage(b, tl.P("linux", "arm64", "", ""), "arm64")
			b.SetIndex(amd.manifest, tl.Tag(other.manifest, "sha256-"+amd.manifest.Digest.Encoded()))
			return b.Dir
		}},
	})
}

// Platforms inside indexes.
func TestPlatforms(t *testing.T) {
	index := func(plats ...*ocispec.Platform) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			var children []ocispec.Descriptor
			for i, p := range plats {
				img := newImage(b, p, fmt.Sprintf("layer %d", i))
				children = append(children, tl.WithPlatform(img.manifest, *p))
			}
			b.SetIndex(tl.Tag(b.Index(children...), "v1"))
			return b.Dir
		}
	}
	runCases(t, []vcase{
		{name: "different platforms", build: index(tl.P("linux", "amd64", "", ""), tl.P("linux", "amd64", "v3", ""), tl.P("linux", "arm64", "v8", ""), tl.P("windows", "amd64", "", "10.0.17763.5458"), tl.P("windows", "amd64", "", "10.0.20348.2322"))},
		{name: "arm64 and arm64/v8", build: index(tl.P("linux", "arm64", "", ""), tl.P("linux", "arm64", "v8", "")), want: []string{"error platform.duplicate"}, class: 1},
		{name: "amd64 three times", build: index(tl.P("linux", "amd64", "", ""), tl.P("linux", "amd64", "", ""), tl.P("linux", "amd64", "v1", "")),
			want: []string{"error platform.duplicate", "error platform.duplicate"}, class: 1},
		{name: "the same manifest twice", build: func(t *testing.T) string {
			b := tl.New(t)
			img := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			c := tl.WithPlatform(img.manifest, *tl.P("linux", "amd64", "", ""))
			b.SetIndex(tl.Tag(b.Index(c, c), "v1"))
			return b.Dir
		}},
		{name: "attestations", build: func(t *testing.T) string {
			b := tl.New(t)
			img := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
			a1 := attestation(tl.WithPlatform(artifact(b, nil), *tl.P("unknown", "unknown", "", "")), img.manifest)
			a2 := attestation(tl.WithPlatform(b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example.sbom", Config: b.Blob(mtEmpty, []byte("{}")), Layers: []ocispec.Descriptor{b.Blob(mtLayer, []byte("sbom"))}}), *tl.P("unknown", "unknown", "", "")), img.manifest)
			b.SetIndex(tl.Tag(b.Index(tl.WithPlatform(img.manifest, *tl.P("linux", "amd64", "", "")), a1, a2), "v1"))
			return b.Dir
		}},
		{name: "aarch64", build: index(tl.P("linux", "aarch64", "", "")), want: []string{"warning platform.unknown"}},
		{name: "Linux", build: index(tl.P("Linux", "amd64", "", "")), want: []string{"warning platform.unknown"}},
		{name: "unknown os and architecture", build: index(tl.P("plan10", "z80", "", "")), want: []string{"warning platform.unknown", "warning platform.unknown"}},
	})
}

// H: artifacts (cases 71-74).
func TestArtifacts(t *testing.T) {
	withSubject := func(t *testing.T) string {
		b := tl.New(t)
		elsewhere := foreignBlob(mtManifest, "a manifest kept in a registry")
		b.SetIndex(tl.Tag(artifact(b, &elsewhere), "sig"))
		return b.Dir
	}
	runCases(t, []vcase{
		{name: "H71 empty config without artifactType", build: func(t *testing.T) string {
			b := tl.New(t)
			empty := b.Blob(mtEmpty, []byte("{}"))
			m := b.Manifest(ocispec.Manifest{Config: empty, Layers: []ocispec.Descriptor{b.Blob(mtLayer, []byte("x"))}})
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"error manifest.artifact-type"}, class: 1},
		{name: "H71 empty config with artifactType", build: func(t *testing.T) string {
			b := tl.New(t)
			b.SetIndex(tl.Tag(artifact(b, nil), "v1"))
			return b.Dir
		}},
		{name: "H72 artifact without layers", build: func(t *testing.T) string {
			b := tl.New(t)
			m := b.Manifest(ocispec.Manifest{ArtifactType: artifactType, Config: b.Blob(mtEmpty, []byte("{}")), Layers: []ocispec.Descriptor{}})
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"warning manifest.layers"}},
		{name: "H72 manifest without a layers member", build: func(t *testing.T) string {
			b := tl.New(t)
			cfg := b.Config(tl.P("linux", "amd64", "", ""))
			m := b.Blob(mtManifest, []byte(`{"schemaVersion":2,"mediaType":"`+mtManifest+`","config":`+descJSON(t, cfg)+`}`))
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"warning manifest.layers"}},
		{name: "H73 subject not in the layout", build: withSubject, want: []string{"note subject.missing"}},
		{name: "H73 subject not in the layout, for push", opts: validate.Options{ForPush: true}, build: withSubject, want: []string{"warning push.subject"}},
		{name: "manifest without config", build: func(t *testing.T) string {
			b := tl.New(t)
			m := b.Blob(mtManifest, []byte(`{"schemaVersion":2,"mediaType":"`+mtManifest+`","layers":[]}`))
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"error manifest.schema", "warning manifest.layers"}, class: 1},
		{name: "manifest with duplicate members", build: func(t *testing.T) string {
			b, cfg, layer := bare(t)
			m := b.Blob(mtManifest, []byte(`{"schemaVersion":2,"mediaType":"`+mtManifest+`","config":`+descJSON(t, cfg)+`,"layers":[],"layers":[`+descJSON(t, layer)+`]}`))
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"error manifest.schema"}, class: 1},
	})
}

// The rules --for-push adds.
func TestForPush(t *testing.T) {
	push := validate.Options{ForPush: true}
	big := func(t *testing.T) string {
		b, cfg, layer := bare(t)
		m := b.Manifest(ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer},
			Annotations: map[string]string{"padding": strings.Repeat("x", 4<<20)}})
		b.SetIndex(tl.Tag(m, "v1"))
		return b.Dir
	}
	mixed := func(t *testing.T) string {
		b := tl.New(t)
		oci := newImage(b, tl.P("linux", "amd64", "", ""), "amd64")
		cfg := b.Blob(mtDockerConfig, []byte(`{"os":"linux","architecture":"arm64","rootfs":{"type":"layers","diff_ids":[]}}`))
		docker := b.Manifest(ocispec.Manifest{MediaType: mtDockerImage, Config: cfg,
			Layers: []ocispec.Descriptor{b.Blob("application/vnd.docker.image.rootfs.diff.tar.gzip", []byte("arm64"))}})
		b.SetIndex(tl.Tag(b.Index(tl.WithPlatform(oci.manifest, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(docker, *tl.P("linux", "arm64", "", ""))), "v1"))
		return b.Dir
	}
	withURLs := func(t *testing.T) string {
		b := tl.New(t)
		layer := b.Blob(mtLayer, []byte("layer"))
		layer.URLs = []string{"https://example.com/layer"}
		m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{layer}})
		b.SetIndex(tl.Tag(m, "v1"))
		return b.Dir
	}
	runCases(t, []vcase{
		{name: "manifest over 4 MiB", build: big},
		{name: "manifest over 4 MiB, for push", opts: push, build: big, want: []string{"error push.document-size"}, class: 1},
		{name: "Docker and OCI mixed", build: mixed},
		{name: "Docker and OCI mixed, for push", opts: push, build: mixed, want: []string{"warning push.mixed-types"}},
		{name: "Docker and OCI mixed, for push, strict", opts: validate.Options{ForPush: true, Strict: true}, build: mixed, want: []string{"error push.mixed-types"}, class: 1},
		{name: "urls", build: withURLs},
		{name: "urls, for push", opts: push, build: withURLs, want: []string{"warning push.urls"}},
		{name: "a clean image, for push", opts: push, build: func(t *testing.T) string { b, _ := tagged(t); return b.Dir }},
	})
}

// What is not a layout, and tarballs.
func TestSources(t *testing.T) {
	runCases(t, []vcase{
		{name: "not found", build: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			want: []string{"error layout.read"}, class: 1},
		{name: "empty folder", build: func(t *testing.T) string { return t.TempDir() },
			want: []string{"error layout.read"}, class: 2},
		{name: "a file that is not a tarball", build: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "README")
			writeFile(t, p, []byte("hello\n"))
			return p
		}, want: []string{"error layout.read"}, class: 2},
		{name: "only index.json", build: func(t *testing.T) string {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[]}`))
			return dir
		}, want: []string{"error layout.header", "error layout.blobs"}, class: 1},
		{name: "tarball", build: func(t *testing.T) string {
			b, _ := tagged(t)
			return tarball(t, b.Dir, false)
		}},
		{name: "tarball with a changed layer", build: func(t *testing.T) string {
			b, img := tagged(t)
			writeFile(t, blobFile(b, img.layer.Digest), []byte("LAYER"))
			return tarball(t, b.Dir, false)
		}, want: []string{"error blob.digest"}, class: 1},
		{name: "tarball with a layer missing", build: func(t *testing.T) string {
			b, img := tagged(t)
			remove(t, blobFile(b, img.layer.Digest))
			return tarball(t, b.Dir, false)
		}, want: []string{"error blob.missing"}, class: 1},
		{name: "empty tarball layout", build: func(t *testing.T) string {
			b := tl.New(t)
			remove(t, filepath.Join(b.Dir, "blobs"))
			return tarball(t, b.Dir, false)
		}},
		{name: "gzip tarball", build: func(t *testing.T) string {
			b, _ := tagged(t)
			return tarball(t, b.Dir, true)
		}},
		{name: "gzip tarball with a changed layer", build: func(t *testing.T) string {
			b, img := tagged(t)
			writeFile(t, blobFile(b, img.layer.Digest), []byte("LAYER"))
			return tarball(t, b.Dir, true)
		}, want: []string{"error layout.read"}, class: 2},
	})
	b, img := tagged(t)
	writeFile(t, blobFile(b, img.layer.Digest), []byte("LAYER"))
	if _, err := validate.Layout(context.Background(), tarball(t, b.Dir, true), validate.Options{}); !errors.Is(err, layout.ErrInvalidArchive) || !errors.Is(err, layout.ErrNotLayout) {
		t.Errorf("a damaged gzip tarball: error %v, want ErrInvalidArchive and ErrNotLayout", err)
	}
}

// tarball packs the layout folder dir into a tarball beside it.
func tarball(t *testing.T, dir string, gz bool) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	data, name := buf.Bytes(), dir+".tar"
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data, name = z.Bytes(), dir+".tar.gz"
	}
	writeFile(t, name, data)
	return name
}

// The same layout gives the same report, byte for byte, sorted (H74's determinism,
// for validation).
func TestDeterministic(t *testing.T) {
	b := tl.New(t)
	var children []ocispec.Descriptor
	for i := range 12 {
		img := newImage(b, tl.P("linux", "amd64", "", ""), fmt.Sprintf("layer %d", i))
		writeFile(t, blobFile(b, img.layer.Digest), []byte(fmt.Sprintf("LAYER %d", i)))
		children = append(children, tl.WithPlatform(img.manifest, *tl.P("linux", "amd64", "", "")))
	}
	b.SetIndex(tl.Tag(b.Index(children...), "a b"), children[0], children[1])
	b.WriteFile("README", []byte("x"))
	var first []byte
	for i := range 5 {
		rep, err := validate.Layout(context.Background(), b.Dir, validate.Options{Jobs: 1 + i})
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
			if rep.Errors < 12 || rep.Warnings == 0 || rep.Notes == 0 {
				t.Fatalf("report too small for the test:\n%s", describe(rep))
			}
			sev := map[validate.Severity]int{validate.SeverityError: 0, validate.SeverityWarning: 1, validate.SeverityNote: 2}
			for j := 1; j < len(rep.Findings); j++ {
				if sev[rep.Findings[j-1].Severity] > sev[rep.Findings[j].Severity] {
					t.Errorf("finding %d (%s) after one of a lower severity", j, rep.Findings[j].Severity)
				}
			}
			var dups []string
			for _, f := range rep.Findings {
				if f.Check == "platform.duplicate" {
					dups = append(dups, f.Object[strings.LastIndexByte(f.Object, ' ')+1:])
				}
			}
			want := []string{}
			for j := 1; j < 12; j++ {
				want = append(want, fmt.Sprintf("manifests[%d]", j))
			}
			if !slices.Equal(dups, want) {
				t.Errorf("platform.duplicate objects %q, want %q (natural order)", dups, want)
			}
			continue
		}
		if !bytes.Equal(got, first) {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, got, first)
		}
	}
}

func TestCanceled(t *testing.T) {
	b, _ := tagged(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := validate.Layout(ctx, b.Dir, validate.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

package layout

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	dgA = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	dgB = "sha256:b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c"
)

func TestDecodeIndex(t *testing.T) {
	man := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dgA + `","size":2}`
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"A1 empty manifests", `{"schemaVersion":2,"manifests":[]}`, true},
		{"A5 no mediaType", `{"schemaVersion":2,"manifests":[` + man + `]}`, true},
		{"OCI mediaType", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, true},
		{"Docker list mediaType", `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}`, true},
		{"A6 manifests null", `{"schemaVersion":2,"manifests":null}`, false},
		{"A6 manifests missing", `{"schemaVersion":2}`, false},
		{"A6 schemaVersion 1", `{"schemaVersion":1,"manifests":[]}`, false},
		{"A6 schemaVersion string", `{"schemaVersion":"2","manifests":[]}`, false},
		{"schemaVersion missing", `{"manifests":[]}`, false},
		{"schemaVersion 2.0", `{"schemaVersion":2.0,"manifests":[]}`, false},
		{"A7 duplicate manifests", `{"schemaVersion":2,"manifests":[],"manifests":[` + man + `]}`, false},
		{"A7 case variant Manifests", `{"schemaVersion":2,"Manifests":[]}`, false},
		{"case variant inside descriptor", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","Digest":"` + dgA + `","size":2}]}`, false},
		{"duplicate annotation", `{"schemaVersion":2,"manifests":[],"annotations":{"a":"1","a":"2"}}`, false},
		{"annotation keys may look like fields", `{"schemaVersion":2,"manifests":[],"annotations":{"MediaType":"x","Digest":"y"}}`, true},
		{"A14 index with layers", `{"schemaVersion":2,"manifests":[],"layers":[]}`, false},
		{"A14 index with config", `{"schemaVersion":2,"manifests":[],"config":{}}`, false},
		{"manifest mediaType", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}`, false},
		{"B20 traversal digest", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"sha256:../../etc/passwd","size":1}]}`, false},
		{"B21 negative size", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"` + dgA + `","size":-1}]}`, false},
		{"B21 fractional size", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"` + dgA + `","size":1.5}]}`, false},
		{"B21 string size", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"` + dgA + `","size":"12"}]}`, false},
		{"B24 annotation number", `{"schemaVersion":2,"manifests":[],"annotations":{"a":1}}`, false},
		{"B24 annotation empty string", `{"schemaVersion":2,"manifests":[],"annotations":{"a":""}}`, true},
		{"B25 empty platform", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"` + dgA + `","size":2,"platform":{}}]}`, false},
		{"B25 platform os only", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"` + dgA + `","size":2,"platform":{"os":"linux"}}]}`, false},
		{"B25 platform with features", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"` + dgA + `","size":2,"platform":{"os":"linux","architecture":"amd64","features":["sse4"]}}]}`, true},
		{"A8 unknown media type entry", `{"schemaVersion":2,"manifests":[{"mediaType":"application/xml","digest":"` + dgA + `","size":2}]}`, true},
		{"trailing data", `{"schemaVersion":2,"manifests":[]} {}`, false},
		{"not JSON", `{"schemaVersion":2,`, false},
		{"invalid UTF-8", "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":\"\xff\"}}", false},
		{"array", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := DecodeIndex([]byte(tt.doc))
			if tt.ok {
				if err != nil {
					t.Fatalf("DecodeIndex: %v", err)
				}
				if idx.Manifests == nil {
					t.Fatal("Manifests is nil")
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeIndex accepted %s", tt.doc)
			}
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("DecodeIndex: %v, want ErrInvalidDocument", err)
			}
		})
	}
}

// TestDecodeIndexTooLarge: the documented bound is 64 MiB; an index of 100,000 tags
// (about 30 MB, over the 20 MiB cap on other documents) is read.
func TestDecodeIndexTooLarge(t *testing.T) {
	big := `{"schemaVersion":2,"manifests":[],"annotations":{"a":"` + strings.Repeat("x", 64<<20) + `"}}`
	if _, err := DecodeIndex([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"manifests":[`)
	for i := range 100000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":2,"annotations":{"org.opencontainers.image.ref.name":"registry.example.com/team/app-%06d:1.0"},"platform":{"architecture":"amd64","os":"linux"}}`, dgA, i)
	}
	b.WriteString(`]}`)
	if b.Len() < 25<<20 {
		t.Fatalf("the index is only %d bytes", b.Len())
	}
	idx, err := DecodeIndex([]byte(b.String()))
	if err != nil || len(idx.Manifests) != 100000 || idx.Manifests[99999].Annotations[ocispec.AnnotationRefName] != "registry.example.com/team/app-099999:1.0" {
		t.Fatalf("DecodeIndex of 100,000 tags: %v", err)
	}
}

func TestDecodeIndexDepth(t *testing.T) {
	deep := `{"schemaVersion":2,"manifests":[],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	if _, err := DecodeIndex([]byte(deep)); !errors.Is(err, ErrInvalidDocument) {
		t.Fatalf("got %v, want ErrInvalidDocument", err)
	}
}

func TestDecodeManifest(t *testing.T) {
	cfg := `{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dgA + `","size":2}`
	layer := `{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + dgB + `","size":3}`
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"image", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":` + cfg + `,"layers":[` + layer + `]}`, true},
		{"no mediaType", `{"schemaVersion":2,"config":` + cfg + `,"layers":[]}`, true},
		{"Docker schema 2", `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":` + cfg + `,"layers":[` + layer + `]}`, true},
		{"H72 no layers", `{"schemaVersion":2,"config":` + cfg + `}`, true},
		{"A14 manifest with manifests", `{"schemaVersion":2,"config":` + cfg + `,"layers":[],"manifests":[]}`, false},
		{"A15 index mediaType", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":` + cfg + `,"layers":[]}`, false},
		{"config missing", `{"schemaVersion":2,"layers":[]}`, false},
		{"config null", `{"schemaVersion":2,"config":null,"layers":[]}`, false},
		{"config bad digest", `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"md5:x/y","size":1},"layers":[]}`, false},
		{"layer negative size", `{"schemaVersion":2,"config":` + cfg + `,"layers":[{"mediaType":"a/b","digest":"` + dgB + `","size":-5}]}`, false},
		{"schema 1", `{"schemaVersion":1,"fsLayers":[]}`, false},
		{"Layers case variant", `{"schemaVersion":2,"config":` + cfg + `,"Layers":[]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeManifest([]byte(tt.doc))
			if tt.ok && err != nil {
				t.Fatalf("DecodeManifest: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("DecodeManifest = %v, want ErrInvalidDocument", err)
			}
		})
	}
}

func TestEncodeJSONIsStable(t *testing.T) {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageManifest, Digest: dgA, Size: 2,
		Annotations: map[string]string{"z": "1", "a": "<&>"}}}}
	idx.SchemaVersion = 2
	a, err := EncodeJSON(idx)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dgA + `","size":2,"annotations":{"a":"<&>","z":"1"}}]}`
	if string(a) != want {
		t.Fatalf("EncodeJSON:\n got %s\nwant %s", a, want)
	}
}

// FuzzDecodeIndex: never panics, and whatever it accepts is safe to use: every digest maps
// to a blob path inside blobs/, no size is negative, every platform has os and architecture.
func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dgA + `","size":2,"platform":{"os":"linux","architecture":"arm64","variant":"v8"},"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[],"Manifests":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"digest":"sha256:../x","size":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := DecodeIndex(b)
		if err != nil {
			return
		}
		if idx.Manifests == nil {
			t.Fatal("accepted an index without manifests")
		}
		for _, d := range idx.Manifests {
			p, err := BlobPath(d.Digest)
			if err != nil || !strings.HasPrefix(p, "blobs/") || strings.Contains(p, "..") {
				t.Fatalf("accepted digest %q (path %q, %v)", d.Digest, p, err)
			}
			if d.Size < 0 {
				t.Fatalf("accepted size %d", d.Size)
			}
			if d.Platform != nil && (d.Platform.OS == "" || d.Platform.Architecture == "") {
				t.Fatalf("accepted platform %+v", d.Platform)
			}
		}
	})
}

// FuzzDecodeManifest: never panics; an accepted manifest has a usable config descriptor
// and no index members.
func FuzzDecodeManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + dgA + `","size":2},"layers":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"config":{},"layers":[],"manifests":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if _, err := BlobPath(m.Config.Digest); err != nil {
			t.Fatalf("accepted config digest %q", m.Config.Digest)
		}
		for _, l := range m.Layers {
			if _, err := BlobPath(l.Digest); err != nil || l.Size < 0 {
				t.Fatalf("accepted layer %+v", l)
			}
		}
		if sniffMediaType(b) == ocispec.MediaTypeImageIndex {
			t.Fatalf("accepted a document that also reads as an index: %s", b)
		}
	})
}

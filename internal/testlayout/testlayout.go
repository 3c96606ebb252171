// Package testlayout builds small OCI layouts in a test's temp folder: blobs, image and
// artifact manifests, indexes and index.json, including malformed ones that the layout
// package must refuse. It writes files directly (not through package layout) so tests of
// the layout package do not depend on the code under test to set up their input.
package testlayout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Builder writes one layout folder.
type Builder struct {
	t   testing.TB
	Dir string
}

// New makes an empty layout (oci-layout, index.json with no entries, blobs/sha256) in a new
// temp folder.
func New(t testing.TB) *Builder {
	t.Helper()
	b := &Builder{t: t, Dir: filepath.Join(t.TempDir(), "layout")}
	b.WriteFile("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	b.WriteFile("index.json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	if err := os.MkdirAll(filepath.Join(b.Dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

// WriteFile writes a file at a slash-separated path inside the layout.
func (b *Builder) WriteFile(name string, data []byte) {
	b.t.Helper()
	p := filepath.Join(b.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// Blob stores data under its sha256 digest and returns its descriptor.
func (b *Builder) Blob(mediaType string, data []byte) ocispec.Descriptor {
	b.t.Helper()
	sum := sha256.Sum256(data)
	hexsum := hex.EncodeToString(sum[:])
	b.WriteFile("blobs/sha256/"+hexsum, data)
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.Digest("sha256:" + hexsum), Size: int64(len(data))}
}

// JSON marshals v and stores it as a blob.
func (b *Builder) JSON(mediaType string, v any) ocispec.Descriptor {
	b.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Blob(mediaType, data)
}

// Config stores an image config for p (nil: a config without os/architecture).
func (b *Builder) Config(p *ocispec.Platform) ocispec.Descriptor {
	b.t.Helper()
	c := map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": []string{}}}
	if p != nil {
		c["os"], c["architecture"] = p.OS, p.Architecture
		if p.Variant != "" {
			c["variant"] = p.Variant
		}
		if p.OSVersion != "" {
			c["os.version"] = p.OSVersion
		}
	}
	return b.JSON(ocispec.MediaTypeImageConfig, c)
}

// Image stores an image manifest whose config says p (nil: no platform in the config) with
// one layer holding layerText, and returns the manifest's descriptor (no platform on it).
func (b *Builder) Image(p *ocispec.Platform, layerText string) ocispec.Descriptor {
	b.t.Helper()
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    b.Config(p),
		Layers:    []ocispec.Descriptor{b.Blob(ocispec.MediaTypeImageLayer, []byte(layerText))},
	}
	m.SchemaVersion = 2
	return b.JSON(ocispec.MediaTypeImageManifest, m)
}

// Manifest stores m (schemaVersion and mediaType filled in) and returns its descriptor.
func (b *Builder) Manifest(m ocispec.Manifest) ocispec.Descriptor {
	b.t.Helper()
	m.SchemaVersion = 2
	if m.MediaType == "" {
		m.MediaType = ocispec.MediaTypeImageManifest
	}
	d := b.JSON(m.MediaType, m)
	d.ArtifactType = m.ArtifactType
	return d
}

// Index stores an OCI index of children and returns its descriptor.
func (b *Builder) Index(children ...ocispec.Descriptor) ocispec.Descriptor {
	b.t.Helper()
	if children == nil {
		children = []ocispec.Descriptor{}
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: children}
	idx.SchemaVersion = 2
	return b.JSON(ocispec.MediaTypeImageIndex, idx)
}

// SetIndex writes index.json with exactly these entries.
func (b *Builder) SetIndex(entries ...ocispec.Descriptor) {
	b.t.Helper()
	if entries == nil {
		entries = []ocispec.Descriptor{}
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: entries}
	idx.SchemaVersion = 2
	data, err := json.Marshal(idx)
	if err != nil {
		b.t.Fatal(err)
	}
	b.WriteFile("index.json", data)
}

// Tag returns d with the ref.name annotation set to tag.
func Tag(d ocispec.Descriptor, tag string) ocispec.Descriptor {
	a := map[string]string{}
	for k, v := range d.Annotations {
		a[k] = v
	}
	a[ocispec.AnnotationRefName] = tag
	d.Annotations = a
	return d
}

// WithPlatform returns d with p on the descriptor.
func WithPlatform(d ocispec.Descriptor, p ocispec.Platform) ocispec.Descriptor {
	d.Platform = &p
	return d
}

// P is a short way to write a platform.
func P(os, arch, variant, osVersion string) *ocispec.Platform {
	return &ocispec.Platform{OS: os, Architecture: arch, Variant: variant, OSVersion: osVersion}
}

// ManyTags makes the layout of the many-tags benchmarks (bench/mktags writes the same
// shape): one image config and n image manifests told apart by an annotation, each
// tagged once in index.json with a full name (registry.example.com/team/app-000000:1.0
// and on) and the platform linux/amd64 on its descriptor.
func ManyTags(t testing.TB, n int) *Builder {
	t.Helper()
	b := New(t)
	cfg := b.Blob(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	entries := make([]ocispec.Descriptor, n)
	for i := range n {
		m := b.Blob(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"`+
			string(cfg.Digest)+`","size":`+strconv.FormatInt(cfg.Size, 10)+`},"layers":[],"annotations":{"bench.n":"`+strconv.Itoa(i)+`"}}`))
		entries[i] = WithPlatform(Tag(m, fmt.Sprintf("registry.example.com/team/app-%06d:1.0", i)), ocispec.Platform{Architecture: "amd64", OS: "linux"})
	}
	b.SetIndex(entries...)
	return b
}

package layout_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

func resolve(t *testing.T, dir, ref, plat string) (*layout.Resolved, error) {
	t.Helper()
	var opts layout.ResolveOptions
	if plat != "" {
		p, err := platform.Parse(plat)
		if err != nil {
			t.Fatal(err)
		}
		opts.Platform = &p
	}
	return layout.ResolveRef(context.Background(), dir+ref, opts)
}

func TestResolveTags(t *testing.T) {
	b := tl.New(t)
	amd := b.Image(tl.P("linux", "amd64", "", ""), "amd")
	arm := b.Image(tl.P("linux", "arm64", "", ""), "arm")
	// A nested index that carries ref.name annotations of its own (C30): never used.
	inner := b.Index(tl.Tag(tl.WithPlatform(amd, *tl.P("linux", "amd64", "", "")), "inner"),
		tl.WithPlatform(arm, *tl.P("linux", "arm64", "v8", "")))
	b.SetIndex(
		tl.Tag(inner, "v1"),
		tl.Tag(amd, "dup"), tl.Tag(arm, "dup"), // C29: same name, different digests
		tl.Tag(amd, "same"), tl.Tag(amd, "same"), // C29: same name, same digest
		tl.Tag(arm, "docker.io/library/alpine:3.19"),
	)

	r, err := resolve(t, b.Dir, ":v1", "")
	if err != nil || r.Descriptor.Digest != inner.Digest || r.Tag != "v1" {
		t.Fatalf("v1 = %+v, %v", r, err)
	}
	r, err = resolve(t, b.Dir, ":v1", "linux/arm64")
	if err != nil || r.Descriptor.Digest != arm.Digest || r.Root.Digest != inner.Digest {
		t.Fatalf("v1 linux/arm64 = %+v, %v", r, err)
	}
	if _, err = resolve(t, b.Dir, ":v1", "linux/386"); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("v1 linux/386: %v, want ErrNotFound", err)
	} else if !strings.Contains(err.Error(), "linux/amd64") || !strings.Contains(err.Error(), "linux/arm64/v8") {
		t.Fatalf("error %q does not list the platforms there are", err)
	}

	_, err = resolve(t, b.Dir, ":dup", "")
	var amb *layout.AmbiguousError
	if !errors.As(err, &amb) || !errors.Is(err, layout.ErrAmbiguous) || len(amb.Candidates) != 2 {
		t.Fatalf("C29 dup = %v, want an ambiguity with 2 candidates", err)
	}
	if r, err = resolve(t, b.Dir, ":same", ""); err != nil || r.Descriptor.Digest != amd.Digest {
		t.Fatalf("C29 same digest twice = %+v, %v", r, err)
	}
	if _, err = resolve(t, b.Dir, ":inner", ""); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("C30 a name inside a nested index resolved: %v", err)
	}
	if r, err = resolve(t, b.Dir, ":docker.io/library/alpine:3.19", ""); err != nil || r.Descriptor.Digest != arm.Digest {
		t.Fatalf("full-name tag = %+v, %v", r, err)
	}
	// C36: a short name does not match a full name.
	_, err = resolve(t, b.Dir, ":alpine:3.19", "")
	if !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), "docker.io/library/alpine:3.19") {
		t.Fatalf("C36 alpine:3.19 = %v, want ErrNotFound listing the tags", err)
	}
	// TAG@DIGEST: the digest must be the tag's entry or under it.
	if r, err = resolve(t, b.Dir, ":v1@"+string(arm.Digest), ""); err != nil || r.Descriptor.Digest != arm.Digest || r.Descriptor.Platform == nil {
		t.Fatalf("v1@arm = %+v, %v", r, err)
	}
	other := b.Blob("application/octet-stream", []byte("x"))
	if _, err = resolve(t, b.Dir, ":v1@"+string(other.Digest), ""); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("v1@other = %v, want ErrNotFound", err)
	}
}

func TestResolveUntagged(t *testing.T) {
	t.Run("C31 one untagged entry", func(t *testing.T) {
		b := tl.New(t)
		m := b.Image(tl.P("linux", "amd64", "", ""), "a")
		b.SetIndex(m)
		r, err := resolve(t, b.Dir, "", "")
		if err != nil || r.Descriptor.Digest != m.Digest {
			t.Fatalf("= %+v, %v", r, err)
		}
		if r.Descriptor.Platform == nil || r.Descriptor.Platform.Architecture != "amd64" || r.PlatformSource != layout.FromConfig {
			t.Fatalf("platform from config not filled in: %+v (%s)", r.Descriptor.Platform, r.PlatformSource)
		}
		if _, err := resolve(t, b.Dir, "", "linux/arm64"); !errors.Is(err, layout.ErrNotFound) {
			t.Fatalf("a manifest for another platform: %v, want ErrNotFound", err)
		}
	})
	t.Run("C32 two untagged entries", func(t *testing.T) {
		b := tl.New(t)
		m1 := b.Image(tl.P("linux", "amd64", "", ""), "a")
		m2 := b.Image(tl.P("linux", "arm64", "", ""), "b")
		b.SetIndex(m1, m2)
		_, err := resolve(t, b.Dir, "", "")
		var amb *layout.AmbiguousError
		if !errors.As(err, &amb) || len(amb.Candidates) != 2 {
			t.Fatalf("= %v, want 2 candidates", err)
		}
		msg := err.Error()
		for _, s := range []string{string(m1.Digest), string(m2.Digest), ocispec.MediaTypeImageManifest, "linux/amd64", "linux/arm64"} {
			if !strings.Contains(msg, s) {
				t.Errorf("message does not name %s:\n%s", s, msg)
			}
		}
		r, err := resolve(t, b.Dir, "", "linux/arm64")
		if err != nil || r.Descriptor.Digest != m2.Digest {
			t.Fatalf("with a platform = %+v, %v", r, err)
		}
	})
	t.Run("C33 oras layout: index, its children and a referrer", func(t *testing.T) {
		b := tl.New(t)
		m1 := b.Image(tl.P("linux", "amd64", "", ""), "a")
		m2 := b.Image(tl.P("linux", "arm64", "", ""), "b")
		idx := b.Index(tl.WithPlatform(m1, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(m2, *tl.P("linux", "arm64", "", "")))
		subj := idx
		ref := b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example.sbom", Config: ocispec.DescriptorEmptyJSON,
			Layers: []ocispec.Descriptor{b.Blob("application/json", []byte(`{}`))}, Subject: &subj})
		b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}"))
		b.SetIndex(tl.Tag(idx, "v1"), m1, m2, ref)
		r, err := resolve(t, b.Dir, "", "")
		if err != nil || r.Descriptor.Digest != idx.Digest {
			t.Fatalf("= %+v, %v; want the index", r, err)
		}
		l, _ := layout.Open(b.Dir)
		entries, err := l.Entries(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		roots := 0
		for _, e := range entries {
			if e.Root {
				roots++
			}
		}
		if roots != 1 || entries[3].NotRoot != "referrer" || !strings.HasPrefix(entries[1].NotRoot, "part of") {
			t.Fatalf("entries = %+v", entries)
		}
	})
	t.Run("C34 referrers tag", func(t *testing.T) {
		b := tl.New(t)
		m := b.Image(tl.P("linux", "amd64", "", ""), "a")
		refIdx := b.Index(b.Image(nil, "sbom"))
		tag := "sha256-" + m.Digest.Encoded()
		b.SetIndex(tl.Tag(m, "v1"), tl.Tag(refIdx, tag))
		if r, err := resolve(t, b.Dir, "", ""); err != nil || r.Descriptor.Digest != m.Digest {
			t.Fatalf("no ref = %+v, %v", r, err)
		}
		if r, err := resolve(t, b.Dir, ":"+tag, ""); err != nil || r.Descriptor.Digest != refIdx.Digest {
			t.Fatalf("the referrers tag itself = %+v, %v", r, err)
		}
	})
	t.Run("C35 digest of a blob not in index.json", func(t *testing.T) {
		b := tl.New(t)
		m := b.Image(tl.P("linux", "amd64", "", ""), "a")
		loose := b.Image(tl.P("linux", "s390x", "", ""), "loose")
		b.SetIndex(tl.Tag(m, "v1"))
		r, err := resolve(t, b.Dir, "@"+string(loose.Digest), "")
		if err != nil || r.Descriptor.Digest != loose.Digest || r.Descriptor.MediaType != ocispec.MediaTypeImageManifest || r.Descriptor.Size != loose.Size {
			t.Fatalf("= %+v, %v", r, err)
		}
		layer := b.Blob("application/octet-stream", []byte("not a manifest"))
		if _, err := resolve(t, b.Dir, "@"+string(layer.Digest), ""); !errors.Is(err, layout.ErrNotFound) {
			t.Fatalf("a layer blob: %v, want ErrNotFound", err)
		}
		if _, err := resolve(t, b.Dir, "@"+string(digest.FromString("absent")), ""); !errors.Is(err, layout.ErrNotFound) {
			t.Fatalf("an absent blob: %v, want ErrNotFound", err)
		}
	})
	t.Run("empty layout", func(t *testing.T) {
		b := tl.New(t)
		if _, err := resolve(t, b.Dir, "", ""); !errors.Is(err, layout.ErrNotFound) {
			t.Fatalf("= %v, want ErrNotFound", err)
		}
	})
	t.Run("A8 unknown media type entries are skipped", func(t *testing.T) {
		b := tl.New(t)
		m := b.Image(tl.P("linux", "amd64", "", ""), "a")
		xml := b.Blob("application/xml", []byte("<x/>"))
		b.SetIndex(xml, m)
		if r, err := resolve(t, b.Dir, "", ""); err != nil || r.Descriptor.Digest != m.Digest {
			t.Fatalf("= %+v, %v", r, err)
		}
	})
}

func TestResolvePlatformSelection(t *testing.T) {
	b := tl.New(t)
	amd := b.Image(nil, "amd")
	amdV3 := b.Image(nil, "amd v3")
	i386 := b.Image(nil, "386")
	win1 := b.Image(nil, "win 17763")
	win2 := b.Image(nil, "win 20348")
	att := b.Image(nil, "attestation")
	attDesc := tl.WithPlatform(att, *tl.P("unknown", "unknown", "", ""))
	attDesc.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(amd.Digest)}
	idx := b.Index(
		tl.WithPlatform(amd, *tl.P("linux", "amd64", "", "")),
		attDesc,
		tl.WithPlatform(amdV3, *tl.P("linux", "amd64", "v3", "")),
		tl.WithPlatform(i386, *tl.P("linux", "386", "", "")),
		tl.WithPlatform(win1, *tl.P("windows", "amd64", "", "10.0.17763.5458")),
		tl.WithPlatform(win2, *tl.P("windows", "amd64", "", "10.0.20348.2322")),
	)
	b.SetIndex(tl.Tag(idx, "v1"))
	tests := []struct {
		plat string
		want digest.Digest
		err  error
	}{
		{"linux/amd64/v3", amdV3.Digest, nil},
		{"linux/x86_64/v3", amdV3.Digest, nil},
		{"linux/386", i386.Digest, nil},
		{"linux/amd64", amd.Digest, nil},    // strict: no variant is the v1 baseline, not "any variant"
		{"linux/amd64/v1", amd.Digest, nil}, // v1 is the baseline: no variant
		{"windows/amd64:10.0.17763", win1.Digest, nil},
		{"windows(10.0.20348)/amd64", win2.Digest, nil},
		{"windows/amd64,osver=10.0.20348.2322", win2.Digest, nil},
		{"windows/amd64:10.0.1776", "", layout.ErrNotFound},
		{"windows/amd64", "", layout.ErrAmbiguous},
		{"linux/arm64", "", layout.ErrNotFound},
		{"unknown/unknown", "", layout.ErrNotFound}, // attestations are never selected
	}
	for _, tt := range tests {
		t.Run(tt.plat, func(t *testing.T) {
			r, err := resolve(t, b.Dir, ":v1", tt.plat)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("= %+v, %v; want %v", r, err, tt.err)
				}
				return
			}
			if err != nil || r.Descriptor.Digest != tt.want {
				t.Fatalf("= %+v, %v; want %s", r, err, tt.want)
			}
		})
	}
}

// The acceptance examples, on the layouts real tools wrote.
func TestResolveFixtures(t *testing.T) {
	fx := filepath.Join("..", "testdata", "fixtures")
	// Expected digests are read from the fixtures' own files, not from ocil.
	readIndex := func(rel string) ocispec.Index {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(fx, rel))
		if err != nil {
			t.Fatal(err)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			t.Fatal(err)
		}
		return idx
	}
	blob := func(layoutDir string, d digest.Digest) string {
		return filepath.Join(layoutDir, "blobs", "sha256", d.Encoded())
	}

	orasIdx := readIndex("oras-linux-arm64-v8-el8/index.json")
	r, err := resolve(t, filepath.Join(fx, "oras-linux-arm64-v8-el8"), "", "")
	if err != nil || r.Descriptor.Digest != orasIdx.Manifests[0].Digest {
		t.Fatalf("oras-linux-arm64-v8-el8 = %+v, %v", r, err)
	}

	umoci := readIndex("umoci-image/index.json")
	_, err = resolve(t, filepath.Join(fx, "umoci-image"), "", "")
	if !errors.Is(err, layout.ErrAmbiguous) || !strings.Contains(err.Error(), "latest") || !strings.Contains(err.Error(), "arm64") {
		t.Fatalf("umoci-image = %v, want an ambiguity naming both tags", err)
	}
	var umociArm digest.Digest
	for _, d := range umoci.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == "arm64" {
			umociArm = d.Digest
		}
	}
	if r, err = resolve(t, filepath.Join(fx, "umoci-image"), "", "linux/arm64"); err != nil || r.Descriptor.Digest != umociArm {
		t.Fatalf("umoci-image linux/arm64 = %+v, %v; want %s", r, err, umociArm)
	}

	dl := readIndex("docker-list/index.json")
	listPath := blob(filepath.Join(fx, "docker-list"), dl.Manifests[0].Digest)
	lb, _ := os.ReadFile(listPath)
	var list ocispec.Index
	json.Unmarshal(lb, &list)
	var dockerArm digest.Digest
	for _, d := range list.Manifests {
		if d.Platform != nil && d.Platform.Architecture == "arm64" {
			dockerArm = d.Digest
		}
	}
	r, err = resolve(t, filepath.Join(fx, "docker-list"), ":v1", "linux/arm64")
	if err != nil || r.Descriptor.Digest != dockerArm || r.Descriptor.MediaType != layout.MediaTypeDockerManifest {
		t.Fatalf("docker-list:v1 linux/arm64 = %+v, %v; want %s", r, err, dockerArm)
	}

	// crane-flat: the manifest whose config says el8 for arm64.
	crane := filepath.Join(fx, "crane-flat")
	var el8 digest.Digest
	for _, d := range readIndex("crane-flat/index.json").Manifests {
		mb, _ := os.ReadFile(blob(crane, d.Digest))
		var m ocispec.Manifest
		json.Unmarshal(mb, &m)
		cb, _ := os.ReadFile(blob(crane, m.Config.Digest))
		var c ocispec.Platform
		json.Unmarshal(cb, &c)
		if c.Architecture == "arm64" && c.OSVersion == "el8" {
			el8 = d.Digest
		}
	}
	if el8 == "" {
		t.Fatal("crane-flat has no arm64 el8 manifest")
	}
	if r, err = resolve(t, crane, "", "linux/arm64/v8:el8"); err != nil || r.Descriptor.Digest != el8 {
		t.Fatalf("crane-flat linux/arm64/v8:el8 = %+v, %v; want %s", r, err, el8)
	}
	if _, err = resolve(t, crane, "", "linux/arm64/v8:el9"); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("crane-flat el9 = %v, want ErrNotFound", err)
	}
}

// Every fixture folder opens, lists and walks without error.
func TestFixturesWalk(t *testing.T) {
	fx := filepath.Join("..", "testdata", "fixtures")
	ents, err := os.ReadDir(fx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			l, err := layout.Open(filepath.Join(fx, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			idx, err := l.Index(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			blobs := 0
			err = l.Walk(context.Background(), idx.Manifests, func(ctx context.Context, n *layout.Node) error {
				if n.Missing {
					t.Errorf("%s is missing", n.Descriptor.Digest)
				}
				if !n.Seen && n.Raw == nil {
					// Leaves are not read by Walk: verify them here.
					if _, err := l.ReadBlob(ctx, n.Descriptor); err != nil {
						t.Error(err)
					}
				}
				blobs++
				return nil
			})
			if err != nil || blobs < 3 {
				t.Fatalf("walk: %d nodes, %v", blobs, err)
			}
		})
	}
	if n < 7 {
		t.Fatalf("only %d fixture folders", n)
	}
}

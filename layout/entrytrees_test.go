package layout_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

// TestEntryTreesAgree: EntryTrees, which reads each document once, gives what Entries and
// a Tree of each image entry give, on every fixture real tools wrote (referrers, nested
// indexes, flat layouts, Docker lists, tarballs, a docker save archive).
func TestEntryTreesAgree(t *testing.T) {
	ctx := context.Background()
	// A layout with a referrer (an untagged manifest whose subject is the image, as oras
	// attach writes it), an image tagged twice and an entry of an unknown media type.
	b := tl.New(t)
	img := b.Image(&ocispec.Platform{OS: "linux", Architecture: "amd64"}, "layer")
	sbom := b.Manifest(ocispec.Manifest{Config: b.Blob("application/vnd.oci.empty.v1+json", []byte("{}")), Subject: &img, ArtifactType: "application/spdx+json"})
	tagged := func(d ocispec.Descriptor, tag string) ocispec.Descriptor {
		d.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
		return d
	}
	b.SetIndex(tagged(img, "v1"), tagged(img, "latest"), sbom, b.Blob("application/xml", []byte("<x/>")))
	paths := append([]string{b.Dir}, fixtureLayouts(t)...)
	referrers := 0
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			l, err := layout.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			want, err := l.Entries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, trees, err := l.EntryTrees(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || len(trees) != len(want) {
				t.Fatalf("EntryTrees = %+v (%d trees)\nEntries = %+v", got, len(trees), want)
			}
			for i, en := range want {
				if en.NotRoot == "referrer" {
					referrers++
				}
				if !layout.IsIndex(en.Descriptor.MediaType) && !layout.IsManifest(en.Descriptor.MediaType) {
					if trees[i] != nil {
						t.Errorf("entry %d (%s): a tree for a non-image entry", i, en.Descriptor.MediaType)
					}
					continue
				}
				tree, err := l.Tree(ctx, []ocispec.Descriptor{en.Descriptor})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(trees[i], tree[0]) {
					t.Errorf("entry %d: tree %+v, Tree gives %+v", i, trees[i], tree[0])
				}
			}
		})
	}
	if referrers == 0 {
		t.Error("no fixture has a referrer entry: the subject path was not exercised")
	}
}

// TestEntryReferrersAgree: EntryReferrers, which takes the documents from EntryTrees'
// trees, gives what Referrers gives (reading index.json and every document again), on
// every fixture and on a layout holding every convention at once, with the cases it
// reads again: a cosign tag and a subject annotation on documents without a subject, a
// child listed twice in a fallback index, missing blobs.
func TestEntryReferrersAgree(t *testing.T) {
	ctx := context.Background()
	b, ds := withReferrers(t)
	empty := b.Blob("application/vnd.oci.empty.v1+json", []byte("{}"))
	plain := func(payload string) ocispec.Descriptor {
		return b.Manifest(ocispec.Manifest{ArtifactType: typeSig, Config: empty,
			Layers: []ocispec.Descriptor{b.Blob(typeSig, []byte(payload))}, Annotations: map[string]string{"n": payload}})
	}
	cosign := plain("cosign signature")
	hinted := plain("annotated signature")
	hinted.Annotations = map[string]string{layout.AnnotationReferrerSubject: string(ds["arm64"].Digest)}
	gone := plain("a referrer whose blob is missing")
	goneSig := b.Manifest(ocispec.Manifest{ArtifactType: typeSig, Config: empty, Subject: subjectOf(ds["amd64"]),
		Layers: []ocispec.Descriptor{b.Blob(typeSig, []byte("gone"))}})
	// An index that is a referrer (of the image index), as an untagged entry.
	sigIdx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}, Subject: subjectOf(ds["index"]), ArtifactType: typeSig}
	sigIdx.SchemaVersion = 2
	indexSigIdx := b.JSON(ocispec.MediaTypeImageIndex, sigIdx)
	fallback := b.Index(ds["sbomSig"], ds["sbomSig"], gone, goneSig, plain("in a fallback index, no subject"))
	missingFallback := b.Index(ds["sbomSig"])
	b.SetIndex(tl.Tag(ds["index"], "v1"), ds["sbom"], ds["indexSig"], ds["sbom"], indexSigIdx,
		tl.Tag(fallback, "sha256-"+ds["amd64"].Digest.Encoded()),
		tl.Tag(missingFallback, "sha256-"+ds["arm64"].Digest.Encoded()),
		tl.Tag(cosign, "sha256-"+ds["arm64"].Digest.Encoded()+".sig"),
		hinted, gone, tl.Tag(ds["amd64"], "amd64"))
	for _, d := range []ocispec.Descriptor{gone, missingFallback} {
		if err := os.Remove(filepath.Join(b.Dir, "blobs", "sha256", d.Digest.Encoded())); err != nil {
			t.Fatal(err)
		}
	}
	paths := append([]string{b.Dir}, fixtureLayouts(t)...)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			l, err := layout.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			want, err := l.Referrers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			entries, trees, err := l.EntryTrees(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.EntryReferrers(ctx, entries, trees)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("EntryReferrers = %+v\nReferrers = %+v", got, want)
			}
			if p == b.Dir && got.Len() < 6 {
				t.Errorf("%d referrers: the conventions were not all exercised", got.Len())
			}
		})
	}
}

// TestEntryTreesReadAhead: EntryTrees reads documents ahead, several at once, in
// batches; the trees are those Tree gives, entry by entry, across batches, a missing
// blob is a missing node, and an unreadable document is the error, as when read in turn.
func TestEntryTreesReadAhead(t *testing.T) {
	ctx := context.Background()
	b := tl.ManyTags(t, 700)
	var idx ocispec.Index
	raw, err := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	if err != nil || json.Unmarshal(raw, &idx) != nil {
		t.Fatal(err)
	}
	gone := idx.Manifests[300]
	if err := os.Remove(filepath.Join(b.Dir, "blobs", "sha256", gone.Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	entries, trees, err := l.EntryTrees(ctx)
	if err != nil || len(entries) != 700 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	for i, e := range entries {
		want, err := l.Tree(ctx, []ocispec.Descriptor{e.Descriptor})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(trees[i], want[0]) {
			t.Fatalf("entry %d: tree %+v, Tree gives %+v", i, trees[i], want[0])
		}
	}
	if !trees[300].Missing {
		t.Error("the entry whose blob is gone is not missing")
	}
	bad := b.Blob(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"config":{}}`))
	bad.Annotations = map[string]string{ocispec.AnnotationRefName: "bad"}
	idx.Manifests[600] = bad
	b.SetIndex(idx.Manifests...)
	if _, _, err := l.EntryTrees(ctx); err == nil || !strings.Contains(err.Error(), string(bad.Digest)) {
		t.Errorf("EntryTrees with an unreadable manifest: %v, want an error naming %s", err, bad.Digest)
	}
}

// fixtureLayouts lists the layouts and tarballs in testdata/fixtures.
func fixtureLayouts(t *testing.T) []string {
	t.Helper()
	fx := filepath.Join("..", "testdata", "fixtures")
	ents, err := os.ReadDir(fx)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range ents {
		if e.Name() != "README.md" {
			paths = append(paths, filepath.Join(fx, e.Name()))
		}
	}
	return paths
}

package layout_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
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
	fx := filepath.Join("..", "testdata", "fixtures")
	ents, err := os.ReadDir(fx)
	if err != nil {
		t.Fatal(err)
	}
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
	paths := []string{b.Dir}
	for _, e := range ents {
		if e.Name() != "README.md" {
			paths = append(paths, filepath.Join(fx, e.Name()))
		}
	}
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

package validate_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/ocil-dev/ocil/layout/validate"
)

// fixtureFindings lists, for every layout in testdata/fixtures (made by real tools), the
// findings validation must give: none of them is an error (fixturePushFindings aside).
var fixtureFindings = map[string][]string{
	// Two untagged images side by side: `crane index append` writes no tag.
	"crane-flat":              {"warning ref.untagged-roots"},
	"docker-list":             nil,
	"oras-linux-amd64-el8":    nil,
	"oras-linux-amd64-el9":    nil,
	"oras-linux-arm64-v8-el8": nil,
	"oras-linux-arm64-v8-el9": nil,
	"regctl-index":            nil,
	// Referrers written by oras attach (untagged entry) and regctl (fallback tag).
	"oras-attached-sbom": nil,
	"regctl-referrers":   nil,
	// umoci keeps the manifest and config of the image before its layer was added.
	"umoci-image": {"note blob.unreferenced", "note blob.unreferenced"},
	// skopeo copied that earlier, layerless umoci manifest.
	"skopeo-archive.tar":          {"warning manifest.layers"},
	"regctl-export.tar":           nil,
	"oras-amd64-el9.tar.gz":       nil,
	"oras-amd64-el9-dotslash.tar": nil,
	// docker save before Docker 25 (skopeo's docker-archive), read as the layout it stands for.
	"skopeo-docker-archive.tar": nil,
}

// fixturePushFindings replaces fixtureFindings under --for-push where the two differ: a
// docker save archive's tags are full names (registry.example.com/legacy/app:7), which no
// registry takes as a tag.
var fixturePushFindings = map[string][]string{
	"skopeo-docker-archive.tar": {"error push.tag"},
}

const fixturesDir = "../../testdata/fixtures"

func TestFixtures(t *testing.T) {
	ents, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		if e.Name() == "README.md" {
			continue
		}
		want, ok := fixtureFindings[e.Name()]
		if !ok {
			t.Errorf("fixture %s: no expected findings listed in fixtureFindings", e.Name())
			continue
		}
		seen[e.Name()] = true
		if want == nil {
			want = []string{}
		}
		for _, opts := range []validate.Options{{}, {ForPush: true}, {Fast: true}, {Jobs: 1}} {
			rep, err := validate.Layout(context.Background(), fixturesDir+"/"+e.Name(), opts)
			if err != nil {
				t.Errorf("%s %+v: %v", e.Name(), opts, err)
				continue
			}
			want := want
			if push, ok := fixturePushFindings[e.Name()]; ok && opts.ForPush {
				want = push
			}
			if got := findings(rep); !slices.Equal(got, want) {
				t.Errorf("%s %+v: findings %q, want %q\n%s", e.Name(), opts, got, want, describe(rep))
			}
			if rep.Checked.Blobs == 0 || rep.Checked.Manifests == 0 {
				t.Errorf("%s %+v: checked %+v", e.Name(), opts, rep.Checked)
			}
		}
	}
	for name := range fixtureFindings {
		if !seen[name] {
			t.Errorf("fixture %s is listed but not in %s", name, fixturesDir)
		}
	}
}

package layout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// Adds for different platforms land in canonical order, whichever comes first.
func TestAddToIndexCanonicalOrder(t *testing.T) {
	ctx := context.Background()
	var digests []string
	for _, order := range [][]string{{"linux/arm64", "linux/amd64", "linux/arm/v7"}, {"linux/amd64", "linux/arm/v7", "linux/arm64"}} {
		b := tl.New(t)
		m := b.Image(nil, "same bytes")
		l, err := layout.Open(b.Dir)
		if err != nil {
			t.Fatal(err)
		}
		var entry ocispec.Descriptor
		for _, s := range order {
			p, _ := platform.Parse(s)
			if entry, _, err = l.AddToIndex(ctx, "v1", tl.WithPlatform(m, p)); err != nil {
				t.Fatal(err)
			}
		}
		_, idx, _, err := l.ReadDocument(ctx, entry)
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range idx.Manifests {
			got = append(got, platform.Format(*c.Platform))
		}
		if strings.Join(got, " ") != "linux/amd64 linux/arm/v7 linux/arm64" {
			t.Fatalf("adds %v give %v", order, got)
		}
		digests = append(digests, string(entry.Digest))
	}
	if digests[0] != digests[1] {
		t.Fatalf("the order of the adds changed the index: %v", digests)
	}
}

func TestSortChildren(t *testing.T) {
	d := func(hex byte, p *ocispec.Platform, ann ...string) ocispec.Descriptor {
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.Digest("sha256:" + strings.Repeat(string(hex), 64)), Platform: p}
		if len(ann) > 0 {
			desc.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": ann[0]}
		}
		return desc
	}
	win := d('1', tl.P("windows", "amd64", "", "10.0.17763"))
	amdB := d('b', tl.P("linux", "amd64", "", ""))
	amdA := d('a', tl.P("linux", "amd64", "", ""))
	arm64v8 := d('2', tl.P("linux", "arm64", "v8", ""))
	arm64el8 := d('3', tl.P("linux", "arm64", "", "el8"))
	armv6 := d('4', tl.P("linux", "arm", "v6", ""))
	none := d('5', nil)
	attWin := d('6', tl.P("unknown", "unknown", "", ""), string(win.Digest))
	attAmd := d('7', tl.P("unknown", "unknown", "", ""), string(amdA.Digest))
	// SPEC-NOTES 41: the baseline amd64 before amd64/v3, which clients would otherwise pick.
	amdV3 := d('0', tl.P("linux", "amd64", "v3", ""))
	in := []ocispec.Descriptor{attWin, win, none, amdB, arm64el8, amdV3, attAmd, arm64v8, amdA, armv6}
	want := []ocispec.Descriptor{amdA, amdB, amdV3, armv6, arm64v8, arm64el8, win, none, attAmd, attWin}
	order := layout.SortChildren(in)
	for i := range want {
		if in[i].Digest != want[i].Digest {
			t.Fatalf("position %d: %s, want %s (order %v)", i, in[i].Digest, want[i].Digest, order)
		}
	}
	if order[0] != 8 || order[9] != 0 {
		t.Fatalf("permutation %v", order)
	}
}

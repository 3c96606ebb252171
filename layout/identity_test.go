package layout_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// One manifest (a noarch artifact: its config says no platform) listed for two platforms
// is two entries: every selection finds each of them.
func TestOneManifestTwoPlatforms(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	m := b.Image(nil, "echo hi")
	att := b.Image(nil, "provenance")
	attD := tl.WithPlatform(att, *tl.P("unknown", "unknown", "", ""))
	attD.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(m.Digest)}
	amd, arm := tl.WithPlatform(m, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(m, *tl.P("linux", "arm64", "", ""))
	idx := b.Index(amd, arm, attD)
	b.SetIndex(tl.Tag(idx, "v1"))

	for _, plat := range []string{"linux/amd64", "linux/arm64"} {
		for _, ref := range []string{":v1", ":v1@" + string(m.Digest), "@" + string(m.Digest)} {
			r, err := resolve(t, b.Dir, ref, plat)
			if err != nil {
				t.Fatalf("%s --platform %s: %v", ref, plat, err)
			}
			if r.Descriptor.Digest != m.Digest || r.Descriptor.Platform == nil || platform.Format(*r.Descriptor.Platform) != plat {
				t.Fatalf("%s --platform %s = %s %+v", ref, plat, r.Descriptor.Digest, r.Descriptor.Platform)
			}
		}
	}
	// A digest without a platform names two entries: an ambiguity listing both.
	_, err := resolve(t, b.Dir, "@"+string(m.Digest), "")
	var amb *layout.AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 || !strings.Contains(err.Error(), "linux/amd64") || !strings.Contains(err.Error(), "linux/arm64") {
		t.Fatalf("@digest without a platform = %v, want an ambiguity listing both platforms", err)
	}

	// ls: two rows, each with its platform, neither marked as a repeat.
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tree, err := l.Tree(ctx, []ocispec.Descriptor{idx})
	if err != nil {
		t.Fatal(err)
	}
	cs := tree[0].Children
	if len(cs) != 3 || platform.Format(*cs[0].Platform) != "linux/amd64" || platform.Format(*cs[1].Platform) != "linux/arm64" || cs[0].Repeated || cs[1].Repeated {
		t.Fatalf("tree children %+v %+v", cs[0], cs[1])
	}
	// An image listed with a platform, then without one: the second listing shows the
	// platform of its config, and is a repeat of the first.
	img := b.Image(tl.P("linux", "s390x", "", ""), "s390x")
	tree, err = l.Tree(ctx, []ocispec.Descriptor{b.Index(tl.WithPlatform(img, *tl.P("linux", "s390x", "", "")), img)})
	if err != nil {
		t.Fatal(err)
	}
	if cs := tree[0].Children; len(cs) != 2 || cs[1].Platform == nil || platform.Format(*cs[1].Platform) != "linux/s390x" || cs[1].PlatformSource != layout.FromConfig || !cs[1].Repeated {
		t.Fatalf("second listing %+v", cs[1])
	}

	// copy --platform linux/arm64 keeps the arm64 listing only.
	r, err := resolve(t, b.Dir, ":v1", "")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := platform.Parse("linux/arm64")
	cres, err := layout.Copy(ctx, r, filepath.Join(t.TempDir(), "out"), layout.CopyOptions{Platforms: []ocispec.Platform{p}})
	r.Layout.Close()
	if err != nil || len(cres.Kept) != 1 || platform.Format(*cres.Kept[0].Platform) != "linux/arm64" {
		t.Fatalf("copy --platform linux/arm64 = %+v, %v", cres, err)
	}

	// rm linux/arm64 leaves the amd64 listing, and the attestation of the manifest it
	// still lists.
	entry, removed, err := l.RemovePlatforms(ctx, "v1", []ocispec.Platform{p})
	if err != nil || len(removed) != 1 || platform.Format(*removed[0].Platform) != "linux/arm64" {
		t.Fatalf("rm = %v, %v", removed, err)
	}
	_, after, _, err := l.ReadDocument(ctx, entry)
	if err != nil || len(after.Manifests) != 2 || platform.Format(*after.Manifests[0].Platform) != "linux/amd64" || after.Manifests[1].Digest != att.Digest {
		t.Fatalf("after rm: %+v, %v", after, err)
	}
}

// Two listings that agree on digest and platform are one entry; two platforms that both
// match a request are two, and the request is ambiguous.
func TestIdentityDedupe(t *testing.T) {
	b := tl.New(t)
	m := b.Image(nil, "noarch")
	el8, el9 := tl.WithPlatform(m, *tl.P("linux", "arm64", "", "el8")), tl.WithPlatform(m, *tl.P("linux", "arm64", "v8", "el9"))
	same := tl.WithPlatform(m, *tl.P("linux", "amd64", "", ""))
	b.SetIndex(tl.Tag(b.Index(same, same, el8, el9), "v1"))
	if r, err := resolve(t, b.Dir, ":v1", "linux/amd64"); err != nil || r.Descriptor.Digest != m.Digest {
		t.Fatalf("the same listing twice: %v", err)
	}
	if r, err := resolve(t, b.Dir, ":v1", "linux/arm64:el9"); err != nil || r.Descriptor.Platform.OSVersion != "el9" {
		t.Fatalf("linux/arm64:el9 = %+v, %v", r, err)
	}
	_, err := resolve(t, b.Dir, ":v1", "linux/arm64")
	if !errors.Is(err, layout.ErrAmbiguous) || !strings.Contains(err.Error(), "linux/arm64:el8") || !strings.Contains(err.Error(), "linux/arm64/v8:el9") {
		t.Fatalf("linux/arm64 = %v, want an ambiguity naming el8 and el9", err)
	}

	// One tag on index.json entries of one manifest: for one platform they are one entry
	// (SPEC-NOTES 29); for two platforms, --platform chooses.
	flat := tl.New(t)
	fm := flat.Image(nil, "noarch")
	amd, arm := tl.WithPlatform(fm, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(fm, *tl.P("linux", "arm64", "", ""))
	flat.SetIndex(tl.Tag(amd, "v1"), tl.Tag(arm, "v1"), tl.Tag(amd, "v1"), tl.Tag(fm, "same"), tl.Tag(fm, "same"))
	if r, err := resolve(t, flat.Dir, ":same", ""); err != nil || r.Descriptor.Digest != fm.Digest {
		t.Fatalf(":same = %v", err)
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if r, err := resolve(t, flat.Dir, ":v1", p); err != nil || platform.Format(*r.Descriptor.Platform) != p || r.Tag != "v1" {
			t.Fatalf(":v1 --platform %s = %+v, %v", p, r, err)
		}
	}
	if _, err := resolve(t, flat.Dir, ":v1", ""); !errors.Is(err, layout.ErrAmbiguous) || !strings.Contains(err.Error(), "--platform") {
		t.Fatalf(":v1 without a platform = %v, want an ambiguity", err)
	}
}

package validate_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// referrerLayout builds a tagged image and returns a function that stores an artifact
// of type typ (no artifactType when typ is "", then its config is an image config)
// with the given subject.
func referrerLayout(t *testing.T) (*tl.Builder, ocispec.Descriptor, func(typ, payload string, subject ocispec.Descriptor) ocispec.Descriptor) {
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "layer")
	art := func(typ, payload string, subject ocispec.Descriptor) ocispec.Descriptor {
		var config ocispec.Descriptor
		if typ == "" {
			config = b.Config(nil)
		} else {
			config = b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}"))
		}
		var s *ocispec.Descriptor
		if subject.Digest != "" {
			s = &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
		}
		d := b.Manifest(ocispec.Manifest{ArtifactType: typ, Config: config,
			Layers: []ocispec.Descriptor{b.Blob("application/octet-stream", []byte(payload))}, Subject: s})
		if typ == "" {
			d.ArtifactType = ocispec.MediaTypeImageConfig
		}
		return d
	}
	return b, img, art
}

func fallbackTag(d digest.Digest) string { return "sha256-" + d.Encoded() }

func TestReferrerChecks(t *testing.T) {
	gone := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("not here"), Size: 9}
	runCases(t, []vcase{
		{name: "referrers both ways, in step", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			sbom := art("application/spdx+json", "sbom", img)
			b.SetIndex(tl.Tag(img, "v1"), sbom, tl.Tag(b.Index(sbom), fallbackTag(img.Digest)))
			return b.Dir
		}},
		{name: "untagged referrer of a subject not in the layout", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			b.SetIndex(tl.Tag(img, "v1"), art("application/spdx+json", "sbom", gone))
			return b.Dir
		}, want: []string{"warning referrer.subject-missing", "note subject.missing"}},
		{name: "annotated referrer of a subject not in the layout", build: func(t *testing.T) string {
			b, img, _ := referrerLayout(t)
			sig := b.Manifest(ocispec.Manifest{Config: b.Config(nil), Layers: []ocispec.Descriptor{b.Blob("application/octet-stream", []byte("sig"))}})
			sig.Annotations = map[string]string{layout.AnnotationReferrerSubject: string(gone.Digest)}
			b.SetIndex(tl.Tag(img, "v1"), sig)
			return b.Dir
		}, want: []string{"warning referrer.subject-missing"}},
		{name: "a tagged referrer of a missing subject is an artifact of its own", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			b.SetIndex(tl.Tag(img, "v1"), tl.Tag(art("application/spdx+json", "sbom", gone), "sbom"))
			return b.Dir
		}, want: []string{"note subject.missing"}},
		{name: "fallback tag of a subject not in the layout", build: func(t *testing.T) string {
			b, img, _ := referrerLayout(t)
			b.SetIndex(tl.Tag(img, "v1"), tl.Tag(b.Index(), fallbackTag(gone.Digest)))
			return b.Dir
		}, want: []string{"warning referrer.subject-missing"}},
		{name: "fallback tag leaves out a referrer index.json lists", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			sbom, sig := art("application/spdx+json", "sbom", img), art("application/vnd.example.sig", "sig", img)
			b.SetIndex(tl.Tag(img, "v1"), sbom, sig, tl.Tag(b.Index(sbom), fallbackTag(img.Digest)))
			return b.Dir
		}, want: []string{"warning referrer.fallback-mismatch"}},
		{name: "fallback tag lists a referrer of another subject", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			other := b.Image(tl.P("linux", "arm64", "", ""), "other")
			sig := art("application/vnd.example.sig", "sig", other)
			b.SetIndex(tl.Tag(img, "v1"), tl.Tag(other, "v2"), tl.Tag(b.Index(sig), fallbackTag(img.Digest)))
			return b.Dir
		}, want: []string{"warning referrer.fallback-mismatch"}},
		{name: "fallback tag lists a manifest without subject, with the wrong type", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			sig := art("application/vnd.example.sig", "sig", img)
			sig.ArtifactType = "application/vnd.example.other"
			loose := art("application/vnd.example.sig", "no subject", ocispec.Descriptor{})
			b.SetIndex(tl.Tag(img, "v1"), tl.Tag(b.Index(sig, loose), fallbackTag(img.Digest)))
			return b.Dir
		}, want: []string{"warning referrer.fallback-mismatch", "warning referrer.fallback-mismatch"}},
		{name: "for push, a referrer without artifactType", opts: validate.Options{ForPush: true}, build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			sig := art("", "sig", img)
			b.SetIndex(tl.Tag(img, "v1"), sig)
			return b.Dir
		}, want: []string{"warning push.referrer-artifact-type"}},
		{name: "without --for-push, a referrer without artifactType is fine", build: func(t *testing.T) string {
			b, img, art := referrerLayout(t)
			sig := art("", "sig", img)
			b.SetIndex(tl.Tag(img, "v1"), sig)
			return b.Dir
		}},
	})
}

// What ocil copy and merge write from the oras and regctl fixtures validates clean, for
// a push too, in folders and tarballs.
func TestCopiedReferrersValidate(t *testing.T) {
	for _, src := range []string{"oras-attached-sbom@sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64", "regctl-referrers:v1"} {
		for _, dst := range []string{"out", "out.tar"} {
			out := filepath.Join(t.TempDir(), dst)
			r, err := layout.ResolveRef(context.Background(), fixturesDir+"/"+src, layout.ResolveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := layout.Copy(context.Background(), r, out+":v1", layout.CopyOptions{})
			r.Layout.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Referrers) != 1 {
				t.Errorf("%s: %d referrers copied, want 1", src, len(res.Referrers))
			}
			for _, opts := range []validate.Options{{}, {ForPush: true}} {
				rep, err := validate.Layout(context.Background(), out, opts)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range findings(rep) {
					// The oras image has its platform in its config only.
					if !strings.HasSuffix(f, "platform.missing") && !strings.HasSuffix(f, "push.platform") {
						got = append(got, f)
					}
				}
				if len(got) != 0 {
					t.Errorf("%s -> %s %+v: %q\n%s", src, dst, opts, got, describe(rep))
				}
			}
		}
	}
}

func TestCosignTagChecks(t *testing.T) {
	runCases(t, []vcase{
		{name: "cosign tag of an image in the layout", build: func(t *testing.T) string {
			b, img, _ := referrerLayout(t)
			sig := b.Manifest(ocispec.Manifest{Config: b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}")), ArtifactType: "application/vnd.dev.cosign.simplesigning.v1+json",
				Layers: []ocispec.Descriptor{b.Blob("application/vnd.dev.cosign.simplesigning.v1+json", []byte("{}"))}})
			b.SetIndex(tl.Tag(img, "v1"), tl.Tag(sig, "sha256-"+img.Digest.Encoded()+".sig"))
			return b.Dir
		}},
		{name: "cosign tag of an image not in the layout", build: func(t *testing.T) string {
			b, img, _ := referrerLayout(t)
			sig := b.Manifest(ocispec.Manifest{Config: b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}")), ArtifactType: "application/vnd.dev.cosign.simplesigning.v1+json",
				Layers: []ocispec.Descriptor{b.Blob("application/vnd.dev.cosign.simplesigning.v1+json", []byte("{}"))}})
			b.SetIndex(tl.Tag(img, "v1"), tl.Tag(sig, "sha256-"+digest.FromString("elsewhere").Encoded()+".sig"))
			return b.Dir
		}, want: []string{"warning referrer.subject-missing"}},
	})
}

package layout_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

const (
	typeSBOM = "application/spdx+json"
	typeSig  = "application/vnd.example.signature.v1"
)

// subjectOf is d as a subject names it: media type, digest and size.
func subjectOf(d ocispec.Descriptor) *ocispec.Descriptor {
	return &ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}
}

// withReferrers is multi plus referrers written all the ways tools write them: an SBOM of
// the amd64 image as an untagged index.json entry (oras attach), a signature of that SBOM
// under the SBOM's fallback tag only (regctl), and a signature of the index as an
// untagged entry.
func withReferrers(t *testing.T) (*tl.Builder, map[string]ocispec.Descriptor) {
	b, ds := multi(t)
	empty := b.Blob("application/vnd.oci.empty.v1+json", []byte("{}"))
	art := func(typ, payload string, subject ocispec.Descriptor) ocispec.Descriptor {
		return b.Manifest(ocispec.Manifest{ArtifactType: typ, Config: empty,
			Layers: []ocispec.Descriptor{b.Blob(typ, []byte(payload))}, Subject: subjectOf(subject)})
	}
	ds["sbom"] = art(typeSBOM, `{"spdxVersion":"SPDX-2.3"}`, ds["amd64"])
	ds["sbomSig"] = art(typeSig, "signature of the sbom", ds["sbom"])
	ds["indexSig"] = art(typeSig, "signature of the index", ds["index"])
	ds["fallback"] = b.Index(ds["sbomSig"])
	b.SetIndex(tl.Tag(ds["index"], "v1"), ds["sbom"], ds["indexSig"],
		tl.Tag(ds["fallback"], "sha256-"+ds["sbom"].Digest.Encoded()))
	return b, ds
}

func referrerDigests(rs []layout.Referrer) []digest.Digest {
	out := []digest.Digest{}
	for _, r := range rs {
		out = append(out, r.Descriptor.Digest)
	}
	return out
}

func readReferrers(t *testing.T, path string) *layout.Referrers {
	t.Helper()
	l, err := layout.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rs, err := l.Referrers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func assertReferrers(t *testing.T, rs *layout.Referrers, subject digest.Digest, want ...digest.Digest) {
	t.Helper()
	slices.Sort(want)
	if want == nil {
		want = []digest.Digest{}
	}
	if got := referrerDigests(rs.Of(subject)); !slices.Equal(got, want) {
		t.Errorf("referrers of %s: got %v, want %v", subject, got, want)
	}
}

func indexJSON(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// fallbackList reads the index under the fallback tag sha256-<hex of subject> in the
// layout folder dir and lists its children's digests (nil when there is no such tag).
func fallbackList(t *testing.T, dir string, subject digest.Digest) []digest.Digest {
	t.Helper()
	for _, e := range indexJSON(t, dir).Manifests {
		if e.Annotations[ocispec.AnnotationRefName] != "sha256-"+subject.Encoded() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", e.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			t.Fatal(err)
		}
		out := []digest.Digest{}
		for _, c := range idx.Manifests {
			out = append(out, c.Digest)
		}
		return out
	}
	return nil
}

func TestReferrersReadsOrasAndRegctlLayouts(t *testing.T) {
	rs := readReferrers(t, "../testdata/fixtures/oras-attached-sbom")
	assertReferrers(t, rs, "sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64",
		"sha256:7d5853a4f99e8890c6d5b583174b82c7c31b2877c3ef6815f9683bc7a702308a")
	if got := rs.Of("sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64")[0].Descriptor.ArtifactType; got != typeSBOM {
		t.Errorf("artifactType %q, want %q", got, typeSBOM)
	}
	if rs.Len() != 1 {
		t.Errorf("%d referrers, want 1", rs.Len())
	}
	rs = readReferrers(t, "../testdata/fixtures/regctl-referrers")
	assertReferrers(t, rs, "sha256:35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf",
		"sha256:616e7482b4550c0fbcb86236089a6e92d9d33ba893da8ab9e0e1496d9eb1ea90")
	if got := rs.Of("sha256:35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf")[0].Descriptor.ArtifactType; got != typeSig {
		t.Errorf("artifactType %q, want %q", got, typeSig)
	}
}

// A pre-1.1 artifact (no subject member) is a referrer when its index.json entry carries
// the org.opencontainers.image.referrer.subject annotation (image-spec#1171).
func TestReferrersReadsSubjectAnnotation(t *testing.T) {
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "layer")
	sig := b.Manifest(ocispec.Manifest{Config: b.Blob("application/vnd.dev.cosign.simplesigning.v1+json", []byte(`{"critical":{}}`)),
		Layers: []ocispec.Descriptor{b.Blob("application/octet-stream", []byte("sig"))}})
	sigEntry := sig
	sigEntry.Annotations = map[string]string{layout.AnnotationReferrerSubject: string(img.Digest)}
	b.SetIndex(tl.Tag(img, "v1"), sigEntry)
	rs := readReferrers(t, b.Dir)
	assertReferrers(t, rs, img.Digest, sig.Digest)
	// With no artifactType, the config's media type stands for it, as in the referrers API.
	if got := rs.Of(img.Digest)[0].Descriptor.ArtifactType; got != "application/vnd.dev.cosign.simplesigning.v1+json" {
		t.Errorf("artifactType %q", got)
	}
}

func TestReferrersAllConventionsInOneLayout(t *testing.T) {
	b, ds := withReferrers(t)
	rs := readReferrers(t, b.Dir)
	assertReferrers(t, rs, ds["amd64"].Digest, ds["sbom"].Digest)
	assertReferrers(t, rs, ds["sbom"].Digest, ds["sbomSig"].Digest)
	assertReferrers(t, rs, ds["index"].Digest, ds["indexSig"].Digest)
	assertReferrers(t, rs, ds["arm64"].Digest)
	if rs.Len() != 3 {
		t.Errorf("%d referrers, want 3", rs.Len())
	}
}

func TestFallbackTag(t *testing.T) {
	for in, want := range map[digest.Digest]string{
		"sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64": "sha256-4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64",
		// sha512: the encoded part is cut to 64 characters.
		"sha512:" + digest.Digest(strings.Repeat("ab", 64)): "sha512-" + strings.Repeat("ab", 32),
		// The algorithm is cut to 32 characters; characters outside the tag grammar become -.
		digest.Digest(strings.Repeat("a", 40) + "+b64:x=y"): strings.Repeat("a", 32) + "-x-y",
	} {
		if got := layout.FallbackTag(in); got != want {
			t.Errorf("FallbackTag(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCopyBringsReferrersRecursively(t *testing.T) {
	b, ds := withReferrers(t)
	for _, dst := range []string{"out", "out.tar"} {
		t.Run(dst, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), dst)
			res, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out+":v1", layout.CopyOptions{Transfer: layout.TransferOptions{Verify: true}})
			if err != nil {
				t.Fatal(err)
			}
			got := referrerDigests(res.Referrers)
			slices.Sort(got)
			want := []digest.Digest{ds["sbom"].Digest, ds["sbomSig"].Digest, ds["indexSig"].Digest}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("copied referrers %v, want %v", got, want)
			}
			rs := readReferrers(t, out)
			assertReferrers(t, rs, ds["amd64"].Digest, ds["sbom"].Digest)
			assertReferrers(t, rs, ds["sbom"].Digest, ds["sbomSig"].Digest)
			assertReferrers(t, rs, ds["index"].Digest, ds["indexSig"].Digest)
			dir := out
			if dst == "out.tar" {
				dir = filepath.Join(t.TempDir(), "unpacked")
				if _, err := layout.Copy(context.Background(), resolveIn(t, out+":v1"), dir+":v1", layout.CopyOptions{NoReferrers: true}); err != nil {
					t.Fatal(err)
				}
				// The tarball holds every blob of every referrer.
				l, err := layout.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				for _, k := range []string{"sbom", "sbomSig", "indexSig"} {
					if _, err := l.Blobs(context.Background(), []ocispec.Descriptor{ds[k]}); err != nil {
						t.Errorf("%s in the tarball: %v", k, err)
					}
				}
				return
			}
			// Both ways: untagged entries with the subject annotation, and fallback tags.
			subjects := map[digest.Digest]string{}
			for _, e := range indexJSON(t, dir).Manifests {
				if _, tagged := e.Annotations[ocispec.AnnotationRefName]; !tagged {
					subjects[e.Digest] = e.Annotations[layout.AnnotationReferrerSubject]
				}
			}
			wantSubjects := map[digest.Digest]string{ds["sbom"].Digest: string(ds["amd64"].Digest),
				ds["sbomSig"].Digest: string(ds["sbom"].Digest), ds["indexSig"].Digest: string(ds["index"].Digest)}
			if len(subjects) != 3 {
				t.Errorf("untagged entries %v, want %v", subjects, wantSubjects)
			}
			for d, s := range wantSubjects {
				if subjects[d] != s {
					t.Errorf("entry %s: subject annotation %q, want %q", d, subjects[d], s)
				}
			}
			for subject, ref := range map[string]string{"amd64": "sbom", "sbom": "sbomSig", "index": "indexSig"} {
				if got := fallbackList(t, dir, ds[subject].Digest); !slices.Equal(got, []digest.Digest{ds[ref].Digest}) {
					t.Errorf("fallback tag of the %s lists %v, want [%s]", subject, got, ds[ref].Digest)
				}
			}
			for _, k := range []string{"sbom", "sbomSig", "indexSig"} {
				if !blobSet(t, dir)[ds[k].Digest.Encoded()] {
					t.Errorf("%s blob not copied", k)
				}
			}
		})
	}
}

func TestCopyFilteredKeepsReferrersOfKept(t *testing.T) {
	b, ds := withReferrers(t)
	for arch, want := range map[string][]string{"amd64": {"sbom", "sbomSig"}, "arm64": nil} {
		t.Run(arch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			res, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out+":v1",
				layout.CopyOptions{Platforms: []ocispec.Platform{{OS: "linux", Architecture: arch}}})
			if err != nil {
				t.Fatal(err)
			}
			var wantDs []digest.Digest
			for _, k := range want {
				wantDs = append(wantDs, ds[k].Digest)
			}
			slices.Sort(wantDs)
			got := referrerDigests(res.Referrers)
			slices.Sort(got)
			if !slices.Equal(got, wantDs) && !(len(got) == 0 && len(wantDs) == 0) {
				t.Errorf("referrers %v, want %v", got, wantDs)
			}
			blobs := blobSet(t, out)
			if blobs[ds["indexSig"].Digest.Encoded()] {
				t.Error("the signature of the unfiltered index was copied; it does not sign the filtered one")
			}
			if arch == "arm64" && blobs[ds["sbom"].Digest.Encoded()] {
				t.Error("the amd64 SBOM came with an arm64-only copy")
			}
			if n := len(indexJSON(t, out).Manifests); n != 1+2*len(want) {
				t.Errorf("index.json has %d entries, want %d", n, 1+2*len(want))
			}
		})
	}
}

func TestCopyNoReferrers(t *testing.T) {
	b, ds := withReferrers(t)
	out := filepath.Join(t.TempDir(), "out")
	res, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out+":v1", layout.CopyOptions{NoReferrers: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 0 {
		t.Errorf("referrers %v", res.Referrers)
	}
	idx := indexJSON(t, out)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != ds["index"].Digest {
		t.Errorf("index.json %v, want the index alone", idx.Manifests)
	}
	if blobSet(t, out)[ds["sbom"].Digest.Encoded()] {
		t.Error("SBOM copied with NoReferrers")
	}
}

// An untagged copy into a folder that has only that image and its referrers is the same
// copy again: the referrer entries do not count as other images.
func TestCopyUntaggedWithReferrersTwice(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	var first []byte
	for i := range 2 {
		if _, err := layout.Copy(context.Background(), resolveIn(t, "../testdata/fixtures/oras-attached-sbom@sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64"), out, layout.CopyOptions{}); err != nil {
			t.Fatalf("copy %d: %v", i+1, err)
		}
		b, err := os.ReadFile(filepath.Join(out, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("index.json changed on the second copy:\n%s\n%s", first, b)
		}
	}
	assertReferrers(t, readReferrers(t, out), "sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64",
		"sha256:7d5853a4f99e8890c6d5b583174b82c7c31b2877c3ef6815f9683bc7a702308a")
}

// Hostile referrer graphs end: a fallback tag listing the image as a "referrer" of its
// own SBOM (a cycle) and one listing the image as its own referrer.
func TestReferrerCycleAndSelf(t *testing.T) {
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "layer")
	empty := b.Blob("application/vnd.oci.empty.v1+json", []byte("{}"))
	sbom := b.Manifest(ocispec.Manifest{ArtifactType: typeSBOM, Config: empty, Layers: []ocispec.Descriptor{b.Blob(typeSBOM, []byte("{}"))}, Subject: subjectOf(img)})
	b.SetIndex(tl.Tag(img, "v1"), sbom,
		tl.Tag(b.Index(img), "sha256-"+sbom.Digest.Encoded()), // img "refers" to the SBOM: a cycle
		tl.Tag(b.Index(img), "sha256-"+img.Digest.Encoded()),  // img "refers" to itself
	)
	out := filepath.Join(t.TempDir(), "out")
	res, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out+":v1", layout.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := referrerDigests(res.Referrers); !slices.Equal(got, []digest.Digest{sbom.Digest}) {
		t.Errorf("referrers %v, want [%s]", got, sbom.Digest)
	}
}

func TestGCDropsReferrersOfGoneSubjects(t *testing.T) {
	b, ds := withReferrers(t)
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	res, err := l.GC(ctx, layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 0 || len(res.Referrers) != 0 {
		t.Fatalf("gc of a layout whose referrers all have subjects removed %v, dropped %v", res.Removed, res.Referrers)
	}
	before, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	// Dry run: reported, nothing changed.
	if err := l.Untag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	untagged, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	if string(untagged) == string(before) {
		t.Fatal("untag changed nothing")
	}
	res, err = l.GC(ctx, layout.GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 3 {
		t.Errorf("dry run dropped %v, want the SBOM, the index signature and the SBOM's fallback tag", res.Referrers)
	}
	if after, _ := os.ReadFile(filepath.Join(b.Dir, "index.json")); string(after) != string(untagged) {
		t.Error("a dry run changed index.json")
	}
	res, err = l.GC(ctx, layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var dropped []digest.Digest
	for _, d := range res.Referrers {
		dropped = append(dropped, d.Digest)
	}
	slices.Sort(dropped)
	want := []digest.Digest{ds["sbom"].Digest, ds["indexSig"].Digest, ds["fallback"].Digest}
	slices.Sort(want)
	if !slices.Equal(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	if n := len(indexJSON(t, b.Dir).Manifests); n != 0 {
		t.Errorf("index.json keeps %d entries", n)
	}
	blobs := blobSet(t, b.Dir)
	for _, k := range []string{"sbom", "sbomSig", "indexSig", "amd64"} {
		if blobs[ds[k].Digest.Encoded()] {
			t.Errorf("blob of %s kept", k)
		}
	}
}

// A referrer someone tagged is an artifact of its own: gc keeps it though its subject
// is not in the layout.
func TestGCKeepsTaggedReferrer(t *testing.T) {
	b := tl.New(t)
	empty := b.Blob("application/vnd.oci.empty.v1+json", []byte("{}"))
	elsewhere := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("kept elsewhere"), Size: 10}
	sbom := b.Manifest(ocispec.Manifest{ArtifactType: typeSBOM, Config: empty, Layers: []ocispec.Descriptor{b.Blob(typeSBOM, []byte("{}"))}, Subject: &elsewhere})
	untagged := b.Manifest(ocispec.Manifest{ArtifactType: typeSig, Config: empty, Layers: []ocispec.Descriptor{b.Blob(typeSig, []byte("s"))}, Subject: &elsewhere})
	b.SetIndex(tl.Tag(sbom, "sbom"), untagged)
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := l.GC(context.Background(), layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 1 || res.Referrers[0].Digest != untagged.Digest {
		t.Errorf("dropped %v, want only the untagged referrer %s", res.Referrers, untagged.Digest)
	}
	if !blobSet(t, b.Dir)[sbom.Digest.Encoded()] {
		t.Error("the tagged referrer was removed")
	}
}

func TestRemovePlatformTakesItsReferrers(t *testing.T) {
	b, ds := withReferrers(t)
	// An SBOM of arm64 too, which stays.
	empty := b.Blob("application/vnd.oci.empty.v1+json", []byte("{}"))
	armSBOM := b.Manifest(ocispec.Manifest{ArtifactType: typeSBOM, Config: empty, Layers: []ocispec.Descriptor{b.Blob(typeSBOM, []byte(`{"arm":1}`))}, Subject: subjectOf(ds["arm64"])})
	idx := indexJSON(t, b.Dir)
	b.SetIndex(append(idx.Manifests, armSBOM)...)
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, removed, err := l.RemovePlatforms(context.Background(), "v1", []ocispec.Platform{{OS: "linux", Architecture: "amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []digest.Digest
	for _, d := range removed {
		got = append(got, d.Digest)
	}
	slices.Sort(got)
	// amd64, its attestation, its SBOM, the SBOM's fallback tag (and so its signature),
	// and the signature of the old index.
	want := []digest.Digest{ds["amd64"].Digest, ds["attestation"].Digest, ds["sbom"].Digest, ds["fallback"].Digest, ds["indexSig"].Digest}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	rs := readReferrers(t, b.Dir)
	assertReferrers(t, rs, ds["arm64"].Digest, armSBOM.Digest)
	if rs.Len() != 1 {
		t.Errorf("%d referrers left, want 1", rs.Len())
	}
}

// An index.json entry that cannot be read might be a referrer: copy refuses, naming it,
// rather than leave a signature behind unseen; --no-referrers copies without looking.
func TestCopyRefusesUnreadableEntryUnlessNoReferrers(t *testing.T) {
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "layer")
	other := b.Image(tl.P("linux", "arm64", "", ""), "other")
	b.WriteFile("blobs/sha256/"+other.Digest.Encoded(), []byte(strings.Repeat("x", int(other.Size))))
	b.SetIndex(tl.Tag(img, "v1"), tl.Tag(other, "v2"))
	out := filepath.Join(t.TempDir(), "out")
	_, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out, layout.CopyOptions{})
	if err == nil || !strings.Contains(err.Error(), string(other.Digest)) || !strings.Contains(err.Error(), "--no-referrers") {
		t.Fatalf("copy beside a corrupt entry: %v, want an error naming %s", err, other.Digest)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused copy created %s: %v", out, err)
	}
	if _, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out, layout.CopyOptions{NoReferrers: true}); err != nil {
		t.Fatalf("copy --no-referrers: %v", err)
	}
}

// cosign 2 records a signature as a plain manifest tagged sha256-<hex>.sig: copy brings
// it under the same tag, a filtered copy only for kept manifests, and gc drops it with
// its subject.
func TestCosignTagsTravel(t *testing.T) {
	b, ds := multi(t)
	sig := b.Manifest(ocispec.Manifest{Config: b.Blob("application/vnd.oci.image.config.v1+json", []byte(`{}`)),
		Layers: []ocispec.Descriptor{b.Blob("application/vnd.dev.cosign.simplesigning.v1+json", []byte(`{"critical":{}}`))}})
	sigTag := "sha256-" + ds["amd64"].Digest.Encoded() + ".sig"
	b.SetIndex(tl.Tag(ds["index"], "v1"), tl.Tag(sig, sigTag))
	assertReferrers(t, readReferrers(t, b.Dir), ds["amd64"].Digest, sig.Digest)
	tagOf := func(dir string, d digest.Digest) []string {
		var tags []string
		for _, e := range indexJSON(t, dir).Manifests {
			if e.Digest == d {
				tags = append(tags, e.Annotations[ocispec.AnnotationRefName])
			}
		}
		return tags
	}
	for arch, want := range map[string]bool{"": true, "amd64": true, "arm64": false} {
		out := filepath.Join(t.TempDir(), "out")
		opts := layout.CopyOptions{}
		if arch != "" {
			opts.Platforms = []ocispec.Platform{{OS: "linux", Architecture: arch}}
		}
		if _, err := layout.Copy(context.Background(), resolveIn(t, b.Dir+":v1"), out+":v1", opts); err != nil {
			t.Fatal(err)
		}
		got := tagOf(out, sig.Digest)
		if want && !slices.Equal(got, []string{sigTag}) || !want && len(got) != 0 {
			t.Errorf("copy %q: the signature is tagged %q in the copy, want it %v under %s", arch, got, want, sigTag)
		}
	}
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Untag(context.Background(), "v1"); err != nil {
		t.Fatal(err)
	}
	res, err := l.GC(context.Background(), layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 1 || res.Referrers[0].Digest != sig.Digest {
		t.Errorf("gc dropped %v, want the cosign tag", res.Referrers)
	}
}

// A long chain of referrers (each signing the one before) is hostile input: gc keeps it
// whole in one pass, and ls lists it MaxDepth levels deep, no deeper.
func TestReferrerChain(t *testing.T) {
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "layer")
	empty := b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}"))
	entries := []ocispec.Descriptor{tl.Tag(img, "v1")}
	prev := img
	const n = 300
	for i := range n {
		prev = b.Manifest(ocispec.Manifest{ArtifactType: typeSig, Config: empty,
			Layers: []ocispec.Descriptor{b.Blob(typeSig, []byte(strings.Repeat("s", i+1)))}, Subject: subjectOf(prev)})
		entries = append(entries, prev)
	}
	b.SetIndex(entries...)
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	res, err := l.GC(ctx, layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 0 || len(res.Removed) != 0 {
		t.Fatalf("gc of a chain whose head is tagged dropped %d entries, removed %d files", len(res.Referrers), len(res.Removed))
	}
	rs, err := l.Referrers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := l.Tree(ctx, []ocispec.Descriptor{img})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AddReferrers(ctx, rs, tree); err != nil {
		t.Fatal(err)
	}
	depth := 0
	for n := tree[0]; len(n.Referrers) > 0; n = n.Referrers[0] {
		depth++
	}
	if depth != layout.MaxDepth+1 {
		t.Errorf("ls lists the chain %d levels deep, want %d", depth, layout.MaxDepth+1)
	}
	if err := l.Untag(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if res, err = l.GC(ctx, layout.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != n {
		t.Errorf("gc after untag dropped %d entries, want %d", len(res.Referrers), n)
	}
}

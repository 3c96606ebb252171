package validate_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// attestation returns d marked as buildkit marks an attestation of subject.
func attestation(d, subject ocispec.Descriptor) ocispec.Descriptor {
	d.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(subject.Digest)}
	return d
}

// nested is a layout whose index.json tags one index holding the given children.
func nested(t *testing.T, children func(b *tl.Builder) []ocispec.Descriptor) string {
	b := tl.New(t)
	b.SetIndex(tl.Tag(b.Index(children(b)...), "v1"))
	return b.Dir
}

// withConfig is an image whose config says cfg, listed with the descriptor platform desc
// (nil: none).
func withConfig(b *tl.Builder, desc, cfg *ocispec.Platform, layerText string) ocispec.Descriptor {
	m := newImage(b, cfg, layerText).manifest
	if desc != nil {
		m = tl.WithPlatform(m, *desc)
	}
	return m
}

// findingOf returns the only finding of check in rep, failing the test otherwise.
func findingOf(t *testing.T, rep *validate.Report, check string) validate.Finding {
	t.Helper()
	var out []validate.Finding
	for _, f := range rep.Findings {
		if f.Check == check {
			out = append(out, f)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d %s findings, want 1\n%s", len(out), check, describe(rep))
	}
	return out[0]
}

// The defects real clients trip over (issue 11): each check on a hand-built layout.
func TestClientChecks(t *testing.T) {
	amd64, arm64 := tl.P("linux", "amd64", "", ""), tl.P("linux", "arm64", "v8", "")
	// The jq merge script's output: a nested index whose children carry no platform.
	noPlatform := func(t *testing.T) string {
		return nested(t, func(b *tl.Builder) []ocispec.Descriptor {
			return []ocispec.Descriptor{withConfig(b, nil, amd64, "amd64"), withConfig(b, nil, arm64, "arm64")}
		})
	}
	mismatch := func(desc, cfg *ocispec.Platform) func(t *testing.T) string {
		return func(t *testing.T) string {
			return nested(t, func(b *tl.Builder) []ocispec.Descriptor {
				return []ocispec.Descriptor{withConfig(b, desc, cfg, "image")}
			})
		}
	}
	oras := func(annotations map[string]string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			m := b.Manifest(ocispec.Manifest{Config: b.Config(amd64), Layers: []ocispec.Descriptor{b.Blob(mtLayer, []byte("x"))}, Annotations: annotations})
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}
	}
	created := func(value string) func(t *testing.T) string {
		return func(t *testing.T) string {
			b := tl.New(t)
			img := newImage(b, amd64, "layer")
			b.WriteFile("index.json", []byte(`{"schemaVersion":2,"mediaType":"`+mtIndex+`","manifests":[`+descJSON(t, tl.Tag(img.manifest, "v1"))+`],"annotations":{"org.opencontainers.image.created":"`+value+`"}}`))
			return b.Dir
		}
	}
	runCases(t, []vcase{
		{name: "image manifests without a platform", build: noPlatform, want: []string{"warning platform.missing", "warning platform.missing"}},
		{name: "image manifests without a platform, strict", opts: validate.Options{Strict: true}, build: noPlatform, want: []string{"error platform.missing", "error platform.missing"}, class: 1},
		{name: "image manifests without a platform, for push", opts: validate.Options{ForPush: true}, build: noPlatform, want: []string{"error push.platform", "error push.platform"}, class: 1},
		{name: "a Docker list without platforms, for push", opts: validate.Options{ForPush: true}, build: func(t *testing.T) string {
			b := tl.New(t)
			cfg := b.Blob(mtDockerConfig, []byte(`{"os":"linux","architecture":"arm64","rootfs":{"type":"layers","diff_ids":[]}}`))
			m := b.Manifest(ocispec.Manifest{MediaType: mtDockerImage, Config: cfg, Layers: []ocispec.Descriptor{b.Blob("application/vnd.docker.image.rootfs.diff.tar.gzip", []byte("arm64"))}})
			list := b.Blob(mtDockerList, []byte(`{"schemaVersion":2,"mediaType":"`+mtDockerList+`","manifests":[`+descJSON(t, m)+`]}`))
			b.SetIndex(tl.Tag(list, "v1"))
			return b.Dir
		}, want: []string{"error push.platform"}, class: 1},
		{name: "an image in index.json needs no platform, for push", opts: validate.Options{ForPush: true}, build: func(t *testing.T) string { b, _ := tagged(t); return b.Dir }},
		{name: "artifacts and attestations need no platform, for push", opts: validate.Options{ForPush: true}, build: func(t *testing.T) string {
			return nested(t, func(b *tl.Builder) []ocispec.Descriptor {
				img := withConfig(b, amd64, amd64, "amd64")
				att := newImage(b, nil, "attestation").manifest
				att.Annotations = attestation(att, img).Annotations
				return []ocispec.Descriptor{img, artifact(b, nil), att}
			})
		}},
		{name: "platform agrees with the config", build: mismatch(tl.P("linux", "arm64", "", "el8"), tl.P("linux", "arm64", "v8", "el8"))},
		{name: "arm64/v8 and a config without variant", build: mismatch(tl.P("linux", "arm64", "v8", ""), tl.P("linux", "arm64", "", ""))},
		{name: "os.version on the descriptor only", build: mismatch(tl.P("linux", "amd64", "", "el8"), amd64)},
		{name: "architecture contradicts the config", build: mismatch(amd64, arm64), want: []string{"warning platform.config"}},
		{name: "architecture contradicts the config, strict", opts: validate.Options{Strict: true}, build: mismatch(amd64, arm64), want: []string{"error platform.config"}, class: 1},
		{name: "os contradicts the config", build: mismatch(tl.P("windows", "amd64", "", ""), amd64), want: []string{"warning platform.config"}},
		{name: "variant contradicts the config", build: mismatch(tl.P("linux", "arm", "v6", ""), tl.P("linux", "arm", "v7", "")), want: []string{"warning platform.config"}},
		{name: "os.version contradicts the config", build: mismatch(tl.P("linux", "amd64", "", "el8"), tl.P("linux", "amd64", "", "el9")), want: []string{"warning platform.config"}},
		{name: "index.json entry contradicts the config", build: func(t *testing.T) string {
			b := tl.New(t)
			b.SetIndex(tl.Tag(withConfig(b, arm64, amd64, "x"), "v1"))
			return b.Dir
		}, want: []string{"warning platform.config"}},
		{name: "oras annotations agree", build: oras(map[string]string{"land.oras.artifact.platform.os": "linux", "land.oras.artifact.platform.architecture": "amd64"})},
		{name: "oras annotations contradict the config", build: oras(map[string]string{"land.oras.artifact.platform.os": "linux", "land.oras.artifact.platform.architecture": "arm64"}), want: []string{"warning platform.oras-annotations"}},
		{name: "oras os.version contradicts the config", build: func(t *testing.T) string {
			b := tl.New(t)
			m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "el9")), Layers: []ocispec.Descriptor{b.Blob(mtLayer, []byte("x"))},
				Annotations: map[string]string{"land.oras.artifact.platform.osversion": "el8"}})
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"warning platform.oras-annotations"}},
		{name: "nested manifests null", build: func(t *testing.T) string {
			b := tl.New(t)
			idx := b.Blob(mtIndex, []byte(`{"schemaVersion":2,"mediaType":"`+mtIndex+`","manifests":null}`))
			b.SetIndex(tl.Tag(idx, "v1"))
			return b.Dir
		}, want: []string{"error index.null-manifests"}, class: 1},
		{name: "created is a date only", build: created("2023-08-07"), want: []string{"warning annotation.created"}},
		{name: "created has no time zone", build: created("2023-08-07T10:00:00"), want: []string{"warning annotation.created"}},
		{name: "created is RFC 3339", build: created("2023-08-07T10:00:00.5+02:00")},
		{name: "created on a descriptor and a manifest", build: func(t *testing.T) string {
			b := tl.New(t)
			m := b.Manifest(ocispec.Manifest{Config: b.Config(amd64), Layers: []ocispec.Descriptor{b.Blob(mtLayer, []byte("x"))},
				Annotations: map[string]string{ocispec.AnnotationCreated: "yesterday"}})
			m.Annotations = map[string]string{ocispec.AnnotationCreated: "1700000000"}
			b.SetIndex(tl.Tag(m, "v1"))
			return b.Dir
		}, want: []string{"warning annotation.created", "warning annotation.created"}},
		{name: "unknown/unknown not marked as an attestation", build: func(t *testing.T) string {
			return nested(t, func(b *tl.Builder) []ocispec.Descriptor {
				return []ocispec.Descriptor{withConfig(b, amd64, amd64, "amd64"), tl.WithPlatform(artifact(b, nil), *tl.P("unknown", "unknown", "", ""))}
			})
		}, want: []string{"warning platform.unmarked-unknown"}},
	})
}

// The messages say what to fix, naming the objects.
func TestClientCheckMessages(t *testing.T) {
	b := tl.New(t)
	arm := newImage(b, tl.P("linux", "arm64", "v8", "el8"), "arm64").manifest
	idx := b.Index(arm)
	b.SetIndex(tl.Tag(idx, "v1"))
	rep, err := validate.Layout(context.Background(), b.Dir, validate.Options{ForPush: true})
	if err != nil {
		t.Fatal(err)
	}
	f := findingOf(t, rep, "push.platform")
	if f.Object != string(idx.Digest)+" manifests[0]" || f.Severity != validate.SeverityError || !strings.Contains(f.Message, "its config says linux/arm64/v8:el8") {
		t.Errorf("finding %+v", f)
	}
}

// A blob that is a symlink out of the layout is an error and is never read; links inside
// the layout are fine (issue 10).
func TestBlobSymlinks(t *testing.T) {
	symlink := func(t *testing.T, target, link string) {
		t.Helper()
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	// moveOut moves the blob of d out of the layout and links it back: the bytes still
	// match, so only the link's target is wrong.
	moveOut := func(t *testing.T, b *tl.Builder, d ocispec.Descriptor) string {
		outside := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.Rename(blobFile(b, d.Digest), outside); err != nil {
			t.Fatal(err)
		}
		symlink(t, outside, blobFile(b, d.Digest))
		return outside
	}
	runCases(t, []vcase{
		{name: "layer linked out", build: func(t *testing.T) string {
			b, img := tagged(t)
			moveOut(t, b, img.layer)
			return b.Dir
		}, want: []string{"error blob.symlink"}, class: 1},
		{name: "manifest linked out", build: func(t *testing.T) string {
			b, img := tagged(t)
			moveOut(t, b, img.manifest)
			return b.Dir
		}, want: []string{"error blob.symlink"}, class: 1},
		{name: "unreferenced blob linked out, fast", opts: validate.Options{Fast: true}, build: func(t *testing.T) string {
			b, _ := tagged(t)
			moveOut(t, b, b.Blob(mtLayer, []byte("nobody lists me")))
			return b.Dir
		}, want: []string{"error blob.symlink", "note blob.unreferenced"}, class: 1},
		{name: "blobs/sha256 linked out", build: func(t *testing.T) string {
			b, _ := tagged(t)
			outside := filepath.Join(t.TempDir(), "sha256")
			if err := os.Rename(filepath.Join(b.Dir, "blobs", "sha256"), outside); err != nil {
				t.Fatal(err)
			}
			symlink(t, outside, filepath.Join(b.Dir, "blobs", "sha256"))
			return b.Dir
		}, want: []string{"error blob.symlink"}, class: 1},
		{name: "layer linked inside the layout", build: func(t *testing.T) string {
			b, img := tagged(t)
			if err := os.Mkdir(filepath.Join(b.Dir, "store"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(blobFile(b, img.layer.Digest), filepath.Join(b.Dir, "store", "layer")); err != nil {
				t.Fatal(err)
			}
			symlink(t, "../../store/layer", blobFile(b, img.layer.Digest))
			return b.Dir
		}, want: []string{"note layout.unknown"}},
		{name: "a layout reached through a symlink", build: func(t *testing.T) string {
			b, _ := tagged(t)
			link := filepath.Join(t.TempDir(), "link")
			symlink(t, b.Dir, link)
			return link
		}},
	})

	b, img := tagged(t)
	outside := moveOut(t, b, img.layer)
	rep, err := validate.Layout(context.Background(), b.Dir, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := findingOf(t, rep, "blob.symlink")
	if f.Object != "blobs/sha256/"+img.layer.Digest.Encoded() || !strings.Contains(f.Message, outside) {
		t.Errorf("finding %+v, want the blob's path and the link's target %s", f, outside)
	}
}

// A blob nothing lists whose bytes do not match its name is an error, in a folder and in
// a plain tarball (issue 10); --fast does not hash it.
func TestUnreferencedDigest(t *testing.T) {
	damaged := func(t *testing.T) (*tl.Builder, ocispec.Descriptor) {
		b, _ := tagged(t)
		d := b.Blob(mtLayer, []byte("nobody lists me"))
		writeFile(t, blobFile(b, d.Digest), []byte("nobody lists ME"))
		return b, d
	}
	dir := func(t *testing.T) string { b, _ := damaged(t); return b.Dir }
	runCases(t, []vcase{
		{name: "folder", build: dir, want: []string{"error blob.digest", "note blob.unreferenced"}, class: 1},
		{name: "folder, fast", opts: validate.Options{Fast: true}, build: dir, want: []string{"note blob.unreferenced"}},
		{name: "plain tarball", build: func(t *testing.T) string { return tarball(t, dir(t), false) }, want: []string{"error blob.digest", "note blob.unreferenced"}, class: 1},
		{name: "a graph that cannot be read whole", build: func(t *testing.T) string {
			b, _ := damaged(t)
			indexJSON(b, descJSON(t, tl.Tag(foreignBlob(mtManifest, "not here"), "v1")))
			return b.Dir
		}, want: []string{"error blob.digest", "error blob.missing"}, class: 1},
	})
	b, d := damaged(t)
	rep, err := validate.Layout(context.Background(), b.Dir, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := digest.FromString("nobody lists ME")
	if f := findingOf(t, rep, "blob.digest"); f.Object != string(d.Digest) || !strings.Contains(f.Message, string(got)) {
		t.Errorf("finding %+v, want object %s and the bytes' digest %s", f, d.Digest, got)
	}
}

// What a killed ocil write leaves beside a tarball is a note (issue 10, 11).
func TestTarballLeftovers(t *testing.T) {
	b, _ := tagged(t)
	tb := tarball(t, b.Dir, false)
	stage := filepath.Join(filepath.Dir(tb), ".ocil-tmp-"+filepath.Base(tb)+"-stage-123")
	if err := os.Mkdir(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(filepath.Dir(tb), ".ocil-tmp-other.tar-456"), nil) // another tarball's
	rep, err := validate.Layout(context.Background(), tb, validate.Options{ForPush: true, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	f := findingOf(t, rep, "layout.temp")
	if len(rep.Findings) != 1 || f.Severity != validate.SeverityNote || f.Object != stage+"/" || !strings.Contains(f.Message, "interrupted ocil write") {
		t.Errorf("findings:\n%s", describe(rep))
	}
}

// What a killed ocil write leaves in a layout folder is a note that names ocil gc.
func TestFolderLeftovers(t *testing.T) {
	b, _ := tagged(t)
	b.WriteFile(".ocil-tmp-index.json-123", []byte(`{"schemaVersion":2`))
	b.WriteFile("blobs/sha256/.ocil-tmp-456", []byte("part of a blob"))
	rep, err := validate.Layout(context.Background(), b.Dir, validate.Options{ForPush: true, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Notes != 2 || len(rep.Findings) != 2 {
		t.Fatalf("findings:\n%s", describe(rep))
	}
	for _, f := range rep.Findings {
		if f.Check != "layout.temp" || !strings.Contains(f.Message, "ocil gc removes it") {
			t.Errorf("finding %+v, want a layout.temp note naming ocil gc", f)
		}
	}
}

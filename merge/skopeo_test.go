package merge_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
	"github.com/ocil-dev/ocil/merge"
)

// skopeo returns the path of Debian's skopeo. `make test` installs it and sets
// OCIL_REQUIRE_SKOPEO=1, so in CI a missing skopeo fails instead of skipping.
func skopeo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("skopeo")
	if err != nil {
		if os.Getenv("OCIL_REQUIRE_SKOPEO") == "1" {
			t.Fatal("skopeo is required (make test installs it from Debian's packages)")
		}
		t.Skip("skopeo not installed; run through make test")
	}
	return p
}

func runSkopeo(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(skopeo(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo %v: %v\n%s", args, err, out)
	}
}

// An image merge survives skopeo copy --multi-arch all unchanged: same index digest.
func TestMergeSkopeoCopyImages(t *testing.T) {
	skopeo(t)
	ctx := context.Background()
	tmp := t.TempDir()
	out, cp := filepath.Join(tmp, "out"), filepath.Join(tmp, "copy")
	res, err := merge.Merge(ctx, merge.Options{Output: out + ":1.2", Inputs: []merge.Input{
		{Ref: filepath.Join(fx, "umoci-image:latest")}, {Ref: filepath.Join(fx, "umoci-image:arm64")}}})
	if err != nil {
		t.Fatal(err)
	}
	runSkopeo(t, "copy", "-q", "--multi-arch", "all", "oci:"+out+":1.2", "oci:"+cp+":1.2")
	r, err := layout.ResolveRef(ctx, cp+":1.2", layout.ResolveOptions{})
	if err != nil || r.Descriptor.Digest != res.Index.Digest {
		t.Fatalf("copy resolves to %+v, %v; want %s", r, err, res.Index.Digest)
	}
	p, _ := platform.Parse("linux/arm64")
	if r, err = layout.ResolveRef(ctx, cp+":1.2", layout.ResolveOptions{Platform: &p}); err != nil || r.Descriptor.Digest != res.Children[1].Descriptor.Digest {
		t.Fatalf("copy linux/arm64 = %+v, %v", r, err)
	}
}

// The seed scenario through skopeo: the copy succeeds and keeps the four platforms, their
// os.version and order, and the index annotations. Debian's skopeo (1.9.x) predates
// image-spec 1.1: when it writes an oci: destination it compresses the oras payload
// layers and drops artifactType and layer annotations, so the artifact manifests (and the
// index) get new digests whether or not they were merged. The test pins that the merge is
// transparent to skopeo: each child of the copy is exactly what skopeo makes of that
// input layout on its own.
func TestMergeSkopeoCopyOrasArtifacts(t *testing.T) {
	skopeo(t)
	ctx := context.Background()
	tmp := t.TempDir()
	out, cp := filepath.Join(tmp, "out"), filepath.Join(tmp, "copy")
	res, err := merge.Merge(ctx, merge.Options{Output: out + ":1.2", Inputs: inputs(orasInputs...),
		Annotations: map[string]string{"org.opencontainers.image.version": "1.2"}})
	if err != nil {
		t.Fatal(err)
	}
	runSkopeo(t, "copy", "-q", "--multi-arch", "all", "oci:"+out+":1.2", "oci:"+cp+":1.2")

	var top, orig, copied ocispec.Index
	readJSON(t, filepath.Join(cp, "index.json"), &top)
	if len(top.Manifests) != 1 || top.Manifests[0].Annotations[ocispec.AnnotationRefName] != "1.2" {
		t.Fatalf("copy's index.json = %+v", top)
	}
	readJSON(t, blobPath(out, res.Index.Digest), &orig)
	readJSON(t, blobPath(cp, top.Manifests[0].Digest), &copied)
	if len(copied.Manifests) != len(orig.Manifests) || copied.Annotations["org.opencontainers.image.version"] != "1.2" {
		t.Fatalf("copy's nested index = %+v", copied)
	}
	for i, name := range orasInputs {
		o, c := orig.Manifests[i], copied.Manifests[i]
		if !platform.Equal(*o.Platform, *c.Platform) {
			t.Fatalf("child %d: platform %+v became %+v", i, o.Platform, c.Platform)
		}
		alone := filepath.Join(tmp, "alone-"+name)
		runSkopeo(t, "copy", "-q", "oci:"+filepath.Join(fx, name), "oci:"+alone+":x")
		r, err := layout.ResolveRef(ctx, alone+":x", layout.ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Descriptor.Digest != c.Digest {
			t.Fatalf("child %d: skopeo copied the merged manifest to %s, the input alone to %s", i, c.Digest, r.Descriptor.Digest)
		}
		// Each platform of the copy resolves, os.version included.
		p := *o.Platform
		got, err := layout.ResolveRef(ctx, cp+":1.2", layout.ResolveOptions{Platform: &p})
		if err != nil || got.Descriptor.Digest != c.Digest {
			t.Fatalf("copy %s = %+v, %v", platform.Format(p), got, err)
		}
	}
}

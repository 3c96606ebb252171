package merge_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/merge"
)

// TestMergeVerifiesByDefault: Merge with zero-value options (no Transfer settings) hashes
// its inputs: a layer whose bytes were changed (same size) fails the merge with
// ErrDigestMismatch naming the blob, and OUT is not created. NoVerify is the explicit way
// to trust the input, and then the changed bytes are carried over as they are.
func TestMergeVerifiesByDefault(t *testing.T) {
	ctx := context.Background()
	corrupt := tl.New(t)
	m := corrupt.Image(tl.P("linux", "amd64", "", ""), "layer")
	corrupt.SetIndex(m)
	var man ocispec.Manifest
	readJSON(t, blobPath(corrupt.Dir, m.Digest), &man)
	layer := blobPath(corrupt.Dir, man.Layers[0].Digest)
	os.Chmod(layer, 0o644)
	if err := os.WriteFile(layer, []byte("LAYER"), 0o644); err != nil { // same size, other bytes
		t.Fatal(err)
	}

	for _, mode := range []layout.LinkMode{"", layout.LinkCopy} {
		out := filepath.Join(t.TempDir(), "out")
		_, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", Inputs: []merge.Input{{Ref: corrupt.Dir}}, Transfer: layout.TransferOptions{Mode: mode}})
		if !errors.Is(err, layout.ErrDigestMismatch) || !strings.Contains(err.Error(), string(man.Layers[0].Digest)) {
			t.Fatalf("mode %q: Merge = %v, want ErrDigestMismatch naming %s", mode, err, man.Layers[0].Digest)
		}
		if _, err := os.Stat(filepath.Join(out, "index.json")); err == nil {
			b, _ := os.ReadFile(filepath.Join(out, "index.json"))
			var idx ocispec.Index
			readJSON(t, filepath.Join(out, "index.json"), &idx)
			if len(idx.Manifests) != 0 {
				t.Errorf("mode %q: OUT's index.json lists %s", mode, b)
			}
		}
	}

	out := filepath.Join(t.TempDir(), "out")
	if _, err := merge.Merge(ctx, merge.Options{Output: out + ":v1", Inputs: []merge.Input{{Ref: corrupt.Dir}}, NoVerify: true}); err != nil {
		t.Fatalf("NoVerify: Merge = %v", err)
	}
	if b, err := os.ReadFile(blobPath(out, man.Layers[0].Digest)); err != nil || string(b) != "LAYER" {
		t.Errorf("NoVerify: the layer in OUT is %q, %v", b, err)
	}
}

// TestMergeRefusesBadArtifactType: an artifactType outside the RFC 6838 grammar is an
// invalid option, before OUT is created.
func TestMergeRefusesBadArtifactType(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	_, err := merge.Merge(context.Background(), merge.Options{Output: out + ":v1", Inputs: inputs("oras-linux-amd64-el8"), ArtifactType: "bad type"})
	if !errors.Is(err, layout.ErrInvalidOption) || !strings.Contains(err.Error(), `"bad type"`) {
		t.Fatalf("Merge = %v, want ErrInvalidOption naming the type", err)
	}
	if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OUT was created (%v)", err)
	}
}

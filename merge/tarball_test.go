package merge_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/merge"
)

func tarEntries(t *testing.T, p string) map[string][]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

func TestMergeToTarball(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	var raws [][]byte
	for i := 0; i < 2; i++ {
		p := filepath.Join(tmp, "out.tar")
		os.Remove(p)
		res, err := merge.Merge(ctx, merge.Options{Output: p + ":1.2", Inputs: inputs(orasInputs...), Transfer: layout.TransferOptions{Verify: true}})
		if err != nil {
			t.Fatal(err)
		}
		ents := tarEntries(t, p)
		var idx ocispec.Index
		json.Unmarshal(ents["index.json"], &idx)
		if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != res.Index.Digest || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "1.2" {
			t.Fatalf("index.json = %s", ents["index.json"])
		}
		for _, name := range orasInputs {
			d, _ := configPlatform(t, filepath.Join(fx, name))
			if _, ok := ents["blobs/sha256/"+d.Encoded()]; !ok {
				t.Fatalf("manifest of %s missing from the tarball", name)
			}
		}
		raw, _ := os.ReadFile(p)
		raws = append(raws, raw)
		// Nothing but the tarball and its lock file is left beside it.
		names, _ := os.ReadDir(tmp)
		if len(names) != 2 {
			t.Fatalf("left beside the tarball: %v", names)
		}
	}
	if !bytes.Equal(raws[0], raws[1]) {
		t.Fatal("two merges into a tarball differ")
	}
}

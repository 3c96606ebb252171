package layout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
)

// A fan-out beyond the bound is refused, naming the layout, before anything is written.
func TestReferrerFanOutBounded(t *testing.T) {
	defer func(n int) { maxReferrers = n }(maxReferrers)
	maxReferrers = 3
	b := tl.New(t)
	img := b.Image(tl.P("linux", "amd64", "", ""), "layer")
	subject := &ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Digest, Size: img.Size}
	var refs []ocispec.Descriptor
	for i := range 4 {
		refs = append(refs, b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example.sig", Config: b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}")),
			Layers: []ocispec.Descriptor{b.Blob("application/octet-stream", []byte(fmt.Sprint("sig ", i)))}, Subject: subject}))
	}
	b.SetIndex(tl.Tag(img, "v1"), tl.Tag(b.Index(refs...), "sha256-"+img.Digest.Encoded()))
	src, err := ResolveRef(context.Background(), b.Dir+":v1", ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Layout.Close()
	out := filepath.Join(t.TempDir(), "out")
	_, err = Copy(context.Background(), src, out, CopyOptions{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), b.Dir) {
		t.Fatalf("copy of 4 referrers with a bound of 3: %v, want ErrTooLarge naming %s", err, b.Dir)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused copy created %s: %v", out, err)
	}
	maxReferrers = 4
	res, err := Copy(context.Background(), src, out, CopyOptions{})
	if err != nil || len(res.Referrers) != 4 {
		t.Fatalf("copy of 4 referrers with a bound of 4: %v, %d referrers", err, len(res.Referrers))
	}
}

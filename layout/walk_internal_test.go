package layout

import (
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Content addressing makes a cycle impossible among verified blobs, so the guard is
// exercised directly: a descriptor that names one of its ancestors.
func TestWalkRefusesCycle(t *testing.T) {
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromString("x"), Size: 1}
	w := &walker{l: &Layout{path: "test"}, fn: func(context.Context, *Node) error { return nil }, seen: map[digest.Digest]bool{}}
	if err := w.visit(context.Background(), d, []ocispec.Descriptor{d}); !errors.Is(err, ErrCycle) {
		t.Fatalf("visit = %v, want ErrCycle", err)
	}
}

package artifact_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/artifact"
	"github.com/ocil-dev/ocil/layout/platform"
)

// TestPutRefusesBadMediaTypes: the library refuses what the command line does,
// before it writes a blob.
func TestPutRefusesBadMediaTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	l, err := layout.Create(filepath.Join(dir, "l"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := platform.Parse("linux/amd64")
	for _, tc := range []struct {
		files []artifact.File
		opts  artifact.Options
	}{
		{[]artifact.File{{Path: file}}, artifact.Options{ArtifactType: "bad type"}},
		{[]artifact.File{{Path: file, MediaType: "text plain"}}, artifact.Options{}},
		{[]artifact.File{{Path: file}}, artifact.Options{Config: &artifact.File{Path: file, MediaType: "a/b c"}}},
	} {
		tc.opts.Platform = p
		if _, err := artifact.Put(context.Background(), l, tc.files, tc.opts); !errors.Is(err, layout.ErrInvalidOption) {
			t.Errorf("Put(%+v, %+v) = %v, want ErrInvalidOption", tc.files, tc.opts, err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "l", "blobs", "sha256"))
	if len(ents) != 0 {
		t.Errorf("Put wrote %d blobs", len(ents))
	}
}

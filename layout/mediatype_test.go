package layout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

func TestCheckMediaType(t *testing.T) {
	for _, ok := range []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.example.tool.v1", "text/plain", "a/b", "x-y/z!#$&^_.+-"} {
		if err := layout.CheckMediaType(ok); err != nil {
			t.Errorf("CheckMediaType(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bad type", "noslash", "a/b/c", "/b", "a/", "text/plain; charset=utf-8", "a/b ", " a/b", "a/b\n", ".a/b", "a/" + strings.Repeat("b", 128), "é/x"} {
		err := layout.CheckMediaType(bad)
		if !errors.Is(err, layout.ErrInvalidOption) || !strings.Contains(err.Error(), `"`+bad+`"`) && bad != "a/b\n" {
			t.Errorf("CheckMediaType(%q) = %v, want ErrInvalidOption naming it", bad, err)
		}
	}
}

// TestPutArtifactRefusesBadMediaTypes: the library refuses what the command line does,
// before it writes a blob.
func TestPutArtifactRefusesBadMediaTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	l, err := layout.Create(filepath.Join(dir, "l"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := platform.Parse("linux/amd64")
	for _, tc := range []struct {
		files []layout.ArtifactFile
		opts  layout.ArtifactOptions
	}{
		{[]layout.ArtifactFile{{Path: file}}, layout.ArtifactOptions{ArtifactType: "bad type"}},
		{[]layout.ArtifactFile{{Path: file, MediaType: "text plain"}}, layout.ArtifactOptions{}},
		{[]layout.ArtifactFile{{Path: file}}, layout.ArtifactOptions{Config: &layout.ArtifactFile{Path: file, MediaType: "a/b c"}}},
	} {
		tc.opts.Platform = p
		if _, err := l.PutArtifact(context.Background(), tc.files, tc.opts); !errors.Is(err, layout.ErrInvalidOption) {
			t.Errorf("PutArtifact(%+v, %+v) = %v, want ErrInvalidOption", tc.files, tc.opts, err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "l", "blobs", "sha256"))
	if len(ents) != 0 {
		t.Errorf("PutArtifact wrote %d blobs", len(ents))
	}
}

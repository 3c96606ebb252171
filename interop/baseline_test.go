package interop

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestBaseline shows that the rejections marked as inherited or as a tool's limitation
// in the scenario table are there without ocil: the tools reject the input fixtures,
// written by oras and regctl, the same way.
func TestBaseline(t *testing.T) {
	for _, name := range []string{"oras-linux-amd64-el8", "oras-linux-amd64-el9", "oras-linux-arm64-v8-el8", "oras-linux-arm64-v8-el9"} {
		t.Run(toolGCR+"/"+name, func(t *testing.T) {
			p, err := layout.FromPath(fixture(name))
			if err != nil {
				t.Fatalf("[%s] %s: layout.FromPath: %v", toolGCR, name, err)
			}
			idx, err := p.ImageIndex()
			if err != nil {
				t.Fatalf("[%s] %s: ImageIndex: %v", toolGCR, name, err)
			}
			err = validate.Index(idx, validate.Fast)
			if err == nil || !strings.Contains(err.Error(), gcrNoRootFSInherited.Message) {
				t.Fatalf("[%s] %s: validate.Index: want the inherited rejection %q, got %v", toolGCR, name, gcrNoRootFSInherited.Message, err)
			}
			t.Logf("[%s] %s: validate.Index rejects the oras fixture itself: %v", toolGCR, name, err)
		})
	}
	t.Run(toolSkopeo+"/regctl-index", func(t *testing.T) {
		dst := "oci:" + filepath.Join(t.TempDir(), "same") + ":v1"
		_, err := skopeo(t, "copy", "-q", "--multi-arch", "all", "--preserve-digests", "--dest-oci-accept-uncompressed-layers", "oci:"+fixture("regctl-index")+":v1", dst)
		if err == nil {
			t.Logf("[%s] regctl-index:v1: copy --preserve-digests: passes (skopeo %s keeps artifactType): the limitation is gone", toolSkopeo, skopeoVersion)
			return
		}
		if !strings.Contains(err.Error(), skopeoPreserveDigests.Message) {
			t.Fatalf("[%s] regctl-index:v1: copy --preserve-digests: want %q, got %v", toolSkopeo, skopeoPreserveDigests.Message, err)
		}
		t.Logf("[%s] regctl-index:v1: copy --preserve-digests rejects regctl's own index: %v", toolSkopeo, err)
	})
}

package layout_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ocil-dev/ocil/layout"
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

package validate_test

import (
	"context"
	"testing"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// BenchmarkValidateManyTags validates (--fast) a layout of 10,000 tagged manifests
// (tl.ManyTags, the shape bench/mktags writes): the cost of the structure checks per
// document, with no blob contents to hash to speak of.
func BenchmarkValidateManyTags(b *testing.B) {
	const tags = 10000
	dir := tl.ManyTags(b, tags).Dir
	for b.Loop() {
		rep, err := validate.Layout(context.Background(), dir, validate.Options{Fast: true})
		if err != nil || rep.Checked.Manifests != tags {
			b.Fatalf("%v %+v", err, rep.Checked)
		}
	}
}

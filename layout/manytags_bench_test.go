package layout_test

import (
	"context"
	"testing"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

// benchTags is the size of the many-tags benchmarks here: big enough to show the cost
// per entry, small enough to run in seconds (bench/tags.sh times 100,000 with the CLI).
const benchTags = 10000

// BenchmarkManyTags reads a layout of benchTags tagged manifests (tl.ManyTags, the shape
// bench/mktags writes) the ways ls and resolve do.
func BenchmarkManyTags(b *testing.B) {
	dir := tl.ManyTags(b, benchTags).Dir
	ctx := context.Background()
	open := func(b *testing.B) *layout.Layout {
		l, err := layout.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	b.Run("Index", func(b *testing.B) {
		for b.Loop() {
			l := open(b)
			if idx, err := l.Index(ctx); err != nil || len(idx.Manifests) != benchTags {
				b.Fatal(err)
			}
			l.Close()
		}
	})
	b.Run("EntryTrees", func(b *testing.B) {
		for b.Loop() {
			l := open(b)
			if es, _, err := l.EntryTrees(ctx); err != nil || len(es) != benchTags {
				b.Fatal(err)
			}
			l.Close()
		}
	})
	b.Run("Referrers", func(b *testing.B) {
		for b.Loop() {
			l := open(b)
			if rs, err := l.Referrers(ctx); err != nil || rs.Len() != 0 {
				b.Fatal(err)
			}
			l.Close()
		}
	})
}

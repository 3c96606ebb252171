package validate_test

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout/validate"
)

const (
	benchBlobs    = 4
	benchBlobSize = 64 << 20
)

// benchLayout writes an image with benchBlobs layers of benchBlobSize random bytes and
// returns the layout and the layer files.
func benchLayout(b *testing.B) (dir string, files []string) {
	b.Helper()
	l := tl.New(b)
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, benchBlobSize)
	var layers []ocispec.Descriptor
	for range benchBlobs {
		rng.Read(buf)
		d := l.Blob(ocispec.MediaTypeImageLayer, buf)
		layers = append(layers, d)
		files = append(files, l.Dir+"/blobs/sha256/"+d.Digest.Encoded())
	}
	m := l.Manifest(ocispec.Manifest{Config: l.Config(tl.P("linux", "amd64", "", "")), Layers: layers})
	l.SetIndex(tl.Tag(m, "v1"))
	return l.Dir, files
}

// sha256Pass reads and hashes every file once, one after the other, on one core: the
// yardstick for validation.
func sha256Pass(b *testing.B, files []string) {
	buf := make([]byte, 1<<20)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(struct{ io.Writer }{h}, f, buf); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkValidate validates benchBlobs × 64 MiB of layers: full (every byte hashed, on
// every core), fast (sizes only), and the single-threaded sha256 pass over the same
// files, so that one `go test -bench Validate` run shows the ratio; "full" also reports
// it as x-sha256-pass (the target is at most 0.75 on two cores).
func BenchmarkValidate(b *testing.B) {
	dir, files := benchLayout(b)
	// The yardstick, measured here as well: the best of three passes.
	var single time.Duration
	for i := range 3 {
		start := time.Now()
		sha256Pass(b, files)
		if d := time.Since(start); i == 0 || d < single {
			single = d
		}
	}
	run := func(opts validate.Options) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(benchBlobs * benchBlobSize)
			for b.Loop() {
				rep, err := validate.Layout(context.Background(), dir, opts)
				if err != nil || rep.Errors != 0 || rep.Checked.Bytes < benchBlobs*benchBlobSize {
					b.Fatalf("%v %+v %+v", err, rep.Findings, rep.Checked)
				}
			}
			perOp := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(perOp)/float64(single), "x-sha256-pass")
		}
	}
	b.Run("full", run(validate.Options{}))
	b.Run("fast", run(validate.Options{Fast: true}))
	b.Run("sha256-single", func(b *testing.B) {
		b.SetBytes(benchBlobs * benchBlobSize)
		for b.Loop() {
			sha256Pass(b, files)
		}
	})
}

// BenchmarkSHA256Single is the single-threaded sha256 pass over the same bytes on its own.
func BenchmarkSHA256Single(b *testing.B) {
	_, files := benchLayout(b)
	b.SetBytes(benchBlobs * benchBlobSize)
	for b.Loop() {
		sha256Pass(b, files)
	}
}

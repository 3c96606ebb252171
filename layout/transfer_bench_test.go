package layout_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

const benchBlobSize = 64 << 20

// BenchmarkCopyBlob copies one 64 MiB blob between two layouts of the temp folder's file
// system, into a fresh destination each time. The source stays in the page cache, so the
// numbers show the cost of each method, not of reading the disk; copies include the fsync
// of 64 MiB. Read them against BenchmarkSHA256, one hash pass over the same file.
//
//   - hardlink: CopyBlob with LinkHardlink; verify adds one hash pass before the rename.
//   - copy: CopyBlob with LinkCopy; noverify is the kernel copy, verify the streaming copy
//     that hashes while it copies.
//   - stream: what a caller gets without CopyBlob. noverify hands the source file to
//     WriteBlob (one hash pass, like copy/verify); verify reads through OpenBlob into
//     WriteBlob, which hashes every byte twice.
func BenchmarkCopyBlob(b *testing.B) {
	ctx := context.Background()
	b.StopTimer()
	bld, src, d := transferSource(b, randomBytes(benchBlobSize, 9))
	srcFile := transferPath(bld.Dir, d.Digest)
	b.StartTimer()

	copyWith := func(mode layout.LinkMode, verify bool, want layout.TransferMethod) func(*layout.Layout) error {
		return func(dst *layout.Layout) error {
			res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: verify})
			if err == nil && res.Method != want {
				err = fmt.Errorf("method %s, want %s", res.Method, want)
			}
			return err
		}
	}
	cases := []struct {
		name string
		run  func(dst *layout.Layout) error
	}{
		{"hardlink/verify", copyWith(layout.LinkHardlink, true, layout.TransferHardlink)},
		{"hardlink/noverify", copyWith(layout.LinkHardlink, false, layout.TransferHardlink)},
		{"copy/verify", copyWith(layout.LinkCopy, true, layout.TransferStream)},
		{"copy/noverify", copyWith(layout.LinkCopy, false, layout.TransferKernelCopy)},
		{"stream/verify", func(dst *layout.Layout) error {
			rc, err := src.OpenBlob(ctx, d)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = dst.WriteBlob(ctx, d, rc)
			return err
		}},
		{"stream/noverify", func(dst *layout.Layout) error {
			f, err := os.Open(srcFile)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = dst.WriteBlob(ctx, d, f)
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(benchBlobSize)
			parent := b.TempDir()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := filepath.Join(parent, fmt.Sprint(i))
				dst, err := layout.Create(dir)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := c.run(dst); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if ok, err := dst.HasBlob(ocispec.Descriptor{Digest: d.Digest, Size: d.Size}); !ok || err != nil {
					b.Fatalf("blob not copied (%v)", err)
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSHA256 is one single-threaded sha256 pass over the 64 MiB source file of
// BenchmarkCopyBlob, read in 1 MiB pieces: the cost of verifying a blob once.
func BenchmarkSHA256(b *testing.B) {
	b.StopTimer()
	bld, _, d := transferSource(b, randomBytes(benchBlobSize, 9))
	name := transferPath(bld.Dir, d.Digest)
	buf := make([]byte, 1<<20)
	b.SetBytes(benchBlobSize)
	b.StartTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		for {
			n, err := f.Read(buf)
			h.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
		if got := fmt.Sprintf("sha256:%x", h.Sum(nil)); got != d.Digest.String() {
			b.Fatalf("hash %s, want %s", got, d.Digest)
		}
	}
}

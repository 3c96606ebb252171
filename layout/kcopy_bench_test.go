package layout

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// onlyReader hides every method of a reader but Read, so WriteBlob cannot see a file
// behind it and copies through user space.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// BenchmarkKernelCopy compares the two ways a verified copy can go on this machine: the
// kernel copies (copy_file_range) and other goroutines hash the copy as it lands
// ("kernel"), or the bytes go through user space, hashed on a second core while written
// ("stream"). tarball: a plain tarball of 4 blobs of 64 MiB written to a file, fsynced;
// blob: one 64 MiB blob through WriteBlob, fsynced. The sources stay in the page cache.
func BenchmarkKernelCopy(b *testing.B) {
	ctx := context.Background()
	const size = 64 << 20
	l, ds, idx := kernelLayout(b, size, size, size, size)
	dir := b.TempDir()
	tarball := func(kernel bool) func() error {
		return func() error {
			f, err := os.Create(filepath.Join(dir, "out.tar"))
			if err != nil {
				return err
			}
			defer f.Close()
			var file *os.File
			if kernel {
				file = f
			}
			if err := writeTar(ctx, newEarlyWriteback(f), file, "out.tar", l, idx, ds, TarOptions{Verify: true}); err != nil {
				return err
			}
			return f.Sync()
		}
	}
	blob := func(kernel bool) func() error {
		return func() error {
			os.RemoveAll(filepath.Join(dir, "dst"))
			dst, err := Create(filepath.Join(dir, "dst"))
			if err != nil {
				return err
			}
			defer dst.Close()
			src, err := os.Open(blobFile(l, ds[0]))
			if err != nil {
				return err
			}
			defer src.Close()
			var r io.Reader = src
			if !kernel {
				r = onlyReader{src}
			}
			_, err = dst.WriteBlob(ctx, ds[0], r)
			return err
		}
	}
	for _, c := range []struct {
		name  string
		bytes int64
		run   func() error
	}{
		{"tarball/kernel", 4 * size, tarball(true)},
		{"tarball/stream", 4 * size, tarball(false)},
		{"blob/kernel", size, blob(true)},
		{"blob/stream", size, blob(false)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(c.bytes)
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

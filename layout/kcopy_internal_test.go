package layout

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// kernelCopyWorks reports whether copy_file_range copies between two files of the temp
// folder here; the tests that need it are skipped elsewhere.
func kernelCopyWorks(t *testing.T) bool {
	t.Helper()
	dir := t.TempDir()
	a, _ := os.Create(filepath.Join(dir, "a"))
	defer a.Close()
	a.WriteString("probe")
	b, _ := os.Create(filepath.Join(dir, "b"))
	defer b.Close()
	n, err := copyFileRange(b, 0, a, 0, 5)
	return err == nil && n == 5
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// kernelLayout is a layout folder with blobs of the given sizes (random bytes), and the
// index.json bytes a tarball of them takes.
func kernelLayout(t testing.TB, sizes ...int) (*Layout, []ocispec.Descriptor, []byte) {
	t.Helper()
	ctx := context.Background()
	l, err := Create(filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var ds []ocispec.Descriptor
	for i, n := range sizes {
		d, err := l.PutBlob(ctx, "application/octet-stream", randBytes(n, uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	i := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	i.SchemaVersion = 2
	idx, _ := EncodeJSON(i)
	return l, ds, idx
}

func blobFile(l *Layout, d ocispec.Descriptor) string {
	return filepath.Join(l.dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
}

// corrupt changes one byte in the middle of the blob d, keeping its size.
func corrupt(t *testing.T, l *Layout, d ocispec.Descriptor) {
	t.Helper()
	p := blobFile(l, d)
	os.Chmod(p, 0o644)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	f.ReadAt(b[:], d.Size/2)
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], d.Size/2); err != nil {
		t.Fatal(err)
	}
}

// A plain tarball written to a file, its large blobs copied by the kernel and hashed
// behind the copy, has exactly the bytes of the same tarball streamed through archive/tar.
func TestKernelTarballSameBytes(t *testing.T) {
	if !kernelCopyWorks(t) {
		t.Skip("no copy_file_range between files of the temp folder")
	}
	ctx := context.Background()
	// Sizes around the block size and the kernel copy's threshold and chunk.
	l, ds, idx := kernelLayout(t, 3<<20, kernelCopyMin+17, 100, kernelCopyMin-1, kernelCopyChunk+511, 0)
	for _, verify := range []bool{true, false} {
		out := filepath.Join(t.TempDir(), "out.tar")
		before := kernelCopies.Load()
		if err := WriteTarball(ctx, out, l, idx, ds, TarOptions{Verify: verify}); err != nil {
			t.Fatal(err)
		}
		if got := kernelCopies.Load() - before; got != 3 {
			t.Errorf("verify %v: %d blobs copied by the kernel, want 3", verify, got)
		}
		var want bytes.Buffer
		if err := WriteTarballTo(ctx, &want, "-", l, idx, ds, TarOptions{Verify: verify}); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("verify %v: the file (%d bytes) differs from the stream (%d bytes)", verify, len(got), want.Len())
		}
	}
}

// A large blob whose bytes do not match its digest (same size) fails a verified tarball
// write even though the kernel copied it: the hash of the copy refuses it, the tarball
// keeps its previous bytes and no temp file is left.
func TestKernelTarballRefusesCorruptBlob(t *testing.T) {
	if !kernelCopyWorks(t) {
		t.Skip("no copy_file_range between files of the temp folder")
	}
	ctx := context.Background()
	l, ds, idx := kernelLayout(t, 2<<20, 3<<20, kernelCopyChunk+5)
	out := filepath.Join(t.TempDir(), "out.tar")
	if err := WriteTarball(ctx, out, l, idx, ds[:1], TarOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	previous, _ := os.ReadFile(out)
	for _, bad := range ds[1:] {
		corrupt(t, l, bad)
		err := WriteTarball(ctx, out, l, idx, ds, TarOptions{Verify: true})
		if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), bad.Digest.String()) {
			t.Fatalf("corrupt blob of %d bytes: %v, want ErrDigestMismatch naming it", bad.Size, err)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, previous) {
			t.Fatal("the tarball was replaced")
		}
		ents, _ := os.ReadDir(filepath.Dir(out))
		if len(ents) != 2 || ents[0].Name() != "out.tar" || ents[1].Name() != "out.tar.lock" {
			t.Fatalf("left behind: %v", ents)
		}
		corrupt(t, l, bad) // back as it was
	}
}

// WriteBlob from a file copies in the kernel and hashes what it copied: the right bytes
// arrive (also from an offset into the file); wrong bytes of the right size, and a file
// longer than the blob, are refused and leave no blob and no temp file.
func TestWriteBlobKernelCopy(t *testing.T) {
	if !kernelCopyWorks(t) {
		t.Skip("no copy_file_range between files of the temp folder")
	}
	ctx := context.Background()
	data := randBytes(kernelCopyChunk+3<<20, 7)
	d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
	dir := t.TempDir()
	src := func(name string, b []byte, off int64) *os.File {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		f.Seek(off, 0)
		return f
	}
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	for _, c := range []struct {
		name string
		r    *os.File
		want error
	}{
		{"wrong bytes", src("bad", bad, 0), ErrDigestMismatch},
		{"longer", src("long", append(bytes.Clone(data), "more"...), 0), ErrSizeMismatch},
		{"shorter", src("short", data[:len(data)-1], 0), ErrSizeMismatch},
		{"at an offset", src("off", append([]byte("prefix"), data...), 6), nil},
	} {
		l, err := Create(filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-")))
		if err != nil {
			t.Fatal(err)
		}
		before := kernelCopies.Load()
		written, err := l.WriteBlob(ctx, d, c.r)
		if kernelCopies.Load() == before {
			t.Errorf("%s: not copied by the kernel", c.name)
		}
		blobs, _ := os.ReadDir(filepath.Join(l.dir, "blobs", "sha256"))
		if c.want != nil {
			if !errors.Is(err, c.want) || written {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
			if len(blobs) != 0 {
				t.Errorf("%s: left %v", c.name, blobs)
			}
		} else {
			if err != nil || !written {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got, _ := os.ReadFile(blobFile(l, d)); !bytes.Equal(got, data) || len(blobs) != 1 {
				t.Errorf("%s: the blob differs, or more files: %v", c.name, blobs)
			}
		}
		l.Close()
	}
}

// A blob of a plain tarball is copied out of the archive by the kernel (tarfs gives its
// extent), and a corrupt one is refused, leaving nothing.
func TestCopyBlobFromTarballKernelCopy(t *testing.T) {
	if !kernelCopyWorks(t) {
		t.Skip("no copy_file_range between files of the temp folder")
	}
	ctx := context.Background()
	l, ds, idx := kernelLayout(t, 2<<20+100)
	d := ds[0]
	tarPath := filepath.Join(t.TempDir(), "in.tar")
	if err := WriteTarball(ctx, tarPath, l, idx, ds, TarOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	for _, broken := range []bool{false, true} {
		if broken {
			raw, _ := os.ReadFile(tarPath)
			want, _ := os.ReadFile(blobFile(l, d))
			i := bytes.Index(raw, want)
			raw[i+int(d.Size)/2] ^= 1
			os.WriteFile(tarPath, raw, 0o644)
		}
		src, err := Open(tarPath)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := Create(filepath.Join(t.TempDir(), "dst"))
		if err != nil {
			t.Fatal(err)
		}
		before := kernelCopies.Load()
		_, err = dst.CopyBlob(ctx, src, d, TransferOptions{Verify: true})
		if kernelCopies.Load() == before {
			t.Errorf("broken %v: not copied by the kernel", broken)
		}
		ents, _ := os.ReadDir(filepath.Join(dst.dir, "blobs", "sha256"))
		if broken {
			if !errors.Is(err, ErrDigestMismatch) || len(ents) != 0 {
				t.Errorf("corrupt entry: %v, left %v", err, ents)
			}
		} else {
			got, _ := os.ReadFile(blobFile(dst, d))
			want, _ := os.ReadFile(blobFile(l, d))
			if err != nil || !bytes.Equal(got, want) || len(ents) != 1 {
				t.Errorf("copy: %v, %d entries", err, len(ents))
			}
		}
		src.Close()
		dst.Close()
	}
}

// Where the kernel cannot copy (here from tmpfs to the temp folder's file system, when
// they differ and the kernel gives EXDEV), the bytes go through user space and are still
// checked: the right ones arrive, wrong ones are refused and leave nothing.
func TestWriteBlobKernelCopyRefused(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "ocil-test-")
	if err != nil {
		t.Skip("no /dev/shm")
	}
	defer os.RemoveAll(shm)
	ctx := context.Background()
	data := randBytes(3<<20, 5)
	d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
	bad := bytes.Clone(data)
	bad[1] ^= 1
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{{"right", data, nil}, {"wrong", bad, ErrDigestMismatch}} {
		p := filepath.Join(shm, c.name)
		os.WriteFile(p, c.b, 0o644)
		src, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Create(filepath.Join(t.TempDir(), "dst"))
		if err != nil {
			t.Fatal(err)
		}
		f, _ := os.Create(filepath.Join(l.dir, "probe"))
		_, cerr := copyFileRange(f, 0, src, 0, 1)
		f.Close()
		os.Remove(filepath.Join(l.dir, "probe"))
		if !errors.Is(cerr, errNoKernelCopy) {
			src.Close()
			l.Close()
			t.Skipf("the kernel copies from /dev/shm to the temp folder here (%v)", cerr)
		}
		before := kernelCopies.Load()
		_, err = l.WriteBlob(ctx, d, src)
		if kernelCopies.Load() != before {
			t.Errorf("%s: counted as a kernel copy", c.name)
		}
		final, temp := blobNames(t, l.dir)
		if c.want == nil {
			got, _ := os.ReadFile(blobFile(l, d))
			if err != nil || !bytes.Equal(got, data) || len(temp) != 0 {
				t.Errorf("%s: %v, temp %v", c.name, err, temp)
			}
		} else if !errors.Is(err, c.want) || len(final)+len(temp) != 0 {
			t.Errorf("%s: %v, left %v %v", c.name, err, final, temp)
		}
		src.Close()
		l.Close()
	}
}

// A write that fails after blobs were copied by the kernel, their hashes still running
// (here: the next blob is missing), waits for those hashes, fails naming the missing blob
// and leaves no tarball and no temp file.
func TestKernelTarballFailsAfterCopies(t *testing.T) {
	if !kernelCopyWorks(t) {
		t.Skip("no copy_file_range between files of the temp folder")
	}
	ctx := context.Background()
	l, ds, idx := kernelLayout(t, 3<<20, 2<<20, 4<<20)
	// Blobs are written in the order of their names: remove the last one.
	last := ds[0]
	for _, d := range ds {
		if d.Digest.Encoded() > last.Digest.Encoded() {
			last = d
		}
	}
	os.Remove(blobFile(l, last))
	out := filepath.Join(t.TempDir(), "out.tar")
	before := kernelCopies.Load()
	err := WriteTarball(ctx, out, l, idx, ds, TarOptions{Verify: true})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), last.Digest.String()) {
		t.Fatalf("= %v, want ErrNotFound naming %s", err, last.Digest)
	}
	if got := kernelCopies.Load() - before; got != 2 {
		t.Errorf("%d blobs copied by the kernel before the failure, want 2", got)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// A blob of a split tarball is copied by the kernel from the one part that holds it, and
// through user space when it spans parts (a kernel copy from the first part would come
// short); either way the right bytes arrive.
func TestCopyBlobFromSplitTarball(t *testing.T) {
	if !kernelCopyWorks(t) {
		t.Skip("no copy_file_range between files of the temp folder")
	}
	ctx := context.Background()
	l, ds, idx := kernelLayout(t, 2<<20+100)
	d := ds[0]
	want, _ := os.ReadFile(blobFile(l, d))
	for _, c := range []struct {
		name   string
		split  int64
		kernel bool
	}{{"one part", 8 << 20, true}, {"across parts", 1 << 20, false}} {
		tarPath := filepath.Join(t.TempDir(), "in.tar")
		if err := WriteTarball(ctx, tarPath, l, idx, ds, TarOptions{Verify: true, SplitSize: c.split}); err != nil {
			t.Fatal(err)
		}
		src, err := Open(tarPath)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := Create(filepath.Join(t.TempDir(), "dst"))
		if err != nil {
			t.Fatal(err)
		}
		before := kernelCopies.Load()
		if _, err := dst.CopyBlob(ctx, src, d, TransferOptions{Verify: true}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := kernelCopies.Load() != before; got != c.kernel {
			t.Errorf("%s: copied by the kernel %v, want %v", c.name, got, c.kernel)
		}
		if got, _ := os.ReadFile(blobFile(dst, d)); !bytes.Equal(got, want) {
			t.Errorf("%s: the blob differs", c.name)
		}
		src.Close()
		dst.Close()
	}
}

// TestKernelRefusedTarballExtent: when the kernel refuses to copy (EXDEV: the source
// tarball on another file system), blobs held in a plain tarball are copied through user
// space, each exactly its extent (the archive goes on after it), and the output is the
// source's bytes.
func TestKernelRefusedTarballExtent(t *testing.T) {
	ctx := context.Background()
	l, ds, idx := kernelLayout(t, 3<<20, kernelCopyMin+17, 2<<20)
	srcTar := filepath.Join(t.TempDir(), "src.tar")
	if err := WriteTarball(ctx, srcTar, l, idx, ds, TarOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	src, err := Open(srcTar)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	defer func() { kernelCopyRange = copyFileRange }()
	want, err := os.ReadFile(srcTar)
	if err != nil {
		t.Fatal(err)
	}
	// EXDEV, and a file system that copies nothing and returns 0 (as some FUSE ones do).
	for _, refusal := range []error{errNoKernelCopy, nil} {
		refused := 0
		kernelCopyRange = func(*os.File, int64, *os.File, int64, int64) (int64, error) {
			refused++
			return 0, refusal
		}
		out := filepath.Join(t.TempDir(), "out.tar")
		if err := WriteTarball(ctx, out, src, idx, ds, TarOptions{Verify: true}); err != nil {
			t.Fatalf("plain tarball to plain tarball, the kernel refusing with %v: %v", refusal, err)
		}
		if refused == 0 {
			t.Fatal("no kernel copy was tried: the test does not reach the fallback")
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
			t.Fatalf("the kernel refusing with %v: the output is not the source tarball's bytes", refusal)
		}
	}
}

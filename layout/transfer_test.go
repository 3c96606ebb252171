package layout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

const octet = "application/octet-stream"

// randomBytes returns n bytes that are the same on every run.
func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = seed
	rand.NewChaCha8(s).Read(b)
	return b
}

// transferPath is the file of d in the layout folder dir.
func transferPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// transferSource makes a source layout holding data and returns it with the blob's descriptor.
func transferSource(t testing.TB, data []byte) (*testlayout.Builder, *layout.Layout, ocispec.Descriptor) {
	t.Helper()
	b := testlayout.New(t)
	d := b.Blob(octet, data)
	src, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return b, src, d
}

// transferDest makes an empty destination layout in a new folder under parent ("" for a
// temp folder).
func transferDest(t testing.TB, parent string) *layout.Layout {
	t.Helper()
	if parent == "" {
		parent = t.TempDir()
	}
	l, err := layout.Create(filepath.Join(parent, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// leftovers lists temp files in every blobs/<alg>/ folder of the layout at dir.
func leftovers(t testing.TB, dir string) []string {
	t.Helper()
	var found []string
	algs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	for _, a := range algs {
		ents, err := os.ReadDir(filepath.Join(dir, "blobs", a.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".ocil-tmp-") {
				found = append(found, filepath.Join(a.Name(), e.Name()))
			}
		}
	}
	return found
}

// assertUntouched checks that the destination has neither the blob nor a temp file.
func assertUntouched(t *testing.T, dst *layout.Layout, d ocispec.Descriptor) {
	t.Helper()
	if _, err := os.Lstat(transferPath(dst.Dir(), d.Digest)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the blob exists in the destination (%v)", err)
	}
	if tmp := leftovers(t, dst.Dir()); len(tmp) > 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

// readVerified reads the blob d of l through the verified read path.
func readVerified(ctx context.Context, l *layout.Layout, d ocispec.Descriptor) ([]byte, error) {
	rc, err := l.OpenBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

var reflinkProbe struct {
	once   sync.Once
	ok     bool
	reason string
}

// reflinkSupported tells whether the temp folder's file system takes FICLONE, by trying.
func reflinkSupported(t *testing.T) (bool, string) {
	t.Helper()
	reflinkProbe.once.Do(func() {
		_, src, d := transferSource(t, []byte("probe"))
		dst := transferDest(t, "")
		_, err := dst.CopyBlob(context.Background(), src, d, layout.TransferOptions{Mode: layout.LinkReflink})
		switch {
		case err == nil:
			reflinkProbe.ok = true
		case errors.Is(err, errors.ErrUnsupported):
			reflinkProbe.reason = err.Error()
		default:
			t.Fatalf("probing reflinks: %v", err)
		}
	})
	return reflinkProbe.ok, reflinkProbe.reason
}

// wantMethod is the method a mode should take between two folders of the temp file system.
func wantMethod(t *testing.T, mode layout.LinkMode, verify bool) layout.TransferMethod {
	switch mode {
	case layout.LinkReflink:
		return layout.TransferReflink
	case layout.LinkHardlink:
		return layout.TransferHardlink
	case layout.LinkCopy:
		if verify {
			return layout.TransferStream
		}
		return layout.TransferKernelCopy
	}
	if ok, _ := reflinkSupported(t); ok {
		return layout.TransferReflink
	}
	return layout.TransferHardlink
}

// testedModes are the modes every test runs: reflink only where the file system has it.
func testedModes(t *testing.T) []layout.LinkMode {
	modes := []layout.LinkMode{layout.LinkAuto, layout.LinkHardlink, layout.LinkCopy}
	if ok, _ := reflinkSupported(t); ok {
		modes = append(modes, layout.LinkReflink)
	}
	return modes
}

func TestParseLinkMode(t *testing.T) {
	for _, s := range []string{"auto", "reflink", "hardlink", "copy"} {
		m, err := layout.ParseLinkMode(s)
		if err != nil || string(m) != s {
			t.Errorf("ParseLinkMode(%q) = %q, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "Auto", "symlink", "copy "} {
		if m, err := layout.ParseLinkMode(s); !errors.Is(err, layout.ErrInvalidOption) {
			t.Errorf("ParseLinkMode(%q) = %q, %v; want ErrInvalidOption", s, m, err)
		}
	}
}

func TestCopyBlobModes(t *testing.T) {
	ctx := context.Background()
	sizes := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"small", 11},
		{"large", 16<<20 + 3}, // over one kernel-copy chunk and many hash buffers
	}
	for _, sz := range sizes {
		name, size := sz.name, sz.size
		data := randomBytes(size, 1)
		b, src, d := transferSource(t, data)
		srcFile := transferPath(b.Dir, d.Digest)
		for _, mode := range testedModes(t) {
			for _, verify := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/verify=%v", name, mode, verify), func(t *testing.T) {
					dst := transferDest(t, "")
					res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: verify})
					if err != nil {
						t.Fatal(err)
					}
					want := wantMethod(t, mode, verify)
					if res.Method != want || res.Bytes != d.Size {
						t.Fatalf("result %+v, want method %s and %d bytes", res, want, d.Size)
					}
					dstFile := transferPath(dst.Dir(), d.Digest)
					got, err := os.ReadFile(dstFile)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("destination blob: %d bytes, equal=%v, %v", len(got), bytes.Equal(got, data), err)
					}
					if got, err := readVerified(ctx, dst, d); err != nil || !bytes.Equal(got, data) {
						t.Fatalf("verified read of the destination blob: %v", err)
					}
					sfi, err := os.Stat(srcFile)
					if err != nil {
						t.Fatal(err)
					}
					dfi, err := os.Lstat(dstFile)
					if err != nil {
						t.Fatal(err)
					}
					if !dfi.Mode().IsRegular() {
						t.Fatalf("destination blob is %s, not a regular file", dfi.Mode())
					}
					if same := os.SameFile(sfi, dfi); same != (want == layout.TransferHardlink) {
						t.Errorf("same inode as the source: %v, method %s", same, want)
					}
					if want == layout.TransferHardlink {
						// The link keeps the source's mode; the source is not made read-only.
						if sfi.Mode().Perm() != 0o644 || dfi.Mode().Perm() != 0o644 {
							t.Errorf("hard link changed the mode: source %v, destination %v", sfi.Mode(), dfi.Mode())
						}
					} else if dfi.Mode().Perm() != 0o444 {
						t.Errorf("destination mode %v, want 0444", dfi.Mode().Perm())
					}
					if tmp := leftovers(t, dst.Dir()); len(tmp) > 0 {
						t.Errorf("temp files left: %v", tmp)
					}
				})
			}
		}
	}
}

func TestCopyBlobSHA512(t *testing.T) {
	ctx := context.Background()
	data := []byte("a blob named by sha512")
	b := testlayout.New(t)
	d := ocispec.Descriptor{MediaType: octet, Digest: digest.SHA512.FromBytes(data), Size: int64(len(data))}
	b.WriteFile("blobs/sha512/"+d.Digest.Encoded(), data)
	src, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range testedModes(t) {
		for _, verify := range []bool{true, false} {
			dst := transferDest(t, "") // has no blobs/sha512 yet
			res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: verify})
			if err != nil {
				t.Fatalf("%s verify=%v: %v", mode, verify, err)
			}
			if got, err := readVerified(ctx, dst, d); err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s verify=%v (%s): read back %q, %v", mode, verify, res.Method, got, err)
			}
		}
	}
}

func TestCopyBlobReflink(t *testing.T) {
	ok, reason := reflinkSupported(t)
	if !ok {
		t.Skipf("the temp folder's file system has no reflinks: %s", reason)
	}
	ctx := context.Background()
	data := randomBytes(3<<20, 2)
	b, src, d := transferSource(t, data)
	dst := transferDest(t, "")
	res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: layout.LinkReflink, Verify: true})
	if err != nil || res.Method != layout.TransferReflink {
		t.Fatalf("CopyBlob = %+v, %v", res, err)
	}
	sfi, _ := os.Stat(transferPath(b.Dir, d.Digest))
	dfi, _ := os.Stat(transferPath(dst.Dir(), d.Digest))
	if os.SameFile(sfi, dfi) || dfi.Mode().Perm() != 0o444 {
		t.Errorf("reflinked blob: same inode %v, mode %v", os.SameFile(sfi, dfi), dfi.Mode())
	}
	if got, err := os.ReadFile(transferPath(dst.Dir(), d.Digest)); err != nil || !bytes.Equal(got, data) {
		t.Errorf("reflinked blob differs (%v)", err)
	}
}

func TestCopyBlobReflinkUnsupported(t *testing.T) {
	if ok, _ := reflinkSupported(t); ok {
		t.Skip("the temp folder's file system has reflinks")
	}
	_, src, d := transferSource(t, []byte("no clones here"))
	dst := transferDest(t, "")
	for _, verify := range []bool{true, false} {
		_, err := dst.CopyBlob(context.Background(), src, d, layout.TransferOptions{Mode: layout.LinkReflink, Verify: verify})
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("verify=%v: %v, want errors.ErrUnsupported", verify, err)
		}
		for _, part := range []string{d.Digest.String(), "reflinks are not supported on this file system"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("error %q does not say %q", err, part)
			}
		}
		assertUntouched(t, dst, d)
	}
}

func TestCopyBlobExisting(t *testing.T) {
	ctx := context.Background()
	b, src, d := transferSource(t, []byte("copied once"))
	dst := transferDest(t, "")
	if _, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: layout.LinkCopy}); err != nil {
		t.Fatal(err)
	}
	dstFile := transferPath(dst.Dir(), d.Digest)
	before, err := os.Stat(dstFile)
	if err != nil {
		t.Fatal(err)
	}
	// A corrupt source shows that an existing blob is not hashed again, whatever Verify says.
	srcFile := transferPath(b.Dir, d.Digest)
	if err := os.WriteFile(srcFile, []byte("COPIED ONCE"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range append(testedModes(t), layout.LinkReflink) {
		for _, verify := range []bool{true, false} {
			res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: verify})
			if err != nil || res != (layout.TransferResult{Method: layout.TransferExisting}) {
				t.Errorf("%s verify=%v: %+v, %v; want existing", mode, verify, res, err)
			}
		}
	}
	after, err := os.Stat(dstFile)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !before.ModTime().Equal(after.ModTime()) || before.Mode() != after.Mode() {
		t.Errorf("the existing blob was touched: %v %v -> %v %v", before.ModTime(), before.Mode(), after.ModTime(), after.Mode())
	}
	if tmp := leftovers(t, dst.Dir()); len(tmp) > 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

// corruptSource rewrites the source blob with other bytes of the same length.
func corruptSource(t *testing.T, dir string, d ocispec.Descriptor, data []byte) []byte {
	t.Helper()
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0xff
	p := transferPath(dir, d.Digest)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	return bad
}

func TestCopyBlobCorruptSource(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(2<<20+5, 3)
	b, src, d := transferSource(t, data)
	bad := corruptSource(t, b.Dir, d, data)

	for _, mode := range testedModes(t) {
		t.Run(string(mode)+"/verify", func(t *testing.T) {
			dst := transferDest(t, "")
			res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: true})
			if !errors.Is(err, layout.ErrDigestMismatch) {
				t.Fatalf("CopyBlob = %+v, %v; want ErrDigestMismatch", res, err)
			}
			if !strings.HasPrefix(err.Error(), "copy blob "+d.Digest.String()+" from "+b.Dir+" to "+dst.Dir()+": ") {
				t.Errorf("error %q does not start with the copy it concerns", err)
			}
			assertUntouched(t, dst, d)
		})
	}

	// Without Verify the source layout is trusted: a link or kernel copy carries the corrupt
	// bytes over unread. The verified read path still catches them.
	for _, mode := range []layout.LinkMode{layout.LinkHardlink, layout.LinkCopy} {
		t.Run(string(mode)+"/noverify", func(t *testing.T) {
			dst := transferDest(t, "")
			res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode})
			if err != nil {
				t.Fatalf("CopyBlob without Verify: %v", err)
			}
			if want := wantMethod(t, mode, false); res.Method != want {
				t.Errorf("method %s, want %s", res.Method, want)
			}
			if got, _ := os.ReadFile(transferPath(dst.Dir(), d.Digest)); !bytes.Equal(got, bad) {
				t.Error("the destination does not hold the source's bytes")
			}
			if _, err := readVerified(ctx, dst, d); !errors.Is(err, layout.ErrDigestMismatch) {
				t.Errorf("reading the copied corrupt blob: %v, want ErrDigestMismatch", err)
			}
		})
	}
}

func TestCopyBlobSourceSizeMismatch(t *testing.T) {
	ctx := context.Background()
	_, src, d := transferSource(t, []byte("twelve bytes"))
	for _, size := range []int64{d.Size - 1, d.Size + 1, -1} {
		wrong := ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: size}
		for _, mode := range append(testedModes(t), layout.LinkReflink) {
			for _, verify := range []bool{true, false} {
				dst := transferDest(t, "")
				_, err := dst.CopyBlob(ctx, src, wrong, layout.TransferOptions{Mode: mode, Verify: verify})
				if !errors.Is(err, layout.ErrSizeMismatch) {
					t.Errorf("size %d, %s verify=%v: %v, want ErrSizeMismatch", size, mode, verify, err)
				}
				assertUntouched(t, dst, d)
			}
		}
	}
}

func TestCopyBlobMissingSource(t *testing.T) {
	ctx := context.Background()
	b, src, _ := transferSource(t, []byte("present"))
	d := ocispec.Descriptor{Digest: digest.FromString("absent"), Size: 6}
	for _, mode := range append(testedModes(t), layout.LinkReflink) {
		dst := transferDest(t, "")
		_, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: true})
		if !errors.Is(err, layout.ErrNotFound) {
			t.Fatalf("%s: %v, want ErrNotFound", mode, err)
		}
		if !strings.Contains(err.Error(), d.Digest.String()) || !strings.Contains(err.Error(), b.Dir) {
			t.Errorf("%s: error %q does not name the digest and the source", mode, err)
		}
		assertUntouched(t, dst, d)
	}
}

func TestCopyBlobInvalidArguments(t *testing.T) {
	ctx := context.Background()
	_, src, d := transferSource(t, []byte("argument"))
	dst := transferDest(t, "")
	tests := []struct {
		name string
		dst  *layout.Layout
		d    ocispec.Descriptor
		opts layout.TransferOptions
		want error
	}{
		{"read-only destination", &layout.Layout{}, d, layout.TransferOptions{}, layout.ErrReadOnly},
		{"unknown mode", dst, d, layout.TransferOptions{Mode: "symlink"}, layout.ErrInvalidOption},
		{"unverifiable algorithm", dst, ocispec.Descriptor{Digest: "sha384:" + digest.Digest(strings.Repeat("a", 96)), Size: 1}, layout.TransferOptions{}, layout.ErrUnsupportedAlgorithm},
		{"invalid digest", dst, ocispec.Descriptor{Digest: "sha256:../../etc/passwd", Size: 1}, layout.TransferOptions{}, layout.ErrInvalidDigest},
	}
	for _, tt := range tests {
		_, err := tt.dst.CopyBlob(ctx, src, tt.d, tt.opts)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		} else if !strings.HasPrefix(err.Error(), "copy blob ") {
			t.Errorf("%s: error %q", tt.name, err)
		}
	}
	assertUntouched(t, dst, d)
}

// countdownContext is cancelled after its Err has been asked n times, so a test can stop a
// copy at each point where it looks.
type countdownContext struct {
	context.Context
	n atomic.Int64
}

func (c *countdownContext) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestCopyBlobCanceled(t *testing.T) {
	data := randomBytes(3<<20, 4)
	_, src, d := transferSource(t, data)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, mode := range testedModes(t) {
		for _, verify := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/verify=%v", mode, verify), func(t *testing.T) {
				dst := transferDest(t, "")
				if _, err := dst.CopyBlob(canceled, src, d, layout.TransferOptions{Mode: mode, Verify: verify}); !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled context: %v", err)
				}
				assertUntouched(t, dst, d)

				// Cancel at the first, second, ... look at the context until the copy
				// finishes first; each cancelled copy leaves nothing behind.
				cancelledLate := false
				for n := int64(1); ; n = n*3/2 + 1 {
					ctx := &countdownContext{Context: context.Background()}
					ctx.n.Store(n)
					dst := transferDest(t, "")
					res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: verify})
					if err == nil {
						if res.Method != wantMethod(t, mode, verify) {
							t.Errorf("method %s", res.Method)
						}
						break
					}
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("cancelled after %d looks: %v", n, err)
					}
					cancelledLate = true
					assertUntouched(t, dst, d)
				}
				if (verify || mode == layout.LinkCopy) && !cancelledLate {
					t.Error("no copy was stopped after it started")
				}
			})
		}
	}
}

// otherFileSystem returns a folder on a file system other than the temp folder's, or skips.
func otherFileSystem(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		t.Skip("no /dev/shm to test copies across file systems")
	}
	dir, err := os.MkdirTemp("/dev/shm", "ocil-test-")
	if err != nil {
		t.Skipf("cannot use /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = os.Link(probe, filepath.Join(t.TempDir(), "probe"))
	if err == nil {
		t.Skip("/dev/shm is on the temp folder's file system")
	}
	if !errors.Is(err, syscall.EXDEV) {
		t.Skipf("hard link from /dev/shm fails other than across devices: %v", err)
	}
	return dir
}

func TestCopyBlobAcrossFileSystems(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(1<<20+7, 5)
	b, src, d := transferSource(t, data)
	other := otherFileSystem(t)

	dst := transferDest(t, other)
	_, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: layout.LinkHardlink})
	if !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, syscall.EXDEV) {
		t.Fatalf("hard link across file systems: %v, want errors.ErrUnsupported and EXDEV", err)
	}
	if !strings.Contains(err.Error(), "hard link not possible") {
		t.Errorf("error %q", err)
	}
	assertUntouched(t, dst, d)
	if _, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: layout.LinkReflink}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("reflink across file systems: %v, want errors.ErrUnsupported", err)
	}
	assertUntouched(t, dst, d)

	for _, verify := range []bool{true, false} {
		dst := transferDest(t, filepath.Join(other, fmt.Sprint(verify)))
		res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Verify: verify})
		if err != nil {
			t.Fatal(err)
		}
		want := layout.TransferKernelCopy
		if verify {
			want = layout.TransferStream // hashes while copying: one read of the source
		}
		if res.Method != want {
			t.Errorf("auto verify=%v across file systems: %s, want %s", verify, res.Method, want)
		}
		sfi, _ := os.Stat(transferPath(b.Dir, d.Digest))
		dfi, err := os.Stat(transferPath(dst.Dir(), d.Digest))
		if err != nil || os.SameFile(sfi, dfi) || dfi.Mode().Perm() != 0o444 {
			t.Errorf("copied blob: %v, mode %v", err, dfi.Mode())
		}
		if got, _ := os.ReadFile(transferPath(dst.Dir(), d.Digest)); !bytes.Equal(got, data) {
			t.Error("copied blob differs")
		}
		if tmp := leftovers(t, dst.Dir()); len(tmp) > 0 {
			t.Errorf("temp files left: %v", tmp)
		}
	}
}

func TestCopyBlobSymlinkedSource(t *testing.T) {
	// Some tools deduplicate blobs with symbolic links inside the layout. A hard link must
	// not copy the symbolic link itself, whose relative target would not resolve in the
	// destination.
	ctx := context.Background()
	data := []byte("stored elsewhere")
	b := testlayout.New(t)
	d := ocispec.Descriptor{MediaType: octet, Digest: digest.FromBytes(data), Size: int64(len(data))}
	store := filepath.Join(b.Dir, "store")
	if err := os.WriteFile(store, data, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../store", transferPath(b.Dir, d.Digest)); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	src, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}

	dst := transferDest(t, "")
	if _, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: layout.LinkHardlink}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("hard link of a symbolic link: %v, want errors.ErrUnsupported", err)
	}
	assertUntouched(t, dst, d)

	for _, verify := range []bool{true, false} {
		dst := transferDest(t, "")
		res, err := dst.CopyBlob(ctx, src, d, layout.TransferOptions{Verify: verify})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(transferPath(dst.Dir(), d.Digest))
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("verify=%v (%s): destination blob %v, %v", verify, res.Method, fi.Mode(), err)
		}
		if res.Method == layout.TransferHardlink {
			t.Errorf("verify=%v: linked the symbolic link", verify)
		}
		if got, err := readVerified(ctx, dst, d); err != nil || !bytes.Equal(got, data) {
			t.Errorf("verify=%v: read back %q, %v", verify, got, err)
		}
	}
}

func TestCopyBlobConcurrent(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(256<<10, 6)
	_, src, d := transferSource(t, data)
	for _, mode := range testedModes(t) {
		for _, verify := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/verify=%v", mode, verify), func(t *testing.T) {
				dst := transferDest(t, "")
				var wg sync.WaitGroup
				errs := make([]error, 8)
				for i := range errs {
					wg.Go(func() {
						// Each copy has its own Layout, as separate processes would.
						l, err := layout.Open(dst.Dir())
						if err == nil {
							_, err = l.CopyBlob(ctx, src, d, layout.TransferOptions{Mode: mode, Verify: verify})
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Error(err)
					}
				}
				if got, err := readVerified(ctx, dst, d); err != nil || !bytes.Equal(got, data) {
					t.Errorf("verified read of the destination blob: %v", err)
				}
				if tmp := leftovers(t, dst.Dir()); len(tmp) > 0 {
					t.Errorf("temp files left: %v", tmp)
				}
			})
		}
	}
}

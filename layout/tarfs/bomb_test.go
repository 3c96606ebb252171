package tarfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
)

// watchTemp makes Open's temp file visible to the test: it returns a function that
// reports how many bytes were written to the last temp file Open created, even after
// Open removed and closed it. Tests that use it do not run in parallel.
func watchTemp(t *testing.T) func() int64 {
	t.Helper()
	var last *os.File
	createTemp = func(dir, pattern string) (*os.File, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err == nil {
			if last != nil {
				last.Close()
			}
			last, err = os.Open(f.Name()) // a second handle on the same file
			if err != nil {
				f.Close()
				return nil, err
			}
		}
		return f, err
	}
	t.Cleanup(func() {
		createTemp = os.CreateTemp
		if last != nil {
			last.Close()
		}
	})
	return func() int64 {
		t.Helper()
		if last == nil {
			t.Fatal("Open made no temp file")
		}
		fi, err := last.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
}

// zerosName is the blob name of size zero bytes, hashed once per size.
var zerosName = sync.OnceValue(func() map[int]string {
	out := map[int]string{}
	mib := make([]byte, 1<<20)
	for _, size := range []int{80 << 20, 1 << 30} {
		h := sha256.New()
		for range size >> 20 {
			h.Write(mib)
		}
		out[size] = "blobs/sha256/" + hex.EncodeToString(h.Sum(nil))
	}
	return out
})

// zstdOfZeros builds a .tar.zst of a small layout plus one blob of size zeros, written by
// hand as RLE blocks of 128 KiB (four bytes each) after a raw block for the headers.
func zstdOfZeros(t *testing.T, name string, size int) []byte {
	t.Helper()
	head := buildTar(t, layoutEnts()...)
	head = head[:len(head)-1024]
	var hb bytes.Buffer
	tw := tar.NewWriter(&hb)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(size)}); err != nil {
		t.Fatal(err)
	}
	head = append(head, hb.Bytes()...)
	block := func(out []byte, typ, size int, last bool) []byte {
		h := size<<3 | typ<<1
		if last {
			h |= 1
		}
		return append(out, byte(h), byte(h>>8), byte(h>>16))
	}
	const blk = 128 << 10
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3} // no content size, a 128 KiB window
	out = append(block(out, 0, len(head), false), head...)
	for range size / blk {
		out = append(block(out, 1, blk, false), 0)
	}
	return append(block(out, 1, 1024, true), 0) // the end of the archive: two zero blocks
}

// TestBombRefusedByRatio: a valid layout whose one blob is 1 GiB of zeros, in a ~1 MB
// .tar.gz and in a ~32 KB .tar.zst, is refused under the default bounds as a
// decompression bomb, after at most DefaultMaxRatio times the archive's size (or
// RatioFloor, for the small one) went into the temp file, never the gigabyte.
func TestBombRefusedByRatio(t *testing.T) {
	name := zerosName()[1<<30]
	for _, tc := range []struct {
		file  string
		make  func(*testing.T, string, int) []byte
		bound func(size int64) int64
	}{
		{"zeros.tar.gz", gzipOfZeros, func(size int64) int64 { return 100 * size }},
		{"zeros.tar.zst", zstdOfZeros, func(int64) int64 { return 64 << 20 }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := tc.make(t, name, 1<<30)
			p := writeFile(t, tc.file, b)
			t.Logf("%s: %d bytes holding 1 GiB of zeros", tc.file, len(b))
			if len(b) > 2<<20 {
				t.Fatalf("the archive is %d bytes, not a bomb", len(b))
			}
			written := watchTemp(t)
			tmp := t.TempDir()
			fsys, err := Open(p, Options{TempDir: tmp})
			if err == nil {
				fsys.Close()
				t.Fatal("Open accepted the bomb")
			}
			if !errors.Is(err, ErrHostile) {
				t.Fatalf("Open = %v, want ErrHostile", err)
			}
			for _, want := range []string{"open tarball " + p + ": ", `entry "` + name + `"`, "decompression bomb", "OCIL_TAR_MAX_RATIO", "100 times"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			n := written()
			t.Logf("%d MiB written to the temp file before the refusal", n>>20)
			if limit := tc.bound(int64(len(b))); n > limit || n > 256<<20 {
				t.Errorf("%d bytes went to the temp file, over %d", n, limit)
			}
			emptyDir(t, tmp)

			// The same archive as a stream (standard input), whose size is not known up
			// front: the ratio applies to the compressed bytes read so far, which run
			// ahead of what the decompressor used by at most its read buffers.
			written = watchTemp(t)
			fsys, err = OpenReader("-", struct{ io.Reader }{bytes.NewReader(b)}, Options{TempDir: tmp})
			if err == nil {
				fsys.Close()
				t.Fatal("OpenReader accepted the bomb")
			}
			if !errors.Is(err, ErrHostile) || !strings.Contains(err.Error(), "decompression bomb") {
				t.Fatalf("OpenReader = %v, want ErrHostile naming a decompression bomb", err)
			}
			n = written()
			t.Logf("stream: %d MiB written to the temp file before the refusal", n>>20)
			if limit := max(100*(int64(len(b))+256<<10), 64<<20); n > limit+1 {
				t.Errorf("stream: %d bytes went to the temp file, over %d", n, limit)
			}
			emptyDir(t, tmp)
		})
	}
}

// TestBombBoundsFromEnv: OCIL_TAR_MAX_RATIO raises the ratio bound for an archive that
// needs it (80 MiB of zeros in about 80 KiB is over the 64 MiB floor), OCIL_TAR_MAX_BYTES
// caps the total whatever the ratio, and a value that is not a positive whole number is
// an error naming the variable.
func TestBombBoundsFromEnv(t *testing.T) {
	name := zerosName()[80<<20]
	p := writeFile(t, "zeros.tar.gz", gzipOfZeros(t, name, 80<<20))
	open := func() (*FS, error) { return Open(p, Options{TempDir: t.TempDir()}) }

	if _, err := open(); !errors.Is(err, ErrHostile) || !strings.Contains(err.Error(), "more than 67108864 bytes") {
		t.Fatalf("default bounds: Open = %v, want a refusal at the 64 MiB floor", err)
	}

	t.Setenv(EnvMaxRatio, "5000")
	fsys, err := open()
	if err != nil {
		t.Fatalf("%s=5000: Open = %v", EnvMaxRatio, err)
	}
	if size, ok := fsys.Size(name); !ok || size != 80<<20 {
		t.Errorf("Size = %d, %v", size, ok)
	}
	fsys.Close()
	// An explicit option wins over the environment.
	if _, err := Open(p, Options{TempDir: t.TempDir(), MaxRatio: 10}); !errors.Is(err, ErrHostile) {
		t.Errorf("MaxRatio 10 under %s=5000: Open = %v, want ErrHostile", EnvMaxRatio, err)
	}

	t.Setenv(EnvMaxUncompressed, "1MiB")
	_, err = open()
	if !errors.Is(err, ErrHostile) || !strings.Contains(err.Error(), "more than 1048576 bytes") || !strings.Contains(err.Error(), EnvMaxUncompressed) {
		t.Errorf("%s=1MiB: Open = %v, want a refusal naming the variable", EnvMaxUncompressed, err)
	}

	for _, tc := range []struct{ env, value string }{
		{EnvMaxRatio, "abc"}, {EnvMaxRatio, "0"}, {EnvMaxRatio, "-5"}, {EnvMaxRatio, "1.5"}, {EnvMaxRatio, "+7"},
		{EnvMaxUncompressed, "1 GiB"}, {EnvMaxUncompressed, "GiB"}, {EnvMaxUncompressed, "9999999TiB"}, {EnvMaxUncompressed, "1GB"},
	} {
		t.Setenv(EnvMaxRatio, "100")
		t.Setenv(EnvMaxUncompressed, "1TiB")
		t.Setenv(tc.env, tc.value)
		_, err := open()
		if !errors.Is(err, ErrInvalidLimit) || !strings.Contains(err.Error(), tc.env+"="+`"`+tc.value+`"`) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s=%q: Open = %v, want ErrInvalidLimit naming the variable, the value and the archive", tc.env, tc.value, err)
		}
		if _, err := LimitsFromEnv(); !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("%s=%q: LimitsFromEnv = %v", tc.env, tc.value, err)
		}
	}
	t.Setenv(EnvMaxRatio, "")
	t.Setenv(EnvMaxUncompressed, "")
	if o, err := LimitsFromEnv(); err != nil || o.MaxRatio != 100 || o.MaxUncompressed != 256<<30 {
		t.Errorf("empty variables: LimitsFromEnv = %+v, %v, want the defaults", o, err)
	}
	t.Setenv(EnvMaxRatio, "1000")
	t.Setenv(EnvMaxUncompressed, "2GiB")
	if o, err := LimitsFromEnv(); err != nil || o.MaxRatio != 1000 || o.MaxUncompressed != 2<<30 {
		t.Errorf("LimitsFromEnv = %+v, %v", o, err)
	}
}

// TestExtrasNotSpooled: entries a compressed archive holds besides the layout (an
// ingest/ folder, docker save's files) are read past, not copied to the temp file, which
// holds the layout's files only.
func TestExtrasNotSpooled(t *testing.T) {
	junk := bytes.Repeat([]byte("not part of the layout "), 400_000) // ~9 MB
	p := writeFile(t, "x.tar.gz", gzipBytes(t, buildTar(t, withLayout(
		reg("manifest.json", string(junk)), dirEnt("ingest/"), ent{name: "ingest/partial", body: junk})...)))
	written := watchTemp(t)
	fsys, err := Open(p, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	want := int64(len(ociLayout) + len(emptyIdx) + len("hello"))
	if n := written(); n != want {
		t.Errorf("%d bytes went to the temp file, want the layout's %d", n, want)
	}
	for name, body := range map[string]string{"oci-layout": ociLayout, "index.json": emptyIdx, "blobs/sha256/" + helloHex: "hello"} {
		if got, err := fs.ReadFile(fsys, name); err != nil || string(got) != body {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
	if _, err := fsys.Stat("manifest.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(manifest.json) = %v", err)
	}
}

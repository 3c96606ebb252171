package tarfs

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

const fixtures = "../../testdata/fixtures"

// extractIndependently reads every regular entry of a fixture with the standard library
// alone (compress/gzip, archive/tar), as `tar -xf` would lay them out.
func extractIndependently(t *testing.T, p string) map[string][]byte {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = bytes.NewReader(raw)
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		if r, err = stdgzip.NewReader(r); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[path.Clean(h.Name)] = b
	}
}

// TestFixtures opens the tarballs real tools wrote: skopeo (blobs first, real mtimes),
// regctl (zero mtimes, folder entries), GNU tar with gzip (./ names, an ingest/ folder)
// and the same uncompressed. Every layout file reads back byte for byte what an
// independent extraction gives, every blob hashes to its name, the FS passes
// testing/fstest, and nothing is left in the temp folder.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file        string
		compression string
		blobs       int
	}{
		{"skopeo-archive.tar", "none", 2},
		{"regctl-export.tar", "none", 6},
		{"oras-amd64-el9.tar.gz", "gzip", 4},
		{"oras-amd64-el9-dotslash.tar", "none", 4},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(fixtures, tc.file)
			tmp := t.TempDir()
			fsys, err := Open(p, Options{TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if got := fsys.Compression(); got != tc.compression {
				t.Errorf("Compression() = %q, want %q", got, tc.compression)
			}
			want := extractIndependently(t, p)
			names := fsys.Entries()
			if !slices.IsSorted(names) {
				t.Errorf("Entries() not sorted: %v", names)
			}
			var blobs []string
			for _, name := range names {
				if strings.HasPrefix(name, "blobs/") {
					blobs = append(blobs, name)
				}
			}
			if len(blobs) != tc.blobs || !slices.Contains(names, "index.json") || !slices.Contains(names, "oci-layout") {
				t.Fatalf("Entries() = %v, want oci-layout, index.json and %d blobs", names, tc.blobs)
			}
			for name := range want { // every layout file of the archive is served
				if name == "oci-layout" || name == "index.json" || strings.HasPrefix(name, "blobs/") {
					if !slices.Contains(names, name) {
						t.Errorf("%s is in the archive but not in Entries()", name)
					}
				}
			}
			for _, name := range names {
				got, err := fs.ReadFile(fsys, name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want[name]) {
					t.Errorf("%s: read %d bytes that differ from the %d extracted", name, len(got), len(want[name]))
				}
				if size, ok := fsys.Size(name); !ok || size != int64(len(got)) {
					t.Errorf("Size(%s) = %d, %v; read %d bytes", name, size, ok, len(got))
				}
				if strings.HasPrefix(name, "blobs/sha256/") && sha256Hex(got) != path.Base(name) {
					t.Errorf("%s hashes to %s", name, sha256Hex(got))
				}
			}
			if err := fstest.TestFS(fsys, names...); err != nil {
				t.Error(err)
			}
			if runtime.GOOS == "linux" {
				emptyDir(t, tmp) // the temp file has no name even while the FS is open
			}
			if err := fsys.Close(); err != nil {
				t.Fatal(err)
			}
			emptyDir(t, tmp)
		})
	}
}

// TestFileSystem checks the fs.FS contract on a layout with two algorithms and ignored
// extras: ReadDir, Stat, ReaderAt, Seeker, errors for invalid, missing and closed names.
func TestFileSystem(t *testing.T) {
	sha512Name := "blobs/sha512/" + strings.Repeat("ab", 64)
	archive := buildTar(t,
		dirEnt("./"), reg("./oci-layout", ociLayout), reg("./index.json", emptyIdx),
		reg("manifest.json", "[]"), reg("repositories", "{}"), dirEnt("ingest/"), reg("ingest/part", "x"),
		blob("one"), blob("two"), ent{name: sha512Name, body: []byte("not hashed in a plain tar")},
		ent{typ: tar.TypeXGlobalHeader, name: "pax_global_header", pax: map[string]string{"comment": "made by a test"}},
	)
	for _, tc := range []struct{ name, compression string }{
		{"layout.tar", "none"}, {"layout.tar.zst", "zstd"},
	} {
		t.Run(tc.compression, func(t *testing.T) {
			b := archive
			if tc.compression == "zstd" {
				// In a compressed archive the blob is hashed, so name it rightly.
				b = zstdBytes(t, buildTar(t, reg("oci-layout", ociLayout), reg("index.json", emptyIdx),
					reg("manifest.json", "[]"), blob("one"), blob("two"),
					ent{name: "blobs/sha512/" + sha512Hex([]byte("x")), body: []byte("x")}))
			}
			fsys, err := Open(writeFile(t, tc.name, b), Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if fsys.Compression() != tc.compression {
				t.Errorf("Compression() = %q", fsys.Compression())
			}
			names := fsys.Entries()
			if len(names) != 5 {
				t.Errorf("Entries() = %v, want oci-layout, index.json and 3 blobs", names)
			}
			if err := fstest.TestFS(fsys, names...); err != nil {
				t.Error(err)
			}
			root, err := fs.ReadDir(fsys, ".")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range root {
				got = append(got, d.Name())
			}
			if !slices.Equal(got, []string{"blobs", "index.json", "oci-layout"}) {
				t.Errorf("ReadDir(.) = %v: extras must stay out", got)
			}
			algs, err := fs.ReadDir(fsys, "blobs")
			if err != nil || len(algs) != 2 || algs[0].Name() != "sha256" || algs[1].Name() != "sha512" || !algs[0].IsDir() {
				t.Errorf("ReadDir(blobs) = %v, %v", algs, err)
			}
			for _, name := range []string{"manifest.json", "repositories", "ingest", "ingest/part", "blobs/sha1", "nope"} {
				if _, err := fsys.Open(name); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Open(%s) = %v, want ErrNotExist", name, err)
				}
			}
			for _, name := range []string{"./index.json", "/index.json", "blobs/../index.json", ""} {
				if _, err := fsys.Open(name); !errors.Is(err, fs.ErrInvalid) {
					t.Errorf("Open(%q) = %v, want ErrInvalid", name, err)
				}
			}
			if _, err := fsys.ReadDir("index.json"); err == nil {
				t.Error("ReadDir of a file succeeded")
			}
			fi, err := fsys.Stat("blobs/sha256")
			if err != nil || !fi.IsDir() || fi.Name() != "sha256" {
				t.Errorf("Stat(blobs/sha256) = %v, %v", fi, err)
			}

			// ReadAt and Seek, as the layout package and io.Copy use them.
			name := "blobs/sha256/" + sha256Hex([]byte("two"))
			f, err := fsys.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			ra, ok := f.(io.ReaderAt)
			sk, ok2 := f.(io.Seeker)
			if !ok || !ok2 {
				t.Fatalf("%T is not an io.ReaderAt and io.Seeker", f)
			}
			buf := make([]byte, 2)
			if n, err := ra.ReadAt(buf, 1); n != 2 || string(buf) != "wo" || (err != nil && err != io.EOF) {
				t.Errorf("ReadAt = %d %q %v", n, buf, err)
			}
			if pos, err := sk.Seek(-1, io.SeekEnd); pos != 2 || err != nil {
				t.Errorf("Seek = %d, %v", pos, err)
			}
			rest, _ := io.ReadAll(f)
			if string(rest) != "o" {
				t.Errorf("read after Seek = %q", rest)
			}
			f.Close()
			if _, err := f.Read(buf); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Read after Close = %v", err)
			}

			// Concurrent reads of one FS, for -race.
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, n := range names {
						if _, err := fs.ReadFile(fsys, n); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()

			if err := fsys.Close(); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Close(); err != nil {
				t.Errorf("second Close = %v", err)
			}
			if _, err := fsys.Open("index.json"); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Open after Close = %v", err)
			}
		})
	}
}

// TestTempFileRemovedOnFailure: a compressed archive that is refused late (after its
// temp file was written) leaves nothing in the temp folder, and the default temp folder
// is TMPDIR.
func TestTempFileRemovedOnFailure(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := writeFile(t, "x.tar.gz", gzipBytes(t, buildTar(t, blob("a"), blob("b"), reg("index.json", emptyIdx))))
	_, err := Open(p, Options{})
	if !errors.Is(err, ErrNotLayout) {
		t.Fatalf("Open = %v, want ErrNotLayout", err)
	}
	emptyDir(t, tmp)

	fsys, err := Open(writeFile(t, "y.tar.gz", gzipBytes(t, buildTar(t, layoutEnts()...))), Options{})
	if err != nil {
		t.Fatal(err)
	}
	fsys.Close()
	emptyDir(t, tmp)
}

// TestMissingTempDir: a temp folder that does not exist is an error of the system, not a
// verdict on the archive.
func TestMissingTempDir(t *testing.T) {
	p := writeFile(t, "x.tar.gz", gzipBytes(t, buildTar(t, layoutEnts()...)))
	_, err := Open(p, Options{TempDir: filepath.Join(t.TempDir(), "missing")})
	if err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrHostile) || errors.Is(err, ErrNotLayout) {
		t.Fatalf("Open = %v, want a plain file system error", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open = %v, want it to wrap fs.ErrNotExist", err)
	}
}

// TestManyEntries indexes 10,000 small blobs from a plain tar and reads a few back.
func TestManyEntries(t *testing.T) {
	ents := []ent{reg("oci-layout", ociLayout), reg("index.json", emptyIdx)}
	for i := range 10000 {
		ents = append(ents, blob(strings.Repeat("b", i%97)+string(rune('a'+i%26))+strings.Repeat("x", i/26)))
	}
	uniq := map[string]bool{}
	var kept []ent
	for _, e := range ents {
		if !uniq[e.name] {
			uniq[e.name] = true
			kept = append(kept, e)
		}
	}
	fsys, err := Open(writeFile(t, "many.tar", buildTar(t, kept...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if got := len(fsys.Entries()); got != len(kept) {
		t.Fatalf("%d entries, want %d", got, len(kept))
	}
	for _, e := range kept[len(kept)-50:] {
		b, err := fs.ReadFile(fsys, e.name)
		if err != nil || !bytes.Equal(b, e.body) {
			t.Fatalf("%s: %q, %v", e.name, b, err)
		}
	}
	list, err := fs.ReadDir(fsys, "blobs/sha256")
	if err != nil || len(list) != len(kept)-2 {
		t.Fatalf("ReadDir(blobs/sha256) = %d entries, %v", len(list), err)
	}
}

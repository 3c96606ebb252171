package tarfs

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMain caps how long the fuzzing engine minimizes a new input, unless
// -fuzzminimizetime is given. Minimizing is quadratic in the input's length, and a tar
// is kilobytes of checksummed headers that rarely shrink: under the default minute, a
// short -fuzztime is spent minimizing instead of fuzzing.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if f := flag.Lookup("test.fuzzminimizetime"); f != nil && !set {
		if err := f.Value.Set("1s"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// FuzzOpen feeds arbitrary bytes to Open. It must never panic; when it accepts the
// bytes, every name it lists is a layout path and reads back exactly the size it reports,
// and closing it leaves the temp folder empty.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"skopeo-archive.tar", "regctl-export.tar", "oras-amd64-el9.tar.gz", "oras-amd64-el9-dotslash.tar"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(buildTar(f, layoutEnts()...))
	f.Add(gzipBytes(f, buildTar(f, layoutEnts()...)))
	f.Add(zstdBytes(f, buildTar(f, layoutEnts()...)))
	f.Add(buildTar(f, withLayout(dirEnt("ingest/"), reg("manifest.json", "[]"), blob("more"))...))
	f.Add(buildSeekable(f, compressionGzip, nil, layoutEnts()...))
	f.Add(buildSeekable(f, compressionZstd, nil, layoutEnts()...))

	// One folder for all runs in a process: the engine calls the target thousands of
	// times a second while it minimizes inputs, and new folders would dominate the cost.
	dir := f.TempDir()
	p := filepath.Join(dir, "fuzz.tar")
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fsys, err := Open(p, Options{TempDir: tmp, MaxUncompressed: 16 << 20, MaxEntries: 4096})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "open tarball "+p+": ") {
				t.Errorf("error %q does not name the archive", err)
			}
			emptyDir(t, tmp)
			return
		}
		defer fsys.Close()
		for _, name := range fsys.Entries() {
			if !layoutPath(name) {
				t.Errorf("Entries() lists %q", name)
			}
			size, ok := fsys.Size(name)
			if !ok {
				t.Errorf("Size(%q) not found", name)
			}
			f, err := fsys.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, f)
			f.Close()
			if fsys.Seekable() && err != nil && (errors.Is(err, ErrHostile) || errors.Is(err, ErrCorrupt)) {
				continue // read in place: a damaged or lying piece fails when it is read
			}
			if err != nil || n != size {
				t.Errorf("%s: read %d bytes, %v; Size says %d", name, n, err, size)
			}
		}
		if err := fs.WalkDir(fsys, ".", func(string, fs.DirEntry, error) error { return nil }); err != nil {
			t.Error(err)
		}
		if err := fsys.Close(); err != nil {
			t.Fatal(err)
		}
		emptyDir(t, tmp)
	})
}

// blobPath is the OCI digest grammar written as a path, independently of the package.
var blobPath = regexp.MustCompile(`^blobs/[a-z0-9]+(?:[+._-][a-z0-9]+)*/[a-zA-Z0-9=_-]+$`)

// layoutPath says which names a layout's FS may list.
func layoutPath(name string) bool {
	return name == "oci-layout" || name == "index.json" || blobPath.MatchString(name)
}

// FuzzSeekIndex writes arbitrary bytes as the seek index of a seekable archive whose
// pieces are sound. Open must never panic, and whatever it serves in place is either
// exactly the bytes the archive holds under that name or a read error: an index can
// point reads at other pieces, but never have their bytes taken for another file's, nor
// reach outside the archive.
func FuzzSeekIndex(f *testing.F) {
	ents := append(layoutEnts(), blob("world"), reg("manifest.json", "[]"))
	var valid []byte
	buildSeekable(f, compressionGzip, func(ix *seekIndex) { valid, _ = json.Marshal(ix) }, ents...)
	f.Add(valid, false)
	f.Add(valid, true)
	f.Add([]byte(`{"ocilSeekIndex":1,"entries":[{"name":"index.json","size":35,"offset":0,"length":9}]}`), false)
	truth := map[string][]byte{}
	for _, e := range ents {
		truth[e.name] = e.body
	}
	dir := f.TempDir()
	p := filepath.Join(dir, "fuzz.tar")
	f.Fuzz(func(t *testing.T, index []byte, zst bool) {
		c := compressionGzip
		if zst {
			c = compressionZstd
		}
		var b bytes.Buffer
		sw, err := NewSeekableWriter(&b, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if err := sw.WriteEntry(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Size: int64(len(e.body)), Mode: 0o644}, func(w io.Writer) error {
				_, err := w.Write(e.body)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.closeWith(tar.Header{Mode: 0o644}, index); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		fsys, err := Open(p, Options{TempDir: dir, MaxUncompressed: 16 << 20, MaxEntries: 4096})
		if err != nil {
			t.Fatalf("a sound archive refused: %v", err)
		}
		defer fsys.Close()
		for _, name := range fsys.Entries() {
			got, err := readAll(t, fsys, name)
			if err != nil {
				if !fsys.Seekable() {
					t.Fatalf("%s: %v", name, err)
				}
				continue
			}
			if want, ok := truth[name]; !ok || !bytes.Equal(got, want) {
				t.Fatalf("%s read as %q, the archive holds %q", name, got, want)
			}
		}
	})
}

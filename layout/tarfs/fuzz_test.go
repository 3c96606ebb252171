package tarfs

import (
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

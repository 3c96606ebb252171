package main

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// packLayout writes dir as a layout tarball the way other tools do (GNU-tar style
// "./" names and directory entries when dotSlash), independently of ocil's writer.
func packLayout(t *testing.T, dir, out string, dotSlash bool) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	switch {
	case strings.HasSuffix(out, ".gz"):
		gz := gzip.NewWriter(f)
		defer gz.Close()
		w = gz
	case strings.HasSuffix(out, ".zst"):
		zw, err := zstd.NewWriter(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zw.Close()
		w = zw
	}
	tw := tar.NewWriter(w)
	defer tw.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(rel)
		if dotSlash {
			name = "./" + name
		}
		fi, _ := d.Info()
		h, _ := tar.FileInfoHeader(fi, "")
		h.Name = name
		if d.IsDir() {
			if !dotSlash {
				return nil
			}
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every read command gives the same answer on a folder and on its .tar, .tar.gz and
// zstd forms (a zstd tarball named .tar: the compression is told by its bytes).
func TestReadCommandsOnEveryForm(t *testing.T) {
	tmp := t.TempDir()
	ents, _ := os.ReadDir(fixtures)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := fixtures + e.Name()
		forms := map[string]string{
			"tar":     filepath.Join(tmp, e.Name()+".tar"),
			"tar.gz":  filepath.Join(tmp, e.Name()+".tar.gz"),
			"zstd":    filepath.Join(tmp, e.Name()+"-zstd.tar"),
			"dotdirs": filepath.Join(tmp, e.Name()+"-dot.tar"),
		}
		packLayout(t, dir, forms["tar"], false)
		packLayout(t, dir, forms["tar.gz"], false)
		zst := forms["zstd"] + ".zst"
		packLayout(t, dir, zst, false)
		os.Rename(zst, forms["zstd"])
		packLayout(t, dir, forms["dotdirs"], true)

		// What to ask each form: the same questions as of the folder.
		queries := [][]string{{"resolve", "REF"}, {"ls", "REF"}}
		switch e.Name() {
		case "umoci-image":
			queries = append(queries, []string{"resolve", "REF", "--platform", "linux/arm64"}, []string{"cat", "REF:latest", "--config"})
		case "docker-list":
			queries = append(queries, []string{"resolve", "REF:v1", "--platform", "linux/arm64", "--format", "json"}, []string{"cat", "REF:v1"})
		case "crane-flat":
			queries = append(queries, []string{"resolve", "REF", "--platform", "linux/arm64/v8:el8"}, []string{"cat", "REF", "--platform", "linux/amd64:el8", "--config"})
		case "regctl-index":
			queries = append(queries, []string{"cat", "REF:v1", "--platform", "linux/arm64"}, []string{"ls", "REF:v1", "--format", "json"})
		default:
			queries = append(queries, []string{"cat", "REF"}, []string{"cat", "REF", "--config"})
		}
		for _, q := range queries {
			want := runWith(t, q, dir)
			for name, p := range forms {
				got := runWith(t, q, p)
				if got != want {
					t.Errorf("%s %v on the %s form:\n got %s\nwant %s", e.Name(), q, name, got, want)
				}
			}
		}
	}
}

// runWith runs the query with REF replaced by path and returns exit code and output, with
// the path itself taken out so the forms compare.
func runWith(t *testing.T, q []string, path string) string {
	t.Helper()
	args := make([]string, len(q))
	for i, a := range q {
		args[i] = strings.Replace(a, "REF", path, 1)
	}
	code, stdout, stderr := runCLI(t, args...)
	out := strings.ReplaceAll(stdout+"|"+stderr, path, "REF")
	return strings.Join([]string{string(rune('0' + code)), out}, ":")
}

// The tarball fixtures other tools wrote read like the folders they came from.
func TestTarballFixtures(t *testing.T) {
	for _, tc := range []struct{ tarball, folderRef string }{
		{"oras-amd64-el9.tar.gz", "oras-linux-amd64-el9"},
		{"oras-amd64-el9-dotslash.tar", "oras-linux-amd64-el9"},
		{"regctl-export.tar", "regctl-index:v1"},
	} {
		want := runWith(t, []string{"resolve", "REF"}, fixtures+tc.folderRef)
		got := runWith(t, []string{"resolve", "REF"}, fixtures+tc.tarball)
		if strings.SplitN(got, "|", 2)[0] != strings.SplitN(want, "|", 2)[0] {
			t.Errorf("%s resolves to %s, %s to %s", tc.tarball, got, tc.folderRef, want)
		}
	}
	// skopeo's archive holds umoci-image:latest.
	code, stdout, stderr := runCLI(t, "resolve", fixtures+"skopeo-archive.tar:latest", "--format", "{{.mediaType}}")
	if code != 0 || stdout != "application/vnd.oci.image.manifest.v1+json\n" {
		t.Fatalf("skopeo-archive.tar:latest: %d %q %s", code, stdout, stderr)
	}
}

// Merge takes tarball inputs and gives the same nested index as from folders; folder →
// tar → folder keeps every digest; tarballs are refused as writable layouts.
func TestTarballRoundTripsAndMergeInputs(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	var tars []string
	for _, f := range orasFixtures {
		p := filepath.Join(tmp, filepath.Base(f)+".tar.gz")
		packLayout(t, f, p, true)
		tars = append(tars, p)
	}
	_, fromDirs, _ := runCLI(t, append([]string{"merge", "-q", "-o", filepath.Join(tmp, "a") + ":1"}, orasFixtures...)...)
	code, fromTars, stderr := runCLI(t, append([]string{"merge", "-q", "-o", filepath.Join(tmp, "b") + ":1"}, tars...)...)
	if code != 0 || fromTars != fromDirs {
		t.Fatalf("merge of tarballs: %d %q (folders gave %q) %s", code, fromTars, fromDirs, stderr)
	}
	// folder → .tar → folder, and folder → .tar.gz → folder: the same digest all along.
	for _, ext := range []string{".tar", ".tar.gz"} {
		tb := filepath.Join(tmp, "a"+ext)
		back := filepath.Join(tmp, "back"+strings.ReplaceAll(ext, ".", "-"))
		for _, step := range [][]string{{"copy", filepath.Join(tmp, "a") + ":1", tb}, {"copy", tb + ":1", back}} {
			code, out, stderr := runCLI(t, step...)
			if code != 0 || out != fromDirs {
				t.Fatalf("%v: %d %q %s", step, code, out, stderr)
			}
		}
		for _, name := range blobNames(t, filepath.Join(tmp, "a")) {
			a, _ := os.ReadFile(filepath.Join(tmp, "a", "blobs", "sha256", name))
			b, err := os.ReadFile(filepath.Join(back, "blobs", "sha256", name))
			if err != nil || string(a) != string(b) {
				t.Fatalf("%s: blob %s did not come back: %v", ext, name, err)
			}
		}
	}
	// A second merge into the tarball keeps the first tag.
	tb := filepath.Join(tmp, "out.tar")
	for _, tag := range []string{"one", "two"} {
		if code, _, stderr := runCLI(t, "merge", "-q", "-o", tb+":"+tag, orasFixtures[0]); code != 0 {
			t.Fatal(stderr)
		}
	}
	for _, tag := range []string{"one", "two"} {
		if code, _, stderr := runCLI(t, "resolve", tb+":"+tag); code != 0 {
			t.Fatalf("tag %s lost from the tarball: %s", tag, stderr)
		}
	}
	// Tagging, untagging and removing a platform change the tarball as they change a folder.
	code, one, stderr := runCLI(t, "tag", tb+":one", "three")
	if code != 0 {
		t.Fatalf("tagging a tarball: %d %s", code, stderr)
	}
	for _, tag := range []string{"one", "two", "three"} {
		code, got, stderr := runCLI(t, "resolve", tb+":"+tag)
		if code != 0 || (tag != "two" && got != one) {
			t.Fatalf("after tag, %s: %d %q %s (want %q)", tag, code, got, stderr, one)
		}
	}
	if code, _, stderr := runCLI(t, "untag", tb, "two"); code != 0 {
		t.Fatalf("untagging a tarball: %s", stderr)
	}
	if code, _, _ := runCLI(t, "resolve", tb+":two"); code != 1 {
		t.Fatal("untag left the tag in the tarball")
	}
	if code, got, stderr := runCLI(t, "resolve", tb+":three"); code != 0 || got != one {
		t.Fatalf("untag lost another tag: %s", stderr)
	}
}

func blobNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// A hostile or broken archive fails with exit 1 and names the archive and the entry.
func TestHostileTarballCLI(t *testing.T) {
	tmp := t.TempDir()
	p := filepath.Join(tmp, "evil.tar")
	f, _ := os.Create(p)
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "oci-layout", Mode: 0o644, Size: 30, Typeflag: tar.TypeReg})
	tw.Write([]byte(`{"imageLayoutVersion":"1.0.0"}`))
	tw.WriteHeader(&tar.Header{Name: "../evil", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	f.Close()
	code, _, stderr := runCLI(t, "ls", p)
	if code != 1 || !strings.Contains(stderr, p) || !strings.Contains(stderr, "../evil") {
		t.Fatalf("exit %d, %s", code, stderr)
	}
}

// skopeo reads the tarballs ocil writes.
func TestSkopeoReadsOcilTarballs(t *testing.T) {
	sk := skopeoPath(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "img")
	if code, _, stderr := runCLI(t, "merge", "-q", "-o", dir+":1.2", fixtures+"umoci-image:latest", fixtures+"umoci-image:arm64"); code != 0 {
		t.Fatal(stderr)
	}
	for _, ext := range []string{".tar", ".tar.gz"} {
		tb := filepath.Join(tmp, "img"+ext)
		code, digest, stderr := runCLI(t, "copy", dir+":1.2", tb)
		if code != 0 {
			t.Fatal(stderr)
		}
		raw, err := exec.Command(sk, "inspect", "--raw", "oci-archive:"+tb+":1.2").Output()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v", ext, err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(strings.TrimSpace(digest), "sha256:")))
		if string(raw) != string(want) {
			t.Fatalf("skopeo inspect --raw %s:\n%s\nwant\n%s", ext, raw, want)
		}
		out := filepath.Join(tmp, "sk"+strings.ReplaceAll(ext, ".", "-"))
		if b, err := exec.Command(sk, "copy", "-q", "--multi-arch", "all", "oci-archive:"+tb+":1.2", "oci:"+out+":1.2").CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy %s: %v\n%s", ext, err, b)
		}
		if code, got, _ := runCLI(t, "resolve", out+":1.2"); code != 0 || got != digest {
			t.Fatalf("skopeo's copy of %s resolves to %q, want %q", ext, got, digest)
		}
	}
}

// TestTarballOutputNamesTheSourceOfABadBlob: a blob that fails its hash while a tarball
// output is written is named with the layout it was read from, not the output (which
// does not exist yet), for the kernel copy into a .tar and the stream into a .tar.gz.
func TestTarballOutputNamesTheSourceOfABadBlob(t *testing.T) {
	tmp := t.TempDir()
	big := filepath.Join(tmp, "big.bin")
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(tmp, "src")
	if code, _, stderr := runCLI(t, "add", "-q", src+":v1", "--platform", "linux/amd64", big); code != 0 {
		t.Fatal(stderr)
	}
	blob := filepath.Join(src, "blobs", "sha256", strings.TrimPrefix(sha256Of(data), "sha256:"))
	bad := append([]byte{}, data...)
	bad[len(bad)/2] ^= 1
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"out.tar", "out.tar.gz"} {
		dst := filepath.Join(tmp, out)
		code, _, stderr := runCLI(t, "copy", src+":v1", dst)
		if code == 0 || !strings.Contains(stderr, "in "+src+":") || strings.Contains(stderr, "in "+dst+":") {
			t.Errorf("copy of a bad blob to %s = %d %q, want the error to name %s", out, code, stderr, src)
		}
		if _, err := os.Lstat(dst); err == nil {
			t.Errorf("the failed copy wrote %s", dst)
		}
	}
}

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ocil-dev/ocil/layout"
)

// splitSource makes a layout with one tag, 1.0, over two platforms' files of 150 KiB of
// random bytes each, and returns it.
func splitSource(t *testing.T) string { return splitSourceSeed(t, 0) }

func splitSourceSeed(t *testing.T, seed byte) string {
	t.Helper()
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	for i, p := range []string{"linux/amd64", "linux/arm64"} {
		b := make([]byte, 150<<10)
		rand.NewChaCha8([32]byte{byte(i), seed}).Read(b)
		f := filepath.Join(tmp, "file-"+strings.ReplaceAll(p, "/", "-"))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		runOcil(t, "add", "-q", src+":1.0", "--platform", p, f)
	}
	return src
}

// parts returns the names matching the shell glob PATH.0*, sorted as the shell sorts them.
func parts(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + ".0*")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

// catParts is cat PATH.0*.
func catParts(t *testing.T, path string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts(t, path) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.Bytes()
}

func sumOf(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestCopySplitSize: copy --split-size writes parts of at most SIZE bytes whose
// concatenation is, byte for byte, the tarball a whole write gives, for every
// compression; sha256sum -c checks them from their folder; and every reader reads the
// tarball from them.
func TestCopySplitSize(t *testing.T) {
	src := splitSource(t)
	pullDir := filepath.Join(t.TempDir(), "want")
	runOcil(t, "pull", "-q", src+":1.0", "--platform", "linux/arm64", "-o", pullDir)
	want := readTree(t, pullDir)
	digest := runOcil(t, "resolve", src+":1.0", "--platform", "linux/arm64")
	for _, ext := range []string{".tar", ".tar.gz", ".tar.zst"} {
		t.Run(ext, func(t *testing.T) {
			tmp := t.TempDir()
			whole := filepath.Join(tmp, "whole"+ext)
			runOcil(t, "copy", "-q", src+":1.0", whole)
			b := filepath.Join(tmp, "bundle"+ext)
			runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "64KiB")
			if _, err := os.Lstat(b); !os.IsNotExist(err) {
				t.Fatalf("%s written whole too: %v", b, err)
			}
			ps := parts(t, b)
			if len(ps) < 3 || filepath.Base(ps[0]) != "bundle"+ext+".001" {
				t.Fatalf("parts %v", ps)
			}
			for i, p := range ps {
				fi, _ := os.Stat(p)
				if fi.Size() > 64<<10 || (i < len(ps)-1 && fi.Size() != 64<<10) {
					t.Fatalf("%s: %d bytes", p, fi.Size())
				}
			}
			wholeBytes, _ := os.ReadFile(whole)
			if !bytes.Equal(catParts(t, b), wholeBytes) {
				t.Fatal("cat bundle.0* differs from the tarball written whole")
			}
			sumFile, _ := os.ReadFile(b + ".sha256")
			var wantSums strings.Builder
			for _, p := range ps {
				wantSums.WriteString(sumOf(t, p) + "  " + filepath.Base(p) + "\n")
			}
			if string(sumFile) != wantSums.String() {
				t.Fatalf("bundle.sha256:\n%s\nwant\n%s", sumFile, wantSums.String())
			}
			if sha, err := exec.LookPath("sha256sum"); err == nil {
				cmd := exec.Command(sha, "-c", filepath.Base(b)+".sha256")
				cmd.Dir = tmp
				if out, err := cmd.CombinedOutput(); err != nil || strings.Count(string(out), ": OK\n") != len(ps) {
					t.Fatalf("sha256sum -c: %v\n%s", err, out)
				}
			}

			// Every reader, from the parts.
			if got := runOcil(t, "resolve", b+":1.0", "--platform", "linux/arm64"); got != digest {
				t.Fatalf("resolve from parts: %s, want %s", got, digest)
			}
			if out := runOcil(t, "ls", b); !strings.Contains(out, "1.0") || !strings.Contains(out, "linux/arm64") {
				t.Fatalf("ls from parts:\n%s", out)
			}
			runOcil(t, "cat", b+":1.0")
			pulled := filepath.Join(tmp, "pulled")
			runOcil(t, "pull", "-q", b+":1.0", "--platform", "linux/arm64", "-o", pulled)
			if got := readTree(t, pulled); len(got) != len(want) || got["file-linux-arm64"] != want["file-linux-arm64"] {
				t.Fatalf("pull from parts: %d files", len(got))
			}
			back := filepath.Join(tmp, "back")
			runOcil(t, "copy", "-q", b+":1.0", back)
			if got := runOcil(t, "resolve", back+":1.0", "--platform", "linux/arm64"); got != digest {
				t.Fatalf("copy from parts: %s", got)
			}
			if out := runOcil(t, "validate", b); !strings.Contains(out, "0 errors, 0 warnings, 0 notes") {
				t.Fatalf("validate from parts:\n%s", out)
			}
			m := filepath.Join(tmp, "merged.tar")
			runOcil(t, "merge", "-q", "-o", m+":all", b+":1.0")
			runOcil(t, "resolve", m+":all", "--platform", "linux/arm64")

			// The parts concatenated are the tarball, for ocil and for skopeo.
			cat := filepath.Join(tmp, "cat"+ext)
			os.WriteFile(cat, catParts(t, b), 0o644)
			runOcil(t, "validate", cat)
			if ext == ".tar" {
				if _, err := exec.LookPath("skopeo"); err == nil || os.Getenv("OCIL_REQUIRE_SKOPEO") == "1" {
					sk := skopeoPath(t)
					if got, wantRaw := runTool(t, sk, "inspect", "--raw", "oci-archive:"+cat+":1.0"), runOcil(t, "cat", b+":1.0"); strings.TrimSpace(got) != strings.TrimSpace(wantRaw) {
						t.Fatalf("skopeo inspect --raw:\n%s\nwant\n%s", got, wantRaw)
					}
				}
			}
		})
	}
}

// TestSplitDamagedOrMissingPart: a part that does not hash to its listed sum, or is
// missing, is named in the error.
func TestSplitDamagedOrMissingPart(t *testing.T) {
	src := splitSource(t)
	tmp := t.TempDir()
	b := filepath.Join(tmp, "bundle.tar")
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "64KiB")

	p2 := b + ".002"
	orig, _ := os.ReadFile(p2)
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 0xff // inside a blob's data
	os.WriteFile(p2, bad, 0o644)
	code, stdout, stderr := runCLI(t, "validate", b)
	if code != 1 || !strings.Contains(stdout, "layout.parts") || !strings.Contains(stdout, "bundle.tar.002: corrupt archive: sha256 mismatch: ") {
		t.Fatalf("validate with a damaged part: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "copy", b+":1.0", filepath.Join(tmp, "out")); code != 1 || !strings.Contains(stderr, "(parts "+b+".001 to "+b+".003)") {
		t.Fatalf("copy from a damaged part: exit %d, %s", code, stderr)
	}
	os.WriteFile(p2, orig, 0o644)

	p3 := b + ".003"
	os.Rename(p3, p3+".away")
	for _, args := range [][]string{{"ls", b}, {"resolve", b + ":1.0", "--platform", "linux/arm64"}, {"validate", b}, {"copy", b + ":1.0", filepath.Join(tmp, "out2")}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 1 || !strings.Contains(stdout+stderr, "bundle.tar.003: corrupt archive: missing (listed in "+b+".sha256)") {
			t.Fatalf("%s with a missing part: exit %d\n%s%s", args[0], code, stdout, stderr)
		}
	}
	os.Rename(p3+".away", p3)
	runOcil(t, "validate", b)

	// A part named for the tarball says which tarball to name.
	if code, _, stderr := runCLI(t, "ls", b+".001"); code != 1 || !strings.Contains(stderr, "it is a part of the split tarball "+b+"; name that") {
		t.Fatalf("ls of a part: exit %d, %s", code, stderr)
	}
}

// TestSplitReplacesAsASet: a new write of a split tarball replaces its parts as a set:
// fewer parts leave no stale one behind, another width replaces the old names, a whole
// tarball's parts go when it is written whole, and its whole file goes when it is
// written split. A split tarball stays split when rewritten without --split-size.
func TestSplitReplacesAsASet(t *testing.T) {
	src := splitSource(t)
	tmp := t.TempDir()
	b := filepath.Join(tmp, "bundle.tar")
	whole := filepath.Join(tmp, "whole.tar")
	runOcil(t, "copy", "-q", src+":1.0", whole)
	wholeBytes, _ := os.ReadFile(whole)
	check := func(what string, n int, width int) {
		t.Helper()
		ps := parts(t, b)
		if len(ps) != n || len(filepath.Ext(ps[0])) != width+1 {
			t.Fatalf("%s: parts %v, want %d of %d digits", what, ps, n, width)
		}
		all, _ := filepath.Glob(b + ".*")
		if len(all) != n+3 { // the parts, bundle.tar.sha256, bundle.tar.lock and bundle.tar.2024
			t.Fatalf("%s: %v beside the %d parts", what, all, n)
		}
		if !bytes.Equal(catParts(t, b), wholeBytes) {
			t.Fatalf("%s: cat bundle.tar.0* is not the tarball", what)
		}
	}
	// A file of the user's that PATH.0* does not take in is neither read nor removed.
	if err := os.WriteFile(b+".2024", []byte("last year's notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if got, err := os.ReadFile(b + ".2024"); err != nil || string(got) != "last year's notes" {
			t.Errorf("bundle.tar.2024: %q, %v", got, err)
		}
	}()
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "3000")
	check("3000-byte parts", (len(wholeBytes)+2999)/3000, 4)
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "100K")
	check("100K parts", (len(wholeBytes)+99999)/100000, 3)
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "200000")
	check("200000-byte parts", 2, 3)

	// Unchanged content, no --split-size: nothing written; a change: still split.
	runOcil(t, "tag", b+":1.0", "2.0")
	if ps := parts(t, b); len(ps) != 2 {
		t.Fatalf("after tag: %v", ps)
	}
	runOcil(t, "resolve", b+":2.0", "--platform", "linux/amd64")

	// The whole file and its parts: the whole file is read and written, the parts go.
	os.WriteFile(b, wholeBytes, 0o644)
	runOcil(t, "tag", b+":1.0", "3.0")
	if ps, _ := filepath.Glob(b + ".0*"); len(ps) != 0 {
		t.Fatalf("parts left beside the whole tarball: %v", ps)
	}
	if _, err := os.Stat(b + ".sha256"); !os.IsNotExist(err) {
		t.Fatal("bundle.tar.sha256 left beside the whole tarball")
	}
	if code, _, _ := runCLI(t, "resolve", b+":2.0"); code != 1 {
		t.Fatal("the whole tarball written had not the parts' content")
	}
	// And back: written split, the whole file goes.
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "64KiB")
	if _, err := os.Stat(b); !os.IsNotExist(err) {
		t.Fatal("the whole tarball is still beside its parts")
	}
	runOcil(t, "resolve", b+":3.0", "--platform", "linux/amd64")
}

// TestSplitFailureLeavesNothing: a split write that fails leaves no part and no
// checksum file of a new tarball, and the parts of an existing one as they were.
func TestSplitFailureLeavesNothing(t *testing.T) {
	src := splitSource(t)
	tmp := t.TempDir()
	b := filepath.Join(tmp, "bundle.tar")
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "64KiB")
	before := map[string]string{}
	for _, p := range append(parts(t, b), b+".sha256") {
		before[p] = sumOf(t, p)
	}
	// Damage a layer blob of another source: the copy fails while writing the parts.
	src = splitSourceSeed(t, 1)
	var layer string
	filepath.WalkDir(filepath.Join(src, "blobs"), func(p string, d os.DirEntry, err error) error {
		if fi, err := os.Stat(p); err == nil && fi.Size() == 150<<10 {
			layer = p
		}
		return nil
	})
	if layer == "" {
		t.Fatal("no layer of 150 KiB in the source")
	}
	data, _ := os.ReadFile(layer)
	data[100] ^= 1
	os.Chmod(layer, 0o644)
	if err := os.WriteFile(layer, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{filepath.Join(tmp, "new.tar"), b} {
		code, _, stderr := runCLI(t, "copy", src+":1.0", dst+":x", "--split-size", "10000")
		if code != 1 || !strings.Contains(stderr, "digest mismatch") {
			t.Fatalf("copy of a damaged blob to %s: exit %d, %s", dst, code, stderr)
		}
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	hidden, _ := filepath.Glob(filepath.Join(tmp, ".*"))
	if len(hidden) != 0 || len(left) != len(before)+1 { // the old parts, sha256 and lock
		t.Fatalf("left: %v %v", left, hidden)
	}
	for p, s := range before {
		if sumOf(t, p) != s {
			t.Fatalf("%s changed", p)
		}
	}

	// More parts than a set may have: refused, nothing left.
	code, _, stderr := runCLI(t, "copy", filepath.Join(tmp, "bundle.tar")+":1.0", filepath.Join(tmp, "many.tar"), "--split-size", "10", "--no-verify")
	if code != 2 || !strings.Contains(stderr, "more than 9999 parts of 10 bytes") {
		t.Fatalf("10-byte parts: exit %d, %s", code, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "*many*")); len(m) != 0 {
		t.Fatalf("left: %v", m)
	}
}

// TestSplitSizeValues: the grammar of --split-size, and what it cannot split.
func TestSplitSizeValues(t *testing.T) {
	src := fixture("oras-linux-amd64-el8")
	tmp := t.TempDir()
	for _, v := range []string{"0", "-1", "+5", "1.5G", "4 G", "", "G", "4g", "4gb", "4Gib", "4GIB", "0x10", "1e3", "99999999999999999999", "9223372036854775807K"} {
		code, _, stderr := runCLI(t, "copy", src, filepath.Join(tmp, "x.tar"), "--split-size", v)
		if code != 2 || !strings.Contains(stderr, `--split-size "`+v+`"`) {
			t.Errorf("--split-size %q: exit %d, %s", v, code, stderr)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "*")); len(m) != 0 {
		t.Fatalf("left: %v", m)
	}
	for _, c := range []struct{ dst, want string }{
		{filepath.Join(tmp, "folder"), "--split-size splits a tarball"},
		{"-", "not to standard output"},
	} {
		code, _, stderr := runCLI(t, "copy", src, c.dst, "--split-size", "1M")
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("copy to %s --split-size: exit %d, %s", c.dst, code, stderr)
		}
	}
	for _, v := range []string{"1", "700", "4K", "4k", "4KB", "4kB", "700M", "700MB", "4G", "4GB", "1T", "4KiB", "4MiB", "4GiB", "1TiB"} {
		runOcil(t, "copy", "-q", src, filepath.Join(tmp, "ok.tar"), "--split-size", v)
	}
}

// TestMergeSplitSize: merge writes a split OUT too, through the same output.
func TestMergeSplitSize(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out.tar.gz")
	runOcil(t, "merge", "-q", "-o", out+":1.2", fixture("oras-linux-amd64-el8"), fixture("oras-linux-arm64-v8-el8"), "--split-size", "1000")
	if len(parts(t, out)) < 2 {
		t.Fatalf("parts %v", parts(t, out))
	}
	runOcil(t, "resolve", out+":1.2", "--platform", "linux/arm64")
	runOcil(t, "validate", out)
}

// TestSplitReaderBesideReplacement: a reader that has opened a split tarball keeps
// reading what it opened while a writer replaces every part (fewer parts, other names).
func TestSplitReaderBesideReplacement(t *testing.T) {
	src := splitSource(t)
	other := splitSourceSeed(t, 2)
	b := filepath.Join(t.TempDir(), "bundle.tar")
	runOcil(t, "copy", "-q", src+":1.0", b, "--split-size", "3000")
	l, err := layout.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	idx, err := l.Index(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	runOcil(t, "copy", "-q", other+":1.0", b+":1.0", "--split-size", "100K")
	blobs, err := l.Blobs(t.Context(), idx.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range blobs {
		rc, err := l.OpenBlob(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("blob %s after the parts were replaced: %v", d.Digest, err)
		}
	}
	if got, want := runOcil(t, "resolve", b+":1.0", "--platform", "linux/arm64"), runOcil(t, "resolve", other+":1.0", "--platform", "linux/arm64"); got != want {
		t.Fatalf("the new set: %s, want %s", got, want)
	}
}

// TestSplitUncleanPathKeepsParts: rewriting a split tarball named by a path that is not
// clean (./out.tar, d//out.tar, d/./out.tar) must keep its new parts.
func TestSplitUncleanPathKeepsParts(t *testing.T) {
	src := splitSource(t)
	dir := t.TempDir()
	out := dir + "/./out.tar"
	runOcil(t, "copy", "-q", src, out, "--split-size", "100K")
	runOcil(t, "tag", "-q", out+":1.0", "2.0") // exits 0
	if ps := parts(t, filepath.Join(dir, "out.tar")); len(ps) == 0 {
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("every part is gone after tag; folder holds %v", names)
	}
	runOcil(t, "ls", out)
}

// TestWholeWriteKeepsUsersSumFile: bundle.tar.sha256 written by sha256sum for the
// whole bundle.tar is not a parts list; rewriting bundle.tar (no parts anywhere) must
// not delete it.
func TestWholeWriteKeepsUsersSumFile(t *testing.T) {
	src := splitSource(t)
	b := filepath.Join(t.TempDir(), "bundle.tar")
	runOcil(t, "copy", "-q", src, b)
	mine := []byte(sumOf(t, b) + "  bundle.tar\n")
	if err := os.WriteFile(b+".sha256", mine, 0o644); err != nil {
		t.Fatal(err)
	}
	runOcil(t, "tag", "-q", b+":1.0", "2.0")
	if _, err := os.Stat(b + ".sha256"); err != nil {
		t.Fatalf("the user's bundle.tar.sha256 was removed by a whole rewrite: %v", err)
	}
}

// TestUsersSumFileIsNotASplit: data.001 beside a folder still to be made is ignored
// (design notes); data.sha256 (sha256sum of a file named data) is not.
func TestUsersSumFileIsNotASplit(t *testing.T) {
	tmp := t.TempDir()
	f := filepath.Join(tmp, "f")
	os.WriteFile(f, []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(tmp, "data.001"), []byte("x"), 0o644)
	runOcil(t, "add", "-q", filepath.Join(tmp, "data")+":1", "--platform", "linux/amd64", f) // fine
	os.WriteFile(filepath.Join(tmp, "other.sha256"), []byte("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  other\n"), 0o644)
	code, _, stderr := runCLI(t, "add", "-q", filepath.Join(tmp, "other")+":1", "--platform", "linux/amd64", f)
	if code != 0 {
		t.Fatalf("add to a new folder other beside other.sha256: exit %d: %s", code, stderr)
	}
}

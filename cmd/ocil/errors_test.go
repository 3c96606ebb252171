package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPullIndexListsPlatforms: pull on a multi-platform tag lists the platforms to choose
// from, each shown under its tag, and writes nothing.
func TestPullIndexListsPlatforms(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d")
	code, stdout, stderr := runCLI(t, "pull", fixture("regctl-index")+":v1", "-o", out)
	want := "ocil: resolve " + fixture("regctl-index") + ":v1: ambiguous: pull takes one manifest, and " + regctlV1Digest + " is an index of 2 manifests; choose one with --platform or @DIGEST\n" +
		"  (in v1)  sha256:0d6bcc61bbacc7d6d16a2dba09d28ef31b0a3a9d4e66d42f6b303f28eb084148  application/vnd.example.tool.v1  linux/amd64\n" +
		"  (in v1)  sha256:0424597d516fa446df5d304a40b33ad2a54be9183e453ce6229aa34aaf223a0d  application/vnd.example.tool.v1  linux/arm64\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("pull an index = %d %q\n%s\nwant\n%s", code, stdout, stderr, want)
	}
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Errorf("%s was made: %v", out, err)
	}
}

// TestAmbiguousChildrenShowTheirTag: children of a tag that match one platform are listed
// under that tag, with a tag and without one.
func TestAmbiguousChildrenShowTheirTag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "l")
	// Different files, so that the two manifests differ.
	for p, f := range map[string]string{"linux/arm64:el8": "README.md", "linux/arm64:el9": "regctl-index/oci-layout"} {
		if code, _, stderr := runCLI(t, "add", "-q", dir+":v1", "-p", p, filepath.Join(fixturesDir, f)); code != 0 {
			t.Fatalf("add %s: %s", p, stderr)
		}
	}
	for _, ref := range []string{dir + ":v1", dir} {
		code, _, stderr := runCLI(t, "resolve", ref, "-p", "linux/arm64")
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 3 || !strings.Contains(lines[0], "2 manifests match platform linux/arm64") {
			t.Fatalf("resolve %s = %d\n%s", ref, code, stderr)
		}
		for i, plat := range []string{"linux/arm64:el8", "linux/arm64:el9"} {
			if !strings.HasPrefix(lines[i+1], "  (in v1)  sha256:") || !strings.HasSuffix(lines[i+1], plat) {
				t.Errorf("resolve %s: candidate %q, want it shown (in v1) with %s", ref, lines[i+1], plat)
			}
		}
		if strings.Contains(stderr, "(untagged)") {
			t.Errorf("resolve %s lists a child as untagged:\n%s", ref, stderr)
		}
	}
}

// TestDockerSaveHostileLink: a docker save archive (as skopeo's docker-archive writes it,
// with <id>/layer.tar a symlink) whose link leads out of the archive is refused as
// hostile, naming the archive and the link.
func TestDockerSaveHostileLink(t *testing.T) {
	id := strings.Repeat("5", 64)
	p := filepath.Join(t.TempDir(), "saved.tar")
	writeTar(t, p, false,
		tarEntry{name: strings.Repeat("1", 64) + ".tar", data: "layer"},
		tarEntry{name: strings.Repeat("4", 64) + ".json", data: "{}"},
		tarEntry{name: id + "/layer.tar", link: "../../" + strings.Repeat("1", 64) + ".tar", typ: tar.TypeSymlink},
		tarEntry{name: "manifest.json", data: "[]"},
		tarEntry{name: "repositories", data: "{}"})
	code, stdout, stderr := runCLI(t, "ls", p)
	want := "ocil: invalid layout tarball: open tarball " + p + `: entry "` + id + `/layer.tar": hostile archive: a symlink to "../../` + strings.Repeat("1", 64) + `.tar", which leads out of the archive`
	if code != 1 || stdout != "" || strings.TrimSpace(stderr) != want {
		t.Errorf("ls a docker save archive = %d %q\n%s\nwant %s", code, stdout, stderr, want)
	}
}

// TestFileOfALayoutPointsAtTheFolder: a file of a layout folder is not read as a tarball.
func TestFileOfALayoutPointsAtTheFolder(t *testing.T) {
	dir := fixture("regctl-index")
	for _, f := range []string{dir + "/index.json", dir + "/oci-layout", dir + "/blobs/sha256/35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf"} {
		code, stdout, stderr := runCLI(t, "ls", f)
		want := "ocil: open layout " + f + ": not an OCI image layout: it is a file of the layout folder " + filepath.Clean(filepath.Dir(f))
		if f != dir+"/index.json" && f != dir+"/oci-layout" {
			want = "ocil: open layout " + f + ": not an OCI image layout: it is a file of the layout folder " + filepath.Clean(dir)
		}
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, want) || strings.Contains(stderr, "tar") {
			t.Errorf("ls %s = %d %q\n%s\nwant %s", f, code, stdout, stderr, want)
		}
	}
}

// TestCountsAgree: one thing is "1 entry", "1 file", "1 argument".
func TestCountsAgree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "l")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("oras-linux-arm64-v8-el8"), dir); code != 0 {
		t.Fatal(stderr)
	}
	_, _, stderr := runCLI(t, "copy", fixture("oras-linux-amd64-el8"), dir)
	if !strings.Contains(stderr, "it already has 1 entry;") {
		t.Errorf("copy into a layout of one untagged entry: %s", stderr)
	}
	tagged := filepath.Join(t.TempDir(), "t")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", tagged); code != 0 {
		t.Fatal(stderr)
	}
	_, _, stderr = runCLI(t, "add", tagged, "-p", "linux/amd64", filepath.Join(fixturesDir, "README.md"))
	if !strings.Contains(stderr, "it has 1 entry;") {
		t.Errorf("add without a tag to a layout of one tagged entry: %s", stderr)
	}
	_, _, stderr = runCLI(t, "copy", dir)
	if !strings.Contains(stderr, "got 1 argument (") {
		t.Errorf("copy with one argument: %s", stderr)
	}
	if code, _, stderr := runCLI(t, "rm", "-q", tagged+":v1", "-p", "linux/arm64"); code != 0 {
		t.Fatal(stderr)
	}
	if _, stdout, _ := runCLI(t, "gc", tagged); !regexp.MustCompile(`(?m)^removed [2-9] files, `).MatchString(stdout) {
		t.Errorf("gc: %s", stdout)
	}
	if err := os.WriteFile(filepath.Join(tagged, "blobs", "sha256", "ab"+strings.Repeat("0", 62)), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stdout, _ := runCLI(t, "gc", tagged); !strings.Contains(stdout, "removed 1 file,") {
		t.Errorf("gc of one file: %s", stdout)
	}
}

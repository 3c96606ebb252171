package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyBaseRefusedLeavesIndex: a copy --base refused when it sets the entry (an
// untagged source into a folder that holds an entry) leaves the folder's index.json as
// it was, without the delta record.
func TestCopyBaseRefusedLeavesIndex(t *testing.T) {
	tmp := t.TempDir()
	base := filepath.Join(tmp, "b2.tar")
	dst := filepath.Join(tmp, "df")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("oras-linux-amd64-el8"), base+":x"); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("umoci-image")+":latest", dst); code != 0 {
		t.Fatal(stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	code, _, stderr := runCLI(t, "copy", "--base", base, fixture("oras-linux-amd64-el9"), dst)
	if code == 0 {
		t.Fatal("copy succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	if string(before) != string(after) {
		t.Errorf("refused copy (%s) changed index.json:\n%s\n->\n%s", strings.TrimSpace(stderr), before, after)
	}
}

// TestCopyWholeLayoutKeepsEveryTag: a whole-layout copy keeps the tags of entries that
// are not roots (here a tag on a manifest of a tagged index).
func TestCopyWholeLayoutKeepsEveryTag(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "w")
	dst := filepath.Join(tmp, "w2")
	steps := [][]string{
		{"merge", "-o", src + ":multi", fixture("oras-linux-amd64-el8"), fixture("oras-linux-arm64-v8-el8")},
		{"tag", src + ":multi@sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64", "amd64"},
		{"copy", "-q", fixture("umoci-image") + ":latest", src + ":other"},
		{"copy", "-q", src, dst},
	}
	for _, s := range steps {
		if code, _, stderr := runCLI(t, s...); code != 0 {
			t.Fatal(s, stderr)
		}
	}
	idx, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	if !strings.Contains(string(idx), `"org.opencontainers.image.ref.name":"amd64"`) {
		t.Errorf("whole-layout copy exited 0 but lost the tag amd64:\n%s", idx)
	}
}

// TestCopyDockerIntoDeltaRefused: copy --docker into a tarball that is a delta is refused
// (its manifest.json would name layers the tarball lacks), the tarball unchanged.
func TestCopyDockerIntoDeltaRefused(t *testing.T) {
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1.tar")
	dk := filepath.Join(tmp, "dk.tar")
	img := filepath.Join(tmp, "img")
	files := filepath.Join(tmp, "files")
	os.MkdirAll(files, 0o755)
	os.WriteFile(filepath.Join(files, "f"), []byte("hi\n"), 0o644)
	steps := [][]string{
		{"copy", "-q", fixture("umoci-image") + ":latest", v1},
		{"copy", "-q", "--base", v1, fixture("umoci-image") + ":arm64=example.com/app:arm64", dk},
		{"add", img + ":t", "--platform", "linux/amd64", "--image", files},
	}
	for _, s := range steps {
		if code, _, stderr := runCLI(t, s...); code != 0 {
			t.Fatal(s, stderr)
		}
	}
	before, err := os.ReadFile(dk)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "copy", "--docker", "--platform", "linux/amd64", img+":t=example.com/new:1", dk)
	if code == 2 && strings.Contains(stderr, "docker load needs every layer") {
		if after, _ := os.ReadFile(dk); string(after) != string(before) {
			t.Error("the refused copy changed the delta tarball")
		}
		return
	}
	c := tarContents(t, dk)
	var m []struct{ Layers []string }
	if err := json.Unmarshal(c["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m {
		for _, l := range e.Layers {
			if _, ok := c[l]; !ok {
				t.Errorf("exit 0, but manifest.json names %s, which the tarball lacks", l)
			}
		}
	}
}

// TestValidateRecordListingAManifest: a delta record that lists a manifest (which a delta
// never leaves out) does not hide its absence.
func TestValidateRecordListingAManifest(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "lie")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("umoci-image")+":arm64", dir); code != 0 {
		t.Fatal(stderr)
	}
	const m = "sha256:f9a61d93d02120b1961eecf7a8f161d3ec0e63318ebdd402c17c56e91db97d27"
	var idx map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	json.Unmarshal(b, &idx)
	rec := `{"bases":[{"name":"v1.tar","index":"sha256:36e7a343f3fcdc57d4ce11d3e6cf10e2a2e2ffe0529872d811829d2fb808aacf"}],"blobs":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + m + `","size":345}]}`
	idx["annotations"] = map[string]string{deltaAnnotation: rec}
	b, _ = json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644)
	os.Remove(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(m, "sha256:")))
	if code, _, _ := runCLI(t, "cat", dir+":arm64"); code == 0 {
		t.Fatal("cat works")
	}
	code, stdout, _ := runCLI(t, "validate", dir)
	if code == 0 || !strings.Contains(stdout, "delta.record") || !strings.Contains(stdout, "blob.missing") {
		t.Errorf("validate of a layout whose tagged manifest is missing, listed as left out = %d:\n%s", code, stdout)
	}
}

// TestCopyAllOneWrite: CopyAll is one write (every entry lands, or none does): into an
// existing folder a refusal of the second source leaves the first source's entry out.
func TestCopyAllOneWrite(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "dfx")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("umoci-image")+":arm64", dst); code != 0 {
		t.Fatal(stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	code, _, stderr := runCLI(t, "copy", fixture("umoci-image")+":latest", fixture("oras-linux-amd64-el8"), dst)
	if code == 0 {
		t.Fatal("copy succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	if string(before) != string(after) {
		t.Errorf("refused copy (%s) changed index.json:\n%s\n->\n%s", strings.TrimSpace(stderr), before, after)
	}
}

// TestDeltaStreamedAsItsFile: a delta is not streamed by copy (a stream carries a whole
// layout), and the error says to send the file itself, which the far side then takes
// from standard input onto its base.
func TestDeltaStreamedAsItsFile(t *testing.T) {
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1.tar")
	if code, _, stderr := runCLI(t, "copy", "-q", deltaV1Sources()[0], deltaV1Sources()[1], v1); code != 0 {
		t.Fatal(stderr)
	}
	delta := filepath.Join(tmp, "v2.tar")
	if code, _, stderr := runCLI(t, "copy", "-q", "--base", v1, deltaV2Sources()[0], delta); code != 0 {
		t.Fatal(stderr)
	}
	code, stdout, stderr := runCLI(t, "copy", delta, "-")
	if code != 1 || !strings.Contains(stderr, "send the delta's file itself") || stdout != "" {
		t.Errorf("copy of a delta to - = %d, %d bytes out, %q", code, len(stdout), stderr)
	}
	site := filepath.Join(tmp, "site")
	if code, _, stderr := runCLI(t, "copy", "-q", v1, site); code != 0 {
		t.Fatal(stderr)
	}
	f, err := os.Open(delta)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code, _, stderr := runStdin(t, f, "copy", "-q", "-", site); code != 0 {
		t.Fatalf("the delta's file on standard input onto its base: %s", stderr)
	}
	if code, stdout, stderr := runCLI(t, "validate", site); code != 0 {
		t.Errorf("validate %s = %d\n%s%s", site, code, stdout, stderr)
	}
}

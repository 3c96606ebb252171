package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyWholeLayout: copy SRC DST, SRC a layout of several images named by nothing
// else, copies every image under its own tag, with their referrers, as unpacking a
// bundle on the far side needs; from a folder, a tarball and standard input.
func TestCopyWholeLayout(t *testing.T) {
	tmp := t.TempDir()
	bundle := filepath.Join(tmp, "bundle.tar")
	code, _, stderr := runCLI(t, "copy", "-q",
		fixture("umoci-image")+":latest=registry.example.com/team/app:1",
		fixture("umoci-image")+":arm64=registry.example.com/team/app:1-arm64",
		fixture("regctl-referrers")+":v1",
		bundle)
	if code != 0 {
		t.Fatal(stderr)
	}
	_, wantLs, _ := runCLI(t, "ls", bundle)
	site := filepath.Join(tmp, "site")
	// The site already holds an entry of its own, which stays.
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("oras-linux-amd64-el8"), site+":own"); code != 0 {
		t.Fatal(stderr)
	}
	code, stdout, stderr := runCLI(t, "copy", bundle, site)
	if code != 0 {
		t.Fatalf("copy %s %s = %d: %s", bundle, site, code, stderr)
	}
	if got := strings.Count(stdout, "\n"); got != 3 || !strings.Contains(stdout, umociLatestDigest) || !strings.Contains(stdout, umociArm64Digest) || !strings.Contains(stdout, regctlV1Digest) {
		t.Errorf("copy printed %q, want the three images' digests", stdout)
	}
	_, gotLs, _ := runCLI(t, "ls", site)
	gotLs = squeeze(gotLs)
	// Every line of the bundle's listing (tags, trees, the referrers tag) is in the site's.
	for _, line := range strings.Split(squeeze(wantLs), "\n")[1:] {
		if !strings.Contains(gotLs, line) {
			t.Errorf("ls %s lacks %q:\n%s", site, line, gotLs)
		}
	}
	if !strings.Contains(gotLs, "\nown ") {
		t.Errorf("the site's own entry is gone:\n%s", gotLs)
	}
	if code, stdout, stderr := runCLI(t, "validate", "--strict", site); code != 0 {
		t.Errorf("validate %s = %d\n%s%s", site, code, stdout, stderr)
	}

	// The same from a folder, and from standard input.
	folder := filepath.Join(tmp, "folder")
	if code, _, stderr := runCLI(t, "copy", "-q", bundle, folder); code != 0 {
		t.Fatal(stderr)
	}
	if _, got, _ := runCLI(t, "ls", folder); got != wantLs {
		t.Errorf("ls of the folder copy:\n%s\nwant\n%s", got, wantLs)
	}
	f, err := os.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, _, stderr = runStdin(t, f, "copy", "-q", "-", filepath.Join(tmp, "from-stdin"))
	if code != 0 {
		t.Fatalf("copy - : %s", stderr)
	}
	if _, got, _ := runCLI(t, "ls", filepath.Join(tmp, "from-stdin")); got != wantLs {
		t.Errorf("ls of the copy from standard input:\n%s\nwant\n%s", got, wantLs)
	}
}

// TestCopyWholeLayoutRefused: what a copy of a whole layout cannot do is refused before
// anything is written, saying what to name.
func TestCopyWholeLayoutRefused(t *testing.T) {
	tmp := t.TempDir()
	bundle := filepath.Join(tmp, "bundle")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("umoci-image")+":latest", fixture("umoci-image")+":arm64", bundle); code != 0 {
		t.Fatal(stderr)
	}
	out := filepath.Join(tmp, "out")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{bundle, out + ":t"}, 2, "DST:TAG names the entry of a single image"},
		{[]string{bundle, out, "--platform", "linux/amd64"}, 2, "--platform selects within one"},
		{[]string{bundle, "-"}, 2, "standard output takes one"},
		{[]string{bundle + "=registry.example.com/x:1", out}, 1, "ambiguous"},
	} {
		code, _, stderr := runCLI(t, append([]string{"copy"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("copy %v = %d %q, want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if _, err := os.Lstat(out); err == nil {
			t.Fatalf("copy %v wrote %s", tc.args, out)
		}
	}

	// An untagged image beside others has no name to copy it under.
	untagged := filepath.Join(tmp, "untagged")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("oras-linux-amd64-el9"), untagged); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("umoci-image")+":latest", untagged+":latest"); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr := runCLI(t, "copy", untagged, out)
	if code != 1 || !strings.Contains(stderr, "1 is untagged ("+orasAmd64El9Digest+")") || !strings.Contains(stderr, "@DIGEST DST:TAG") {
		t.Errorf("copy of a layout with an untagged image beside another = %d %q", code, stderr)
	}
	if _, err := os.Lstat(out); err == nil {
		t.Fatalf("the refused copy wrote %s", out)
	}
}

// TestCopyWholeDeltaFarSide: a delta of several images goes onto the site that took its
// base with one copy, naming nothing.
func TestCopyWholeDeltaFarSide(t *testing.T) {
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1.tar")
	if code, _, stderr := runCLI(t, "copy", "-q", deltaV1Sources()[0], deltaV1Sources()[1], v1); code != 0 {
		t.Fatal(stderr)
	}
	delta := filepath.Join(tmp, "v2.tar")
	if code, _, stderr := runCLI(t, "copy", "-q", "--base", v1, deltaV2Sources()[0], deltaV2Sources()[1], delta); code != 0 {
		t.Fatal(stderr)
	}
	bare := filepath.Join(tmp, "bare")
	code, _, stderr := runCLI(t, "copy", delta, bare)
	if code != 1 || !strings.Contains(stderr, "left out") {
		t.Errorf("copy of the delta to a site without its base = %d %q, want it refused naming the left-out blobs", code, stderr)
	}
	if _, err := os.Lstat(bare); err == nil {
		t.Errorf("the refused copy made %s", bare)
	}
	site := filepath.Join(tmp, "site")
	if code, _, stderr := runCLI(t, "copy", "-q", v1, site); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCLI(t, "copy", "-q", delta, site); code != 0 {
		t.Fatalf("copy of the delta onto its base: %s", stderr)
	}
	_, ls, _ := runCLI(t, "ls", site)
	for _, tag := range []string{"registry.example.com/team/app:1 ", "registry.example.com/team/rpms:1 ", "registry.example.com/team/app:2 ", "registry.example.com/team/rpms:2 "} {
		if !strings.Contains(ls, tag) {
			t.Errorf("the site lacks %s:\n%s", tag, ls)
		}
	}
	if code, stdout, stderr := runCLI(t, "validate", "--strict", site); code != 0 {
		t.Errorf("validate --strict %s = %d\n%s%s", site, code, stdout, stderr)
	}
}

// squeeze collapses each run of spaces in an ls listing to one, so that listings whose
// columns have other widths compare line by line.
func squeeze(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// TestCopyWholeLayoutSameListingTwice: an index.json that lists one entry twice, tag,
// digest and platform alike, is copied whole with that entry once, as resolve takes it.
func TestCopyWholeLayoutSameListingTwice(t *testing.T) {
	tmp := t.TempDir()
	dup := filepath.Join(tmp, "dup")
	for _, args := range [][]string{
		{"copy", "-q", fixture("umoci-image") + ":latest", dup + ":a"},
		{"copy", "-q", fixture("umoci-image") + ":arm64", dup + ":b"},
	} {
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatal(stderr)
		}
	}
	idx := readIndexFile(t, dup)
	idx.Manifests = append(idx.Manifests, idx.Manifests[0])
	b, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dup, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	if code, _, stderr := runCLI(t, "copy", "-q", dup, out); code != 0 {
		t.Fatalf("copy of a layout listing one entry twice: %s", stderr)
	}
	if got := readIndexFile(t, out); len(got.Manifests) != 2 {
		t.Errorf("the copy lists %d entries, want a and b once each", len(got.Manifests))
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The image of oras-attached-sbom, its SBOM (attached with oras attach), and the SBOM's
// payload; the regctl-referrers index and its signature (regctl artifact put --subject).
const (
	sbomSubject  = "sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64"
	sbomDigest   = "sha256:7d5853a4f99e8890c6d5b583174b82c7c31b2877c3ef6815f9683bc7a702308a"
	sbomPayload  = `{"spdxVersion":"SPDX-2.3","name":"example"}` + "\n"
	regctlSigDgt = "sha256:616e7482b4550c0fbcb86236089a6e92d9d33ba893da8ab9e0e1496d9eb1ea90"
)

type lsRefNode struct {
	Descriptor struct {
		Digest       string `json:"digest"`
		ArtifactType string `json:"artifactType"`
	} `json:"descriptor"`
	Children  []lsRefNode `json:"children"`
	Referrers []lsRefNode `json:"referrers"`
}

type lsRefs struct {
	Entries []struct {
		Tag string `json:"tag"`
		lsRefNode
	} `json:"entries"`
}

// runOK runs ocil and fails the test unless it exits 0; it returns stdout as printed.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("ocil %s: exit %d\n%s", shellJoin(args), code, stderr)
	}
	return stdout
}

// mergeWithSBOM merges the oras image that has an SBOM with the arm64 one into dir:1.0.
func mergeWithSBOM(t *testing.T, out string, extra ...string) {
	t.Helper()
	runOK(t, append([]string{"merge", "-q", "-o", out + ":1.0", fixture("oras-attached-sbom"), fixture("oras-linux-arm64-v8-el8")}, extra...)...)
}

func TestMergeCopyBringReferrersAndLsShowsThem(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mergeWithSBOM(t, out)
	for _, ref := range []string{out + ":1.0", filepath.Join(dir, "copy.tar") + ":1.0", filepath.Join(dir, "copy") + ":1.0"} {
		if !strings.HasPrefix(ref, out) {
			runOK(t, "copy", "-q", out+":1.0", ref)
		}
		text := runOK(t, "ls", ref)
		lines := strings.Split(text, "\n")
		// The referrer is listed right under its subject, the amd64 manifest.
		found := false
		for i, line := range lines {
			if strings.Contains(line, sbomSubject) && i+1 < len(lines) {
				next := lines[i+1]
				found = strings.Contains(next, "└── referrer") && strings.Contains(next, "application/spdx+json") && strings.Contains(next, sbomDigest)
			}
		}
		if !found {
			t.Errorf("ls %s does not list the SBOM under its subject:\n%s", ref, text)
		}
		var ls lsRefs
		if err := json.Unmarshal([]byte(runOK(t, "ls", "--format", "json", ref)), &ls); err != nil {
			t.Fatal(err)
		}
		if len(ls.Entries) != 1 || len(ls.Entries[0].Children) != 2 {
			t.Fatalf("ls %s --format json: %+v", ref, ls)
		}
		amd := ls.Entries[0].Children[0]
		if amd.Descriptor.Digest != sbomSubject || len(amd.Referrers) != 1 ||
			amd.Referrers[0].Descriptor.Digest != sbomDigest || amd.Referrers[0].Descriptor.ArtifactType != "application/spdx+json" {
			t.Errorf("ls %s --format json: the amd64 manifest's referrers are %+v", ref, amd.Referrers)
		}
		if arm := ls.Entries[0].Children[1]; len(arm.Referrers) != 0 {
			t.Errorf("ls %s: the arm64 manifest has referrers %+v", ref, arm.Referrers)
		}
		// resolve, cat and pull reach the referrer by digest.
		path := strings.TrimSuffix(ref, ":1.0")
		if got := runOK(t, "resolve", path+"@"+sbomDigest); got != sbomDigest+"\n" {
			t.Errorf("resolve %s@SBOM: %q", path, got)
		}
		want, err := os.ReadFile(filepath.Join(fixture("oras-attached-sbom"), "blobs", "sha256", strings.TrimPrefix(sbomDigest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if got := runOK(t, "cat", path+"@"+sbomDigest); got != string(want) {
			t.Errorf("cat %s@SBOM: %q, want %q", path, got, want)
		}
		pulled := filepath.Join(t.TempDir(), "pulled")
		runOK(t, "pull", "-q", path+"@"+sbomDigest, "-o", pulled)
		if b, err := os.ReadFile(filepath.Join(pulled, "sbom.spdx.json")); err != nil || string(b) != sbomPayload {
			t.Errorf("pull %s@SBOM: %q, %v", path, b, err)
		}
	}
}

func TestNoReferrers(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mergeWithSBOM(t, out, "--no-referrers")
	if text := runOK(t, "ls", out); strings.Contains(text, sbomDigest) {
		t.Errorf("merge --no-referrers brought the SBOM:\n%s", text)
	}
	full := filepath.Join(dir, "full")
	mergeWithSBOM(t, full)
	bare := filepath.Join(dir, "bare.tar")
	runOK(t, "copy", "-q", "--no-referrers", full+":1.0", bare)
	if text := runOK(t, "ls", bare); strings.Contains(text, sbomDigest) {
		t.Errorf("copy --no-referrers brought the SBOM:\n%s", text)
	}
	code, _, stderr := runCLI(t, "cat", bare+"@"+sbomDigest)
	if code == 0 || !strings.Contains(stderr, sbomDigest) {
		t.Errorf("cat of the left-out SBOM: exit %d, %s", code, stderr)
	}
}

// A filtered copy keeps only the referrers of what it keeps.
func TestCopyPlatformKeepsItsReferrers(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mergeWithSBOM(t, out)
	for plat, want := range map[string]bool{"linux/amd64": true, "linux/arm64": false} {
		dst := filepath.Join(dir, strings.ReplaceAll(plat, "/", "-")+".tar")
		runOK(t, "copy", "-q", "--platform", plat, out+":1.0", dst)
		if got := strings.Contains(runOK(t, "ls", dst), sbomDigest); got != want {
			t.Errorf("copy --platform %s: SBOM carried %v, want %v", plat, got, want)
		}
	}
}

func TestRmPlatformAndGCTakeReferrers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	mergeWithSBOM(t, out)
	runOK(t, "rm", "--platform", "linux/amd64", out+":1.0")
	if text := runOK(t, "ls", out); strings.Contains(text, sbomDigest) {
		t.Errorf("rm --platform linux/amd64 left the SBOM listed:\n%s", text)
	}
	gc := runOK(t, "gc", out)
	sbomBlob := "blobs/sha256/" + strings.TrimPrefix(sbomDigest, "sha256:")
	if !strings.Contains(gc, sbomBlob) {
		t.Errorf("gc did not remove %s:\n%s", sbomBlob, gc)
	}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(sbomBlob))); !os.IsNotExist(err) {
		t.Errorf("SBOM blob after gc: %v", err)
	}
	// gc alone drops the referrers of an image that nothing names any more.
	other := filepath.Join(t.TempDir(), "other")
	mergeWithSBOM(t, other)
	runOK(t, "untag", other, "1.0")
	var res struct {
		Referrers []struct {
			Digest string `json:"digest"`
		} `json:"referrers"`
	}
	if err := json.Unmarshal([]byte(runOK(t, "gc", "--format", "json", other)), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 2 {
		t.Errorf("gc dropped %+v, want the SBOM entry and its fallback tag", res.Referrers)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "index.json")); strings.Contains(string(b), sbomDigest) {
		t.Errorf("index.json after gc still names the SBOM: %s", b)
	}
}

// regctl's fallback tag is read as well: its referrer comes along and cat reaches it.
func TestCopyRegctlReferrers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.tar")
	runOK(t, "copy", "-q", fixture("regctl-referrers")+":v1", out)
	want, err := os.ReadFile(filepath.Join(fixture("regctl-referrers"), "blobs", "sha256", strings.TrimPrefix(regctlSigDgt, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	if got := runOK(t, "cat", out+"@"+regctlSigDgt); got != string(want) {
		t.Errorf("cat the signature: %q", got)
	}
	text := runOK(t, "ls", out+":v1")
	if !strings.Contains(text, "└── referrer") || !strings.Contains(text, "application/vnd.example.signature.v1") {
		t.Errorf("ls does not show the signature under the index:\n%s", text)
	}

}

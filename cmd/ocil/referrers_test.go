package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
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
	merged := filepath.Join(dir, "merged.tar")
	mergeWithSBOM(t, merged) // a tarball output is staged and rewritten: the referrers too
	for _, ref := range []string{out + ":1.0", merged + ":1.0", filepath.Join(dir, "copy.tar") + ":1.0", filepath.Join(dir, "copy") + ":1.0"} {
		if !strings.HasPrefix(ref, out) && !strings.HasPrefix(ref, merged) {
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

// findClient returns the path of a client binary (oras, regctl): on PATH, else in
// $(go env GOPATH)/bin, where make tools installs it. When it is missing the test is
// skipped, or fails when the environment variable require is 1 (make test sets it).
func findClient(t *testing.T, name, require string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	if os.Getenv(require) == "1" {
		t.Fatalf("[%s] not found on PATH nor in $(go env GOPATH)/bin and %s=1 (make tools installs it)", name, require)
	}
	t.Skipf("[%s] not found on PATH nor in $(go env GOPATH)/bin; set %s=1 to make that a failure (make tools installs it)", name, require)
	return ""
}

func runClient(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), shellJoin(args), err, stderr)
	}
	return string(out)
}

// oras attach puts an SBOM beside an image; ocil merge and copy carry it into a folder
// and a tarball, where oras discover and oras pull find it, and regctl artifact list
// finds it in the folder (regctl reads no tarballs).
func TestOrasAttachThenMergeAndCopy(t *testing.T) {
	orasBin := findClient(t, "oras", "OCIL_REQUIRE_ORAS")
	regctlBin := findClient(t, "regctl", "OCIL_REQUIRE_REGCTL")
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "amd"), os.DirFS(fixture("oras-linux-amd64-el8"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sbom.spdx.json"), []byte(sbomPayload), 0o644); err != nil {
		t.Fatal(err)
	}
	var att struct {
		Digest string `json:"digest"`
	}
	raw := runClient(t, dir, orasBin, "attach", "--oci-layout", "amd@"+sbomSubject, "--artifact-type", "application/spdx+json", "sbom.spdx.json", "--format", "json")
	if err := json.Unmarshal([]byte(raw), &att); err != nil || att.Digest == "" {
		t.Fatalf("oras attach: %v\n%s", err, raw)
	}
	runOK(t, "merge", "-q", "-o", filepath.Join(dir, "out")+":1.0", filepath.Join(dir, "amd"), fixture("oras-linux-arm64-v8-el8"))
	runOK(t, "copy", "-q", filepath.Join(dir, "out")+":1.0", filepath.Join(dir, "out.tar"))
	for _, name := range []string{"out", "out.tar"} {
		got := runClient(t, dir, orasBin, "discover", "--oci-layout", name+":1.0", "--platform", "linux/amd64", "--format", "json")
		if !strings.Contains(got, `"digest": "`+att.Digest+`"`) || !strings.Contains(got, `"artifactType": "application/spdx+json"`) {
			t.Errorf("oras discover %s does not list the SBOM %s:\n%s", name, att.Digest, got)
		}
		pulled := filepath.Join(t.TempDir(), "pulled")
		runClient(t, dir, orasBin, "pull", "--oci-layout", name+"@"+att.Digest, "-o", pulled)
		if b, err := os.ReadFile(filepath.Join(pulled, "sbom.spdx.json")); err != nil || string(b) != sbomPayload {
			t.Errorf("oras pull %s@SBOM: %q, %v", name, b, err)
		}
	}
	got := runClient(t, dir, regctlBin, "artifact", "list", "ocidir://out@"+sbomSubject, "--format", "{{range .Descriptors}}{{.Digest}} {{.ArtifactType}}\n{{end}}")
	if got != att.Digest+" application/spdx+json\n" {
		t.Errorf("regctl artifact list: %q", got)
	}
}

// A merge takes an index input's children into a new index: the signature of the
// input's own index signs nothing the output has, so it stays behind.
func TestMergeLeavesReferrersOfInputIndex(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	runOK(t, "merge", "-q", "-o", out+":1.0", fixture("regctl-referrers")+":v1")
	b, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "sha256-") || strings.Contains(mustRun(t, "ls", out), regctlSigDgt) {
		t.Errorf("the signature of the input's index came along: %s", b)
	}
}

// buildx attestations are children of the index that name an image: a filtered copy
// keeps those of the kept manifests, as it keeps their referrers; --no-referrers drops
// them; --keep-attestations keeps them even then.
func TestCopyPlatformKeepsAttestations(t *testing.T) {
	b := tl.New(t)
	amd := b.Image(tl.P("linux", "amd64", "", ""), "amd64")
	arm := b.Image(tl.P("linux", "arm64", "", ""), "arm64")
	att := func(of ocispec.Descriptor, text string) ocispec.Descriptor {
		m := b.Manifest(ocispec.Manifest{Config: b.Config(nil), Layers: []ocispec.Descriptor{b.Blob("application/vnd.in-toto+json", []byte(text))}})
		d := tl.WithPlatform(m, *tl.P("unknown", "unknown", "", ""))
		d.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": string(of.Digest)}
		return d
	}
	amdAtt, armAtt := att(amd, "amd64 provenance"), att(arm, "arm64 provenance")
	b.SetIndex(tl.Tag(b.Index(tl.WithPlatform(amd, *tl.P("linux", "amd64", "", "")), tl.WithPlatform(arm, *tl.P("linux", "arm64", "", "")), amdAtt, armAtt), "v1"))
	for _, tc := range []struct {
		flags []string
		want  bool
	}{{nil, true}, {[]string{"--no-referrers"}, false}, {[]string{"--no-referrers", "--keep-attestations"}, true}} {
		out := filepath.Join(t.TempDir(), "out")
		runOK(t, append([]string{"copy", "-q", "--platform", "linux/amd64", b.Dir + ":v1", out}, tc.flags...)...)
		text := mustRun(t, "ls", out)
		if got := strings.Contains(text, string(amdAtt.Digest)); got != tc.want {
			t.Errorf("copy --platform linux/amd64 %v: amd64 attestation kept %v, want %v\n%s", tc.flags, got, tc.want, text)
		}
		if strings.Contains(text, string(armAtt.Digest)) {
			t.Errorf("copy --platform linux/amd64 %v kept the arm64 attestation\n%s", tc.flags, text)
		}
	}
}

// TestReferrersEveryOutputForm writes referrers through each form of output: copy creates
// it, merge adds to it (the tarball is rewritten), rm --platform takes the SBOM away.
// Every form gets the same index.json: each referrer both as an untagged entry and under
// its subject's fallback tag, and the other entries kept.
func TestReferrersEveryOutputForm(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "")
	index := func(path string) []ocispec.Descriptor {
		t.Helper()
		l, err := layout.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		idx, err := l.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return idx.Manifests
	}
	entries := func(ms []ocispec.Descriptor) (untagged map[string]string, tags map[string]string) {
		untagged, tags = map[string]string{}, map[string]string{}
		for _, e := range ms {
			if tag := layout.TagOf(e); tag != "" {
				tags[tag] = string(e.Digest)
			} else {
				untagged[string(e.Digest)] = e.Annotations[layout.AnnotationReferrerSubject]
			}
		}
		return untagged, tags
	}
	sbomTag := layout.FallbackTag(sbomSubject)
	regctlTag := "sha256-35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf"
	var want [2][]ocispec.Descriptor
	for _, form := range []string{"folder", "out.tar", "out.tar.gz", "out.tar.zst"} {
		out := filepath.Join(tmp, form)
		runOK(t, "copy", "-q", fixture("regctl-referrers")+":v1", out+":reg")
		mergeWithSBOM(t, out)
		var got [2][]ocispec.Descriptor
		got[0] = index(out)
		untagged, tags := entries(got[0])
		if untagged[sbomDigest] != sbomSubject || untagged[regctlSigDgt] == "" {
			t.Errorf("%s: untagged entries %v, want the SBOM (subject %s) and the regctl signature", form, untagged, sbomSubject)
		}
		for _, tag := range []string{"reg", "1.0", sbomTag, regctlTag} {
			if tags[tag] == "" {
				t.Errorf("%s: no tag %s: %v", form, tag, tags)
			}
		}
		if code, _, stderr := runCLI(t, "validate", "-q", out); code != 0 {
			t.Errorf("%s: validate: %s", form, stderr)
		}

		runOK(t, "rm", "-q", out+":1.0", "--platform", "linux/amd64")
		got[1] = index(out)
		untagged, tags = entries(got[1])
		if _, ok := untagged[sbomDigest]; ok || tags[sbomTag] != "" {
			t.Errorf("%s: rm --platform linux/amd64 left the SBOM: %v %v", form, untagged, tags)
		}
		if untagged[regctlSigDgt] == "" || tags[regctlTag] == "" || tags["reg"] == "" || tags["1.0"] == "" {
			t.Errorf("%s: rm took more than the SBOM: %v %v", form, untagged, tags)
		}
		if text := runOK(t, "ls", out); strings.Contains(text, sbomDigest) {
			t.Errorf("%s: ls lists the SBOM after rm:\n%s", form, text)
		}
		if code, _, stderr := runCLI(t, "validate", "-q", out); code != 0 {
			t.Errorf("%s: validate after rm: %s", form, stderr)
		}
		if want[0] == nil {
			want = got
			continue
		}
		for i := range got {
			a, _ := json.Marshal(got[i])
			b, _ := json.Marshal(want[i])
			if string(a) != string(b) {
				t.Errorf("%s: index.json after step %d\n%s\nin the folder\n%s", form, i, a, b)
			}
		}
	}
}

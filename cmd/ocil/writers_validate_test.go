package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/validate"
)

// writeInputs writes one small file per name into dir and returns their paths.
func writeInputs(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("contents of "+n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// Everything ocil writes passes its own strictest check: merge, copy, add and the
// release layout scripts/dist.sh builds give no finding at all under --for-push --strict
// (issue 11).
func TestWritersValidateClean(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	files := writeInputs(t, in, "tool-amd64", "tool-arm64", "tool.exe", "same.sh")
	at := func(name string) string { return filepath.Join(dir, name) }

	// The release, as scripts/dist.sh builds it: one add per platform with an artifact
	// type and a version annotation, merged into a tarball with annotations.
	for i, p := range []string{"linux/amd64", "linux/arm64", "windows/amd64"} {
		mustRun(t, "add", at("rel-"+strings.ReplaceAll(p, "/", "-")), "--platform", p,
			"--artifact-type", "application/vnd.ocil.binary.v1", "--annotation", "org.opencontainers.image.version=1.2.3", files[i])
	}
	mustRun(t, "merge", "-q", "-o", at("ocil-1.2.3.tar")+":1.2.3",
		"--annotation", "org.opencontainers.image.version=1.2.3",
		"--annotation", "org.opencontainers.image.source=https://github.com/ocil-dev/ocil",
		at("rel-linux-amd64"), at("rel-linux-arm64"), at("rel-windows-amd64"))

	// add: several platforms into one tag, an image config holding the platform, the
	// same file for two platforms. Each add after the first moves the tag to a new index
	// and leaves the one before unreferenced, for gc (README: "ocil gc removes what rm,
	// untag or replaced entries left unreferenced"): three notes, and none after gc.
	mustRun(t, "add", at("added")+":v1", "--platform", "linux/amd64", files[0])
	mustRun(t, "add", at("added")+":v1", "--platform", "linux/arm64/v8:el8", "--platform-config", files[1])
	mustRun(t, "add", at("added")+":v1", "--platform", "windows/amd64", files[2])
	mustRun(t, "add", at("added")+":same", "--platform", "linux/amd64", files[3])
	mustRun(t, "add", at("added")+":same", "--platform", "linux/arm64", files[3])
	rep, err := validate.Layout(t.Context(), at("added"), validate.Options{ForPush: true, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Notes != 3 || rep.Notes != len(rep.Findings) || rep.Findings[0].Check != "blob.unreferenced" {
		t.Errorf("added before gc: want three blob.unreferenced notes (the tags' earlier indexes), got:\n%s", describeFindings(rep))
	}
	mustRun(t, "gc", at("added"))

	// merge: real tools' layouts (oras artifacts whose platform is only in the config, a
	// regctl index with an attestation, a Docker list), into a folder and a gzip tarball.
	fx := func(name string) string { return fixture(name) }
	mustRun(t, "merge", "-q", "-o", at("merged")+":1", fx("oras-linux-amd64-el8"), fx("oras-linux-arm64-v8-el8"), fx("regctl-index")+":v1")
	mustRun(t, "merge", "-q", "-o", at("merged.tar.gz")+":1", fx("oras-linux-amd64-el9"), fx("oras-linux-arm64-v8-el9"))
	mustRun(t, "merge", "-q", "-o", at("merged-docker")+":1", fx("docker-list"))
	mustRun(t, "merge", "-q", "-o", at("merged-umoci")+":1", fx("umoci-image")+":latest", fx("umoci-image")+":arm64")

	// copy: whole, into a tarball, and filtered by platform.
	mustRun(t, "copy", at("merged")+":1", at("copied"))
	mustRun(t, "copy", at("added")+":v1", at("copied.tar"))
	mustRun(t, "copy", at("merged")+":1", at("filtered")+":arm", "--platform", "linux/arm64/v8:el8")

	outputs := []string{"ocil-1.2.3.tar", "added", "merged", "merged.tar.gz", "merged-docker", "merged-umoci", "copied", "copied.tar", "filtered"}
	for _, name := range outputs {
		rep, err := validate.Layout(t.Context(), at(name), validate.Options{ForPush: true, Strict: true})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(rep.Findings) != 0 || rep.Checked.Manifests == 0 {
			t.Errorf("%s: %d findings, %d manifests checked, want none and some:\n%s", name, len(rep.Findings), rep.Checked.Manifests, describeFindings(rep))
		}
	}
	args := []string{"validate", "--for-push", "--strict", "-q"}
	for _, name := range outputs {
		args = append(args, at(name))
	}
	stdout := mustRun(t, args...)
	if n := strings.Count(stdout, ": 0 errors, 0 warnings, 0 notes ("); n != len(outputs) {
		t.Errorf("%d clean summaries, want %d:\n%s", n, len(outputs), stdout)
	}
}

func describeFindings(rep *validate.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("  " + string(f.Severity) + " " + f.Check + " " + f.Object + ": " + f.Message + "\n")
	}
	return b.String()
}

// The layout the GitLab jq merge script writes without its platform step (per-platform
// manifests copied into one nested index, descriptors without platform) passes a plain
// validate with warnings and fails --for-push with push.platform, while ocil merge of
// the same inputs passes (issue 11).
func TestValidateJqMergeOutput(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	inputs := []string{fixture("oras-linux-amd64-el8"), fixture("oras-linux-arm64-v8-el8")}

	// What the script does: cp every blob, list each input's index.json entries in a new
	// index, tag it in index.json.
	out := at("jq-out")
	if err := os.MkdirAll(filepath.Join(out, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	var children []ocispec.Descriptor
	for _, in := range inputs {
		blobs, err := filepath.Glob(filepath.Join(in, "blobs", "sha256", "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blobs {
			data, err := os.ReadFile(b)
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(out, "blobs", "sha256", filepath.Base(b)), data)
		}
		raw, err := os.ReadFile(filepath.Join(in, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			t.Fatal(err)
		}
		children = append(children, idx.Manifests...)
	}
	for _, c := range children {
		if c.Platform != nil {
			t.Fatalf("fixture entry %s has a platform; the case needs entries without", c.Digest)
		}
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: children}
	idx.SchemaVersion = 2
	idxRaw, _ := json.Marshal(idx)
	idxDigest := digest.FromBytes(idxRaw)
	writeTestFile(t, filepath.Join(out, "blobs", "sha256", idxDigest.Encoded()), idxRaw)
	top := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageIndex, Digest: idxDigest, Size: int64(len(idxRaw)),
		Annotations: map[string]string{ocispec.AnnotationRefName: "v1"}}}}
	top.SchemaVersion = 2
	topRaw, _ := json.Marshal(top)
	writeTestFile(t, filepath.Join(out, "index.json"), topRaw)
	writeTestFile(t, filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`))

	code, stdout, stderr := runCLI(t, "validate", "-q", out)
	if code != 0 || strings.Count(stdout, "warning  platform.missing") != 2 {
		t.Errorf("validate: exit code %d, want 0 with two platform.missing warnings\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "validate", "-q", "--for-push", out)
	if code != exitFailed || strings.Count(stdout, "error  push.platform") != 2 ||
		!strings.Contains(stdout, idxDigest.String()+" manifests[1]: an image manifest with no platform on its descriptor (its config says linux/arm64/v8:el8)") ||
		!strings.Contains(stderr, "validate "+out+": 2 errors") {
		t.Errorf("validate --for-push: exit code %d, want %d with two push.platform errors\n%s%s", code, exitFailed, stdout, stderr)
	}

	mustRun(t, "merge", "-q", "-o", at("ocil-out")+":v1", inputs[0], inputs[1])
	stdout = mustRun(t, "validate", "-q", "--for-push", "--strict", at("ocil-out"))
	if !strings.Contains(stdout, ": 0 errors, 0 warnings, 0 notes (") {
		t.Errorf("ocil merge of the same inputs:\n%s", stdout)
	}
}

func writeTestFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

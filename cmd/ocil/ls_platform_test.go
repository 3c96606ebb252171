package main

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
)

// ls marks a platform that is not on the descriptor with where it came from, in text and
// in JSON: clients that select by platform see only descriptor platforms (issue 11).
func TestLsPlatformSource(t *testing.T) {
	b := tl.New(t)
	onDescriptor := tl.WithPlatform(b.Image(tl.P("linux", "amd64", "", ""), "amd64"), *tl.P("linux", "amd64", "", ""))
	fromConfig := b.Image(tl.P("linux", "arm64", "v8", "el8"), "arm64")
	empty := b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}"))
	fromAnnotations := b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example.rpm", Config: empty,
		Layers:      []ocispec.Descriptor{b.Blob("application/x-rpm", []byte("s390x"))},
		Annotations: map[string]string{"land.oras.artifact.platform.os": "linux", "land.oras.artifact.platform.architecture": "s390x"}})
	b.SetIndex(tl.Tag(b.Index(onDescriptor, fromConfig, fromAnnotations), "v1"))

	code, stdout, stderr := runCLI(t, "ls", b.Dir)
	if code != 0 {
		t.Fatalf("exit code %d\n%s%s", code, stdout, stderr)
	}
	want := map[string]string{
		string(onDescriptor.Digest):    "linux/amd64 ",
		string(fromConfig.Digest):      "linux/arm64/v8:el8 (config) ",
		string(fromAnnotations.Digest): "linux/s390x (annotations) ",
	}
	for d, plat := range want {
		found := false
		for _, line := range strings.Split(stdout, "\n") {
			if strings.Contains(line, d) {
				found = true
				if !strings.Contains(line, " "+plat) {
					t.Errorf("line %q: want platform %q", line, plat)
				}
			}
		}
		if !found {
			t.Errorf("%s not listed:\n%s", d, stdout)
		}
	}
	if strings.Count(stdout, "(config)") != 1 || strings.Count(stdout, "(annotations)") != 1 {
		t.Errorf("marks on the wrong lines:\n%s", stdout)
	}

	code, stdout, stderr = runCLI(t, "ls", "--format", "json", b.Dir)
	if code != 0 {
		t.Fatalf("exit code %d\n%s%s", code, stdout, stderr)
	}
	out := decodeLs(t, stdout)
	if len(out.Entries) != 1 || len(out.Entries[0].Children) != 3 {
		t.Fatalf("entries %+v", out.Entries)
	}
	for i, src := range []string{"descriptor", "config", "annotations"} {
		if got := out.Entries[0].Children[i].PlatformSource; got != src {
			t.Errorf("child %d: platformSource %q, want %q", i, got, src)
		}
	}
}

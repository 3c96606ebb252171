package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Digests from the fixtures' own index.json files.
const (
	orasAmd64El8Digest = "sha256:4b6e5963353c91c8cc468e226926231621e4c48be9313559ed48369439120f64"
	umociArm64Digest   = "sha256:f9a61d93d02120b1961eecf7a8f161d3ec0e63318ebdd402c17c56e91db97d27"
)

func readIndexFile(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// TestCopySeveralSources: copy SRC=NAME... DST writes every source's entry under its name,
// with io.containerd.image.name for an explicit name; a source without =NAME keeps its
// tag; DST's other entries are kept; folder and tarball alike.
func TestCopySeveralSources(t *testing.T) {
	tmp := t.TempDir()
	for _, dst := range []string{filepath.Join(tmp, "bundle"), filepath.Join(tmp, "bundle.tar")} {
		// DST already holds an entry, which must stay.
		if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", dst+":already"); code != 0 {
			t.Fatal(stderr)
		}
		code, stdout, stderr := runCLI(t, "copy", "-q",
			fixture("oras-linux-amd64-el8")+"=registry.example.com/team/rpms:el8",
			fixture("umoci-image")+":arm64",
			fixture("skopeo-docker-archive.tar")+":"+savedTag+"=registry.example.com/legacy/app:7-oci",
			dst)
		wantOut := orasAmd64El8Digest + "\n" + umociArm64Digest + "\n" + sha256Of([]byte(savedManifest)) + "\n"
		if code != 0 || stdout != wantOut {
			t.Fatalf("copy to %s = %d %q %s\nwant %q", dst, code, stdout, stderr, wantOut)
		}
		dir := dst
		if strings.HasSuffix(dst, ".tar") {
			code, stdout, _ := runCLI(t, "ls", "-q", dst)
			want := regctlV1Digest + "\n" + wantOut
			if code != 0 || stdout != want {
				t.Errorf("ls -q %s = %q, want %q", dst, stdout, want)
			}
			continue
		}
		idx := readIndexFile(t, dir)
		type entry struct{ digest, ref, containerd string }
		var got []entry
		for _, d := range idx.Manifests {
			got = append(got, entry{string(d.Digest), d.Annotations[ocispec.AnnotationRefName], d.Annotations["io.containerd.image.name"]})
		}
		want := []entry{
			{regctlV1Digest, "already", ""},
			{orasAmd64El8Digest, "registry.example.com/team/rpms:el8", "registry.example.com/team/rpms:el8"},
			{umociArm64Digest, "arm64", ""},
			{sha256Of([]byte(savedManifest)), "registry.example.com/legacy/app:7-oci", "registry.example.com/legacy/app:7-oci"},
		}
		if len(got) != len(want) {
			t.Fatalf("index.json entries %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if code, stdout, stderr := runCLI(t, "validate", dir); code != 0 {
			t.Errorf("validate %s = %d %s %s", dir, code, stdout, stderr)
		}
	}
}

// TestCopySeveralSourcesRefused: a clash of names, a source that does not resolve, a tag
// on DST with several sources and standard output with several sources are refused,
// naming what is wrong, and DST is left byte for byte as it was.
func TestCopySeveralSourcesRefused(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "bundle")
	if code, _, stderr := runCLI(t, "copy", "-q", fixture("regctl-index")+":v1", dst+":already"); code != 0 {
		t.Fatal(stderr)
	}
	before := snapshot(t, dst)
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"same name twice", []string{"copy", fixture("oras-linux-amd64-el8") + "=app:1", fixture("oras-linux-arm64-v8-el8") + "=app:1", dst}, 1, `both give the name "app:1"`},
		{"a source missing", []string{"copy", fixture("oras-linux-amd64-el8") + "=app:1", filepath.Join(tmp, "nope") + "=app:2", dst}, 1, filepath.Join(tmp, "nope")},
		{"a tag missing", []string{"copy", fixture("oras-linux-amd64-el8") + "=app:1", fixture("umoci-image") + ":nope", dst}, 1, "nope"},
		{"DST tag with several", []string{"copy", fixture("oras-linux-amd64-el8"), fixture("oras-linux-arm64-v8-el8"), dst + ":t"}, 2, `the tag "t" of DST names the entry of a single source`},
		{"DST tag and a name", []string{"copy", fixture("oras-linux-amd64-el8") + "=app:1", dst + ":t"}, 2, "SRC=NAME"},
		{"several to stdout", []string{"copy", fixture("oras-linux-amd64-el8") + "=a", fixture("oras-linux-arm64-v8-el8") + "=b", "-"}, 2, "not to standard output"},
		{"empty name", []string{"copy", fixture("oras-linux-amd64-el8") + "=", dst}, 2, "no name after '='"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.says) {
				t.Errorf("%v = %d %q %s\nwant exit %d saying %q", tc.args, code, stdout, stderr, tc.code, tc.says)
			}
			if after := snapshot(t, dst); after != before {
				t.Errorf("DST changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

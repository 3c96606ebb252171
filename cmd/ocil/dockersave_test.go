package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The docker save archive skopeo wrote (testdata/fixtures/skopeo-docker-archive.tar) and
// the OCI manifest it stands for, written out here byte for byte.
const (
	savedTag       = "registry.example.com/legacy/app:7"
	savedLayerHex  = "10d2b2ee3f84717b4774be9c435d5bf173b177c058c41e6ffb09960991b3105e"
	savedConfigHex = "457933a9d951da0c542982f5576c3e07dc2c33de1e8c30378c109ff581cb9fc3"
	savedManifest  = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + savedConfigHex + `","size":292},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:` + savedLayerHex + `","size":3072}]}`
)

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// savedFiles reads the fixture's entries with archive/tar.
func savedFiles(t *testing.T) map[string][]byte {
	t.Helper()
	return tarContents(t, fixture("skopeo-docker-archive.tar"))
}

// TestDockerSaveReadCommands: ls, resolve, cat and validate read a docker save archive
// (before Docker 25, with an in-archive symlink) as the layout it stands for.
func TestDockerSaveReadCommands(t *testing.T) {
	archive := fixture("skopeo-docker-archive.tar")
	files := savedFiles(t)
	manifestDigest := sha256Of([]byte(savedManifest))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"resolve", archive + ":" + savedTag}, manifestDigest + "\n"},
		{[]string{"resolve", archive + ":" + savedTag, "--platform", "linux/amd64"}, manifestDigest + "\n"},
		{[]string{"ls", "-q", archive}, manifestDigest + "\n"},
		{[]string{"cat", archive + ":" + savedTag}, savedManifest},
		{[]string{"cat", "--config", archive + "@" + manifestDigest}, string(files[savedConfigHex+".json"])},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != 0 || strings.TrimSuffix(stdout, "\n") != strings.TrimSuffix(tc.want, "\n") {
			t.Errorf("%v = %d %q %s\nwant %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	code, stdout, stderr := runCLI(t, "ls", archive)
	if code != 0 || !strings.Contains(stdout, savedTag) || !strings.Contains(stdout, "linux/amd64") || !strings.Contains(stdout, manifestDigest) {
		t.Errorf("ls = %d %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "validate", archive)
	if code != 0 || !strings.Contains(stdout, "0 errors, 0 warnings, 0 notes (3 blobs") {
		t.Errorf("validate = %d %q %s", code, stdout, stderr)
	}
	raw, _ := os.ReadFile(archive)
	code, stdout, stderr = runStdin(t, bytes.NewReader(raw), "ls", "-q", "-:"+savedTag)
	if code != 0 || stdout != manifestDigest+"\n" {
		t.Errorf("ls -q -:%s = %d %q %s", savedTag, code, stdout, stderr)
	}
}

// TestDockerSaveCopyConverts: copy from a docker save archive writes an OCI layout
// (folder or tarball) that holds the image under its name, its layer and config the
// archive's bytes.
func TestDockerSaveCopyConverts(t *testing.T) {
	files := savedFiles(t)
	tmp := t.TempDir()
	manifestDigest := sha256Of([]byte(savedManifest))
	for _, dst := range []string{filepath.Join(tmp, "out"), filepath.Join(tmp, "out.tar")} {
		code, stdout, stderr := runCLI(t, "copy", "-q", fixture("skopeo-docker-archive.tar")+":"+savedTag, dst)
		if code != 0 || stdout != manifestDigest+"\n" {
			t.Fatalf("copy to %s = %d %q %s", dst, code, stdout, stderr)
		}
		if code, stdout, stderr := runCLI(t, "validate", dst); code != 0 {
			t.Errorf("validate %s = %d %s %s", dst, code, stdout, stderr)
		}
		if code, stdout, _ := runCLI(t, "resolve", dst+":"+savedTag); code != 0 || stdout != manifestDigest+"\n" {
			t.Errorf("resolve %s:%s = %d %q", dst, savedTag, code, stdout)
		}
	}
	out := filepath.Join(tmp, "out")
	for name, want := range map[string][]byte{
		"blobs/sha256/" + savedLayerHex:                   files[savedLayerHex+".tar"],
		"blobs/sha256/" + savedConfigHex:                  files[savedConfigHex+".json"],
		"blobs/sha256/" + manifestDigest[len("sha256:"):]: []byte(savedManifest),
	} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want the archive's %d bytes", name, len(got), err, len(want))
		}
	}
	idx, _ := os.ReadFile(filepath.Join(out, "index.json"))
	if !strings.Contains(string(idx), `"org.opencontainers.image.ref.name":"`+savedTag+`"`) {
		t.Errorf("index.json = %s", idx)
	}
}

// TestDockerSaveNotRewritten: a writer that would update a docker save archive in place
// refuses, naming it, and leaves its bytes as they were.
func TestDockerSaveNotRewritten(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "legacy.tar")
	before, _ := os.ReadFile(fixture("skopeo-docker-archive.tar"))
	if err := os.WriteFile(archive, before, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"merge", "-o", archive + ":more", fixture("oras-linux-amd64-el8")},
		{"copy", fixture("oras-linux-amd64-el8"), archive + ":more"},
		{"tag", archive + ":" + savedTag, "more"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "write "+archive+": read-only layout: it is a docker save archive") {
			t.Errorf("%v = %d %q %s", args, code, stdout, stderr)
		}
	}
	if after, _ := os.ReadFile(archive); !bytes.Equal(after, before) {
		t.Error("the docker save archive changed")
	}
}

// TestDockerSaveDamagedLayer: a layer whose bytes are not its diff ID is found by
// validate and stops copy, naming the digest, and copy adds nothing to its output.
func TestDockerSaveDamagedLayer(t *testing.T) {
	tmp := t.TempDir()
	claimed := strings.Repeat("ab", 32)
	config := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + claimed + `"]}}`
	archive := filepath.Join(tmp, "damaged.tar")
	writeTar(t, archive, false,
		tarEntry{name: "layer.tar", data: "not the layer the config names"},
		tarEntry{name: "config.json", data: config},
		tarEntry{name: "manifest.json", data: `[{"Config":"config.json","RepoTags":["app:1"],"Layers":["layer.tar"]}]`})
	code, stdout, stderr := runCLI(t, "validate", archive)
	if code != 1 || !strings.Contains(stdout+stderr, claimed) {
		t.Errorf("validate = %d %q %s", code, stdout, stderr)
	}
	out := filepath.Join(tmp, "out")
	code, _, stderr = runCLI(t, "copy", "-q", archive+":app:1", out)
	if code != 1 || !strings.Contains(stderr, "sha256:"+claimed) || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("copy = %d %s", code, stderr)
	}
	if idx, err := os.ReadFile(filepath.Join(out, "index.json")); err == nil && strings.Contains(string(idx), "sha256:") {
		t.Errorf("copy added to %s: %s", out, idx)
	}
}

// TestDockerSaveConvertedLoads: the OCI tarball copy makes from a docker save archive is
// loaded by podman under the image's full name, with the archive's config and layer, and
// skopeo reads the converted folder's manifest byte for byte.
func TestDockerSaveConvertedLoads(t *testing.T) {
	tmp := t.TempDir()
	tarball, folder := filepath.Join(tmp, "app.tar"), filepath.Join(tmp, "app")
	for _, dst := range []string{tarball, folder} {
		if code, _, stderr := runCLI(t, "copy", "-q", fixture("skopeo-docker-archive.tar")+":"+savedTag, dst); code != 0 {
			t.Fatalf("copy to %s: %s", dst, stderr)
		}
	}
	t.Run("podman", func(t *testing.T) {
		podman := imageTool(t, "podman")
		// podman refuses a run root of over 50 characters, which t.TempDir() is here.
		store, err := os.MkdirTemp("", "ocil-podman-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(store) })
		base := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs",
			"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", filepath.Join(store, "tmp")}
		os.MkdirAll(filepath.Join(store, "tmp"), 0o700)
		if out := runTool(t, podman, append(base, "load", "-i", tarball)...); !strings.Contains(out, "Loaded image: "+savedTag) {
			t.Errorf("podman load: %s", out)
		}
		out := runTool(t, podman, append(base, "image", "inspect", "--format", "{{.Id}} {{.Architecture}} {{.RootFS.Layers}}", savedTag)...)
		if want := savedConfigHex + " amd64 [sha256:" + savedLayerHex + "]"; strings.TrimSpace(out) != want {
			t.Errorf("podman image inspect %s = %q, want %q", savedTag, out, want)
		}
	})
	t.Run("skopeo", func(t *testing.T) {
		skopeo := skopeoPath(t)
		if out := runTool(t, skopeo, "inspect", "--raw", "oci:"+folder+":"+savedTag); out != savedManifest {
			t.Errorf("skopeo inspect --raw = %s\nwant %s", out, savedManifest)
		}
	})
}

package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const dockerListAmd64 = "sha256:b5e44d57a544e0fd43646c9d500450daccfffe681fdd0c4db4483c07ae309187"

// tarFile reads one entry of a tarball with archive/tar.
func tarFile(t *testing.T, tarball, name string) []byte {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s has no %s", tarball, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}

// dockerBundle writes, with copy --docker, a tarball of the docker save fixture's image
// and the linux/amd64 image of the docker-list fixture, each under a full name.
func dockerBundle(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bundle.tar")
	code, _, stderr := runCLI(t, "copy", "-q", "--docker", "--platform", "linux/amd64",
		fixture("skopeo-docker-archive.tar")+":"+savedTag,
		fixture("docker-list")+":v1=registry.example.com/team/multi:1",
		out)
	if code != 0 {
		t.Fatalf("copy --docker: %s", stderr)
	}
	return out
}

// TestCopyDockerManifest: --docker writes docker save's manifest.json and repositories
// beside the OCI layout: every entry's config and layers by their blob paths, under its
// name, the image for the one --platform out of an index.
func TestCopyDockerManifest(t *testing.T) {
	out := dockerBundle(t)
	var m ocispec.Manifest
	fixtureJSON(t, "docker-list", dockerListAmd64, &m)
	blob := func(d string) string { return `"blobs/sha256/` + strings.TrimPrefix(d, "sha256:") + `"` }
	want := `[{"Config":` + blob("sha256:"+savedConfigHex) + `,"RepoTags":["` + savedTag + `"],"Layers":[` + blob("sha256:"+savedLayerHex) + `]},` +
		`{"Config":` + blob(string(m.Config.Digest)) + `,"RepoTags":["registry.example.com/team/multi:1"],"Layers":[` + blob(string(m.Layers[0].Digest)) + `]}]`
	if got := string(tarFile(t, out, "manifest.json")); got != want {
		t.Errorf("manifest.json = %s\nwant %s", got, want)
	}
	wantRepos := `{"registry.example.com/legacy/app":{"7":"` + savedConfigHex + `"},"registry.example.com/team/multi":{"1":"` + strings.TrimPrefix(string(m.Config.Digest), "sha256:") + `"}}`
	if got := string(tarFile(t, out, "repositories")); got != wantRepos {
		t.Errorf("repositories = %s\nwant %s", got, wantRepos)
	}
	// The OCI layout is whole beside it.
	if code, stdout, stderr := runCLI(t, "validate", out); code != 0 {
		t.Errorf("validate = %d %s %s", code, stdout, stderr)
	}
}

// TestCopyDockerRefused: --docker refuses, naming the entry and what to do, an index of
// several platforms without --platform, an artifact that is not a container image, a tag
// that is not NAME:TAG, a folder and standard output; nothing is written.
func TestCopyDockerRefused(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out.tar")
	for _, tc := range []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"several platforms", []string{"copy", "--docker", fixture("docker-list") + ":v1=registry.example.com/team/multi:1", out}, 1,
			[]string{"entry registry.example.com/team/multi:1", "images for 2 platforms (linux/amd64, linux/arm64)", "--platform"}},
		{"artifact", []string{"copy", "--docker", fixture("oras-linux-amd64-el8") + "=registry.example.com/team/rpms:el8", out}, 2,
			[]string{"entry registry.example.com/team/rpms:el8", "not a container image"}},
		{"short tag", []string{"copy", "--docker", fixture("umoci-image") + ":arm64", out}, 2,
			[]string{`"arm64" is not an image name with a tag`, "SRC=NAME"}},
		{"folder", []string{"copy", "--docker", fixture("umoci-image") + ":arm64", filepath.Join(tmp, "folder")}, 2,
			[]string{"--docker writes a tarball"}},
		{"stdout", []string{"copy", "--docker", fixture("umoci-image") + ":arm64", "-"}, 2,
			[]string{"--docker writes a tarball file", "not standard output"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code || stdout != "" {
				t.Errorf("%v = %d %q %s", tc.args, code, stdout, stderr)
			}
			for _, s := range tc.says {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, stderr)
				}
			}
			for _, name := range []string{"out.tar", "folder"} {
				if _, err := os.Stat(filepath.Join(tmp, name)); !os.IsNotExist(err) {
					t.Errorf("%s was written: %v", name, err)
				}
			}
		})
	}
}

// TestCopyDockerLoads: podman load and containerd's ctr import load every image of a
// --docker tarball under its name.
func TestCopyDockerLoads(t *testing.T) {
	out := dockerBundle(t)
	var m ocispec.Manifest
	fixtureJSON(t, "docker-list", dockerListAmd64, &m)
	names := []string{savedTag, "registry.example.com/team/multi:1"}
	t.Run("podman", func(t *testing.T) {
		podman := imageTool(t, "podman")
		store, err := os.MkdirTemp("", "ocil-podman-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(store) })
		base := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs",
			"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", filepath.Join(store, "tmp")}
		os.MkdirAll(filepath.Join(store, "tmp"), 0o700)
		loaded := runTool(t, podman, append(base, "load", "-i", out)...)
		for _, n := range names {
			if !strings.Contains(loaded, n) {
				t.Errorf("podman load does not name %s:\n%s", n, loaded)
			}
		}
		got := runTool(t, podman, append(base, "image", "inspect", "--format", "{{.Id}}", names[1])...)
		if strings.TrimSpace(got) != strings.TrimPrefix(string(m.Config.Digest), "sha256:") {
			t.Errorf("podman image inspect %s = %q, want the config %s", names[1], got, m.Config.Digest)
		}
	})
	t.Run("containerd", func(t *testing.T) {
		ctr := startContainerd(t)
		ctr("images", "import", "--all-platforms", out)
		ls := ctr("images", "ls", "-q")
		for _, n := range names {
			if !strings.Contains(ls, n+"\n") {
				t.Errorf("ctr images ls does not list %s:\n%s", n, ls)
			}
		}
		check := ctr("images", "check")
		if strings.Count(check, "complete") < len(names) {
			t.Errorf("ctr images check:\n%s", check)
		}
	})
}

// TestCopyNamesForContainerd: without --docker, ctr import names each image of an OCI
// tarball that copy SRC=NAME... wrote by its io.containerd.image.name.
func TestCopyNamesForContainerd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bundle.tar")
	if code, _, stderr := runCLI(t, "copy", "-q",
		fixture("skopeo-docker-archive.tar")+":"+savedTag+"=registry.example.com/team/app:1.2",
		fixture("docker-list")+":v1=registry.example.com/team/multi:1", out); code != 0 {
		t.Fatal(stderr)
	}
	ctr := startContainerd(t)
	ctr("images", "import", "--all-platforms", out)
	ls := ctr("images", "ls", "-q")
	for _, n := range []string{"registry.example.com/team/app:1.2", "registry.example.com/team/multi:1"} {
		if !strings.Contains(ls, n+"\n") {
			t.Errorf("ctr images ls does not list %s:\n%s", n, ls)
		}
	}
}

// startContainerd starts a containerd of the test's own (its --root, --state and
// --address in a temporary folder, the CRI plugin off), stopped when the test ends, and
// returns a function that runs ctr against it.
func startContainerd(t *testing.T) func(args ...string) string {
	t.Helper()
	containerd := imageTool(t, "containerd")
	ctr := imageTool(t, "ctr")
	// A unix socket path is at most 107 bytes: a short folder of its own.
	dir, err := os.MkdirTemp("", "ocil-ctd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "c.sock")
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(containerd, "--config", config, "--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"), "--address", sock)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("containerd cannot start here: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if exec.Command(ctr, "--address", sock, "version").Run() == nil {
			break
		}
		if i == 100 {
			t.Fatalf("containerd did not answer on %s within 10 s:\n%s", sock, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return func(args ...string) string {
		t.Helper()
		return runTool(t, ctr, append([]string{"--address", sock}, args...)...)
	}
}

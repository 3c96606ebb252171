package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// helloOutput is what the test binary prints, with its architecture.
const helloOutput = "hello from an ocil image on "

// helloBinary builds a small static linux binary for goarch in dir, with the Go toolchain
// running this test, in a temp module of its own.
func helloBinary(t *testing.T, dir, goarch string) string {
	t.Helper()
	main := "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"runtime\"\n)\n\nfunc main() {\n\tfmt.Println(\"" + helloOutput + "\" + runtime.GOARCH, os.Args[1:])\n}\n"
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644)
	out := filepath.Join(dir, "hello-"+goarch)
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hello for %s: %v\n%s", goarch, err, b)
	}
	return out
}

// imageTool returns a client the image tests run. make test installs them and sets
// OCIL_REQUIRE_IMAGE_TOOLS=1, so there a missing one fails instead of skipping.
func imageTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OCIL_REQUIRE_IMAGE_TOOLS") == "1" {
			t.Fatalf("%s is required by OCIL_REQUIRE_IMAGE_TOOLS=1 (make tools installs it: apt-get install %s)", name, name)
		}
		t.Skipf("%s not installed (apt-get install %s); make test requires it", name, name)
	}
	return p
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, shellJoin(args), err, out.String(), errOut.String())
	}
	return out.String()
}

func runOcil(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("ocil %s: exit %d\n%s%s", shellJoin(args), code, stdout, stderr)
	}
	return stdout
}

func readImageBlob(t *testing.T, dir string, d ocispec.Descriptor, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// imageConfigOf reads the config of the image manifest d in dir.
func imageConfigOf(t *testing.T, dir string, d ocispec.Descriptor) (ocispec.Manifest, ocispec.Image) {
	t.Helper()
	var m ocispec.Manifest
	readImageBlob(t, dir, d, &m)
	var cfg ocispec.Image
	readImageBlob(t, dir, m.Config, &cfg)
	return m, cfg
}

func TestAddImageUntaggedIsTheOnlyEntry(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hello")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	out := filepath.Join(tmp, "out")
	stdout := runOcil(t, "add", out, "--platform", "arm64v8", "--image", "--entrypoint", `["/hello", "a b", "[x]"]`,
		"--cmd", "c d", "--cmd", "--e=f,g", "--env", "A=1,2", "--workdir", "/", "--user", "1000:1000", "--label", "k=v, w",
		"--created", "2024-05-06T07:08:09Z", bin)
	idx := readIndexJSON(t, out)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want the image only", len(idx.Manifests))
	}
	d := idx.Manifests[0]
	if d.MediaType != ocispec.MediaTypeImageManifest || string(d.Digest)+"\n" != stdout || d.Annotations != nil ||
		d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != "arm64" || d.Platform.Variant != "v8" {
		t.Fatalf("entry %+v, stdout %q", d, stdout)
	}
	_, cfg := imageConfigOf(t, out, d)
	c := cfg.Config
	if got := strings.Join(c.Entrypoint, "|"); got != "/hello|a b|[x]" {
		t.Errorf("Entrypoint %q", got)
	}
	if got := strings.Join(c.Cmd, "|"); got != "c d|--e=f,g" {
		t.Errorf("Cmd %q", got)
	}
	if strings.Join(c.Env, "|") != "A=1,2" || c.WorkingDir != "/" || c.User != "1000:1000" || c.Labels["k"] != "v, w" || len(c.Labels) != 1 {
		t.Errorf("config %+v", c)
	}
	if cfg.Created == nil || cfg.Created.Format("2006-01-02T15:04:05Z07:00") != "2024-05-06T07:08:09Z" || cfg.Architecture != "arm64" || cfg.Variant != "v8" {
		t.Errorf("created %v, platform %s/%s", cfg.Created, cfg.Architecture, cfg.Variant)
	}
}

func TestAddImageSourceDateEpochAndTags(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hello")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	out := filepath.Join(tmp, "out")
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	amd := strings.TrimSpace(runOcil(t, "add", out+":1.0", "--platform", "amd64", "--image", bin))
	arm := strings.TrimSpace(runOcil(t, "add", out+":1.0", "--platform", "linux/arm64", "--image", bin))
	// The same platform again, other settings: replaced in place.
	amd2 := strings.TrimSpace(runOcil(t, "add", out+":1.0", "--platform", "linux/amd64", "--image", "--entrypoint", "/hello", bin))
	idx := readIndexJSON(t, out)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "1.0" {
		t.Fatalf("index.json %+v", idx)
	}
	var nested ocispec.Index
	readImageBlob(t, out, idx.Manifests[0], &nested)
	if len(nested.Manifests) != 2 || string(nested.Manifests[0].Digest) != amd2 || string(nested.Manifests[1].Digest) != arm || amd == amd2 {
		t.Fatalf("tag's index %+v; want %s then %s", nested.Manifests, amd2, arm)
	}
	_, cfg := imageConfigOf(t, out, nested.Manifests[0])
	if cfg.Created == nil || cfg.Created.Unix() != 1700000000 || cfg.History[0].Created == nil || cfg.History[0].Created.Unix() != 1700000000 {
		t.Fatalf("created %v, history %+v", cfg.Created, cfg.History)
	}
	// The replaced image's blobs are unreferenced until gc; then nothing is found.
	runOcil(t, "gc", out)
	code, stdout, stderr := runCLI(t, "validate", "--for-push", "--strict", out)
	if code != 0 || !strings.Contains(stdout, "0 errors, 0 warnings, 0 notes") {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestAddImageRefusesBadInput: each bad input is refused with an error naming it, and a
// new layout is not created.
func TestAddImageRefusesBadInput(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hello")
	os.WriteFile(bin, []byte("x"), 0o755)
	fifo := filepath.Join(tmp, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "new")
	for _, tc := range []struct {
		name    string
		args    []string
		mention []string
	}{
		{"no files", []string{"--image"}, []string{"SRC[=DEST]"}},
		{"JSON and more", []string{"--image", "--entrypoint", `["/a"]`, "--entrypoint", "b", bin}, []string{`--entrypoint ["/a"]`, "once"}},
		{"bad JSON", []string{"--image", "--cmd", `["a",]`, bin}, []string{`--cmd ["a",]`, "JSON array of strings"}},
		{"not strings", []string{"--image", "--cmd", `["a", 1]`, bin}, []string{`--cmd ["a", 1]`, "1 is not a string"}},
		{"null", []string{"--image", "--entrypoint", `[null]`, bin}, []string{"null is not a string"}},
		{"image flag without --image", []string{"--entrypoint", "/a", bin}, []string{"--entrypoint is for images"}},
		{"artifact flag with --image", []string{"--image", "--artifact-type", "a/b", bin}, []string{"--artifact-type is for artifacts"}},
		{"relative DEST", []string{"--image", bin + "=bin/hello"}, []string{bin + "=bin/hello", "absolute"}},
		{"dot-dot DEST", []string{"--image", bin + "=/../hello"}, []string{`"/../hello"`, `".."`}},
		{"two SRC one DEST", []string{"--image", bin + "=/x", fifo + "=/x"}, []string{fifo}},
		{"same DEST twice", []string{"--image", bin, bin}, []string{bin, "/hello"}},
		{"FIFO", []string{"--image", fifo}, []string{fifo, "FIFO"}},
		{"device", []string{"--image", "/dev/null=/null"}, []string{"/dev/null", "character device"}},
		{"missing", []string{"--image", filepath.Join(tmp, "nope")}, []string{filepath.Join(tmp, "nope")}},
		{"compression", []string{"--image", "--compression", "xz", bin}, []string{`"xz"`}},
		{"env", []string{"--image", "--env", "NOVALUE", bin}, []string{`"NOVALUE"`}},
		{"created", []string{"--image", "--created", "yesterday", bin}, []string{`"yesterday"`}},
		{"platform", []string{"--image", "--platform", "arm64", bin}, []string{`"arm64"`, "bashbrew", "arm64v8"}},
		{"windows", []string{"--image", "--platform", "windows-amd64", bin}, []string{"windows/amd64", "Windows base layer"}},
		{"relative workdir", []string{"--image", "--workdir", "app", bin}, []string{`workdir "app"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"add", out + ":v1"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--platform") {
				args = append(args, "--platform", "linux/amd64")
			}
			code, stdout, stderr := runCLI(t, args...)
			if code == 0 || stdout != "" {
				t.Fatalf("exit %d, stdout %q", code, stdout)
			}
			for _, s := range tc.mention {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not mention %q", stderr, s)
				}
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Fatalf("%s was created: %v", out, err)
			}
		})
	}
}

// TestAddImageClients proves the images run and load with real clients: umoci unpacks a
// rootfs whose binary runs, podman loads the tarball and shows the entrypoint and
// platform, skopeo shows the config, and skopeo copies the merged multi-platform index.
func TestAddImageClients(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	os.Mkdir(filepath.Join(tmp, "src"), 0o755)
	layouts, hellos := map[string]string{}, map[string]string{}
	digests := map[string]string{}
	for _, arch := range []string{"amd64", "arm64"} {
		bin := helloBinary(t, filepath.Join(tmp, "src"), arch)
		hellos[arch] = bin
		l := filepath.Join(tmp, arch)
		bb := map[string]string{"amd64": "amd64", "arm64": "arm64v8"}[arch]
		digests[arch] = strings.TrimSpace(runOcil(t, "add", l+":latest", "--platform", bb, "--image",
			"--entrypoint", `["/usr/local/bin/hello", "from entrypoint"]`, "--env", "PATH=/usr/local/bin", bin+"=/usr/local/bin/hello"))
		layouts[arch] = l
	}
	merged := filepath.Join(tmp, "merged")
	runOcil(t, "merge", "-o", merged+":latest", layouts["amd64"]+":latest", layouts["arm64"]+":latest")
	code, stdout, stderr := runCLI(t, "validate", "--for-push", "--strict", merged)
	if code != 0 || !strings.Contains(stdout, "0 errors, 0 warnings, 0 notes") {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}

	t.Run("umoci", func(t *testing.T) {
		umoci := imageTool(t, "umoci")
		if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
			t.Skip("runs the unpacked binary: needs linux on amd64 or arm64")
		}
		bundle := filepath.Join(t.TempDir(), "bundle")
		args := []string{"unpack", "--image", layouts[runtime.GOARCH] + ":latest", bundle}
		if os.Geteuid() != 0 {
			args = append(args[:1], append([]string{"--rootless"}, args[1:]...)...)
		}
		runTool(t, umoci, args...)
		hello := filepath.Join(bundle, "rootfs", "usr", "local", "bin", "hello")
		fi, err := os.Stat(hello)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", hello, fi.Mode())
		}
		if got, want := runTool(t, hello, "x"), helloOutput+runtime.GOARCH+" [x]\n"; got != want {
			t.Fatalf("the unpacked binary printed %q, want %q", got, want)
		}
		var spec struct {
			Process struct{ Args, Env []string }
		}
		b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &spec)
		if strings.Join(spec.Process.Args, "|") != "/usr/local/bin/hello|from entrypoint" {
			t.Errorf("runtime args %q", spec.Process.Args)
		}
	})

	t.Run("podman", func(t *testing.T) {
		podman := imageTool(t, "podman")
		// podman load takes the image for the machine's platform from the index.
		arch, variant := runtime.GOARCH, map[string]string{"arm64": "v8"}[runtime.GOARCH]
		if layouts[arch] == "" {
			t.Skip("podman load picks the machine's platform: needs amd64 or arm64")
		}
		// The gzip image, and the same files as a zstd one. podman decompresses each layer
		// and checks its digest against the config's diff ID.
		zstdLayout := filepath.Join(t.TempDir(), "zstd")
		zstdDigest := strings.TrimSpace(runOcil(t, "add", zstdLayout+":latest", "--platform", "linux/"+arch, "--image", "--compression", "zstd",
			"--entrypoint", `["/usr/local/bin/hello", "from entrypoint"]`, "--env", "PATH=/usr/local/bin", hellos[arch]+"=/usr/local/bin/hello"))
		// Each is loaded from a plain tarball and from a seekable compressed one.
		for _, tc := range []struct{ name, layout, digest, tarball string }{
			{"gzip", layouts[arch], digests[arch], "hello.tar"}, {"zstd", zstdLayout, zstdDigest, "hello.tar"},
			{"gzip", layouts[arch], digests[arch], "hello.tar.gz"}, {"zstd", zstdLayout, zstdDigest, "hello.tar.zst"},
		} {
			tarball := filepath.Join(t.TempDir(), tc.tarball)
			runOcil(t, "copy", tc.layout+":latest", tarball)
			store := t.TempDir()
			base := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs",
				"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", filepath.Join(store, "tmp")}
			os.MkdirAll(filepath.Join(store, "tmp"), 0o700)
			runTool(t, podman, append(base, "load", "-i", tarball)...)
			m, cfg := imageConfigOf(t, tc.layout, ocispec.Descriptor{Digest: digest.Digest(tc.digest)})
			wantLayer := map[string]string{"gzip": ocispec.MediaTypeImageLayerGzip, "zstd": ocispec.MediaTypeImageLayerZstd}[tc.name]
			if m.Layers[0].MediaType != wantLayer {
				t.Fatalf("%s: layer %s", tc.name, m.Layers[0].MediaType)
			}
			out := runTool(t, podman, append(base, "image", "inspect", m.Config.Digest.Encoded())...)
			var inspect []struct {
				Architecture, Os, Variant string
				Config                    struct{ Entrypoint, Env []string }
				RootFS                    struct{ Layers []string }
			}
			if err := json.Unmarshal([]byte(out), &inspect); err != nil || len(inspect) != 1 {
				t.Fatalf("%s: podman image inspect: %v\n%s", tc.name, err, out)
			}
			got := inspect[0]
			if got.Architecture != arch || got.Os != "linux" || got.Variant != variant ||
				strings.Join(got.Config.Entrypoint, "|") != "/usr/local/bin/hello|from entrypoint" || strings.Join(got.Config.Env, "|") != "PATH=/usr/local/bin" ||
				len(got.RootFS.Layers) != 1 || got.RootFS.Layers[0] != string(cfg.RootFS.DiffIDs[0]) {
				t.Fatalf("%s: podman image inspect: %+v; want the diff ID %s", tc.name, got, cfg.RootFS.DiffIDs[0])
			}
		}
	})

	t.Run("skopeo", func(t *testing.T) {
		skopeo := skopeoPath(t)
		out := runTool(t, skopeo, "inspect", "--config", "--override-arch", "arm64", "--override-variant", "v8", "oci:"+merged+":latest")
		var cfg ocispec.Image
		if err := json.Unmarshal([]byte(out), &cfg); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if cfg.Architecture != "arm64" || cfg.Variant != "v8" || cfg.OS != "linux" || cfg.Created == nil || cfg.Created.Unix() != 1700000000 ||
			strings.Join(cfg.Config.Entrypoint, "|") != "/usr/local/bin/hello|from entrypoint" || len(cfg.RootFS.DiffIDs) != 1 {
			t.Fatalf("skopeo inspect --config: %s", out)
		}
		var m ocispec.Manifest
		readImageBlob(t, layouts["arm64"], ocispec.Descriptor{Digest: digest.Digest(digests["arm64"])}, &m)
		if cfg.RootFS.DiffIDs[0] == m.Layers[0].Digest {
			t.Fatalf("the diff ID is the compressed layer's digest")
		}
		dst := filepath.Join(t.TempDir(), "copy")
		runTool(t, skopeo, "copy", "--multi-arch", "all", "oci:"+merged+":latest", "oci:"+dst+":latest")
		idx := readIndexJSON(t, dst)
		if len(idx.Manifests) != 1 {
			t.Fatalf("copy's index.json: %+v", idx)
		}
		var nested ocispec.Index
		readImageBlob(t, dst, idx.Manifests[0], &nested)
		var got []string
		for _, d := range nested.Manifests {
			got = append(got, d.Platform.Architecture+"="+string(d.Digest))
		}
		if want := "amd64=" + digests["amd64"] + " arm64=" + digests["arm64"]; strings.Join(got, " ") != want {
			t.Fatalf("skopeo's copy lists %v, want %s", got, want)
		}
	})
}

// Concurrent add --image processes, each a bashbrew platform, into one tag: all land.
func TestAddImageConcurrent(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "layout")
	bin := filepath.Join(tmp, "hello")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	names := []string{"amd64", "arm32v6", "arm32v7", "arm64v8", "i386", "ppc64le", "riscv64", "s390x"}
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for _, n := range names {
		cmd := ocilProcess(t, "add", dst+":v1", "--platform", n, "--lock-timeout", "60s", "--image", "--cmd", n, bin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, &stderr)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("add %s: %v\n%s", names[i], err, errs[i])
		}
	}
	checkLayout(t, dst, -1) // validate finds no error, every blob reads back
	idx := readIndexJSON(t, dst)
	var nested ocispec.Index
	readImageBlob(t, dst, idx.Manifests[0], &nested)
	var got []string
	for _, d := range nested.Manifests {
		_, cfg := imageConfigOf(t, dst, d)
		got = append(got, d.Platform.Architecture+d.Platform.Variant+"="+strings.Join(cfg.Config.Cmd, ""))
	}
	// Canonical order, each with its own config.
	if want := "386=i386 amd64=amd64 armv6=arm32v6 armv7=arm32v7 arm64v8=arm64v8 ppc64le=ppc64le riscv64=riscv64 s390x=s390x"; strings.Join(got, " ") != want {
		t.Fatalf("tag's index: %s\nwant         %s", strings.Join(got, " "), want)
	}
}

// SRC[=DEST]: DEST follows the last "=/", so a SRC may hold '='; "dir=/" is the root.
func TestAddImageSourceNames(t *testing.T) {
	tmp := t.TempDir()
	eq := filepath.Join(tmp, "k=v")
	os.WriteFile(eq, []byte("eq"), 0o640)
	root := filepath.Join(tmp, "root")
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "os-release"), []byte("ID=test\n"), 0o644)
	link := filepath.Join(tmp, "link")
	os.Symlink("k=v", link)
	out := filepath.Join(tmp, "out")
	stdout := runOcil(t, "add", out+":v1", "--platform", "linux/amd64", "--image", "--format", "json",
		eq, eq+"=/srv/k=v", link, root+"=/")
	var res struct {
		Manifest, Index ocispec.Descriptor
		Replaced        *ocispec.Descriptor
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Manifest.Platform == nil || res.Index.MediaType != ocispec.MediaTypeImageIndex || res.Replaced != nil {
		t.Fatalf("json output %s", stdout)
	}
	m, cfg := imageConfigOf(t, out, res.Manifest)
	f, err := os.Open(filepath.Join(out, "blobs", "sha256", m.Layers[0].Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	sum := sha256.Sum256(raw)
	if got := "sha256:" + hex.EncodeToString(sum[:]); string(cfg.RootFS.DiffIDs[0]) != got {
		t.Fatalf("diff ID %s, the layer's tar is %s", cfg.RootFS.DiffIDs[0], got)
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %o %c", h.Name, h.Mode, h.Typeflag))
	}
	want := []string{"etc/ 755 5", "etc/os-release 644 0", "k=v 640 0", "link 640 0", "srv/ 755 5", "srv/k=v 640 0"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("layer entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A SRC link to a FIFO or a device is refused like the FIFO itself.
func TestAddImageLinkToSpecialFile(t *testing.T) {
	tmp := t.TempDir()
	fifo := filepath.Join(tmp, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for target, kind := range map[string]string{fifo: "FIFO", "/dev/zero": "character device"} {
		link := filepath.Join(tmp, "link-"+filepath.Base(target))
		os.Symlink(target, link)
		out := filepath.Join(tmp, "out")
		code, _, stderr := runCLI(t, "add", out, "--platform", "amd64", "--image", link)
		if code == 0 || !strings.Contains(stderr, link) || !strings.Contains(stderr, kind) {
			t.Fatalf("%s -> %s: exit %d, %s", link, target, code, stderr)
		}
		if _, err := os.Lstat(out); !os.IsNotExist(err) {
			t.Fatalf("%s was created", out)
		}
	}
}

// --image is a switch: written once before the files or before each, the image is the same.
func TestAddImageSwitchRepeated(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(b, []byte("b"), 0o644)
	once := runOcil(t, "add", filepath.Join(tmp, "once"), "--platform", "amd64", "--image", a, b+"=/x/b")
	each := runOcil(t, "add", filepath.Join(tmp, "each"), "--platform", "amd64", "--image", a, "--image", b+"=/x/b")
	if once != each || !strings.HasPrefix(once, "sha256:") {
		t.Fatalf("--image once: %s--image before each file: %s", once, each)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// The composition story: begin mybinary:v1 for linux/amd64, add linux/arm64, add an
// annotation, copy to a tarball, pull the arm64 file back byte for byte.
func TestComposeStory(t *testing.T) {
	tmp := t.TempDir()
	amdBin := filepath.Join(tmp, "amd64", "mybinary")
	armBin := filepath.Join(tmp, "arm64", "mybinary")
	os.MkdirAll(filepath.Dir(amdBin), 0o755)
	os.MkdirAll(filepath.Dir(armBin), 0o755)
	os.WriteFile(amdBin, []byte("\x7fELF amd64 build"), 0o755)
	os.WriteFile(armBin, []byte("\x7fELF arm64 build"), 0o755)
	dst := filepath.Join(tmp, "layout")
	must := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("ocil %v: exit %d\n%s", args, code, stderr)
		}
		return strings.TrimSpace(stdout)
	}
	at := "--artifact-type=application/vnd.example.mybinary.v1"
	amd1 := must("add", dst+":v1", "--platform", "linux/amd64", at, amdBin)
	arm := must("add", dst+":v1", "--platform", "linux/arm64", at, armBin)
	amd2 := must("add", dst+":v1", "--platform", "linux/amd64", at, "--annotation", "org.opencontainers.image.version=1.0", amdBin)
	if amd1 == amd2 {
		t.Fatal("the annotation did not change the amd64 manifest")
	}
	// Same files and flags again: the same digest (no time stamps).
	if again := must("add", dst+":v1", "--platform", "linux/arm64", at, armBin); again != arm {
		t.Fatalf("re-adding gave %s, first %s", again, arm)
	}
	r, err := layout.ResolveRef(context.Background(), dst+":v1", layout.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, idx, _, _ := r.Layout.ReadDocument(context.Background(), r.Descriptor)
	if len(idx.Manifests) != 2 || string(idx.Manifests[0].Digest) != amd2 || string(idx.Manifests[1].Digest) != arm {
		t.Fatalf("v1 lists %+v; want amd64 (replaced in place) then arm64", idx.Manifests)
	}
	tarball := filepath.Join(tmp, "mybinary.tar")
	must("copy", dst+":v1", tarball)
	out := filepath.Join(tmp, "out")
	if got := must("pull", tarball+":v1", "--platform", "linux/arm64", "-o", out); got != "mybinary" {
		t.Fatalf("pull printed %q", got)
	}
	b, _ := os.ReadFile(filepath.Join(out, "mybinary"))
	if !bytes.Equal(b, []byte("\x7fELF arm64 build")) {
		t.Fatalf("pulled %q", b)
	}
	// A second pull does not overwrite without --force.
	if code, _, stderr := runCLI(t, "pull", tarball+":v1", "--platform", "linux/arm64", "-o", out); code != 1 || !strings.Contains(stderr, "--force") {
		t.Fatalf("second pull: exit %d, %s", code, stderr)
	}
	must("pull", tarball+":v1", "--platform", "linux/arm64", "-o", out, "--force")
}

func TestComposeSkopeo(t *testing.T) {
	sk := skopeoPath(t)
	tmp := t.TempDir()
	f := filepath.Join(tmp, "tool")
	os.WriteFile(f, []byte("tool"), 0o644)
	dst := filepath.Join(tmp, "layout")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if code, _, stderr := runCLI(t, "add", dst+":v1", "--platform", p, "--platform-config", f); code != 0 {
			t.Fatal(stderr)
		}
	}
	other := filepath.Join(tmp, "other")
	if out, err := exec.Command(sk, "copy", "-q", "--multi-arch", "all", "oci:"+dst+":v1", "oci:"+other+":v1").CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if code, _, stderr := runCLI(t, "resolve", other+":v1", "--platform", p); code != 0 {
			t.Fatalf("the skopeo copy has no %s: %s", p, stderr)
		}
	}
}

// 16 add processes, each a different platform, into one tag at once: all 16 are there,
// no platform twice, every blob reads back.
func TestComposeConcurrentAdds(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "layout")
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i := 0; i < 16; i++ {
		f := filepath.Join(tmp, fmt.Sprintf("file-%02d", i))
		os.WriteFile(f, []byte(fmt.Sprintf("payload %d", i)), 0o644)
		cmd := ocilProcess(t, "add", dst+":v1", "--platform", fmt.Sprintf("linux/amd64:el%d", i), "--lock-timeout", "60s", f)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, &stderr)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("add %d: %v\n%s", i, err, errs[i])
		}
	}
	checkLayout(t, dst, 16)
}

// checkLayout asserts that ocil validate finds no error (unreferenced blobs and temp files
// are notes), that every index.json entry and everything it reaches reads back verified,
// and that tag v1 has want distinct platforms.
func checkLayout(t *testing.T, dir string, want int) {
	t.Helper()
	ctx := context.Background()
	rep, err := validate.Layout(ctx, dir, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors > 0 {
		t.Fatalf("validate %s: %d errors: %+v", dir, rep.Errors, rep.Findings)
	}
	l, err := layout.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := l.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := l.Blobs(ctx, idx.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range blobs {
		rc, err := l.OpenBlob(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bytes.NewBuffer(nil).ReadFrom(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if want < 0 {
		return
	}
	r, err := layout.ResolveRef(ctx, dir+":v1", layout.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, nested, _, err := l.ReadDocument(ctx, r.Descriptor)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range nested.Manifests {
		seen[m.Platform.OSVersion] = true
	}
	if len(nested.Manifests) != want || len(seen) != want {
		t.Fatalf("v1 has %d manifests for %d platforms, want %d", len(nested.Manifests), len(seen), want)
	}
}

// gc looping while 8 writers add and merge: nothing a writer committed is lost.
func TestGCBesideWriters(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "layout")
	if code, _, stderr := runCLI(t, "add", dst+":seed", "--platform", "linux/amd64", filepath.Join("..", "..", "README.md")); code != 0 {
		t.Fatal(stderr)
	}
	stop := make(chan struct{})
	gcDone := make(chan error, 1)
	go func() {
		runs := 0
		for {
			select {
			case <-stop:
				if runs == 0 {
					gcDone <- fmt.Errorf("gc never ran")
					return
				}
				gcDone <- nil
				return
			default:
			}
			cmd := ocilProcess(t, "gc", dst, "--lock-timeout", "60s")
			if out, err := cmd.CombinedOutput(); err != nil {
				gcDone <- fmt.Errorf("gc: %v\n%s", err, out)
				return
			}
			runs++
		}
	}()
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i := 0; i < 8; i++ {
		var cmd *exec.Cmd
		if i%2 == 0 {
			f := filepath.Join(tmp, fmt.Sprintf("w%d", i))
			os.WriteFile(f, []byte(fmt.Sprintf("writer %d", i)), 0o644)
			cmd = ocilProcess(t, "add", dst+":v1", "--platform", fmt.Sprintf("linux/arm64:w%d", i), "--lock-timeout", "60s", f)
		} else {
			cmd = ocilProcess(t, "merge", "-q", "-o", fmt.Sprintf("%s:m%d", dst, i), "--lock-timeout", "60s", "../../testdata/fixtures/oras-linux-amd64-el8", "../../testdata/fixtures/oras-linux-arm64-v8-el9")
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, errs = append(cmds, cmd), append(errs, &stderr)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, errs[i])
		}
	}
	close(stop)
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	checkLayout(t, dst, 4)
	l, _ := layout.Open(dst)
	idx, _ := l.Index(context.Background())
	tags := map[string]bool{}
	for _, d := range idx.Manifests {
		tags[d.Annotations[ocispec.AnnotationRefName]] = true
	}
	for _, want := range []string{"seed", "v1", "m1", "m3", "m5", "m7"} {
		if !tags[want] {
			t.Fatalf("tag %s lost; index.json has %v", want, tags)
		}
	}
}

// kill -9 at random moments of add and merge: index.json is always the old or the new
// version, valid, and everything it reaches reads back.
func TestKillDuringWrites(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "layout")
	big := filepath.Join(tmp, "big")
	data := make([]byte, 8<<20)
	src := rand.NewChaCha8([32]byte{1})
	src.Read(data)
	os.WriteFile(big, data, 0o644)
	if code, _, stderr := runCLI(t, "add", dst+":v1", "--platform", "linux/amd64", big); code != 0 {
		t.Fatal(stderr)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	versions := map[string]bool{}
	for i := 0; i < 50; i++ {
		before, _ := os.ReadFile(filepath.Join(dst, "index.json"))
		versions[string(before)] = true
		var cmd *exec.Cmd
		if i%2 == 0 {
			f := filepath.Join(tmp, fmt.Sprintf("f%d", i))
			os.WriteFile(f, append(data[:4<<20:4<<20], byte(i)), 0o644)
			cmd = ocilProcess(t, "add", dst+":v1", "--platform", fmt.Sprintf("linux/arm64:k%d", i), f)
		} else {
			cmd = ocilProcess(t, "merge", "-q", "--link", "copy", "-o", fmt.Sprintf("%s:m%d", dst, i), "../../testdata/fixtures/oras-linux-amd64-el9", "../../testdata/fixtures/oras-linux-arm64-v8-el8")
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		after, err := os.ReadFile(filepath.Join(dst, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := layout.DecodeIndex(after); err != nil {
			t.Fatalf("run %d: index.json is broken: %v\n%s", i, err, after)
		}
		if string(after) != string(before) {
			// The new version: it must hold everything the old one had plus the writer's tag.
			var a, b ocispec.Index
			json.Unmarshal(before, &b)
			json.Unmarshal(after, &a)
			if len(a.Manifests) < len(b.Manifests) {
				t.Fatalf("run %d: entries went from %d to %d", i, len(b.Manifests), len(a.Manifests))
			}
		}
		checkLayout(t, dst, -1)
	}
	// The killed runs left unreferenced blobs at worst; gc removes them and the layout
	// still reads back whole.
	if code, _, stderr := runCLI(t, "gc", dst); code != 0 {
		t.Fatal(stderr)
	}
	checkLayout(t, dst, -1)
	t.Logf("%d distinct index.json versions seen", len(versions))
}

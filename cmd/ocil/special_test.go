//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
)

// processBound is how long a process test lets ocil run before it counts as hung. It only
// bounds a failure: a passing run ends as soon as ocil does.
const processBound = 60 * time.Second

// ocilWithin runs ocil in a process of its own and kills it if it is still running after
// processBound: a test of something that used to hang fails instead of hanging the suite.
func ocilWithin(t *testing.T, args ...string) (code int, output string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processBound)
	defer cancel()
	p := ocilProcess(t, args...)
	cmd := exec.CommandContext(ctx, p.Path, p.Args[1:]...)
	cmd.Env = p.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ocil %s still ran after %s: %s", strings.Join(args, " "), processBound, out.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

func makeFIFO(t *testing.T, p string) {
	t.Helper()
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
}

// pullableLayout is a layout whose v1 is a manifest with one titled layer.
func pullableLayout(t *testing.T, layer ocispec.Descriptor, data []byte) (*tl.Builder, ocispec.Descriptor) {
	b := tl.New(t)
	if data != nil {
		b.WriteFile("blobs/sha256/"+layer.Digest.Encoded(), data)
	}
	layer.Annotations = map[string]string{ocispec.AnnotationTitle: "payload.bin"}
	m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{layer}})
	b.SetIndex(tl.Tag(m, "v1"))
	return b, m
}

// A FIFO as index.json, oci-layout, a blob or a tarball is refused by name at once; ls,
// gc, cat, pull, copy and validate used to wait for a writer for ever (and a hung gc held the ingest lock,
// so every writer behind it timed out).
func TestFIFOsNeverOpened(t *testing.T) {
	data := []byte("payload")
	layer := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
	tmp := t.TempDir()
	for _, tc := range []struct {
		fifo  string // the layout file made a FIFO
		args  func(dir string, m ocispec.Descriptor) []string
		names string
	}{
		{"index.json", func(dir string, _ ocispec.Descriptor) []string { return []string{"ls", dir} }, "index.json"},
		{"index.json", func(dir string, _ ocispec.Descriptor) []string { return []string{"gc", dir} }, "index.json"},
		{"index.json", func(dir string, _ ocispec.Descriptor) []string { return []string{"validate", dir} }, "layout.index"},
		{"oci-layout", func(dir string, _ ocispec.Descriptor) []string { return []string{"ls", dir} }, "oci-layout"},
		{"manifest", func(dir string, _ ocispec.Descriptor) []string { return []string{"gc", "--dry-run", dir} }, "blobs/sha256/"},
		{"manifest", func(dir string, _ ocispec.Descriptor) []string { return []string{"cat", dir + ":v1"} }, "blobs/sha256/"},
		{"layer", func(dir string, _ ocispec.Descriptor) []string {
			return []string{"pull", dir + ":v1", "-o", filepath.Join(tmp, "pulled")}
		}, layer.Digest.String()},
		{"layer", func(dir string, _ ocispec.Descriptor) []string {
			return []string{"copy", dir + ":v1", filepath.Join(tmp, "copied.tar")}
		}, layer.Digest.String()},
	} {
		t.Run(tc.fifo+"/"+tc.args("L", ocispec.Descriptor{})[0], func(t *testing.T) {
			b, m := pullableLayout(t, layer, data)
			target := map[string]string{
				"index.json": "index.json",
				"oci-layout": "oci-layout",
				"manifest":   "blobs/sha256/" + m.Digest.Encoded(),
				"layer":      "blobs/sha256/" + layer.Digest.Encoded(),
			}[tc.fifo]
			makeFIFO(t, filepath.Join(b.Dir, filepath.FromSlash(target)))
			code, out := ocilWithin(t, tc.args(b.Dir, m)...)
			if code != 1 || !strings.Contains(out, target+" is a FIFO, not a regular file") || !strings.Contains(out, tc.names) {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
	}
	if ents, _ := os.ReadDir(tmp); len(ents) > 1 || (len(ents) == 1 && ents[0].Name() != "pulled") {
		t.Errorf("written beside: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(tmp, "pulled")); len(ents) != 0 {
		t.Errorf("pulled: %v", ents)
	}

	fifo := filepath.Join(tmp, "in.tar")
	makeFIFO(t, fifo)
	// Every command says 1 for what is no layout at all, validate included.
	for _, args := range [][]string{{"1", "ls", fifo}, {"1", "copy", fifo, filepath.Join(tmp, "out")}, {"1", "validate", fifo}} {
		want, args := args[0], args[1:]
		code, out := ocilWithin(t, args...)
		if fmt.Sprint(code) != want || !strings.Contains(out, fifo) || !strings.Contains(out, "a FIFO, not a regular file") {
			t.Errorf("%s: exit %d: %s", args[0], code, out)
		}
	}
}

// A blob that is a link to /dev/zero, with a descriptor size of 2^62, used to make pull
// and copy to a tarball write without end. Any blob is read only when it is a regular
// file of its descriptor's size, so both stop before writing and name the blob. (The size
// here is 64 MiB, so that the old behaviour is a bounded failure too.)
func TestEndlessBlobRefused(t *testing.T) {
	layer := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString("zeros"), Size: 64 << 20}
	b, _ := pullableLayout(t, layer, nil)
	blob := filepath.Join(b.Dir, "blobs", "sha256", layer.Digest.Encoded())
	if err := os.Symlink("/dev/zero", blob); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"pull", b.Dir + ":v1", "-o", filepath.Join(tmp, "pulled")},
		{"copy", b.Dir + ":v1", filepath.Join(tmp, "out.tar")},
		{"copy", b.Dir + ":v1", filepath.Join(tmp, "out")},
		{"cat", b.Dir + "@" + layer.Digest.String()},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, layer.Digest.String()) ||
			!strings.Contains(stderr, `is a symbolic link to "/dev/zero"`) {
			t.Errorf("%s: exit %d, stdout %d bytes: %s", args[0], code, len(stdout), stderr)
		}
	}
	var left []string
	filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".lock") && !strings.Contains(p, string(filepath.Separator)+"out"+string(filepath.Separator)) {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("written: %v", left)
	}
	if _, err := os.Stat(filepath.Join(tmp, "out", "blobs", "sha256", layer.Digest.Encoded())); err == nil {
		t.Error("the endless blob was copied into the folder")
	}
}

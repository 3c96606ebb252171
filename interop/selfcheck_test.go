package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder stands in for *testing.T in TestChecksCatch: it keeps the failures a check
// reports instead of failing the test.
type recorder struct {
	*testing.T
	mu      sync.Mutex
	msgs    []string
	skipped bool
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.Errorf("%s", fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	r.T.Log(args...)
	runtime.Goexit()
}

// record runs one tool's check with a recorder and returns what it reported.
func record(t *testing.T, tl tool, tg *target) (msgs []string, skipped bool) {
	r := &recorder{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tl.check(r, tg)
	}()
	<-done
	return r.msgs, r.skipped
}

// TestChecksCatch is the suite's negative control: every tool's check must fail on a
// layout that is broken, or on expectations that are wrong, and name itself and the
// layout when it does. Without it a check that looks at nothing would pass.
func TestChecksCatch(t *testing.T) {
	dir := t.TempDir()
	good := scenarios[1].build(t, dir)[0] // merge-umoci: img:1, a container image index
	if good.Name != "img:1" {
		t.Fatalf("scenario order changed: got %s", good.Name)
	}

	// Wrong expectations on a sound layout: a digest and platforms that are not there.
	wrong := &target{
		Name: good.Name + " (wrong expectations)", Path: good.Path, Tag: good.Tag, Form: good.Form,
		Digest:    "sha256:" + strings.Repeat("0", 64),
		Platforms: []string{"linux/arm64", "linux/amd64"},
	}

	// The same wrong expectations on a gzip tarball of it, the other code path of each tool.
	wrongTar := &target{
		Name: "img.tar.gz:1 (wrong expectations)", Path: filepath.Join(dir, "img.tar.gz"), Tag: good.Tag, Form: tarGzForm,
		Digest: wrong.Digest, Platforms: wrong.Platforms,
	}
	ocil(t, "copy", good.Path+":"+good.Tag, wrongTar.Path)

	// A corrupted layer: the same size, one byte changed, written as a new file (the
	// blob may be a hard link to a fixture).
	broken := &target{Name: good.Name + " (corrupted layer)", Path: filepath.Join(dir, "broken"), Tag: good.Tag, Form: good.Form, Digest: good.Digest, Platforms: good.Platforms}
	ocil(t, "copy", good.Path+":"+good.Tag, broken.Path)
	layer := firstLayer(t, broken.Path)
	b, err := os.ReadFile(layer)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.Remove(layer); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layer, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		tg *target
		// tools that do not read layer bytes cannot see a corrupted layer
		blind []string
	}{
		{wrong, nil},
		{wrongTar, nil},
		{broken, []string{toolOcil}},
	} {
		for _, tl := range tools {
			if slices.Contains(c.blind, tl.name) {
				continue
			}
			t.Run(c.tg.Name+"/"+tl.name, func(t *testing.T) {
				msgs, skipped := record(t, tl, c.tg)
				if skipped {
					t.Skipf("[%s] skipped", tl.name)
				}
				if len(msgs) == 0 {
					t.Fatalf("[%s] %s: no check failed", tl.name, c.tg.Name)
				}
				prefix := "[" + tl.name + "] " + c.tg.Name + ": "
				for _, m := range msgs {
					if !strings.HasPrefix(m, prefix) {
						t.Errorf("message does not name the tool and the layout (%q): %s", prefix, m)
					}
				}
				t.Logf("caught:\n%s", strings.Join(msgs, "\n"))
			})
		}
	}
}

// firstLayer returns the path of the first layer blob of the first manifest of the
// tagged index of a layout folder.
func firstLayer(t *testing.T, dir string) string {
	t.Helper()
	blob := func(d string) string {
		alg, hex, _ := strings.Cut(d, ":")
		return filepath.Join(dir, "blobs", alg, hex)
	}
	read := func(p string, v any) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	type desc struct {
		Digest string `json:"digest"`
	}
	var idx struct {
		Manifests []desc `json:"manifests"`
	}
	read(filepath.Join(dir, "index.json"), &idx)
	read(blob(idx.Manifests[0].Digest), &idx)
	var m struct {
		Layers []desc `json:"layers"`
	}
	read(blob(idx.Manifests[0].Digest), &m)
	return blob(m.Layers[0].Digest)
}

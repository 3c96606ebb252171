package layout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/lock"
)

// TestMain lets the test binary act as a writer process for the concurrency tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv("OCIL_TEST_SESSION_DIR"); dir != "" {
		os.Exit(sessionChild(dir, os.Getenv("OCIL_TEST_SESSION_GATE")))
	}
	if dir := os.Getenv("OCIL_TEST_WRITER_DIR"); dir != "" {
		os.Exit(writerChild(dir, os.Getenv("OCIL_TEST_WRITER_TAG"), os.Getenv("OCIL_TEST_WRITER_START")))
	}
	os.Exit(m.Run())
}

// writerChild waits for the start file, then adds one tagged entry through UpdateIndex.
func writerChild(dir, tag, start string) int {
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(start); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "start file never appeared")
			return 3
		}
		time.Sleep(time.Millisecond)
	}
	ctx := context.Background()
	l, err := layout.Open(dir, layout.WithLockTimeout(30*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	d, err := l.PutBlob(ctx, ocispec.MediaTypeImageManifest, []byte(fmt.Sprintf(`{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"t":%q}}`, tag)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = l.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		idx.Manifests = append(idx.Manifests, tl.Tag(d, tag))
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// N processes each add a different tag at once: all N end up in a valid index.json, and a
// reader polling without a lock never sees a broken file.
func TestUpdateIndexConcurrentProcesses(t *testing.T) {
	const n = 16
	b := tl.New(t)
	start := filepath.Join(t.TempDir(), "start")
	var cmds []*exec.Cmd
	for i := 0; i < n; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OCIL_TEST_WRITER_DIR="+b.Dir, fmt.Sprintf("OCIL_TEST_WRITER_TAG=tag-%02d", i),
			"OCIL_TEST_WRITER_START="+start, "GORACE=atexit_sleep_ms=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() && stderr.Len() > 0 {
				t.Logf("writer: %s", stderr.String())
			}
		})
	}
	os.WriteFile(start, nil, 0o644)

	done := make(chan error, 1)
	go func() {
		for _, c := range cmds {
			if err := c.Wait(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("a writer failed: %v", err)
			}
			waiting = false
		default:
			raw, err := os.ReadFile(filepath.Join(b.Dir, "index.json"))
			if err != nil {
				t.Fatalf("read index.json during writes: %v", err)
			}
			if _, err := layout.DecodeIndex(raw); err != nil {
				t.Fatalf("index.json read during writes is broken: %v\n%s", err, raw)
			}
			reads++
		}
	}
	l, _ := layout.Open(b.Dir)
	idx, err := l.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, d := range idx.Manifests {
		tags[d.Annotations[ocispec.AnnotationRefName]] = true
	}
	if len(idx.Manifests) != n || len(tags) != n {
		t.Fatalf("index.json has %d entries and %d tags, want %d: %v", len(idx.Manifests), len(tags), n, tags)
	}
	t.Logf("%d unlocked reads saw a valid index.json", reads)
	assertNoTempFiles(t, b.Dir)
}

func TestUpdateIndex(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	m1 := b.Image(nil, "1")
	m2 := b.Image(nil, "2")
	m3 := b.Image(nil, "3")
	// As umoci writes it: no mediaType.
	b.WriteFile("index.json", []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"`+ocispec.MediaTypeImageManifest+`","digest":"`+string(m2.Digest)+`","size":`+fmt.Sprint(m2.Size)+`},{"mediaType":"`+ocispec.MediaTypeImageManifest+`","digest":"`+string(m1.Digest)+`","size":`+fmt.Sprint(m1.Size)+`}]}`))
	l, _ := layout.Open(b.Dir, layout.WithLockTimeout(200*time.Millisecond))
	indexFile := filepath.Join(b.Dir, "index.json")

	if err := l.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		idx.Manifests = append(idx.Manifests, tl.Tag(m3, "v3"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(indexFile)
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + string(m2.Digest) + `","size":` + fmt.Sprint(m2.Size) + `},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + string(m1.Digest) + `","size":` + fmt.Sprint(m1.Size) + `},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + string(m3.Digest) + `","size":` + fmt.Sprint(m3.Size) + `,"annotations":{"org.opencontainers.image.ref.name":"v3"}}]}`
	if string(got) != want {
		t.Fatalf("index.json:\n got %s\nwant %s", got, want)
	}
	if fi, _ := os.Stat(indexFile); fi.Mode().Perm() != 0o644 {
		t.Fatalf("index.json mode %v", fi.Mode().Perm())
	}

	unchanged := func(t *testing.T) {
		t.Helper()
		now, _ := os.ReadFile(indexFile)
		if !bytes.Equal(now, got) {
			t.Fatalf("index.json changed:\n%s", now)
		}
	}
	t.Run("fn error leaves index.json", func(t *testing.T) {
		boom := errors.New("boom")
		err := l.UpdateIndex(ctx, func(idx *ocispec.Index) error {
			idx.Manifests = nil
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("= %v", err)
		}
		unchanged(t)
	})
	t.Run("invalid descriptor is refused", func(t *testing.T) {
		err := l.UpdateIndex(ctx, func(idx *ocispec.Index) error {
			idx.Manifests = append(idx.Manifests, ocispec.Descriptor{MediaType: "a/b", Digest: "sha256:../../x", Size: 1})
			return nil
		})
		if !errors.Is(err, layout.ErrInvalidDocument) {
			t.Fatalf("= %v", err)
		}
		unchanged(t)
	})
	t.Run("lock held elsewhere times out naming the lock file", func(t *testing.T) {
		lk, err := lock.Acquire(ctx, filepath.Join(b.Dir, "index.json.lock"), lock.Exclusive, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer lk.Release()
		err = l.UpdateIndex(ctx, func(idx *ocispec.Index) error {
			idx.Manifests = nil
			return nil
		})
		if !errors.Is(err, layout.ErrLocked) || !strings.Contains(err.Error(), "index.json.lock") {
			t.Fatalf("= %v, want ErrLocked naming index.json.lock", err)
		}
		unchanged(t)
	})
	t.Run("corrupt index.json is not overwritten", func(t *testing.T) {
		b2 := tl.New(t)
		b2.WriteFile("index.json", []byte(`{"schemaVersion":2,"manifests":null}`))
		l2, _ := layout.Open(b2.Dir)
		err := l2.UpdateIndex(ctx, func(idx *ocispec.Index) error { return nil })
		if !errors.Is(err, layout.ErrInvalidDocument) {
			t.Fatalf("= %v", err)
		}
		now, _ := os.ReadFile(filepath.Join(b2.Dir, "index.json"))
		if string(now) != `{"schemaVersion":2,"manifests":null}` {
			t.Fatalf("index.json was rewritten: %s", now)
		}
	})
	assertNoTempFiles(t, b.Dir)
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".ocil-tmp-") {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
}

package layout_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

func TestTagUntag(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	m := b.Image(tl.P("linux", "amd64", "", ""), "a")
	m2 := b.Image(tl.P("linux", "arm64", "", ""), "b")
	b.SetIndex(tl.Tag(m, "v1"), tl.Tag(m2, "v2"))
	l, _ := layout.Open(b.Dir)
	if err := l.Tag(ctx, m, "latest", "v2"); err != nil {
		t.Fatal(err)
	}
	idx, _ := l.Index(ctx)
	var got []string
	for _, e := range idx.Manifests {
		got = append(got, e.Annotations[ocispec.AnnotationRefName]+"="+e.Digest.Encoded()[:6])
	}
	want := []string{"v1=" + m.Digest.Encoded()[:6], "v2=" + m.Digest.Encoded()[:6], "latest=" + m.Digest.Encoded()[:6]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("entries %v, want %v (v2 moved in place)", got, want)
	}
	before, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	if err := l.Tag(ctx, m, "ok", "-bad"); !errors.Is(err, layout.ErrInvalidReference) {
		t.Fatalf("bad tag: %v", err)
	}
	if err := l.Tag(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("x"), Size: 1}, "ghost"); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("absent blob: %v", err)
	}
	if err := l.Untag(ctx, "v1", "nope"); !errors.Is(err, layout.ErrNotFound) {
		t.Fatalf("untag nope: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(b.Dir, "index.json")); string(now) != string(before) {
		t.Fatal("a failed tag or untag changed index.json")
	}
	if err := l.Untag(ctx, "v1", "latest"); err != nil {
		t.Fatal(err)
	}
	idx, _ = l.Index(ctx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[ocispec.AnnotationRefName] != "v2" {
		t.Fatalf("after untag: %+v", idx.Manifests)
	}
}

func TestRemovePlatforms(t *testing.T) {
	ctx := context.Background()
	b, ds := multi(t)
	l, _ := layout.Open(b.Dir)
	amd, _ := platform.Parse("linux/amd64")
	s390x, _ := platform.Parse("linux/s390x")
	before, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
	if _, _, err := l.RemovePlatforms(ctx, "v1", []ocispec.Platform{amd, s390x}); !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), "linux/s390x") {
		t.Fatalf("= %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(b.Dir, "index.json")); string(now) != string(before) {
		t.Fatal("a failed rm changed index.json")
	}
	nd, removed, err := l.RemovePlatforms(ctx, "v1", []ocispec.Platform{amd})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0].Digest != ds["amd64"].Digest || removed[1].Digest != ds["attestation"].Digest {
		t.Fatalf("removed %+v, want amd64 and its attestation", removed)
	}
	r := resolveIn(t, b.Dir+":v1")
	if r.Descriptor.Digest != nd.Digest || nd.Digest == ds["index"].Digest {
		t.Fatalf("v1 = %s, want the new index %s", r.Descriptor.Digest, nd.Digest)
	}
	_, nested, _, _ := l.ReadDocument(ctx, nd)
	if len(nested.Manifests) != 2 || nested.Manifests[0].Digest != ds["arm64"].Digest || nested.Manifests[1].Digest != ds["arm"].Digest {
		t.Fatalf("new index lists %+v", nested.Manifests)
	}
}

func TestGC(t *testing.T) {
	ctx := context.Background()
	b, ds := multi(t)
	loose := b.Blob("application/octet-stream", []byte("unreferenced"))
	b.WriteFile("blobs/sha256/.ocil-tmp-123", []byte("half a blob"))
	b.WriteFile("blobs/sha256/notes.txt", []byte("not ours"))
	l, _ := layout.Open(b.Dir)
	amd, _ := platform.Parse("linux/amd64")
	if _, _, err := l.RemovePlatforms(ctx, "v1", []ocispec.Platform{amd}); err != nil {
		t.Fatal(err)
	}
	// The grace period spares everything here: it was all written just now.
	res, err := l.GC(ctx, layout.GCOptions{Grace: time.Hour})
	if err != nil || len(res.Removed) != 0 || res.Spared == 0 {
		t.Fatalf("with grace: %+v, %v", res, err)
	}
	dry, err := l.GC(ctx, layout.GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range dry.Removed {
		got[r.Path] = r.Kind
	}
	for _, d := range []digest.Digest{loose.Digest, ds["amd64"].Digest, ds["attestation"].Digest, ds["index"].Digest, digest.FromString("own layer of amd64")} {
		if got["blobs/sha256/"+d.Encoded()] != "blob" {
			t.Errorf("dry run does not list %s: %v", d, got)
		}
	}
	if got["blobs/sha256/.ocil-tmp-123"] != "temp" || got["blobs/sha256/notes.txt"] != "" {
		t.Errorf("dry run: %v", got)
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "blobs", "sha256", loose.Digest.Encoded())); err != nil {
		t.Fatal("the dry run removed a file")
	}
	res, err = l.GC(ctx, layout.GCOptions{})
	if err != nil || len(res.Removed) != len(dry.Removed) || res.Bytes != dry.Bytes {
		t.Fatalf("gc = %+v, %v; dry run said %+v", res, err, dry)
	}
	// What is left is exactly what index.json reaches, and it all reads back.
	idx, _ := l.Index(ctx)
	reach, err := l.Blobs(ctx, idx.Manifests)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range reach {
		if _, err := l.ReadBlob(ctx, d); err != nil && d.Size <= layout.MaxJSONSize {
			t.Fatal(err)
		}
	}
	left := blobSet(t, b.Dir)
	if len(left) != len(reach)+1 || !left["notes.txt"] { // notes.txt is not ours to remove
		t.Fatalf("left %d files for %d reachable blobs: %v", len(left), len(reach), left)
	}
}

// A writer between writing a blob and referencing it holds its session; gc waits for it
// and then keeps the blob, which index.json now reaches.
func TestGCWaitsForWriter(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	gate := filepath.Join(t.TempDir(), "go")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OCIL_TEST_SESSION_DIR="+b.Dir, "OCIL_TEST_SESSION_GATE="+gate, "GORACE=atexit_sleep_ms=0")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "written ") {
		t.Fatalf("writer said %q", sc.Text())
	}
	written := digest.Digest(strings.TrimPrefix(sc.Text(), "written "))

	l, _ := layout.Open(b.Dir, layout.WithLockTimeout(20*time.Second))
	type result struct {
		res *layout.GCResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := l.GC(ctx, layout.GCOptions{})
		done <- result{r, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("gc ran while a writer was in its session: %+v, %v", r.res, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	os.WriteFile(gate, nil, 0o644)
	r := <-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, x := range r.res.Removed {
		if strings.HasSuffix(x.Path, written.Encoded()) {
			t.Fatalf("gc removed the writer's blob: %+v", r.res)
		}
	}
	if _, err := l.ReadBlob(ctx, ocispec.Descriptor{Digest: written, Size: int64(len("fresh manifest"))}); err != nil {
		t.Fatalf("the writer's blob: %v", err)
	}
}

// sessionChild writes a blob in a session, says so, waits for the gate, then tags it.
func sessionChild(dir, gate string) int {
	ctx := context.Background()
	l, err := layout.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	end, err := l.Session(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	d, err := l.PutBlob(ctx, "application/octet-stream", []byte("fresh manifest"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("written", d.Digest)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(gate); err == nil {
			break
		}
	}
	if err := l.SetEntry(ctx, "fresh", d); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	end()
	return 0
}

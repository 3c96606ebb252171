package layout_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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

// A blobs/ folder, or a folder in it, that is a symbolic link makes gc refuse the whole
// run: with blobs -> / a dry run used to list /etc/passwd, and a real run to delete it.
func TestGCRefusesSymlinkedBlobFolders(t *testing.T) {
	hexName := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		link  string
		files []string // planted in the link's target, in the layout's naming
	}{
		{"blobs", []string{"sha256/" + hexName, "etc/passwd"}},
		{"blobs/sha256", []string{hexName, "passwd"}},
		{"blobs/blake3", []string{hexName}},
	} {
		t.Run(tc.link, func(t *testing.T) {
			b := tl.New(t)
			elsewhere := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(elsewhere, filepath.FromSlash(f))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte("sentinel "+f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			target := filepath.Join(b.Dir, filepath.FromSlash(tc.link))
			os.RemoveAll(target)
			if err := os.Symlink(elsewhere, target); err != nil {
				t.Skipf("no symbolic links: %v", err)
			}
			before := treeOf(t, elsewhere)
			l, err := layout.Open(b.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, dry := range []bool{true, false} {
				res, err := l.GC(context.Background(), layout.GCOptions{DryRun: dry})
				if !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), tc.link+" is a symbolic link to \""+elsewhere+"\"") {
					t.Fatalf("dry run %v: %v, want ErrUnsafeFile naming %s and its target", dry, err, tc.link)
				}
				if res != nil {
					t.Errorf("dry run %v listed %+v", dry, res.Removed)
				}
			}
			sameTree(t, "the link's target", before, treeOf(t, elsewhere))
		})
	}
}

// A blobs/ that links to a folder inside the layout is read through (ls works), but gc
// and writers refuse it all the same, and say that the link stays inside.
func TestBlobsLinkInsideLayout(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	img := b.Image(&ocispec.Platform{OS: "linux", Architecture: "amd64"}, "kept")
	b.SetIndex(img)
	d := img
	if err := os.Rename(filepath.Join(b.Dir, "blobs"), filepath.Join(b.Dir, "store")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("store", filepath.Join(b.Dir, "blobs")); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadBlob(ctx, d); err != nil {
		t.Fatalf("reading through an in-layout link: %v", err)
	}
	_, gcErr := l.GC(ctx, layout.GCOptions{})
	_, sessErr := l.Session(ctx)
	for what, err := range map[string]error{"gc": gcErr, "a writer's session": sessErr} {
		if !errors.Is(err, layout.ErrUnsafeFile) || !strings.Contains(err.Error(), filepath.Join(b.Dir, "blobs")+` is a symbolic link to "store"`) ||
			!strings.Contains(err.Error(), "never writes or removes blobs through one") || strings.Contains(err.Error(), "does not lead") {
			t.Errorf("%s: %v, want ErrUnsafeFile saying the link stays inside but is not written through", what, err)
		}
	}
	if _, err := l.PutBlob(ctx, "text/plain", []byte("new")); err == nil || !strings.Contains(err.Error(), "symbolic link") || strings.Contains(err.Error(), "does not lead") {
		t.Errorf("a write: %v, want a refusal naming the link", err)
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "store", "sha256", d.Digest.Encoded())); err != nil {
		t.Errorf("the blob behind the link: %v", err)
	}
}

// gc removes only names it can tell are blobs: a known algorithm and that algorithm's hex
// encoding. blobs/etc/passwd is grammatically the digest etc:passwd, and used to go.
func TestGCRemovesOnlyAlgorithmHex(t *testing.T) {
	b := tl.New(t)
	loose := b.Blob("application/octet-stream", []byte("unreferenced"))
	sha512Name := strings.Repeat("b", 128)
	keep := []string{
		"blobs/etc/passwd",
		"blobs/sha256/" + strings.Repeat("a", 63),
		"blobs/sha256/" + strings.Repeat("A", 64),
		"blobs/sha256/" + strings.Repeat("a", 64) + ".bak",
		"blobs/sha512/" + strings.Repeat("a", 64),
		"blobs/foo/" + strings.Repeat("c", 64),
		"blobs/" + strings.Repeat("d", 64),
		".ocil-tmp-out.tar-123", // a tarball beside the layout, written under its own lock
	}
	for _, k := range keep {
		b.WriteFile(k, []byte("not a blob of this layout"))
	}
	b.WriteFile("blobs/sha512/"+sha512Name, []byte("unreferenced, named as sha512"))
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.GC(context.Background(), layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Removed {
		got = append(got, r.Kind+" "+r.Path)
	}
	want := []string{"blob blobs/sha256/" + loose.Digest.Encoded(), "blob blobs/sha512/" + sha512Name}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("removed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, k := range keep {
		if _, err := os.Stat(filepath.Join(b.Dir, filepath.FromSlash(k))); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

// When an index or manifest is missing, the blobs it references look unreachable: gc
// removes nothing and names the missing blob. It used to remove the config and layers.
func TestGCRefusesIncompleteGraph(t *testing.T) {
	for _, missing := range []string{"manifest", "index"} {
		t.Run(missing, func(t *testing.T) {
			b := tl.New(t)
			m := b.Image(tl.P("linux", "amd64", "", ""), "the layer")
			idx := b.Index(tl.WithPlatform(m, *tl.P("linux", "amd64", "", "")))
			b.SetIndex(tl.Tag(idx, "v1"))
			gone := m
			if missing == "index" {
				gone = idx
			}
			if err := os.Remove(filepath.Join(b.Dir, "blobs", "sha256", gone.Digest.Encoded())); err != nil {
				t.Fatal(err)
			}
			b.Blob("application/octet-stream", []byte("garbage, but not now"))
			before := treeOf(t, b.Dir)
			l, _ := layout.Open(b.Dir)
			for _, dry := range []bool{true, false} {
				res, err := l.GC(context.Background(), layout.GCOptions{DryRun: dry})
				if !errors.Is(err, layout.ErrNotFound) || !strings.Contains(err.Error(), missing+" "+gone.Digest.String()+" is missing") ||
					!strings.Contains(err.Error(), "nothing removed") {
					t.Fatalf("dry run %v: %v, want ErrNotFound naming the %s %s", dry, err, missing, gone.Digest)
				}
				if res != nil {
					t.Errorf("dry run %v listed %+v", dry, res.Removed)
				}
			}
			sameTree(t, "the layout", before, treeOf(t, b.Dir))
		})
	}
}

// A blob that is a symbolic link inside the layout keeps the file it leads to, even when
// that file's own name is unreachable; gc never removes a link.
func TestGCKeepsWhatLinksLeadTo(t *testing.T) {
	b := tl.New(t)
	layer := []byte("a layer stored once")
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}
	store := strings.Repeat("e", 64) // a name of its own, reached by nothing in index.json
	b.WriteFile("blobs/sha256/"+store, layer)
	if err := os.Symlink(store, filepath.Join(b.Dir, "blobs", "sha256", d.Digest.Encoded())); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	dangling := strings.Repeat("f", 64)
	os.Symlink("nowhere", filepath.Join(b.Dir, "blobs", "sha256", dangling))
	m := b.Manifest(ocispec.Manifest{Config: b.Config(tl.P("linux", "amd64", "", "")), Layers: []ocispec.Descriptor{d}})
	b.SetIndex(tl.Tag(m, "v1"))
	loose := b.Blob("application/octet-stream", []byte("unreferenced"))
	l, _ := layout.Open(b.Dir)
	res, err := l.GC(context.Background(), layout.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Removed[0].Path != "blobs/sha256/"+loose.Digest.Encoded() {
		t.Fatalf("removed %+v, want only %s", res.Removed, loose.Digest)
	}
	if got, err := readVerified(context.Background(), l, d); err != nil || !bytes.Equal(got, layer) {
		t.Fatalf("the linked layer after gc: %q, %v", got, err)
	}
	if _, err := os.Lstat(filepath.Join(b.Dir, "blobs", "sha256", dangling)); err != nil {
		t.Errorf("gc removed a link: %v", err)
	}
}

// The temp files a killed writer leaves in the layout folder (index.json's and
// oci-layout's) are removed by gc, listed by a dry run, spared by the grace period. Other
// temp names there are left: a tarball beside the layout is written under its own lock.
func TestGCRemovesLayoutTempFiles(t *testing.T) {
	b := tl.New(t)
	temps := []string{".ocil-tmp-index.json-123456", ".ocil-tmp-oci-layout-42"}
	for _, n := range temps {
		b.WriteFile(n, []byte("half written"))
	}
	b.WriteFile(".ocil-tmp-out.tar-99", []byte("another writer's"))
	os.Mkdir(filepath.Join(b.Dir, ".ocil-tmp-index.json-folder"), 0o755)
	l, _ := layout.Open(b.Dir)
	ctx := context.Background()
	if res, err := l.GC(ctx, layout.GCOptions{Grace: time.Hour}); err != nil || len(res.Removed) != 0 || res.Spared != 2 {
		t.Fatalf("with grace: %+v, %v", res, err)
	}
	dry, err := l.GC(ctx, layout.GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range dry.Removed {
		got = append(got, r.Kind+" "+r.Path)
	}
	want := []string{"temp " + temps[0], "temp " + temps[1]}
	if strings.Join(got, ",") != strings.Join(want, ",") || dry.Bytes != 2*int64(len("half written")) {
		t.Fatalf("dry run listed %v (%d bytes), want %v", got, dry.Bytes, want)
	}
	for _, n := range temps {
		if _, err := os.Stat(filepath.Join(b.Dir, n)); err != nil {
			t.Fatalf("the dry run removed %s", n)
		}
	}
	if res, err := l.GC(ctx, layout.GCOptions{}); err != nil || len(res.Removed) != 2 {
		t.Fatalf("gc: %+v, %v", res, err)
	}
	ents, _ := os.ReadDir(b.Dir)
	var left []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".ocil-tmp-") || !strings.HasSuffix(e.Name(), ".lock") {
			left = append(left, e.Name())
		}
	}
	sort.Strings(left)
	if strings.Join(left, " ") != ".ocil-tmp-index.json-folder .ocil-tmp-out.tar-99 blobs index.json oci-layout" {
		t.Fatalf("left in the layout folder: %v", left)
	}
}

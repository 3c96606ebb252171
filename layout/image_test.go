package layout_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// imageTree writes the files of a small image under dir with the given mtime and owner:
// a binary 0755, a setuid file, a private folder 0700 with a file 0600, a symbolic link.
// Modes are set with chmod, so the umask does not change them.
func imageTree(t *testing.T, dir string, mtime time.Time, uid, gid int) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc", "private"), 0o777))
	files := []struct {
		name string
		mode os.FileMode
		body string
	}{
		{"hello", 0o755, "#!/bin/sh\necho hello\n"},
		{"etc/app.conf", 0o644, "key=value\n"},
		{"etc/private/secret", 0o600, "s3cret\n"},
		{"suid", 0o711 | os.ModeSetuid, "x"},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		must(os.WriteFile(p, []byte(f.body), 0o666))
		must(os.Chmod(p, f.mode))
	}
	must(os.Chmod(filepath.Join(dir, "etc"), 0o751))
	must(os.Chmod(filepath.Join(dir, "etc", "private"), 0o700))
	must(os.Symlink("app.conf", filepath.Join(dir, "etc", "link")))
	for _, p := range []string{"hello", "etc/app.conf", "etc/private/secret", "suid", "etc/private", "etc"} {
		must(os.Chtimes(filepath.Join(dir, p), mtime, mtime))
		if os.Geteuid() == 0 {
			must(os.Lchown(filepath.Join(dir, p), uid, gid))
		}
	}
	// chown clears setuid: set it again after.
	must(os.Chmod(filepath.Join(dir, "suid"), 0o711|os.ModeSetuid))
}

func imageFiles(dir string) []layout.ImageFile {
	return []layout.ImageFile{
		{Src: filepath.Join(dir, "hello")},
		{Src: filepath.Join(dir, "etc"), Dest: "/opt/app/etc"},
		{Src: filepath.Join(dir, "suid"), Dest: "/usr/local/bin/suid"},
	}
}

type tarEnt struct {
	name, link string
	mode       int64
	typ        byte
	uid, gid   int
	uname      string
	mtime      time.Time
	body       string
}

// readLayer decompresses a layer blob and returns its entries and the sha256 of the
// uncompressed tar, computed here.
func readLayer(t *testing.T, dir string, d ocispec.Descriptor) ([]tarEnt, string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader
	switch d.MediaType {
	case ocispec.MediaTypeImageLayerGzip:
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case ocispec.MediaTypeImageLayerZstd:
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("layer media type %s", d.MediaType)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	tr := tar.NewReader(bytes.NewReader(raw))
	var out []tarEnt
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, tarEnt{name: h.Name, link: h.Linkname, mode: h.Mode, typ: h.Typeflag, uid: h.Uid, gid: h.Gid,
			uname: h.Uname + h.Gname, mtime: h.ModTime, body: string(b)})
	}
	return out, "sha256:" + hex.EncodeToString(sum[:])
}

func readJSONBlob(t *testing.T, dir string, d ocispec.Descriptor, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func putImage(t *testing.T, out string, files []layout.ImageFile, opts layout.ImageOptions) ocispec.Descriptor {
	t.Helper()
	r, err := layout.PlanImage(files)
	if err != nil {
		t.Fatal(err)
	}
	l, err := layout.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.PutImage(context.Background(), r, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPutImageLayerAndConfig(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	imageTree(t, src, time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC), 1000, 1000)
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	opts := layout.ImageOptions{
		Platform:   ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Entrypoint: []string{"/hello", "a b"}, Cmd: []string{"--flag=x,y"},
		Env: []string{"PATH=/usr/local/bin", "EMPTY="}, WorkingDir: "/opt/app", User: "65534:65534",
		Labels: map[string]string{"org.example.a": "1, 2"}, Created: &created,
	}
	d := putImage(t, out, imageFiles(src), opts)
	if d.Platform == nil || d.Platform.Architecture != "arm64" || d.Platform.Variant != "v8" || d.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("descriptor %+v", d)
	}
	var m ocispec.Manifest
	readJSONBlob(t, out, d, &m)
	if m.Config.MediaType != ocispec.MediaTypeImageConfig || len(m.Layers) != 1 || m.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip || m.ArtifactType != "" {
		t.Fatalf("manifest %+v", m)
	}
	ents, diffID := readLayer(t, out, m.Layers[0])
	want := []tarEnt{
		{name: "hello", mode: 0o755, typ: tar.TypeReg, body: "#!/bin/sh\necho hello\n"},
		{name: "opt/", mode: 0o755, typ: tar.TypeDir},
		{name: "opt/app/", mode: 0o755, typ: tar.TypeDir},
		{name: "opt/app/etc/", mode: 0o751, typ: tar.TypeDir},
		{name: "opt/app/etc/app.conf", mode: 0o644, typ: tar.TypeReg, body: "key=value\n"},
		{name: "opt/app/etc/link", mode: 0o777, typ: tar.TypeSymlink, link: "app.conf"},
		{name: "opt/app/etc/private/", mode: 0o700, typ: tar.TypeDir},
		{name: "opt/app/etc/private/secret", mode: 0o600, typ: tar.TypeReg, body: "s3cret\n"},
		{name: "usr/", mode: 0o755, typ: tar.TypeDir},
		{name: "usr/local/", mode: 0o755, typ: tar.TypeDir},
		{name: "usr/local/bin/", mode: 0o755, typ: tar.TypeDir},
		{name: "usr/local/bin/suid", mode: 0o4711, typ: tar.TypeReg, body: "x"},
	}
	if len(ents) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(ents), len(want), ents)
	}
	for i, w := range want {
		g := ents[i]
		if g.name != w.name || g.mode != w.mode || g.typ != w.typ || g.link != w.link || g.body != w.body {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
		if g.uid != 0 || g.gid != 0 || g.uname != "" || !g.mtime.Equal(created) {
			t.Errorf("entry %s: owner %d:%d %q, time %v; want 0:0, no names, %v", g.name, g.uid, g.gid, g.uname, g.mtime, created)
		}
	}
	var cfg ocispec.Image
	readJSONBlob(t, out, m.Config, &cfg)
	if len(cfg.RootFS.DiffIDs) != 1 || string(cfg.RootFS.DiffIDs[0]) != diffID || cfg.RootFS.Type != "layers" {
		t.Fatalf("rootfs %+v, want the diff ID %s", cfg.RootFS, diffID)
	}
	if cfg.OS != "linux" || cfg.Architecture != "arm64" || cfg.Variant != "v8" {
		t.Errorf("config platform %s/%s/%s", cfg.OS, cfg.Architecture, cfg.Variant)
	}
	c := cfg.Config
	if strings.Join(c.Entrypoint, "|") != "/hello|a b" || strings.Join(c.Cmd, "|") != "--flag=x,y" ||
		strings.Join(c.Env, "|") != "PATH=/usr/local/bin|EMPTY=" || c.WorkingDir != "/opt/app" || c.User != "65534:65534" ||
		len(c.Labels) != 1 || c.Labels["org.example.a"] != "1, 2" {
		t.Errorf("config %+v", c)
	}
	if cfg.Created == nil || !cfg.Created.Equal(created) || len(cfg.History) != 1 || cfg.History[0].CreatedBy != "ocil add --image" ||
		cfg.History[0].Created == nil || !cfg.History[0].Created.Equal(created) {
		t.Errorf("created %v, history %+v", cfg.Created, cfg.History)
	}
}

func TestPutImageNoTimeStampAndZstd(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	imageTree(t, src, time.Now(), 0, 0)
	d := putImage(t, out, imageFiles(src)[:1], layout.ImageOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, Compression: layout.CompressionZstd})
	var m ocispec.Manifest
	readJSONBlob(t, out, d, &m)
	if m.Layers[0].MediaType != ocispec.MediaTypeImageLayerZstd {
		t.Fatalf("layer %s", m.Layers[0].MediaType)
	}
	ents, diffID := readLayer(t, out, m.Layers[0])
	if len(ents) != 1 || ents[0].name != "hello" || ents[0].mtime.Unix() != 0 {
		t.Fatalf("entries %+v, want hello at the epoch", ents)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "blobs", "sha256", m.Config.Digest.Encoded()))
	for _, no := range []string{"created\"", "Entrypoint", "Cmd", "Env", "Labels", "WorkingDir", "User"} {
		if bytes.Contains(raw, []byte(no)) {
			t.Errorf("config has %s: %s", no, raw)
		}
	}
	if !bytes.Contains(raw, []byte(diffID)) {
		t.Errorf("config lacks the diff ID %s: %s", diffID, raw)
	}
}

// TestPutImageReproducible builds the same image from two copies of the files that differ
// in folder, file times, owner and umask: the digests are the same.
func TestPutImageReproducible(t *testing.T) {
	digests := map[string]bool{}
	for i, tc := range []struct {
		umask    int
		mtime    time.Time
		uid, gid int
	}{
		{0o022, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), 0, 0},
		{0o077, time.Date(2025, 6, 7, 8, 9, 10, 123, time.UTC), 1234, 5678},
	} {
		old := syscall.Umask(tc.umask)
		t.Cleanup(func() { syscall.Umask(old) })
		src := filepath.Join(t.TempDir(), strings.Repeat("x", i+1))
		imageTree(t, src, tc.mtime, tc.uid, tc.gid)
		out := filepath.Join(t.TempDir(), "out")
		for _, comp := range []string{"", layout.CompressionZstd} {
			d := putImage(t, out, imageFiles(src), layout.ImageOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
				Compression: comp, Entrypoint: []string{"/hello"}})
			digests[comp+" "+string(d.Digest)] = true
		}
		syscall.Umask(old)
	}
	if len(digests) != 2 {
		t.Fatalf("two builds of the same files gave different digests: %v", digests)
	}
}

func TestPlanImageRefuses(t *testing.T) {
	dir := t.TempDir()
	imageTree(t, dir, time.Now(), 0, 0)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	withFifo := filepath.Join(dir, "withfifo")
	os.Mkdir(withFifo, 0o755)
	if err := syscall.Mkfifo(filepath.Join(withFifo, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	hello := filepath.Join(dir, "hello")
	etc := filepath.Join(dir, "etc")
	for _, tc := range []struct {
		name    string
		files   []layout.ImageFile
		is      error
		mention []string
	}{
		{"no files", nil, layout.ErrInvalidOption, []string{"SRC[=DEST]"}},
		{"FIFO", []layout.ImageFile{{Src: fifo}}, layout.ErrInvalidOption, []string{fifo, "FIFO"}},
		{"FIFO in a folder", []layout.ImageFile{{Src: withFifo}}, layout.ErrInvalidOption, []string{filepath.Join(withFifo, "pipe"), "FIFO"}},
		{"device", []layout.ImageFile{{Src: "/dev/null"}}, layout.ErrInvalidOption, []string{"/dev/null", "character device"}},
		{"missing", []layout.ImageFile{{Src: filepath.Join(dir, "nope")}}, os.ErrNotExist, []string{filepath.Join(dir, "nope")}},
		{"relative DEST", []layout.ImageFile{{Src: hello, Dest: "bin/hello"}}, layout.ErrInvalidOption, []string{`"bin/hello"`, "absolute"}},
		{"dot-dot DEST", []layout.ImageFile{{Src: hello, Dest: "/bin/../hello"}}, layout.ErrInvalidOption, []string{`"/bin/../hello"`, `".."`}},
		{"dot DEST", []layout.ImageFile{{Src: hello, Dest: "/./hello"}}, layout.ErrInvalidOption, []string{`"/./hello"`}},
		{"empty component", []layout.ImageFile{{Src: hello, Dest: "/bin//hello"}}, layout.ErrInvalidOption, []string{`"/bin//hello"`}},
		{"trailing slash", []layout.ImageFile{{Src: hello, Dest: "/bin/"}}, layout.ErrInvalidOption, []string{`"/bin/"`}},
		{"file as root", []layout.ImageFile{{Src: hello, Dest: "/"}}, layout.ErrInvalidOption, []string{hello, "root"}},
		{"two SRC to one DEST", []layout.ImageFile{{Src: hello, Dest: "/x"}, {Src: filepath.Join(dir, "suid"), Dest: "/x"}}, layout.ErrConflict,
			[]string{hello, filepath.Join(dir, "suid"), "/x"}},
		{"same SRC twice", []layout.ImageFile{{Src: hello}, {Src: hello}}, layout.ErrConflict, []string{hello, "/hello"}},
		{"into a folder's path", []layout.ImageFile{{Src: etc}, {Src: hello, Dest: "/etc/app.conf"}}, layout.ErrConflict, []string{etc, hello, "/etc/app.conf"}},
		{"under a file", []layout.ImageFile{{Src: hello}, {Src: filepath.Join(dir, "suid"), Dest: "/hello/suid"}}, layout.ErrConflict, []string{"/hello", hello, "/hello/suid"}},
		{"under a link", []layout.ImageFile{{Src: etc}, {Src: hello, Dest: "/etc/link/x"}}, layout.ErrConflict, []string{"/etc/link", "/etc/link/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := layout.PlanImage(tc.files)
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, s := range tc.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestPlanImageFollowsSRCLinkAndTakesRoot(t *testing.T) {
	dir := t.TempDir()
	imageTree(t, dir, time.Now(), 0, 0)
	link := filepath.Join(dir, "tool")
	if err := os.Symlink("hello", link); err != nil {
		t.Fatal(err)
	}
	r, err := layout.PlanImage([]layout.ImageFile{{Src: link}, {Src: filepath.Join(dir, "etc"), Dest: "/"}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Paths(), " ")
	if want := "app.conf link private/ private/secret tool"; got != want {
		t.Fatalf("paths %q, want %q", got, want)
	}
	out := t.TempDir()
	l, _ := layout.Create(out)
	d, err := l.PutImage(context.Background(), r, layout.ImageOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	readJSONBlob(t, out, d, &m)
	ents, _ := readLayer(t, out, m.Layers[0])
	// The link given as SRC is stored as the file it points to, under its own name.
	if ents[4].name != "tool" || ents[4].typ != tar.TypeReg || ents[4].mode != 0o755 || ents[4].body != "#!/bin/sh\necho hello\n" {
		t.Fatalf("tool: %+v", ents[4])
	}
}

func TestPutImageFileChangedAfterPlan(t *testing.T) {
	dir := t.TempDir()
	imageTree(t, dir, time.Now(), 0, 0)
	hello := filepath.Join(dir, "hello")
	r, err := layout.PlanImage([]layout.ImageFile{{Src: hello}})
	if err != nil {
		t.Fatal(err)
	}
	// Replaced by a FIFO: the write fails naming it instead of blocking on the open.
	os.Remove(hello)
	if err := syscall.Mkfifo(hello, 0o644); err != nil {
		t.Fatal(err)
	}
	l, _ := layout.Create(t.TempDir())
	_, err = l.PutImage(context.Background(), r, layout.ImageOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}})
	if err == nil || !strings.Contains(err.Error(), hello) || !strings.Contains(err.Error(), "no longer a regular file") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckImageOptions(t *testing.T) {
	p := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		opts    layout.ImageOptions
		mention string
	}{
		{layout.ImageOptions{Platform: p, Compression: "xz"}, `compression "xz"`},
		{layout.ImageOptions{Platform: p, Env: []string{"NOEQUALS"}}, `env "NOEQUALS"`},
		{layout.ImageOptions{Platform: p, Env: []string{"=v"}}, `env "=v"`},
		{layout.ImageOptions{Platform: p, Env: []string{"A=1", "A=2"}}, `"A=1" and "A=2" set A twice`},
		{layout.ImageOptions{Platform: p, User: "\xff"}, `user "\xff" is not valid UTF-8`},
		{layout.ImageOptions{Platform: p, Entrypoint: []string{"ok", "b\xc3"}}, `entrypoint "b\xc3" is not valid UTF-8`},
		{layout.ImageOptions{Platform: ocispec.Platform{OS: "linux"}}, "os and an architecture"},
		{layout.ImageOptions{Platform: p, WorkingDir: "app"}, `workdir "app" is not an absolute path`},
		{layout.ImageOptions{Platform: ocispec.Platform{OS: "windows", Architecture: "amd64"}}, "platform windows/amd64: a Windows image needs a Windows base layer"},
	} {
		err := layout.CheckImageOptions(tc.opts)
		if !errors.Is(err, layout.ErrInvalidOption) || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%+v: err = %v, want one mentioning %s", tc.opts, err, tc.mention)
		}
	}
}

func TestSetSoleImage(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	imageTree(t, src, time.Now(), 0, 0)
	out := filepath.Join(t.TempDir(), "out")
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	d1 := putImage(t, out, imageFiles(src)[:1], layout.ImageOptions{Platform: amd})
	l, _ := layout.Open(out)
	if r, err := l.SetSoleImage(ctx, d1); err != nil || r != nil {
		t.Fatalf("= %v, %v", r, err)
	}
	idx := readIndexFile(t, out)
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d1.Digest || idx.Manifests[0].MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("index %+v", idx)
	}
	// The same platform again replaces it.
	d2 := putImage(t, out, imageFiles(src)[:1], layout.ImageOptions{Platform: amd, Cmd: []string{"x"}})
	r, err := l.SetSoleImage(ctx, d2)
	if err != nil || r == nil || r.Digest != d1.Digest {
		t.Fatalf("= %v, %v; want %s replaced", r, err, d1.Digest)
	}
	if idx := readIndexFile(t, out); len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d2.Digest {
		t.Fatalf("index %+v", idx)
	}
	// Another platform needs a tag; the index is left as it was.
	before, _ := os.ReadFile(filepath.Join(out, "index.json"))
	d3 := putImage(t, out, imageFiles(src)[:1], layout.ImageOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "arm64"}})
	_, err = l.SetSoleImage(ctx, d3)
	if !errors.Is(err, layout.ErrConflict) || !strings.Contains(err.Error(), "linux/amd64") || !strings.Contains(err.Error(), out+":TAG") {
		t.Fatalf("err = %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "index.json")); !bytes.Equal(before, after) {
		t.Fatalf("index.json changed:\n%s\n%s", before, after)
	}
}

func readIndexFile(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	var idx ocispec.Index
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

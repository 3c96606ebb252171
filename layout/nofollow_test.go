//go:build !windows

package layout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/lock"
)

// A dangling symbolic link planted as a lock file makes the write fail, naming the link,
// and its target is never created; index.json stays as it was.
func TestLockFileSymlinksNotFollowed(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{layout.LockFile, layout.IngestLockFile} {
		t.Run(name, func(t *testing.T) {
			b := tl.New(t)
			target := filepath.Join(t.TempDir(), "outside", "created")
			if err := os.Symlink(target, filepath.Join(b.Dir, name)); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(b.Dir, "index.json"))
			l, err := layout.Open(b.Dir, layout.WithLockTimeout(2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			if name == layout.LockFile {
				d := b.Blob("text/plain", []byte("x"))
				werr = l.SetEntry(ctx, "v1", d)
			} else {
				_, werr = l.Session(ctx)
			}
			if !errors.Is(werr, lock.ErrSymlink) || !strings.Contains(werr.Error(), filepath.Join(b.Dir, name)) {
				t.Fatalf("= %v, want lock.ErrSymlink naming %s", werr, name)
			}
			if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the link's target was created: %v", err)
			}
			if _, err := os.Lstat(filepath.Dir(target)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the link's target folder was created: %v", err)
			}
			if now, _ := os.ReadFile(filepath.Join(b.Dir, "index.json")); !bytes.Equal(before, now) {
				t.Fatalf("index.json changed: %s", now)
			}
		})
	}
	t.Run("OUT.tar.lock", func(t *testing.T) {
		src := tl.New(t)
		m := src.Image(tl.P("linux", "amd64", "", ""), "layer")
		src.SetIndex(m)
		sl, err := layout.Open(src.Dir)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		out := filepath.Join(dir, "out.tar")
		target := filepath.Join(t.TempDir(), "created")
		os.Symlink(target, out+".lock")
		ij, _ := os.ReadFile(filepath.Join(src.Dir, "index.json"))
		blobs, err := sl.Blobs(ctx, []ocispec.Descriptor{m})
		if err != nil {
			t.Fatal(err)
		}
		for name, write := range map[string]func() error{
			"WriteTarball": func() error {
				return layout.WriteTarball(ctx, out, sl, ij, blobs, layout.TarOptions{LockTimeout: time.Second})
			},
			"Output": func() error {
				return writeOutput(ctx, out, time.Second, func(*layout.Layout) error {
					t.Error("fn ran without the lock")
					return nil
				})
			},
		} {
			err := write()
			if !errors.Is(err, lock.ErrSymlink) || !strings.Contains(err.Error(), out+".lock") {
				t.Fatalf("%s = %v, want lock.ErrSymlink naming %s.lock", name, err, out)
			}
		}
		if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the link's target was created: %v", err)
		}
		if names := dirNames(t, dir); strings.Join(names, " ") != "out.tar.lock" {
			t.Fatalf("beside out.tar: %v, want only the planted link", names)
		}
	})
}

// A blobs/sha256 (or blobs) that is a symbolic link gets no writes from any blob writer;
// the error names it.
func TestBlobFolderSymlinkGetsNoWrites(t *testing.T) {
	ctx := context.Background()
	data := []byte("payload")
	d := ocispec.Descriptor{MediaType: "text/plain", Digest: digest.FromBytes(data), Size: int64(len(data))}
	other := tl.New(t)
	other.Blob("text/plain", data)
	ol, _ := layout.Open(other.Dir)
	for _, linked := range []string{"blobs/sha256", "blobs", "blobs (to an empty folder)"} {
		writers := map[string]func(l *layout.Layout) error{
			"WriteBlob": func(l *layout.Layout) error { _, err := l.WriteBlob(ctx, d, bytes.NewReader(data)); return err },
			"Ingest":    func(l *layout.Layout) error { _, err := l.Ingest(ctx, "text/plain", bytes.NewReader(data)); return err },
			"PutBlob":   func(l *layout.Layout) error { _, err := l.PutBlob(ctx, "text/plain", data); return err },
			"Session":   func(l *layout.Layout) error { _, err := l.Session(ctx); return err },
		}
		for _, mode := range []layout.LinkMode{layout.LinkAuto, layout.LinkCopy, layout.LinkHardlink, layout.LinkReflink} {
			writers["CopyBlob/"+string(mode)] = func(l *layout.Layout) error {
				_, err := l.CopyBlob(ctx, ol, d, layout.TransferOptions{Mode: mode, Verify: true})
				return err
			}
		}
		for name, write := range writers {
			if linked == "blobs/sha256" && name == "Session" {
				continue // Session locks blobs/, which is a real folder here
			}
			t.Run(linked+"/"+name, func(t *testing.T) {
				b := tl.New(t)
				victim := filepath.Join(t.TempDir(), "victim")
				rel, empty := strings.CutSuffix(linked, " (to an empty folder)")
				link := filepath.Join(b.Dir, filepath.FromSlash(rel))
				if err := os.Rename(link, victim); err != nil {
					t.Fatal(err)
				}
				if empty {
					// No sha256/ there: a writer must not create one in the link's target.
					os.RemoveAll(victim)
					os.Mkdir(victim, 0o755)
				}
				if err := os.Symlink(victim, link); err != nil {
					t.Fatal(err)
				}
				before := treeNames(t, victim)
				l, err := layout.Open(b.Dir)
				if err != nil {
					t.Fatal(err)
				}
				err = write(l)
				if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symbolic link") {
					t.Fatalf("= %v, want an error naming the link %s", err, link)
				}
				if now := treeNames(t, victim); strings.Join(now, " ") != strings.Join(before, " ") {
					t.Fatalf("the link's target changed: %v, was %v", now, before)
				}
			})
		}
	}
}

// What killed writers of a tarball left beside it (temp files, stage folders) is removed
// by the next write of that tarball once it holds OUT.tar.lock; nothing else beside it is
// touched, and nothing is removed while another writer holds the lock.
func TestTarballLeftoversRemovedUnderLock(t *testing.T) {
	ctx := context.Background()
	src := tl.New(t)
	m := src.Image(tl.P("linux", "amd64", "", ""), "layer")
	src.SetIndex(tl.Tag(m, "v1"))
	sl, err := layout.Open(src.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ij, _ := os.ReadFile(filepath.Join(src.Dir, "index.json"))
	blobs, err := sl.Blobs(ctx, []ocispec.Descriptor{m})
	if err != nil {
		t.Fatal(err)
	}
	writers := map[string]func(out string, timeout time.Duration) error{
		"WriteTarball": func(out string, timeout time.Duration) error {
			return layout.WriteTarball(ctx, out, sl, ij, blobs, layout.TarOptions{LockTimeout: timeout})
		},
		"Output": func(out string, timeout time.Duration) error {
			return writeOutput(ctx, out, timeout, func(stage *layout.Layout) error {
				if _, err := stage.CopyBlob(ctx, sl, m, layout.TransferOptions{}); err != nil {
					return err
				}
				for _, b := range blobs {
					if _, err := stage.CopyBlob(ctx, sl, b, layout.TransferOptions{}); err != nil {
						return err
					}
				}
				return stage.SetEntry(ctx, "v1", m)
			})
		},
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.tar")
			plant := func(rel string, data string) {
				p := filepath.Join(dir, filepath.FromSlash(rel))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Leftovers of out.tar, named as the writers name them.
			plant(".ocil-tmp-out.tar-4242", "half a tarball")
			plant(".ocil-tmp-out.tar-stage-17/oci-layout", `{"imageLayoutVersion":"1.0.0"}`)
			plant(".ocil-tmp-out.tar-stage-17/blobs/sha256/.ocil-tmp-99", "half a blob")
			plant(".ocil-tmp-out.tar-parts-23/part-1", "a part of a split write")
			victim := filepath.Join(t.TempDir(), "victim")
			plant("../"+filepath.Base(filepath.Dir(victim))+"/victim/keep", "outside")
			os.Symlink(filepath.Dir(victim), filepath.Join(dir, ".ocil-tmp-out.tar-stage-18"))
			// Not leftovers of out.tar: another tarball's, and unrelated files.
			keep := map[string]string{
				".ocil-tmp-out.tar-1.tar-55":       "another tarball's temp file",
				".ocil-tmp-out.tar-stage-x":        "not a name a writer makes",
				".ocil-tmp-out.tar-parts-":         "not a name a writer makes",
				".ocil-tmp-other.tar-stage-3/file": "another tarball's stage",
				"out.tar.bak":                      "user file",
				"notes/.ocil-tmp-out.tar-7":        "in a subfolder",
			}
			for rel, data := range keep {
				plant(rel, data)
			}

			// While another writer holds the lock, nothing is removed.
			lk, err := lock.Acquire(ctx, out+".lock", lock.Exclusive, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := write(out, 100*time.Millisecond); !errors.Is(err, layout.ErrLocked) {
				t.Fatalf("with the lock held: = %v, want ErrLocked", err)
			}
			if _, err := os.Stat(filepath.Join(dir, ".ocil-tmp-out.tar-4242")); err != nil {
				t.Fatalf("a leftover was removed while another writer held the lock: %v", err)
			}
			lk.Release()

			if err := write(out, time.Second); err != nil {
				t.Fatal(err)
			}
			for _, gone := range []string{".ocil-tmp-out.tar-4242", ".ocil-tmp-out.tar-stage-17", ".ocil-tmp-out.tar-stage-18", ".ocil-tmp-out.tar-parts-23"} {
				if _, err := os.Lstat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("leftover %s is still there: %v", gone, err)
				}
			}
			if b, err := os.ReadFile(filepath.Join(filepath.Dir(victim), "victim", "keep")); err != nil || string(b) != "outside" {
				t.Errorf("a link among the leftovers was followed: %q, %v", b, err)
			}
			for rel, data := range keep {
				if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel))); err != nil || string(b) != data {
					t.Errorf("%s changed: %q, %v", rel, b, err)
				}
			}
			got := dirNames(t, dir)
			want := []string{".ocil-tmp-other.tar-stage-3", ".ocil-tmp-out.tar-1.tar-55", ".ocil-tmp-out.tar-parts-", ".ocil-tmp-out.tar-stage-x", "notes", "out.tar", "out.tar.bak", "out.tar.lock"}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("beside out.tar: %v, want %v", got, want)
			}
			res, err := layout.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			idx, err := res.Index(ctx)
			if err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != m.Digest {
				t.Fatalf("the new tarball lists %+v, %v", idx, err)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// treeNames lists every path under dir, with sizes, so a test can tell it changed.
func treeNames(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		out = append(out, strings.TrimPrefix(p, dir)+":"+fi.Mode().String())
		return nil
	})
	sort.Strings(out)
	return out
}

// writeOutput runs fn on the output out through OpenOutput and Output.Write.
func writeOutput(ctx context.Context, out string, timeout time.Duration, fn func(*layout.Layout) error) error {
	o, err := layout.OpenOutput(ctx, out, layout.OutputOptions{LockTimeout: timeout})
	if err != nil {
		return err
	}
	defer o.Close()
	return o.Write(ctx, fn)
}

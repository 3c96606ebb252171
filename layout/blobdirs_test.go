//go:build !windows

package layout_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
)

// TestBlobFolderSwappedForLink: blobs/sha256 is replaced by a link to a folder outside
// the layout after the layout was opened and a blob read (so its folder is held open).
// Later reads never return the outside folder's bytes: a blob still in the original
// folder reads as before, one that is not gives the unsafe-link or not-found error.
func TestBlobFolderSwappedForLink(t *testing.T) {
	ctx := context.Background()
	b := tl.New(t)
	first := b.Blob("text/plain", []byte("read before the swap"))
	kept := b.Blob("text/plain", []byte("still in the original folder"))
	gone := b.Blob("text/plain", []byte("removed with the swap"))
	l, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, err := l.ReadBlob(ctx, first); err != nil || string(got) != "read before the swap" {
		t.Fatalf("ReadBlob before the swap = %q, %v", got, err)
	}
	algDir := filepath.Join(b.Dir, "blobs", "sha256")
	outside := filepath.Join(t.TempDir(), "sha256")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{kept.Digest.Encoded(), gone.Digest.Encoded()} {
		if err := os.WriteFile(filepath.Join(outside, d), []byte("OUTSIDE BYTES"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(algDir, algDir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(algDir+".old", gone.Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, algDir); err != nil {
		t.Fatal(err)
	}
	if got, err := l.ReadBlob(ctx, kept); err != nil || string(got) != "still in the original folder" {
		t.Errorf("ReadBlob(kept) = %q, %v", got, err)
	}
	got, err := l.ReadBlob(ctx, gone)
	if bytes.Contains(got, []byte("OUTSIDE")) || !(errors.Is(err, layout.ErrUnsafeFile) || errors.Is(err, layout.ErrNotFound)) {
		t.Errorf("ReadBlob(gone) = %q, %v; want the unsafe-link or not-found error", got, err)
	}
	// A layout opened after the swap refuses the link as before.
	l2, err := layout.Open(b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if got, err := l2.ReadBlob(ctx, kept); !errors.Is(err, layout.ErrUnsafeFile) || bytes.Contains(got, []byte("OUTSIDE")) {
		t.Errorf("ReadBlob(kept) in a layout opened after the swap = %q, %v; want ErrUnsafeFile", got, err)
	}
}

// TestBlobStatMatchesLstat: a layout's file system describes a blob as os.Lstat does
// (size, mode, time, the system's stat), and a blob that is a FIFO still goes the checked
// way.
func TestBlobStatMatchesLstat(t *testing.T) {
	b := tl.New(t)
	d := b.Blob("text/plain", []byte("twelve bytes"))
	rel := "blobs/sha256/" + d.Digest.Encoded()
	fsys := layout.OpenFolderFS(b.Dir)
	defer fsys.Close()
	got, err := fs.Stat(fsys, rel)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Lstat(filepath.Join(b.Dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name() != want.Name() || got.Size() != 12 || got.Mode() != want.Mode() || !got.ModTime().Equal(want.ModTime()) || got.IsDir() {
		t.Errorf("Stat = %s %d %v %v, os.Lstat = %s %d %v %v", got.Name(), got.Size(), got.Mode(), got.ModTime(), want.Name(), want.Size(), want.Mode(), want.ModTime())
	}
	if gs, ok := got.Sys().(*syscall.Stat_t); !ok || gs.Ino != want.Sys().(*syscall.Stat_t).Ino {
		t.Errorf("Sys() = %T, want the *syscall.Stat_t of the same inode", got.Sys())
	}
	fifo := "blobs/sha256/" + strings.Repeat("f", 64)
	if err := syscall.Mkfifo(filepath.Join(b.Dir, fifo), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := fs.Stat(fsys, fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("Stat(FIFO) = %v, %v; want the FIFO described", fi, err)
	}
	if _, err := fsys.Open(fifo); !errors.Is(err, layout.ErrUnsafeFile) {
		t.Errorf("Open(FIFO) = %v, want ErrUnsafeFile", err)
	}
}

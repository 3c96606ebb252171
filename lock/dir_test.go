//go:build !windows

package lock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A folder lock excludes other processes like a lock file does, and survives what
// defeats a lock file: deleting it.
func TestAcquireDirAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.json"), []byte("{}"), 0o644)
	h := startHolder(t, dir, Exclusive)
	if tryInChild(t, dir, Exclusive) || tryInChild(t, dir, Shared) {
		t.Fatal("another process took the folder lock while it was held exclusively")
	}
	if _, ok, err := TryAcquireDir(dir, Exclusive); err != nil || ok {
		t.Fatalf("TryAcquireDir in this process = %v, %v; want busy", ok, err)
	}
	_, err := AcquireDir(context.Background(), dir, Shared, 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("AcquireDir = %v, want a timeout naming %s", err, dir)
	}
	h.release(t)
	l, ok, err := TryAcquireDir(dir, Exclusive)
	if err != nil || !ok {
		t.Fatalf("after release: TryAcquireDir = %v, %v", ok, err)
	}
	l.Release()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("the folder lock created files: %v", ents)
	}

	// Shared holders coexist; an exclusive one waits for them.
	startHolder(t, dir, Shared)
	if !tryInChild(t, dir, Shared) || tryInChild(t, dir, Exclusive) {
		t.Fatal("shared folder lock: want shared granted and exclusive refused")
	}
}

// A lock never follows a symbolic link: a dangling link does not make it create the
// target, a link to a file or folder is not locked through, and the error names the path.
func TestLockRefusesSymlinks(t *testing.T) {
	tmp := t.TempDir()
	target := filepath.Join(tmp, "elsewhere", "created-by-lock")
	os.Mkdir(filepath.Join(tmp, "elsewhere"), 0o755)
	dangling := filepath.Join(tmp, "index.json.lock")
	if err := os.Symlink(target, dangling); err != nil {
		t.Fatal(err)
	}
	realFile := filepath.Join(tmp, "real")
	os.WriteFile(realFile, []byte("keep"), 0o644)
	toFile := filepath.Join(tmp, "ocil-ingest.lock")
	os.Symlink(realFile, toFile)
	realDir := filepath.Join(tmp, "realdir")
	os.Mkdir(realDir, 0o755)
	toDir := filepath.Join(tmp, "blobs")
	os.Symlink(realDir, toDir)

	for _, tc := range []struct {
		name string
		try  func() error
		path string
	}{
		{"Acquire/dangling", func() error { _, err := Acquire(context.Background(), dangling, Exclusive, time.Second); return err }, dangling},
		{"TryAcquire/dangling", func() error { _, _, err := TryAcquire(dangling, Shared); return err }, dangling},
		{"Acquire/to a file", func() error { _, err := Acquire(context.Background(), toFile, Shared, time.Second); return err }, toFile},
		{"AcquireDir/to a folder", func() error { _, err := AcquireDir(context.Background(), toDir, Exclusive, time.Second); return err }, toDir},
		{"TryAcquireDir/to a folder", func() error { _, _, err := TryAcquireDir(toDir, Shared); return err }, toDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.try()
			if !errors.Is(err, ErrSymlink) || !strings.HasPrefix(err.Error(), "lock "+tc.path+": ") {
				t.Fatalf("= %v, want ErrSymlink naming %s", err, tc.path)
			}
		})
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dangling link's target was created: %v", err)
	}
	// The linked-to file and folder were not locked through the links.
	if !tryInChild(t, realFile, Exclusive) || !tryInChild(t, realDir, Exclusive) {
		t.Fatal("a link's target is locked")
	}
	if b, _ := os.ReadFile(realFile); string(b) != "keep" {
		t.Fatalf("the linked-to file changed: %q", b)
	}

	notDir := filepath.Join(tmp, "real")
	if _, err := AcquireDir(context.Background(), notDir, Shared, time.Second); err == nil || !strings.Contains(err.Error(), notDir) {
		t.Fatalf("AcquireDir on a file = %v, want an error naming it", err)
	}
}

// The errors a file system gives when it cannot flock a folder are told apart from real
// failures, so layout can fall back to its lock files there.
func TestDirLockUnsupported(t *testing.T) {
	for _, err := range []error{syscall.EBADF, syscall.EISDIR, syscall.ENOLCK, syscall.EOPNOTSUPP, &os.PathError{Op: "open", Path: "x", Err: syscall.EISDIR}} {
		if !dirLockUnsupported(err) {
			t.Errorf("%v: not taken for an unsupported folder lock", err)
		}
	}
	for _, err := range []error{syscall.ENOENT, syscall.EACCES, syscall.ELOOP, syscall.ENOTDIR, errors.New("other")} {
		if dirLockUnsupported(err) {
			t.Errorf("%v: taken for an unsupported folder lock", err)
		}
	}
}

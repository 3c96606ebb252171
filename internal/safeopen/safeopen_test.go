//go:build !windows

package safeopen

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, []byte("bytes"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs: %v", err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink("file", link)

	for _, tc := range []struct{ path, refused string }{
		{fifo, "a FIFO"},
		{"/dev/null", "a character device"},
		{dir, "a folder"},
	} {
		_, _, err := Open(tc.path) // a FIFO would block here if it were opened
		var nr *NotRegularError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), tc.path+" is "+tc.refused+", not a regular file") {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
	for _, p := range []string{regular, link} {
		f, fi, err := Open(p)
		if err != nil || fi.Size() != 5 {
			t.Fatalf("%s: %v, %v", p, fi, err)
		}
		// Reads of the file are ordinary blocking reads: O_NONBLOCK was only for the open.
		rc, _ := f.SyscallConn()
		var flags uintptr
		rc.Control(func(fd uintptr) {
			flags, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		})
		if flags&syscall.O_NONBLOCK != 0 {
			t.Errorf("%s: still O_NONBLOCK", p)
		}
		f.Close()
	}
	if _, _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

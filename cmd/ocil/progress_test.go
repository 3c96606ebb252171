package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocil-dev/ocil/internal/progress"
)

// runWithProgress runs ocil with a clock that moves ten seconds each time it is read, so
// that every count of bytes is due for a line.
func runWithProgress(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	now := time.Unix(1700000000, 0)
	env := progressEnv{
		now:   func() time.Time { now = now.Add(10 * time.Second); return now },
		width: func() int { return 60 },
	}
	var out, errOut bytes.Buffer
	app := newAppWith(&out, &errOut, env)
	code = runApp(context.Background(), app, append([]string{"ocil"}, args...), strings.NewReader(""), &errOut)
	return code, out.String(), errOut.String()
}

// --progress plain prints whole lines on standard error, for CI logs, counting the bytes
// of each phase; the result on standard output is untouched.
func TestProgressPlain(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out.tar.gz")
	code, stdout, stderr := runWithProgress(t, "copy", "--progress", "plain", fixture("regctl-index")+":v1", dst)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "sha256:35918c857284ed039c775722e60e900d0ae29107bab5aa7f2e95436873ed7ecf\n" {
		t.Errorf("stdout %q", stdout)
	}
	if strings.ContainsAny(stderr, "\r\033") {
		t.Errorf("plain progress holds escapes: %q", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "copy write out.tar.gz  100%  ") || !strings.Contains(last, " / ") {
		t.Errorf("last progress line %q; all:\n%s", last, stderr)
	}

	// A compressed tarball that is not seekable (GNU tar's) is decompressed whole: the
	// compressed bytes are counted against the file's size.
	gz := fixture("oras-amd64-el9.tar.gz")
	fi, err := os.Stat(gz)
	if err != nil {
		t.Fatal(err)
	}
	size := progress.Bytes(fi.Size())
	code, _, stderr = runWithProgress(t, "validate", "--progress", "plain", gz)
	if code != exitOK || !strings.HasPrefix(stderr, "validate decompress  100%  "+size+" / "+size+"  ") {
		t.Errorf("validate: exit %d, stderr:\n%s", code, stderr)
	}
	// A folder's blobs are hashed.
	code, _, stderr = runWithProgress(t, "validate", "--progress", "plain", fixture("regctl-index"))
	if code != exitOK || !strings.Contains(stderr, "validate hash  100%") {
		t.Errorf("validate of a folder: exit %d, stderr:\n%s", code, stderr)
	}
}

// No progress with -q, with --progress none, or when standard error is not a terminal.
func TestProgressSilent(t *testing.T) {
	for _, args := range [][]string{
		{"--progress", "plain", "-q"},
		{"--progress", "none"},
		{},
	} {
		dst := filepath.Join(t.TempDir(), "out.tar")
		all := append([]string{"copy", fixture("regctl-index") + ":v1", dst}, args...)
		code, _, stderr := runWithProgress(t, all...)
		if code != exitOK || stderr != "" {
			t.Errorf("ocil %s: exit %d, stderr %q", strings.Join(all, " "), code, stderr)
		}
	}
	code, _, stderr := runWithProgress(t, "ls", "--progress", "fancy", fixture("regctl-index"))
	if code != exitUsage || !strings.Contains(stderr, `--progress "fancy": want auto, plain or none`) {
		t.Errorf("an unknown --progress: exit %d, %q", code, stderr)
	}
}

// add counts the files it stores against their size, and pull the layers it writes.
func TestProgressAddAndPull(t *testing.T) {
	work := t.TempDir()
	file := filepath.Join(work, "tool")
	if err := os.WriteFile(file, bytes.Repeat([]byte("x"), 100<<10), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(work, "l")
	code, _, stderr := runWithProgress(t, "add", "--progress", "plain", dst+":v1", "--platform", "linux/amd64", file)
	if code != exitOK || !strings.Contains(stderr, "add store  100%  100.0 KiB / 100.0 KiB  ") {
		t.Errorf("add: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runWithProgress(t, "pull", "--progress", "plain", dst+":v1", "--platform", "linux/amd64", "-o", filepath.Join(work, "out"))
	if code != exitOK || !strings.Contains(stderr, "pull write  100%  100.0 KiB / 100.0 KiB  ") {
		t.Errorf("pull: exit %d, stderr:\n%s", code, stderr)
	}
}

package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// On Linux the timeout error names the process holding the lock.
func TestTimeoutNamesHolder(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skipf("no /proc/locks: %v", err)
	}
	path := lockPath(t)
	h := startHolder(t, path, Exclusive)
	_, err := Acquire(context.Background(), path, Exclusive, 100*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	want := fmt.Sprintf("lock %s: timed out after 100ms (held by pid %d: ", path, h.cmd.Process.Pid)
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), ")") {
		t.Errorf("error %q\nwant prefix %q", err, want)
	}
	// The holder's command line is this test binary's.
	if !strings.Contains(err.Error(), filepath.Base(os.Args[0])) && len(os.Args[0]) < maxCmdline {
		t.Errorf("error %q does not show the holder's command %s", err, os.Args[0])
	}

	// Two Shared holders are both named.
	h.release(t)
	shared := lockPath(t)
	h1 := startHolder(t, shared, Shared)
	h2 := startHolder(t, shared, Shared)
	_, err = Acquire(context.Background(), shared, Exclusive, 50*time.Millisecond)
	for _, pid := range []int{h1.cmd.Process.Pid, h2.cmd.Process.Pid} {
		if !strings.Contains(fmt.Sprint(err), fmt.Sprintf("pid %d: ", pid)) {
			t.Errorf("error %q does not name shared holder pid %d", err, pid)
		}
	}

	// A lock held by nobody: no parenthesis, even if the file exists.
	if got := describeHolder(path); got != "" {
		t.Errorf("describeHolder on an unlocked file = %q, want empty", got)
	}
}

func TestFlockHolders(t *testing.T) {
	const locks = `1: POSIX  ADVISORY  WRITE 100 fd:01:5678 0 EOF
2: FLOCK  ADVISORY  WRITE 200 fd:01:5678 0 EOF
2: -> FLOCK  ADVISORY  WRITE 300 fd:01:5678 0 EOF
3: FLOCK  ADVISORY  READ  400 fd:01:9999 0 EOF
4: FLOCK  ADVISORY  READ  500 00:2d:5678 0 EOF
5: OFDLCK ADVISORY  WRITE -1 fd:01:5678 0 EOF
6: FLOCK  ADVISORY  READ  600 fd:01:5678 0 EOF
7: FLOCK  ADVISORY  READ  200 fd:01:5678 0 EOF
garbage
8: FLOCK  ADVISORY  READ  700 fd:01:notanumber 0 EOF
`
	got := flockHolders(strings.NewReader(locks), 0xfd, 0x01, 5678)
	want := []int{200, 600}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flockHolders = %v, want %v", got, want)
	}
	if got := flockHolders(strings.NewReader(locks), 0, 0x2d, 5678); fmt.Sprint(got) != "[500]" {
		t.Errorf("flockHolders on 00:2d = %v, want [500]", got)
	}
}

func TestDevNumbers(t *testing.T) {
	for _, tc := range []struct {
		dev          uint64
		major, minor uint32
	}{
		{0xfd01, 0xfd, 0x01},
		{0x002d, 0, 0x2d},
		{0x0803, 8, 3},
		// Large numbers: major bits 12+ live from bit 44, minor bits 8+ from bit 20.
		{0x12345<<44 | 0x678<<8 | 0xabcde<<20 | 0x9f, 0x12345678, 0xabcde9f},
	} {
		if ma, mi := devMajor(tc.dev), devMinor(tc.dev); ma != tc.major || mi != tc.minor {
			t.Errorf("dev %#x: got %d:%d, want %d:%d", tc.dev, ma, mi, tc.major, tc.minor)
		}
	}
}

func TestHoldersFromProc(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("locks", `1: FLOCK  ADVISORY  WRITE 1234 08:03:42 0 EOF
2: FLOCK  ADVISORY  WRITE 1235 08:03:43 0 EOF
`)
	write("1234/cmdline", "ocil\x00merge\x00-o\x00out:1\x00a\x00b\x00")
	const dev = 0x0803

	if got, want := holdersFromProc(root, dev, 42), "held by pid 1234: ocil merge -o out:1 a b"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := holdersFromProc(root, dev, 43), "held by pid 1235"; got != want {
		t.Errorf("unreadable cmdline: got %q, want %q", got, want)
	}
	if got := holdersFromProc(root, dev, 44); got != "" {
		t.Errorf("no holder: got %q, want empty", got)
	}

	write("1234/cmdline", strings.Repeat("x", 150)+"\x00\n\x00")
	got := holdersFromProc(root, dev, 42)
	if want := "held by pid 1234: " + strings.Repeat("x", maxCmdline) + "..."; got != want {
		t.Errorf("long cmdline: got %q, want %q", got, want)
	}

	write("locks", `1: FLOCK  ADVISORY  READ 1 08:03:42 0 EOF
2: FLOCK  ADVISORY  READ 2 08:03:42 0 EOF
3: FLOCK  ADVISORY  READ 3 08:03:42 0 EOF
4: FLOCK  ADVISORY  READ 4 08:03:42 0 EOF
5: FLOCK  ADVISORY  READ 5 08:03:42 0 EOF
`)
	if got, want := holdersFromProc(root, dev, 42), "held by pid 1; pid 2; pid 3; and 2 more"; got != want {
		t.Errorf("many holders: got %q, want %q", got, want)
	}
	if got := holdersFromProc(filepath.Join(root, "missing"), dev, 42); got != "" {
		t.Errorf("no locks file: got %q, want empty", got)
	}
}

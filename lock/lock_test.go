package lock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the program for the other processes in these tests:
// when envRole is set, TestMain plays that role instead of running tests.
const (
	envRole    = "OCIL_LOCK_TEST_ROLE"
	envPath    = "OCIL_LOCK_TEST_PATH"
	envMode    = "OCIL_LOCK_TEST_MODE"
	envCounter = "OCIL_LOCK_TEST_COUNTER"
	envIters   = "OCIL_LOCK_TEST_ITERS"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		if err := runRole(role); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runRole runs in a child process.
//
//	hold:    take the lock, print "locked", keep it until stdin is closed.
//	try:     one TryAcquire; print "acquired" or "busy".
//	count:   increment the counter file iters times, each under the Exclusive lock.
//	nolock:  the same without the lock (the control run).
func runRole(role string) error {
	path := os.Getenv(envPath)
	mode := Exclusive
	if os.Getenv(envMode) == "shared" {
		mode = Shared
	}
	// A folder at path is locked in place (AcquireDir), anything else as a lock file.
	fi, err := os.Lstat(path)
	dir := err == nil && fi.IsDir()
	switch role {
	case "hold":
		l, err := acquire(context.Background(), path, dir, mode, 0)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return l.Release()
	case "try":
		l, ok, err := attempt(path, dir, mode)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Println("busy")
			return nil
		}
		fmt.Println("acquired")
		return l.Release()
	case "count", "nolock":
		iters, err := strconv.Atoi(os.Getenv(envIters))
		if err != nil {
			return err
		}
		counter := os.Getenv(envCounter)
		for range iters {
			var l *Lock
			if role == "count" {
				if l, err = Acquire(context.Background(), path, Exclusive, 30*time.Second); err != nil {
					return err
				}
			}
			if err := increment(counter, role == "count"); err != nil {
				return err
			}
			if err := l.Release(); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}

// increment reads the counter file, pauses so that unguarded writers overlap, and
// writes the value plus one. Only a guarded run treats a torn read as an error.
func increment(counter string, strict bool) error {
	b, err := os.ReadFile(counter)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil && strict {
		return fmt.Errorf("counter file holds %q: %w", b, err)
	}
	time.Sleep(2 * time.Millisecond)
	return os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644)
}

func roleCmd(role, path string, mode Mode, extraEnv ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRole+"="+role, envPath+"="+path, envMode+"="+mode.String())
	// Under -race, a process otherwise sleeps 1s at exit to let reports flush.
	cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

// holder is a child process holding the lock.
type holder struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	once   sync.Once
	err    error
}

// startHolder starts a child that takes the lock on path in mode and returns once the
// child reports that it holds it.
func startHolder(t *testing.T, path string, mode Mode) *holder {
	t.Helper()
	cmd := roleCmd("hold", path, mode)
	h := &holder{cmd: cmd, stderr: new(bytes.Buffer)}
	cmd.Stderr = h.stderr
	var err error
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.kill() })

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) != "locked" {
			h.kill()
			t.Fatalf("holder did not take the lock: stdout %q, stderr %q", s, h.stderr)
		}
	case <-time.After(2 * time.Minute): // a bound on a hang, not a speed requirement
		h.kill()
		t.Fatalf("holder did not report the lock within 2 minutes; stderr %q", h.stderr)
	}
	return h
}

// release asks the holder to release the lock and exit, and waits for it.
func (h *holder) release(t *testing.T) {
	t.Helper()
	h.once.Do(func() {
		h.stdin.Close()
		h.err = h.cmd.Wait()
	})
	if h.err != nil {
		t.Fatalf("holder: %v; stderr %q", h.err, h.stderr)
	}
}

// kill ends the holder with SIGKILL (on Windows, TerminateProcess) and reaps it.
func (h *holder) kill() {
	h.once.Do(func() {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
		h.stdin.Close()
	})
}

// tryInChild reports whether another process can take the lock on path in mode right now.
func tryInChild(t *testing.T, path string, mode Mode) bool {
	t.Helper()
	cmd := roleCmd("try", path, mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("try %s in child: %v; stderr %q", mode, err, &stderr)
	}
	switch s := strings.TrimSpace(string(out)); s {
	case "acquired":
		return true
	case "busy":
		return false
	default:
		t.Fatalf("try %s in child: unexpected output %q", mode, s)
		return false
	}
}

func lockPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "index.json.lock")
}

func mustAcquire(t *testing.T, path string, mode Mode) *Lock {
	t.Helper()
	l, err := Acquire(context.Background(), path, mode, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Release() })
	return l
}

func mustTry(t *testing.T, path string, mode Mode) (*Lock, bool) {
	t.Helper()
	l, ok, err := TryAcquire(path, mode)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Cleanup(func() { _ = l.Release() })
	}
	return l, ok
}

// runCounters has n processes each increment the counter file iters times in the
// given role and returns the final count.
func runCounters(t *testing.T, role string, n, iters int) int {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "index.json.lock")
	counter := filepath.Join(dir, "counter")
	if err := os.WriteFile(counter, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmds := make([]*exec.Cmd, n)
	stderrs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = roleCmd(role, path, Exclusive, envCounter+"="+counter, envIters+"="+strconv.Itoa(iters))
		stderrs[i] = new(bytes.Buffer)
		cmds[i].Stderr = stderrs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s process %d: %v; stderr %q", role, i, err, stderrs[i])
		}
	}
	b, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	got, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil && role == "count" {
		t.Fatalf("counter file holds %q", b)
	}
	return got
}

// Processes that take the Exclusive lock around a read-modify-write of a shared file
// lose no updates.
func TestExclusiveAcrossProcesses(t *testing.T) {
	const n, iters = 8, 25
	if got := runCounters(t, "count", n, iters); got != n*iters {
		t.Errorf("with the lock: counter = %d, want %d (updates were lost)", got, n*iters)
	}
	// Control: the same work without the lock. Only logged, since losing updates
	// depends on scheduling.
	t.Logf("control run without the lock: counter = %d of %d", runCounters(t, "nolock", n, iters), n*iters)
}

// The kernel releases the lock of a process killed with SIGKILL: no stale lock.
func TestKilledHolderReleases(t *testing.T) {
	path := lockPath(t)
	h := startHolder(t, path, Exclusive)
	if _, ok := mustTry(t, path, Exclusive); ok {
		t.Fatal("TryAcquire succeeded while another process holds the lock")
	}
	h.kill()
	l, err := Acquire(context.Background(), path, Exclusive, 5*time.Second)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	defer l.Release()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("lock file after the holder died: %v", err)
	}
}

// A timed-out Acquire wraps ErrTimeout, names the file and waits at least the timeout.
func TestTimeout(t *testing.T) {
	path := lockPath(t)
	startHolder(t, path, Exclusive)
	const timeout = 200 * time.Millisecond
	start := time.Now()
	l, err := Acquire(context.Background(), path, Exclusive, timeout)
	elapsed := time.Since(start)
	if err == nil {
		l.Release()
		t.Fatal("Acquire succeeded while another process holds the lock")
	}
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %q does not wrap ErrTimeout", err)
	}
	want := "lock " + path + ": timed out after 200ms"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if elapsed < timeout {
		t.Errorf("gave up after %v, before the %v timeout", elapsed, timeout)
	}
	if elapsed > time.Minute { // a bound on a hang: a busy machine may be slow to wake it
		t.Errorf("gave up only after %v with a %v timeout", elapsed, timeout)
	}
	t.Logf("error: %v", err)
}

// Shared locks coexist across processes; Exclusive excludes Shared and vice versa.
func TestSharedAndExclusive(t *testing.T) {
	path := lockPath(t)
	h := startHolder(t, path, Shared)

	s, ok := mustTry(t, path, Shared)
	if !ok {
		t.Fatal("Shared refused while another process holds Shared")
	}
	if !tryInChild(t, path, Shared) {
		t.Error("a third process could not take Shared alongside two Shared holders")
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	// Only the child's Shared lock is left, and it alone must keep Exclusive out.
	if _, ok := mustTry(t, path, Exclusive); ok {
		t.Fatal("Exclusive granted while another process holds Shared")
	}
	if tryInChild(t, path, Exclusive) {
		t.Fatal("Exclusive granted to another process while Shared is held")
	}
	if _, err := Acquire(context.Background(), path, Exclusive, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Acquire Exclusive while Shared is held: got %v, want ErrTimeout", err)
	}
	h.release(t)
	x := mustAcquire(t, path, Exclusive)
	if tryInChild(t, path, Shared) {
		t.Error("Shared granted to another process while Exclusive is held")
	}
	if err := x.Release(); err != nil {
		t.Fatal(err)
	}
	if !tryInChild(t, path, Shared) {
		t.Error("Shared refused after the Exclusive lock was released")
	}
}

// A lock file deleted and recreated by another tool while a process holds the old one
// does not keep a waiter out, and the waiter ends up locking the file now at the path.
func TestReplacedFileWhileHeld(t *testing.T) {
	path := lockPath(t)
	startHolder(t, path, Exclusive) // keeps the old inode locked, and alive, throughout
	if _, ok := mustTry(t, path, Exclusive); ok {
		t.Fatal("TryAcquire succeeded while another process holds the lock")
	}
	replaceFile(t, path)

	l := mustAcquire(t, path, Exclusive)
	assertHoldsPath(t, l)
}

// When the file is replaced or deleted between the flock and the check, Acquire and
// TryAcquire notice, let go of the old file and lock the one now at the path.
func TestReplacedFileAfterFlock(t *testing.T) {
	acquire := func(t *testing.T, path string) *Lock { return mustAcquire(t, path, Exclusive) }
	try := func(t *testing.T, path string) *Lock {
		l, ok := mustTry(t, path, Exclusive)
		if !ok {
			t.Fatal("TryAcquire reported busy with no other holder")
		}
		return l
	}
	remove := func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		acquire func(t *testing.T, path string) *Lock
		change  func(t *testing.T, path string)
	}{
		{"Acquire/replaced", acquire, replaceFile},
		{"TryAcquire/replaced", try, replaceFile},
		{"Acquire/deleted", acquire, remove},
		{"TryAcquire/deleted", try, remove},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := lockPath(t)
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			calls := 0
			testHookLocked = func() {
				calls++
				if calls == 1 {
					tc.change(t, path)
				}
			}
			t.Cleanup(func() { testHookLocked = nil })

			l := tc.acquire(t, path)
			testHookLocked = nil
			if calls != 2 {
				t.Errorf("flock succeeded %d times, want 2 (the old file, then the one now at the path)", calls)
			}
			assertHoldsPath(t, l)
		})
	}
}

// replaceFile deletes the file at path and creates a different one there, as a tool
// unaware of the lock might.
func replaceFile(t *testing.T, path string) {
	t.Helper()
	old, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cur, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(old, cur) {
		t.Fatal("the recreated lock file is the same file as before")
	}
}

// assertHoldsPath checks that l holds the file now at its path, both by comparing
// the files and by another process failing to lock that path.
func assertHoldsPath(t *testing.T, l *Lock) {
	t.Helper()
	held, err := l.fl.Stat()
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(held, cur) {
		t.Error("the lock is held on a file that is no longer at the path")
	}
	if tryInChild(t, l.Path(), Exclusive) {
		t.Error("another process could lock the file at the path while the lock is held")
	}
}

// Release can be called again, leaves the file in place, and really unlocks.
func TestRelease(t *testing.T) {
	path := lockPath(t)
	l, err := Acquire(context.Background(), path, Exclusive, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.Path() != path {
		t.Errorf("Path() = %q, want %q", l.Path(), path)
	}
	if l.Mode() != Exclusive {
		t.Errorf("Mode() = %v, want %v", l.Mode(), Exclusive)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("lock file not created: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 || perm&0o600 != 0o600 {
		t.Errorf("lock file mode %v, want 0644 less umask", perm)
	}
	if tryInChild(t, path, Exclusive) {
		t.Fatal("another process took the lock while it is held")
	}
	for i := range 2 {
		if err := l.Release(); err != nil {
			t.Fatalf("Release #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("lock file after Release: %v", err)
	}
	if !tryInChild(t, path, Exclusive) {
		t.Error("another process could not take the lock after Release")
	}
	var nilLock *Lock
	if err := nilLock.Release(); err != nil {
		t.Errorf("Release on nil: %v", err)
	}
}

// Two Locks in one process exclude each other like separate processes.
func TestSameProcessLocksConflict(t *testing.T) {
	path := lockPath(t)
	mustAcquire(t, path, Exclusive)
	if _, ok := mustTry(t, path, Shared); ok {
		t.Error("a second Lock in the same process got Shared while Exclusive is held")
	}
}

// Cancelling the context ends the wait with an error that wraps ctx.Err().
func TestContextCancel(t *testing.T) {
	path := lockPath(t)
	startHolder(t, path, Exclusive)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := Acquire(ctx, path, Exclusive, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want an error wrapping context.Canceled", err)
	}
	if errors.Is(err, ErrTimeout) {
		t.Errorf("cancellation error %q wraps ErrTimeout", err)
	}
	if !strings.HasPrefix(err.Error(), "lock "+path+": context canceled") {
		t.Errorf("error %q does not name the lock file and the cause", err)
	}
	if d := time.Since(start); d > time.Minute { // a bound on a hang, as above
		t.Errorf("cancellation took %v", d)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, path, Exclusive, time.Hour); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Errorf("with an expired context deadline: got %v, want context.DeadlineExceeded", err)
	}

	// A context that is already done is reported even when the lock is free.
	free := lockPath(t)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if l, err := Acquire(ctx, free, Exclusive, 0); !errors.Is(err, context.Canceled) {
		l.Release()
		t.Errorf("with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-dir", "index.json.lock")
	_, err := Acquire(context.Background(), missing, Exclusive, time.Second)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing parent: got %v, want fs.ErrNotExist", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "lock "+missing+": ") {
		t.Errorf("error %q does not start with the lock file", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing parent directory was created")
	}

	path := lockPath(t)
	if _, _, err := TryAcquire(path, Mode(7)); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("invalid mode: got %v, want an error naming %s", err, path)
	}
}

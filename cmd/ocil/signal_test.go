//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/ocil-dev/ocil/lock"
)

// A second SIGINT or SIGTERM ends ocil at once, with 128 + the signal's number, even when
// a system call is stuck: here add reads a FIFO whose writer never writes, which the first
// signal (it cancels the command) cannot interrupt.
func TestSecondSignalEndsOcil(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			fifo := filepath.Join(tmp, "input")
			makeFIFO(t, fifo)
			cmd := ocilProcess(t, "add", filepath.Join(tmp, "out")+":v1", "--platform", "linux/amd64", fifo)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			cmd.Stderr = pw
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			done := false
			defer func() {
				if !done {
					cmd.Process.Kill()
					<-exited
				}
			}()
			first := make(chan string, 1)
			go func() {
				r := bufio.NewReader(pr)
				l, _ := r.ReadString('\n')
				first <- l
				io.Copy(io.Discard, r)
			}()
			// Opening the write end returns once ocil has opened the FIFO to read it.
			w := openWriteEnd(t, fifo, exited)
			defer w.Close() // open and silent from here: the read waits
			// One byte, taken by ocil's first read; the next read is the one that waits.
			w.WriteString("x")
			waitBlocked(t, cmd.Process.Pid, w)
			cmd.Process.Signal(tc.sig)
			select {
			case l := <-first:
				if !strings.Contains(l, "stopping (a second signal ends ocil at once)") {
					t.Fatalf("after the first signal: %q", l)
				}
			case <-time.After(processBound):
				t.Fatal("no word after the first signal")
			}
			cmd.Process.Signal(tc.sig)
			select {
			case err := <-exited:
				done = true
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
					t.Fatalf("exit: %v, want code %d", err, tc.code)
				}
			case <-time.After(processBound):
				t.Fatalf("still running %s after the second signal", processBound)
			}
		})
	}
}

// The first signal cancels the command: here add has read its input and waits for
// index.json.lock, which the test holds. It stops at once with exit 1, leaves index.json
// as it was and no temp file, and releases its locks.
func TestFirstSignalCancels(t *testing.T) {
	tmp := t.TempDir()
	dst := filepath.Join(tmp, "out")
	if code, _, stderr := runCLI(t, "add", dst+":v0", "--platform", "linux/amd64"); code != 0 {
		t.Fatal(stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	held, err := lock.Acquire(t.Context(), filepath.Join(dst, "index.json.lock"), lock.Exclusive, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(tmp, "input")
	makeFIFO(t, fifo)
	cmd := ocilProcess(t, "add", dst+":v1", "--platform", "linux/arm64", fifo)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The write end opens once ocil reads the FIFO, so its signal handling is in place.
	w := openWriteEnd(t, fifo, exited)
	w.WriteString("the input")
	w.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "stopping") || strings.Contains(stderr.String(), "exiting now") {
			t.Fatalf("exit %v: %s", err, stderr.String())
		}
	case <-time.After(processBound):
		cmd.Process.Kill()
		held.Release()
		t.Fatalf("still running %s after the signal", processBound)
	}
	if after, _ := os.ReadFile(filepath.Join(dst, "index.json")); string(after) != string(before) {
		t.Errorf("index.json changed:\n%s", after)
	}
	ents, _ := os.ReadDir(filepath.Join(dst, "blobs", "sha256"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".ocil-tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
	// Its ingest lock is released: with the test's lock gone too, gc runs at once.
	held.Release()
	if code, _, stderr := runCLI(t, "gc", "--lock-timeout", "30s", dst); code != 0 {
		t.Fatal(stderr)
	}
}

// openWriteEnd opens the FIFO for writing, which returns once ocil has opened it to read.
func openWriteEnd(t *testing.T, fifo string, exited <-chan error) *os.File {
	t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		w, _ := os.OpenFile(fifo, os.O_WRONLY, 0)
		opened <- w
	}()
	select {
	case w := <-opened:
		if w == nil {
			t.Fatal("cannot open the FIFO to write")
		}
		return w
	case err := <-exited:
		t.Fatalf("ocil ended before it read its input: %v", err)
	case <-time.After(processBound):
		t.Fatal("ocil never opened its input")
	}
	return nil
}

// waitBlocked waits until ocil has read everything written to the FIFO w and every thread
// of it sleeps: it is then parked in its next read of the FIFO, past the point where it
// looks at its context.
func waitBlocked(t *testing.T, pid int, w *os.File) {
	t.Helper()
	rc, err := w.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(processBound); ; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("ocil never settled in its read of the FIFO")
		}
		var queued int32
		rc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&queued)))
		})
		if queued == 0 && allSleeping(pid) {
			return
		}
	}
}

// allSleeping reports whether every thread of pid is in an interruptible sleep.
func allSleeping(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'S' {
			return false
		}
	}
	return true
}

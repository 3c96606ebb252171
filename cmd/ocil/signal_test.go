package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
				defer w.Close() // open and silent: the read waits
			case <-time.After(processBound):
				t.Fatal("ocil never opened its input")
			}
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

// Command ocil works on OCI image layouts (folders) without a registry: it lists, resolves
// and prints what they hold. Run `ocil --help` for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(runMain(os.Args, os.Stdout, os.Stderr))
}

// runMain runs ocil as the program does, with its signal handling: the first SIGINT or
// SIGTERM cancels the context, so the command stops, removes its temp files and releases
// its locks; a second one ends the process at once with 128 + the signal's number (130,
// 143), even when a system call is stuck. What it leaves then (temp files, never a half
// index.json) is what a kill -9 leaves: ocil gc removes it.
func runMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signalContext(stderr, func(code int) { os.Exit(code) })
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM; the second
// calls exit with 128 + its number. stop ends the handling.
func signalContext(stderr io.Writer, exit func(code int)) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			fmt.Fprintf(stderr, "ocil: %v: stopping (a second signal ends ocil at once)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-ch:
			fmt.Fprintf(stderr, "ocil: %v again: exiting now\n", s)
			exit(128 + signalNumber(s))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

func signalNumber(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return 0
}

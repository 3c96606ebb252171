package main

import (
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ocil-dev/ocil/internal/progress"
)

// progressFlag is the --progress flag of every command that reads or writes blobs.
func progressFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "progress", Value: "auto",
		Usage: "auto: a progress line on a terminal (not with -q or TERM=dumb); plain: a line every few seconds, for CI logs; none"}
}

// progressEnv is what progress takes from the machine: the clock and the terminal's
// width. Tests give fixed ones.
type progressEnv struct {
	now   func() time.Time
	width func() int
}

// noProgress are the commands with no --progress flag: they move no blob.
var noProgress = map[string]bool{"completion": true, "version": true, "help": true}

// startProgress activates the command's progress display, as --progress, -q and TERM
// say, and routes standard output and error through it, so that a line of progress is
// cleared before anything else is printed. It returns the function that stops it.
func startProgress(c *cli.Context, env progressEnv) (stop func(), err error) {
	mode, err := progress.ModeFor(c.String("progress"), c.Bool("quiet"), os.Getenv("TERM"), c.App.ErrWriter)
	if err != nil {
		return nil, usagef("%v", err)
	}
	width := env.width
	if width == nil {
		width = func() int { return terminalWidth(c.App.ErrWriter) }
	}
	bar := progress.New(c.App.ErrWriter, progress.Config{Mode: mode, Label: c.Command.Name, Now: env.now, Width: width})
	if bar == nil {
		return func() {}, nil
	}
	c.App.Writer = bar.Guard(c.App.Writer)
	c.App.ErrWriter = bar.Guard(c.App.ErrWriter)
	return progress.Activate(bar), nil
}

// terminalWidth is the number of columns of the terminal w is, or 0.
func terminalWidth(w any) int {
	if g, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = g.Unwrap()
	}
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

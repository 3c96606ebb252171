package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the operation failed: not found, ambiguous, mismatch, invalid layout
	exitUsage  = 2 // bad usage or bad input syntax
)

// usageError marks a command line that cannot be run as written.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run is the whole program: tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	args, err := interspersed(app, args)
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ocil: %v\n", err)
	return exitCode(err)
}

// exitCode maps error classes to exit codes, in this one place.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case errors.As(err, &ue),
		errors.Is(err, layout.ErrInvalidReference),
		errors.Is(err, layout.ErrInvalidPlatform),
		errors.Is(err, layout.ErrInvalidDigest),
		errors.Is(err, layout.ErrInvalidOption):
		return exitUsage
	}
	return exitFailed
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "ocil",
		Usage: "work on OCI image layouts without a registry",
		Description: `ocil reads OCI image layouts: folders with oci-layout, index.json and blobs/.
A reference names a layout and optionally an entry in it:
  PATH  PATH:TAG  PATH@DIGEST  PATH:TAG@DIGEST
A platform is os/arch[/variant][:os.version] (linux/arm64/v8:el8) or
os(os.version)/arch[/variant] (windows(10.0.17763)/amd64).

Exit codes: 0 success, 1 failed (not found, ambiguous, mismatch), 2 bad usage or syntax.
A first SIGINT or SIGTERM stops ocil cleanly (temp files removed, locks released,
exit 1); a second one ends it at once, even mid system call, with 130 (SIGINT) or
143 (SIGTERM), and ocil gc removes what it left.

Example:
  ocil ls ./out
  ocil resolve ./out:1.2 --platform linux/arm64`,
		Version:               versionString(),
		Writer:                stdout,
		ErrWriter:             stderr,
		EnableBashCompletion:  true,
		ExitErrHandler:        func(*cli.Context, error) {},
		OnUsageError:          onUsageError,
		CustomAppHelpTemplate: "",
		Commands: []*cli.Command{
			lsCommand(),
			resolveCommand(),
			mergeCommand(),
			copyCommand(),
			addCommand(),
			pullCommand(),
			tagCommand(),
			untagCommand(),
			rmCommand(),
			gcCommand(),
			validateCommand(),
			completionCommand(),
			catCommand(),
			versionCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
	}
	return app
}

func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &usageError{msg: err.Error()}
}

// oneArg returns the single positional argument a command takes.
func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usagef("%s: expected one %s, got %d arguments (see ocil %s --help)", c.Command.Name, what, c.NArg(), c.Command.Name)
	}
	return c.Args().First(), nil
}

// formatFlag is the --format flag of commands that print for scripts.
func formatFlag(template bool) *cli.StringFlag {
	usage := `output format: "text" or "json"`
	if template {
		usage = `output format: "text", "json" or a Go template such as '{{.Digest}}'`
	}
	return &cli.StringFlag{Name: "format", Value: "text", Usage: usage}
}

func checkFormat(f string, template bool) error {
	switch {
	case f == "text" || f == "json":
		return nil
	case template && strings.Contains(f, "{{"):
		return nil
	}
	if template {
		return usagef(`--format %q: want "text", "json" or a Go template`, f)
	}
	return usagef(`--format %q: want "text" or "json"`, f)
}

// writeJSON prints v as indented JSON, the --format json output of every command.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

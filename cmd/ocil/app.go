package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// run is the whole program: tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	args, err := interspersed(app, args)
	if err == nil {
		err = checkEnv()
	}
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ocil: %v\n", err)
	return exitCode(err)
}

// checkEnv refuses, before any command runs, a bound in the environment that is not a
// number, so that it is a usage error wherever it would first be read.
func checkEnv() error {
	if _, err := tarfs.LimitsFromEnv(); err != nil {
		return usagef("%v", err)
	}
	return nil
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "ocil",
		Usage: "work on OCI image layouts without a registry",
		Description: `ocil reads OCI image layouts: folders with oci-layout, index.json and blobs/.
A reference names a layout and optionally an entry in it:
  PATH  PATH:TAG  PATH@DIGEST  PATH:TAG@DIGEST
A platform is os/arch[/variant][:os.version] (linux/arm64/v8:el8),
os/arch[/variant],osver=os.version (linux/arm64/v8,osver=el8) or
os(os.version)/arch[/variant] (windows(10.0.17763)/amd64); an os.version may hold
spaces ("darwin/arm64:macOS 14"). Flag values are taken as written: never split at
commas, except where a flag takes a list of platforms (copy, rm).

Exit codes, the same for the same error from every command:
  0  success
  1  failed: not found, not an OCI image layout, an unsafe or damaged tarball,
     ambiguous, digest or size mismatch, conflict, lock timeout, errors found by
     validate
  2  bad usage or syntax: an unknown command or flag, a reference, platform, digest
     or option value that does not parse

A compressed tarball is refused as a decompression bomb when it expands to more than
100 times its size (64 MiB always allowed) or 256 GiB; OCIL_TAR_MAX_RATIO and
OCIL_TAR_MAX_BYTES (bytes, or with KiB, MiB, GiB, TiB) raise the bounds.

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
	// A flag value is the user's bytes: a repeatable flag is never split at ',' (an
	// annotation value may be JSON) nor trimmed. Flags that take a list split it
	// themselves, where their grammar says so (platformsOpt).
	app.DisableSliceFlagSeparator = true
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
		for _, f := range c.Flags {
			if sf, ok := f.(*cli.StringSliceFlag); ok {
				sf.KeepSpace = true
			}
		}
		c.Before = checkCommonFlags
	}
	return app
}

// checkCommonFlags refuses values of flags several commands share that mean nothing:
// a negative --jobs or --lock-timeout.
func checkCommonFlags(c *cli.Context) error {
	for _, name := range c.FlagNames() {
		switch name {
		case "jobs":
			if n := c.Int(name); n < 0 {
				return usagef("--jobs %d: want a number of blobs, or 0 for the default", n)
			}
		case "lock-timeout":
			if d := c.Duration(name); d < 0 {
				return usagef("--lock-timeout %s: want a duration of 0 or more, such as 30s or 2m", d)
			}
		}
	}
	return nil
}

// checkMediaTypeFlag refuses a flag value that is not a media type, naming the flag.
func checkMediaTypeFlag(flag, value string) error {
	if value == "" {
		return nil
	}
	if err := layout.CheckMediaType(value); err != nil {
		return usagef("%s: %v", flag, err)
	}
	return nil
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

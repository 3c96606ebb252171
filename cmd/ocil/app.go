package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/tarfs"
)

// run is the whole program: tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// runIO is run with its standard input, which a tarball source "-" reads.
func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runApp(ctx, newApp(stdout, stderr), args, stdin, stderr)
}

// runApp runs app as the program: args checked, the error printed, the exit code.
func runApp(ctx context.Context, app *cli.App, args []string, stdin io.Reader, stderr io.Writer) int {
	app.Reader = stdin
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
	return newAppWith(stdout, stderr, progressEnv{})
}

// newAppWith is newApp with the clock and terminal width progress is drawn with.
func newAppWith(stdout, stderr io.Writer, penv progressEnv) *cli.App {
	app := &cli.App{
		Name:                  "ocil",
		Usage:                 "work on OCI image layouts without a registry",
		Description:           appDescription(),
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
		if noProgress[c.Name] {
			c.Before = checkCommonFlags
			continue
		}
		c.Flags = append(c.Flags, progressFlag())
		stop := func() {}
		c.Before = func(c *cli.Context) error {
			if err := checkCommonFlags(c); err != nil {
				return err
			}
			s, err := startProgress(c, penv)
			if err == nil {
				stop = s
			}
			return err
		}
		c.After = func(*cli.Context) error {
			stop()
			return nil
		}
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
		return "", usagef("%s: expected one %s, got %s (see ocil %s --help)", c.Command.Name, what, count(c.NArg(), "argument"), c.Command.Name)
	}
	return c.Args().First(), nil
}

// layoutArg reads a LAYOUT argument: a reference (transport prefixes included) that names
// a whole layout, without :TAG or @DIGEST.
func layoutArg(c *cli.Context, arg string) (string, error) {
	ref, err := layout.ParseReference(arg)
	if err != nil {
		return "", err
	}
	if ref.Tag != "" || ref.Digest != "" {
		return "", usagef("%s %s: takes a whole layout; name it without :TAG or @DIGEST (%s)", c.Command.Name, arg, ref.Path)
	}
	return ref.Path, nil
}

// formatFlag is the --format flag of every command that prints a result.
func formatFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "format", Value: "text",
		Usage: `output format: text, json, or go-template=TEMPLATE (a Go template over the JSON object, e.g. 'go-template={{.digest}}')`}
}

// splitSizeFlag is --split-size of the commands that write a tarball (copy, merge).
func splitSizeFlag(dst string) *cli.StringFlag {
	return &cli.StringFlag{Name: "split-size",
		Usage: "write the tarball " + dst + " as parts " + dst + ".001, .002, ... of at most `SIZE` bytes (4G, 700M: 1000s; 4GiB: 1024s) and " + dst + ".sha256; cat " + dst + ".0* gives the whole"}
}

// splitSizeOpt reads --split-size (0 when not given).
func splitSizeOpt(c *cli.Context) (int64, error) {
	if !c.IsSet("split-size") {
		return 0, nil
	}
	n, err := layout.ParseSize(c.String("split-size"))
	if err != nil {
		return 0, usagef("--split-size %v", err)
	}
	return n, nil
}

// quietFlag is the -q/--quiet flag of every command that prints progress or a result.
// Quiet means: no progress bar and no warnings on standard error, and in text form only
// the result's identifiers on standard output (what says depends on the command).
func quietFlag(what string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar or warnings; " + what}
}

// output is a parsed --format: text, json or a template.
type output struct {
	json    bool
	tmpl    *template.Template
	command string
}

// templatePrefix is how oras (and ocil) write a template format.
const templatePrefix = "go-template="

// parseFormat reads --format: "text", "json", "go-template=TEMPLATE", or a bare template
// (a value holding "{{"), which runs the same as with the prefix.
func parseFormat(c *cli.Context) (*output, error) {
	f := c.String("format")
	switch {
	case f == "text":
		return &output{}, nil
	case f == "json":
		return &output{json: true}, nil
	case strings.HasPrefix(f, templatePrefix), strings.Contains(f, "{{"):
		src := strings.TrimPrefix(f, templatePrefix)
		t, err := template.New("format").Option("missingkey=error").Funcs(template.FuncMap{"json": templateJSON}).Parse(src)
		if err != nil {
			return nil, usagef("--format %q: %v", f, err)
		}
		return &output{tmpl: t, command: c.Command.Name}, nil
	}
	return nil, usagef(`--format %q: unknown format; want text, json or go-template=TEMPLATE`, f)
}

// templateJSON is the json function of templates: its argument as compact JSON.
func templateJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// text reports whether the result is printed in the command's own text form.
func (o *output) text() bool { return !o.json && o.tmpl == nil }

// print writes v as JSON or through the template; text output is the caller's.
func (o *output) print(w io.Writer, v any) error {
	if o.json {
		return writeJSON(w, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// The template sees exactly what --format json prints: decoded into maps and slices,
	// numbers kept as written (a size stays 1234, not 1.234e+03).
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return err
	}
	// Into a buffer first: a template that fails half-way prints nothing. It runs once
	// the command is done, so the message says that what the command did is done.
	var buf bytes.Buffer
	if err := o.tmpl.Execute(&buf, data); err != nil {
		return usagef("--format: %v%s; the %s itself succeeded, only its output failed", err, fieldHint(err, data), o.command)
	}
	if buf.Len() > 0 && buf.Bytes()[buf.Len()-1] != '\n' {
		buf.WriteByte('\n')
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// fieldHint names the fields there are when a template asks for one that is not there.
func fieldHint(err error, data any) string {
	m, ok := data.(map[string]any)
	if !ok || !strings.Contains(err.Error(), "map has no entry for key") {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Sprintf(" (fields are named as --format json prints them; at the top: %s)", strings.Join(keys, ", "))
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

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/internal/atomicfile"
	"github.com/ocil-dev/ocil/internal/progress"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// validateOutput is what `validate --format json` prints.
type validateOutput struct {
	Layouts []*validate.Report `json:"layouts"`
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check layouts before they are pushed or shipped",
		ArgsUsage: "LAYOUT...",
		Description: `Checks each LAYOUT (a layout folder or tarball, - for one on standard
input, as in ocil copy ./out:1.2 - | ocil validate -) and lists what it finds, errors
first, one line per finding: severity, check, object and what is wrong, then a summary
line. Everything is checked: oci-layout, index.json, every index
and manifest against the image spec, every descriptor, every reachable blob
(hashed, several at a time), platforms and tags. The checks and their severities
are listed in docs/validate.md. validate checks whole layouts: a :TAG or @DIGEST
is refused.

--for-push adds what registries and the clients pulling from them need: tags in
the registry grammar, indexes and manifests of at most 4 MiB, digests that can be
verified, a platform on the descriptor of every image manifest in an index (oras,
regctl, docker and containerd select by it; without --for-push a warning), and
warnings for urls, indexes that mix Docker and OCI manifests and subjects not in
the layout.
--strict makes every warning an error. --fast checks blob sizes only (indexes and
manifests are still hashed).

--format json prints {"layouts": [REPORT...]}, each report with "layout",
"findings" (check, severity, object, message), "checked" and the counts
"errors", "warnings" and "notes"; --format go-template=TEMPLATE runs a Go
template over that object. -q drops the progress bar; the report (findings and
summary) is the result, and is printed as without -q. --junit
FILE also writes a JUnit XML report (GitLab: artifacts:reports:junit), whatever
the result: errors are failures, warnings skipped test cases (failures with
--strict), so that GitLab's test report shows both; each check that found nothing
is a passing test case.

Exit codes: 0 no errors; 1 errors found, or a path that is missing, not a layout
or an unsafe tarball (as from every command); 2 bad usage. With several layouts,
the highest.

Examples:
  ocil validate ./out
  ocil validate out.tar --for-push --junit report.xml
  ocil validate --format json --strict ./out ./in.tar.gz
  ocil validate ./out --format 'go-template={{range .layouts}}{{.layout}} {{.errors}}{{"\n"}}{{end}}'`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "fast", Usage: "check blob sizes only; hash only indexes and manifests"},
			&cli.BoolFlag{Name: "for-push", Usage: "add the rules registries enforce"},
			&cli.BoolFlag{Name: "strict", Usage: "treat warnings as errors"},
			formatFlag(),
			&cli.StringFlag{Name: "junit", Usage: "also write a JUnit XML report to `FILE`"},
			&cli.IntFlag{Name: "jobs", Value: 0, DefaultText: "one per CPU, at least 2", Usage: "hash `N` blobs at once"},
			quietFlag("the report is the result: findings and summary, as without -q"),
		},
		Action: validateAction,
	}
}

// validateGCPercent is the collector's target while validate runs, unless GOGC is set:
// what validate holds grows until its last checks (about 130 MB at 100,000 tags), and
// with Go's default of 100 the heap grows to twice that before it is collected. At 70
// the peak RSS of validate --fast on 100,000 tags was about 50 MiB lower for about
// 0.1 s more CPU (docs/design-notes.md, "Many tags").
const validateGCPercent = 70

func validateAction(c *cli.Context) error {
	if _, set := os.LookupEnv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(validateGCPercent))
	}
	if c.NArg() == 0 {
		return usagef("validate: expected at least one layout (see ocil validate --help)")
	}
	o, err := parseFormat(c)
	if err != nil {
		return err
	}
	if c.Int("jobs") < 0 {
		return usagef("--jobs %d: want a number of blobs, or 0 for the default", c.Int("jobs"))
	}
	opts := validate.Options{
		Fast:    c.Bool("fast"),
		ForPush: c.Bool("for-push"),
		Strict:  c.Bool("strict"),
		Jobs:    c.Int("jobs"),
	}
	paths := make([]string, c.NArg())
	for i, arg := range c.Args().Slice() {
		p, err := validatePath(arg)
		if err != nil {
			return err
		}
		paths[i] = p
	}

	reports := make([]*validate.Report, 0, len(paths))
	var readable []bool
	code := exitOK
	var failures []string
	var durations []time.Duration
	for _, p := range paths {
		start := time.Now()
		rep, err := validate.Layout(c.Context, p, opts)
		durations = append(durations, time.Since(start))
		if err != nil && c.Context.Err() != nil {
			return err
		}
		reports = append(reports, rep)
		readable = append(readable, err == nil)
		switch {
		case err != nil:
			code = max(code, exitCode(err))
			failures = append(failures, err.Error())
		case rep.Errors > 0:
			code = max(code, exitFailed)
			failures = append(failures, fmt.Sprintf("validate %s: %s", p, count(rep.Errors, "error")))
		}
	}

	if name := c.String("junit"); name != "" {
		b, err := validate.JUnit(reports, readable, durations, opts)
		if err == nil {
			err = atomicfile.WriteFile(name, b, 0o644)
		}
		if err != nil {
			return fmt.Errorf("validate: write %s: %w", name, err)
		}
	}
	w := c.App.Writer
	if !o.text() {
		if err := o.print(w, validateOutput{Layouts: reports}); err != nil {
			return err
		}
	} else {
		printed := 0
		for i, rep := range reports {
			if !readable[i] {
				continue // stderr says why
			}
			if printed > 0 {
				fmt.Fprintln(w)
			}
			if err := printReport(w, rep, opts); err != nil {
				return err
			}
			printed++
		}
	}
	switch code {
	case exitOK:
		return nil
	case exitFailed:
		return errors.New(strings.Join(failures, "; "))
	}
	return &usageError{msg: strings.Join(failures, "; ")}
}

// validatePath returns the layout path of a command-line argument. A reference with a
// tag or digest is refused when its layout exists: validate checks whole layouts, and
// silently checking more than was named would mislead. When nothing by that name
// exists, the argument is passed on whole, to be reported as not found.
func validatePath(arg string) (string, error) {
	ref, err := layout.ParseReference(arg)
	if err != nil {
		return "", err
	}
	if ref.Tag == "" && ref.Digest == "" {
		return ref.Path, nil
	}
	if !layout.Exists(ref.Path) {
		return arg, nil
	}
	return "", usagef("validate %s: validate checks a whole layout; name it without :TAG or @DIGEST (%s)", arg, ref.Path)
}

// printReport prints the findings of one layout, one a line, and its summary.
func printReport(w io.Writer, rep *validate.Report, opts validate.Options) error {
	// tabwriter writes every cell on its own: buffered, 100,000 findings are a few
	// writes instead of half a million.
	bw := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, f := range rep.Findings {
		fmt.Fprintf(tw, "  %s\t%s\t%s: %s\n", f.Severity, f.Check, f.Object, f.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	how := "checked"
	if opts.Fast {
		how = "checked, sizes only"
	}
	_, err := fmt.Fprintf(w, "ocil validate %s: %s, %s, %s (%s, %s %s)\n", rep.Layout,
		count(rep.Errors, "error"), count(rep.Warnings, "warning"), count(rep.Notes, "note"),
		count(rep.Checked.Blobs, "blob"), progress.Bytes(rep.Checked.Bytes), how)
	return err
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

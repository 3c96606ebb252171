package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// requireTool returns the path of a tool the tests run. make test installs the tools
// (the Makefile's tools target) and sets OCIL_REQUIRE_TOOLS=1, so there a missing tool
// fails; elsewhere the test is skipped, saying what to install.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OCIL_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (make tools installs Debian's %s)", name, debianPackage)
		}
		t.Skipf("%s not installed (Debian: apt-get install %s); make test installs it", name, debianPackage)
	}
	return p
}

// The man page as man-db renders it: section 1, the sections a reader looks for, the
// platform grammar intact, options with ASCII hyphens, no warnings from groff.
func TestManPageRenders(t *testing.T) {
	man := requireTool(t, "man", "man-db")
	cmd := exec.Command(man, "--warnings", "-l", filepath.Join("..", "..", "docs", "ocil.1"))
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8", "MAN_KEEP_FORMATTING=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("man -l docs/ocil.1: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("man -l docs/ocil.1 warned:\n%s", stderr.String())
	}
	// man formats for a terminal with backspace overstrikes when its output is not one
	// on some systems; take them out.
	out := regexp.MustCompile(".\b").ReplaceAllString(stdout.String(), "")
	lines := strings.Split(out, "\n")
	if !regexp.MustCompile(`^OCIL\(1\) +User Commands +OCIL\(1\)$`).MatchString(lines[0]) {
		t.Errorf("first line %q: want the OCIL(1) header of section 1", lines[0])
	}
	for _, want := range []string{
		"\nNAME\n       ocil - work on OCI image layouts without a registry\n",
		"\nSYNOPSIS\n", "\nDESCRIPTION\n", "\nCOMMANDS\n",
		"os(os.version)/arch[/variant] (windows(10.0.17763)/amd64)",
		"os/arch[/variant][:os.version] (linux/arm64/v8:el8)",
		"\n   ocil merge -o OUT[:TAG] IN[=PLATFORM]...\n",
		"\nEXIT STATUS\n       0      success\n",
		"\n       1      the operation failed",
		"\n       2      bad usage",
		"\nENVIRONMENT\n       SOURCE_DATE_EPOCH\n",
		"\n       TMPDIR ",
		"\n       OCIL_TAR_MAX_RATIO\n",
		"\n       OCIL_TAR_MAX_BYTES\n",
		"\nEXAMPLES\n       ocil ls ./out\n",
		"ocil ls ./out --format 'go-template={{range .entries}}{{.tag}} {{.descriptor.digest}}{{\"\\n\"}}{{end}}'",
		"--platform, -p VALUE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered man page lacks %q", want)
		}
	}
	for _, bad := range []string{"⟨", "⟩", "‐", "−", `\[`, `\f`} {
		if strings.Contains(out, bad) {
			t.Errorf("rendered man page holds %q (garbled markup):\n%s", bad, out)
		}
	}
	for i, l := range lines {
		if strings.Contains(l, "ocil ") || strings.Contains(l, "http") {
			continue // examples and synopses are shown as written, however long
		}
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line %d is %d wide, past MANWIDTH=80: %q", i+1, n, l)
		}
	}
}

// Every command has a section in the man page, with each of its flags.
func TestManPageCoversCommands(t *testing.T) {
	app := newApp(nil, nil)
	page := manPage(app)
	for _, c := range app.Commands {
		if !strings.Contains(page, ".SS \"ocil "+c.Name+" ") {
			t.Errorf("man page has no section for %s", c.Name)
		}
		for _, f := range c.Flags {
			if !strings.Contains(page, "\\fB\\-\\-"+roffText(f.Names()[0])+"\\fR") {
				t.Errorf("man page lacks %s --%s", c.Name, f.Names()[0])
			}
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	var b strings.Builder
	roffParagraphs(&b, ".starts with a dot\n'and a quote\nback\\slash -flag\n  indented")
	want := "\\&.starts with a dot\n\\&'and a quote\nback\\eslash \\-flag\n.RS\n.nf\nindented\n.fi\n.RE\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

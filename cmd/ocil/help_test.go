package main

import (
	"io"
	"strings"
	"testing"
)

// examplePrefix starts every example line of a help text.
const examplePrefix = "  ocil "

// examples returns the example lines of a help description.
func examples(description string) []string {
	var out []string
	for _, line := range strings.Split(description, "\n") {
		if strings.HasPrefix(line, examplePrefix) {
			out = append(out, line)
		}
	}
	return out
}

// shellWords splits an example command line as a POSIX shell would for the simple cases
// help texts use (blanks, single and double quotes), stopping at a pipe.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '|':
			if inWord {
				words = append(words, cur.String())
			}
			return words
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in example %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestHelpExamples checks that the help of ocil and of each command shows at least one
// example line ("  ocil ..."), that --help prints it, and that the example runs without a
// usage error (exit code 2): its command, flags, flag values and argument count are valid.
// The examples run in an empty folder, so the layouts they name do not exist.
func TestHelpExamples(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	type helpText struct {
		name        string   // "ocil" or the command name
		args        []string // how to print the help
		description string
	}
	texts := []helpText{{name: "ocil", args: []string{"--help"}, description: app.Description}}
	for _, c := range app.Commands {
		texts = append(texts, helpText{name: c.Name, args: []string{c.Name, "--help"}, description: c.Description})
	}
	if len(texts) < 2 {
		t.Fatal("the app has no commands")
	}
	var all [][]string
	for _, h := range texts {
		exs := examples(h.description)
		if len(exs) == 0 {
			t.Errorf("help of %s has no example line starting with %q:\n%s", h.name, examplePrefix, h.description)
			continue
		}
		code, stdout, stderr := runCLI(t, h.args...)
		if code != exitOK || stderr != "" {
			t.Errorf("ocil %s: exit code %d, stderr %q", strings.Join(h.args, " "), code, stderr)
		}
		for _, ex := range exs {
			if !containsLine(stdout, strings.TrimSpace(ex)) {
				t.Errorf("ocil %s does not print the example %q:\n%s", strings.Join(h.args, " "), ex, stdout)
			}
			words := shellWords(t, ex)
			if len(words) < 2 || words[0] != "ocil" {
				t.Errorf("example %q does not run ocil", ex)
				continue
			}
			if h.name != "ocil" && words[1] != h.name {
				t.Errorf("example %q in the help of %s runs another command", ex, h.name)
			}
			if app.Command(words[1]) == nil {
				t.Errorf("example %q: no command %q", ex, words[1])
			}
			all = append(all, words)
		}
	}
	t.Chdir(t.TempDir())
	for _, words := range all {
		code, _, stderr := runCLI(t, words[1:]...)
		t.Logf("%s: exit code %d", strings.Join(words, " "), code)
		if code == exitUsage {
			t.Errorf("example %q is a usage error:\n%s", strings.Join(words, " "), stderr)
		}
	}
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// TestCommandsHaveUsage checks what `ocil --help` lists for each command.
func TestCommandsHaveUsage(t *testing.T) {
	_, stdout, _ := runCLI(t, "--help")
	for _, c := range newApp(io.Discard, io.Discard).Commands {
		if c.Usage == "" {
			t.Errorf("command %s has no usage line", c.Name)
		}
		if !strings.Contains(stdout, c.Name) || !strings.Contains(stdout, c.Usage) {
			t.Errorf("ocil --help does not list %s (%q):\n%s", c.Name, c.Usage, stdout)
		}
	}
}

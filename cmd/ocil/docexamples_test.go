package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The documentation's examples run: every command of every ```console and ```sh block in
// README.md and docs/ (docs/cli included) is executed by sh, in order, in a temp copy of
// the checkout that also holds the inputs the examples name (docWorld). ocil on PATH is
// this test binary (TestMain runs it as ocil when it is invoked under that name).
//
// A sh block: each line (a trailing \ continues it) is a command that must exit 0; its
// output is not compared. Comment lines (#) are skipped.
//
// A console block: a line "$ CMD" is a command (a trailing \ continues it on the next
// line); the lines after it, up to the next "$ " or "#" line, are its output, standard
// output and standard error together, trailing blank lines left out. The command must
// exit 0, or non-zero when its shown output has a line starting "ocil: " (an error).
// Shown output is compared line by line, with two elisions: within a line, "..." stands
// for any run of characters without blanks (a part of a digest, a path); a line that is
// only "..." stands for any number of lines, none included.
//
// A block that cannot run here (it needs oras, ssh, a GitLab runner, the network) says
// so on the line before its fence: <!-- not run: REASON -->. A single command of a
// generated page (docs/cli) that cannot run is listed in notRunCommands with its reason.
// Both are reported, and a marker or entry that marks nothing fails the test.

// notRunCommands are commands of the generated reference pages that cannot run here.
var notRunCommands = map[string]string{
	"ocil copy ./out:1.2 - | ssh host ocil copy - /srv/layout": "needs ssh to a second host; the pipe itself runs in README.md",
}

// docExample is one command of a documentation block.
type docExample struct {
	file    string
	line    int    // where the command starts
	cmd     string // as sh runs it
	console bool   // its output is compared with want
	want    []string
	wantAt  int // the line where want starts
}

type docBlock struct {
	file     string
	line     int // the fence's line
	notRun   string
	examples []docExample
}

var (
	fenceRE   = regexp.MustCompile("^\\s*```(console|sh)\\s*$")
	notRunRE  = regexp.MustCompile(`^<!--\s*not run:(.*)-->\s*$`)
	markerRE  = regexp.MustCompile(`^\s*<!--\s*not run`)
	elisionRE = regexp.MustCompile(`\.\.\.`)
)

// parseDocBlocks reads the console and sh blocks of a markdown file.
func parseDocBlocks(t testing.TB, file string, text string) []docBlock {
	t.Helper()
	lines := strings.Split(text, "\n")
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		if markerRE.MatchString(lines[i]) {
			m := notRunRE.FindStringSubmatch(lines[i])
			if m == nil || strings.TrimSpace(m[1]) == "" {
				t.Errorf("%s:%d: a not-run marker must read <!-- not run: REASON -->", file, i+1)
			} else if i+1 >= len(lines) || !fenceRE.MatchString(lines[i+1]) {
				t.Errorf("%s:%d: a not-run marker must be the line just before a ```console or ```sh fence", file, i+1)
			}
		}
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := docBlock{file: file, line: i + 1}
		if i > 0 {
			if nr := notRunRE.FindStringSubmatch(lines[i-1]); nr != nil {
				b.notRun = strings.TrimSpace(nr[1])
			}
		}
		var body []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("%s:%d: block never closed", file, i+1)
		}
		if m[1] == "console" {
			b.examples = parseConsole(file, i+2, body)
		} else {
			b.examples = parseSh(file, i+2, body)
		}
		blocks = append(blocks, b)
		i = j
	}
	return blocks
}

// joinContinued returns the command starting at body[k] with its \ continuations, and
// the index of its last line.
func joinContinued(body []string, k int, first string) (string, int) {
	cmd := first
	for strings.HasSuffix(strings.TrimRight(cmd, " "), "\\") && k+1 < len(body) {
		k++
		cmd += "\n" + body[k]
	}
	return cmd, k
}

func parseSh(file string, first int, body []string) []docExample {
	var out []docExample
	for k := 0; k < len(body); k++ {
		l := strings.TrimSpace(body[k])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		cmd, end := joinContinued(body, k, l)
		out = append(out, docExample{file: file, line: first + k, cmd: cmd})
		k = end
	}
	return out
}

func parseConsole(file string, first int, body []string) []docExample {
	var out []docExample
	for k := 0; k < len(body); k++ {
		if !strings.HasPrefix(body[k], "$ ") {
			continue
		}
		cmd, end := joinContinued(body, k, strings.TrimPrefix(body[k], "$ "))
		ex := docExample{file: file, line: first + k, cmd: cmd, console: true, wantAt: first + end + 1}
		k = end + 1
		for ; k < len(body) && !strings.HasPrefix(body[k], "$ ") && !strings.HasPrefix(body[k], "#"); k++ {
			ex.want = append(ex.want, body[k])
		}
		for len(ex.want) > 0 && strings.TrimSpace(ex.want[len(ex.want)-1]) == "" {
			ex.want = ex.want[:len(ex.want)-1]
		}
		out = append(out, ex)
		k--
	}
	return out
}

// matchLine matches one shown line against one output line, "..." eliding a blank-free run.
func matchLine(want, got string) bool {
	parts := elisionRE.Split(want, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `\S*`) + `$`).MatchString(got)
}

// matchOutput matches shown lines against output lines; it returns -1 when they match,
// else the index in want of the first line that does not.
func matchOutput(want, got []string) int {
	var walk func(w, g int) int
	walk = func(w, g int) int {
		if w == len(want) {
			if g == len(got) {
				return -1
			}
			return w
		}
		if strings.TrimSpace(want[w]) == "..." {
			best := w
			for skip := g; skip <= len(got); skip++ {
				r := walk(w+1, skip)
				if r < 0 {
					return -1
				}
				best = max(best, r)
			}
			return best
		}
		if g < len(got) && matchLine(want[w], got[g]) {
			return walk(w+1, g+1)
		}
		return w
	}
	return walk(0, 0)
}

// docFiles are the markdown files whose examples run: README.md, then docs/ in order.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files[1:])
	return files
}

func TestDocExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every documented example; not with -short")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("sh is needed to run the documented examples")
	}
	root := filepath.Join("..", "..")
	bin := ocilOnPath(t)
	plain := docWorld(t, root, false)
	withOut := docWorld(t, root, true)
	usedNotRun := map[string]bool{}
	var ran, skipped int
	for _, file := range docFiles(t, root) {
		text, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		blocks := parseDocBlocks(t, file, string(text))
		if len(blocks) == 0 {
			continue
		}
		t.Run(file, func(t *testing.T) {
			// README.md builds its own layouts as it goes; the other pages start from a
			// world where ./out:1.2 (the README's merge) and out.tar exist already.
			world := withOut
			if file == "README.md" {
				world = plain
			}
			work := filepath.Join(t.TempDir(), "checkout")
			if err := os.CopyFS(work, os.DirFS(world)); err != nil {
				t.Fatal(err)
			}
			for _, b := range blocks {
				if b.notRun != "" {
					t.Logf("%s:%d: not run: %s", b.file, b.line, b.notRun)
					skipped++
					continue
				}
				for _, ex := range b.examples {
					if reason, ok := notRunCommands[ex.cmd]; ok {
						t.Logf("%s:%d: not run: %s", ex.file, ex.line, reason)
						usedNotRun[ex.cmd] = true
						skipped++
						continue
					}
					ran++
					runDocExample(t, bin, work, ex)
				}
			}
		})
	}
	for cmd := range notRunCommands {
		if !usedNotRun[cmd] {
			t.Errorf("notRunCommands lists %q, which no documentation shows any more", cmd)
		}
	}
	if ran < 50 {
		t.Errorf("ran %d examples: the parser finds too few (%d not run)", ran, skipped)
	}
	t.Logf("ran %d documented commands, %d not run (reasons above)", ran, skipped)
}

// runDocExample runs one command and checks its exit status and, in a console block,
// its output.
func runDocExample(t *testing.T, bin, work string, ex docExample) {
	t.Helper()
	if msg := checkDocExample(bin, work, ex); msg != "" {
		t.Error(msg)
	}
}

// checkDocExample runs one command; it returns "" when it behaves as shown, else a
// message naming the file and line of the example and of the first line that differs,
// with the whole output, so that whoever changes the page can fix it from the message.
func checkDocExample(bin, work string, ex docExample) string {
	cmd := exec.Command("sh", "-c", ex.cmd)
	cmd.Dir = work
	cmd.Env = docEnv(bin, work)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return fmt.Sprintf("%s:%d: %v", ex.file, ex.line, err)
		}
		code = ee.ExitCode()
	}
	var got []string
	if out.Len() > 0 {
		got = strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	}
	shown := fmt.Sprintf("\n  $ %s\n  exit status %d, output:\n    %s", ex.cmd, code, strings.Join(got, "\n    "))
	wantFail := false
	for _, l := range ex.want {
		wantFail = wantFail || strings.HasPrefix(l, "ocil: ")
	}
	switch {
	case wantFail && code == 0:
		return fmt.Sprintf("%s:%d: the shown output is an error, but the command exited 0%s", ex.file, ex.line, shown)
	case !wantFail && code != 0:
		return fmt.Sprintf("%s:%d: exit status %d, want 0%s", ex.file, ex.line, code, shown)
	}
	if !ex.console {
		return ""
	}
	i := matchOutput(ex.want, got)
	if i < 0 {
		return ""
	}
	gotLine, wantLine := "(no more output)", "(no more lines shown)"
	if i < len(got) {
		gotLine = got[i]
	}
	if i < len(ex.want) {
		wantLine = ex.want[i]
	}
	return fmt.Sprintf("%s:%d: the output of the command at line %d differs\n  shown:  %s\n  output: %s%s",
		ex.file, ex.wantAt+i, ex.line, wantLine, gotLine, shown)
}

// docEnv is the environment the examples run in: ocil first on PATH, nothing of the
// caller's that changes what ocil prints or writes.
func docEnv(bin, work string) []string {
	env := []string{
		"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + work,
		"TMPDIR=" + os.TempDir(),
		"TERM=dumb",
		"LC_ALL=C.UTF-8",
		"GORACE=atexit_sleep_ms=0",
	}
	return env
}

// ocilOnPath makes this test binary callable as ocil, in a folder of its own.
func ocilOnPath(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ocil")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// docWorld builds a copy of the checkout (its sources, docs and fixtures, nothing built)
// holding the inputs the examples name, and with out, the README's ./out:1.2 (also
// tagged 1.2-rc1 and 1.2-rc2), its tarballs out.tar, release.tar.gz and release.tar
// (tagged 1.2-rc1), ./mybinary:v1, ./app:1.2 and ./db:16: build-amd64 and build-arm64 (and in-*, amd, arm) are the oras
// fixtures for el8, flat-layout is crane-flat, in.tar.gz a gzip layout tarball, and
// dist/, build/, etc/, tool, rpms/, foo.tar.gz and annotations.json files to add;
// legacy.tar is a docker save archive.
func docWorld(t *testing.T, root string, out bool) string {
	t.Helper()
	world := filepath.Join(t.TempDir(), "world")
	if err := os.MkdirAll(world, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasPrefix(n, "."), n == "bin", n == "dist", n == "demo-out", n == "ocil":
			continue
		case e.IsDir():
			if err := os.CopyFS(filepath.Join(world, n), os.DirFS(filepath.Join(root, n))); err != nil {
				t.Fatal(err)
			}
		default:
			b, err := os.ReadFile(filepath.Join(root, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(world, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	fx := filepath.Join(world, "testdata", "fixtures")
	for dst, src := range map[string]string{
		"build-amd64": "oras-linux-amd64-el8", "build-arm64": "oras-linux-arm64-v8-el8",
		"in-amd64": "oras-linux-amd64-el8", "in-arm64": "oras-linux-arm64-v8-el8",
		"amd": "oras-linux-amd64-el8", "arm": "oras-linux-arm64-v8-el8",
		"flat-layout": "crane-flat",
	} {
		if err := os.CopyFS(filepath.Join(world, dst), os.DirFS(filepath.Join(fx, src))); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"dist/amd64/mybinary":         "a binary for linux/amd64\n",
		"dist/arm64/mybinary":         "a binary for linux/arm64\n",
		"dist/amd64/tool":             "a tool for linux/amd64\n",
		"dist/arm64/tool":             "a tool for linux/arm64\n",
		"tool":                        "a tool\n",
		"dist/tool":                   "#!/bin/sh\necho a tool\n",
		"etc/tool.conf":               "port = 80\n",
		"build/amd64/hello":           "#!/bin/sh\necho hello\n",
		"build/arm64/hello":           "#!/bin/sh\necho hello\n",
		"rpms/a-1.0-1.el8.x86_64.rpm": "an rpm\n",
		"annotations.json":            `{"$manifest": {"org.opencontainers.image.description": "an example"}}` + "\n",
	}
	for name, content := range files {
		p := filepath.Join(world, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, src := range map[string]string{"foo.tar.gz": "oras-amd64-el9.tar.gz", "in.tar.gz": "oras-amd64-el9.tar.gz", "legacy.tar": "skopeo-docker-archive.tar"} {
		b, err := os.ReadFile(filepath.Join(fx, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(world, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Container images to bundle, in every world: ./app:1.2 and ./db:16.
	prepare := [][]string{
		{"copy", "testdata/fixtures/umoci-image:latest", "app:1.2"},
		{"copy", "testdata/fixtures/umoci-image:arm64", "db:16"},
	}
	if out {
		prepare = append(prepare, [][]string{
			{"merge", "-o", "out:1.2", "--annotation", "org.opencontainers.image.version=1.2",
				"testdata/fixtures/oras-linux-amd64-el8", "testdata/fixtures/oras-linux-amd64-el9",
				"testdata/fixtures/oras-linux-arm64-v8-el8", "testdata/fixtures/oras-linux-arm64-v8-el9"},
			{"copy", "./out:1.2", "out.tar"},
			{"add", "./mybinary:v1", "--platform", "linux/amd64", "dist/amd64/mybinary"},
			{"add", "./mybinary:v1", "--platform", "linux/arm64", "dist/arm64/mybinary"},
			{"tag", "./out:1.2", "1.2-rc1", "1.2-rc2"},
			{"copy", "./out:1.2", "release.tar.gz"},
			{"copy", "./out:1.2", "release.tar:1.2-rc1"},
		}...)
	}
	bin := ocilOnPath(t)
	for _, args := range prepare {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = world, docEnv(bin, world)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("preparing the examples' inputs: ocil %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	return world
}

// The example runner itself: what it parses from a page, what "..." matches, and that a
// difference is reported with the file and line of the example and of the shown line.
func TestDocExampleRunner(t *testing.T) {
	page := strings.Join([]string{
		"# A page",                       // 1
		"```console",                     // 2
		"# a comment",                    // 3
		"$ echo one two \\",              // 4
		"    three",                      // 5
		"one two three",                  // 6
		"",                               // 7
		"$ printf 'a\\nb\\nc\\n'",        // 8
		"a",                              // 9
		"...",                            // 10
		"```",                            // 11
		"<!-- not run: needs a host -->", // 12
		"```sh",                          // 13
		"ssh host true",                  // 14
		"```",                            // 15
		"```sh",                          // 16
		"# comment",                      // 17
		"true \\",                        // 18
		"  && echo ok",                   // 19
		"```",                            // 20
	}, "\n")
	blocks := parseDocBlocks(t, "page.md", page)
	if len(blocks) != 3 {
		t.Fatalf("parsed %d blocks, want 3", len(blocks))
	}
	c := blocks[0].examples
	if len(c) != 2 || c[0].line != 4 || c[0].cmd != "echo one two \\\n    three" || strings.Join(c[0].want, "|") != "one two three" ||
		c[1].line != 8 || c[1].wantAt != 9 || strings.Join(c[1].want, "|") != "a|..." {
		t.Errorf("console block parsed as %+v", c)
	}
	if blocks[1].notRun != "needs a host" || blocks[2].notRun != "" {
		t.Errorf("not-run reasons %q, %q", blocks[1].notRun, blocks[2].notRun)
	}
	if sh := blocks[2].examples; len(sh) != 1 || sh[0].line != 18 || sh[0].console {
		t.Errorf("sh block parsed as %+v", sh)
	}
	work := t.TempDir()
	for _, ex := range append(c, blocks[2].examples...) {
		if msg := checkDocExample("/nonexistent/ocil", work, ex); msg != "" {
			t.Errorf("an example that holds failed: %s", msg)
		}
	}

	wrong := docExample{file: "page.md", line: 30, wantAt: 31, console: true, cmd: "printf 'x\\ny\\n'", want: []string{"x", "z"}}
	msg := checkDocExample("/nonexistent/ocil", work, wrong)
	for _, want := range []string{"page.md:32: the output of the command at line 30 differs", "shown:  z", "output: y"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if msg := checkDocExample("/nonexistent/ocil", work, docExample{file: "p.md", line: 5, cmd: "exit 3"}); !strings.Contains(msg, "p.md:5: exit status 3, want 0") {
		t.Errorf("a failing sh command: %q", msg)
	}
	if msg := checkDocExample("/nonexistent/ocil", work, docExample{file: "p.md", line: 5, console: true, cmd: "echo 'ocil: no'", want: []string{"ocil: no"}}); !strings.Contains(msg, "p.md:5: the shown output is an error, but the command exited 0") {
		t.Errorf("an error shown for a command that succeeds: %q", msg)
	}

	for _, tc := range []struct {
		want, got []string
		at        int
	}{
		{[]string{"sha256:0c59..."}, []string{"sha256:0c59c9e6f0b4"}, -1},
		{[]string{"sha256:0c59...  x"}, []string{"sha256:0c59c9 e6  x"}, 0}, // no blanks inside
		{[]string{"a", "...", "d"}, []string{"a", "b", "c", "d"}, -1},
		{[]string{"a", "...", "d"}, []string{"a", "d"}, -1},
		{[]string{"a", "..."}, []string{"a"}, -1},
		{[]string{"a"}, []string{"a", "b"}, 1},
		{[]string{"a", "b"}, []string{"a"}, 1},
		{[]string{"a...b"}, []string{"ab"}, -1},
	} {
		if at := matchOutput(tc.want, tc.got); at != tc.at {
			t.Errorf("matchOutput(%q, %q) = %d, want %d", tc.want, tc.got, at, tc.at)
		}
	}
}

// A not-run marker must give a reason and stand just before a block.
func TestDocNotRunMarkers(t *testing.T) {
	for _, page := range []string{
		"<!-- not run: -->\n```sh\ntrue\n```\n",
		"<!-- not run: a reason -->\n\n```sh\ntrue\n```\n",
		"<!-- not run: a reason -->\ntext\n",
	} {
		var errs []string
		rec := &recorder{TB: t, errs: &errs}
		parseDocBlocks(rec, "page.md", page)
		if len(errs) == 0 || !strings.Contains(errs[0], "page.md:1: a not-run marker must") {
			t.Errorf("page %q: errors %q, want one naming page.md:1", page, errs)
		}
	}
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs *[]string
}

func (r *recorder) Errorf(format string, args ...any) {
	*r.errs = append(*r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/validate"
)

// runValidate runs the program in-process, as runCLI does, from a testing.TB (the fuzz
// target has no *testing.T).
func runValidate(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"ocil"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// brokenLayout stands, in the arguments and golden output of validate_broken, for the
// folder buildBroken makes.
const brokenLayout = "BROKEN"

// validateCases are the golden cases of ocil validate. cliCases includes them; the one
// whose layout is built in a temp folder is run by TestValidateGolden, which replaces
// that folder's path in the output.
func validateCases(t *testing.T) []cliCase {
	const (
		crane  = "crane-flat"
		regctl = "regctl-index"
		umoci  = "umoci-image"
	)
	return []cliCase{
		{
			name:  "validate_crane-flat",
			args:  []string{"validate", fixture(crane)},
			check: wantFindingLines(1),
		},
		{
			name:  "validate_regctl-index",
			args:  []string{"validate", fixture(regctl)},
			check: wantFindingLines(0),
		},
		{
			name:  "validate_umoci-image_json",
			args:  []string{"validate", "--format", "json", fixture(umoci)},
			check: checkValidateJSON(fixture(umoci), 0, 0, 2),
		},
		{
			name: "validate_docker-list_for-push_fast",
			args: []string{"validate", fixture("docker-list"), "--for-push", "--fast", "--jobs", "1"},
		},
		{
			name: "validate_tarballs",
			args: []string{"validate", fixture("regctl-export.tar"), fixture("oras-amd64-el9.tar.gz")},
		},
		{
			name:  "validate_crane-flat_strict",
			args:  []string{"validate", "--strict", fixture(crane)},
			code:  1,
			check: wantStderrLine("ocil: validate " + fixture(crane) + ": 1 error\n"),
		},
		{
			name:  "validate_broken",
			args:  []string{"validate", brokenLayout},
			code:  1,
			skip:  "its layout is built in a temp folder; TestValidateGolden runs it",
			check: wantStderrLine("ocil: validate " + brokenLayout + ": 3 errors\n"),
		},
		{
			name:  "validate_several",
			args:  []string{"validate", fixture(regctl), fixture("does-not-exist"), fixture(crane)},
			code:  1,
			check: wantStderrLine("ocil: validate " + fixture("does-not-exist") + ": not found\n"),
		},
		{
			name:  "validate_not-a-layout",
			args:  []string{"validate", fixturesDir, fixture(regctl)},
			code:  1,
			check: wantStderrLine("ocil: validate " + fixturesDir + ": not an OCI image layout: the folder has neither oci-layout nor index.json\n"),
		},
		{
			name:  "validate_tag",
			args:  []string{"validate", fixture(regctl) + ":v1"},
			code:  2,
			check: wantStderr("without :TAG or @DIGEST"),
		},
		{
			name:  "validate_no-args",
			args:  []string{"validate", "--fast"},
			code:  2,
			check: wantStderr("at least one layout"),
		},
		{
			name:  "validate_format-bogus",
			args:  []string{"validate", fixture(regctl), "--format", "xml"},
			code:  2,
			check: wantStderr("--format"),
		},
		{
			name:  "validate_jobs-negative",
			args:  []string{"validate", fixture(regctl), "--jobs", "-1"},
			code:  2,
			check: wantStderr("--jobs"),
		},
	}
}

// wantFindingLines asserts the number of finding lines before the summary.
func wantFindingLines(n int) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, stderr string) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != n+1 || !strings.HasPrefix(lines[n], "ocil validate ") {
			t.Errorf("want %d finding lines and a summary:\n%s", n, stdout)
		}
		if stderr != "" {
			t.Errorf("stderr = %q", stderr)
		}
	}
}

func wantStderrLine(line string) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, _, stderr string) {
		t.Helper()
		if stderr != line {
			t.Errorf("stderr = %q, want %q", stderr, line)
		}
	}
}

// validateJSON is the documented schema of --format json, decoded strictly.
type validateJSON struct {
	Layouts []struct {
		Layout   string `json:"layout"`
		Findings []struct {
			Check    string `json:"check"`
			Severity string `json:"severity"`
			Object   string `json:"object"`
			Message  string `json:"message"`
		} `json:"findings"`
		Checked struct {
			Blobs     int   `json:"blobs"`
			Bytes     int64 `json:"bytes"`
			Manifests int   `json:"manifests"`
			Indexes   int   `json:"indexes"`
		} `json:"checked"`
		Errors   int `json:"errors"`
		Warnings int `json:"warnings"`
		Notes    int `json:"notes"`
	} `json:"layouts"`
}

func decodeValidateJSON(t *testing.T, stdout string) validateJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var out validateJSON
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("validate --format json: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", stdout)
	}
	return out
}

func checkValidateJSON(path string, errs, warnings, notes int) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, _ string) {
		t.Helper()
		out := decodeValidateJSON(t, stdout)
		if len(out.Layouts) != 1 {
			t.Fatalf("%d layouts, want 1", len(out.Layouts))
		}
		r := out.Layouts[0]
		if r.Layout != path || r.Errors != errs || r.Warnings != warnings || r.Notes != notes || len(r.Findings) != errs+warnings+notes {
			t.Errorf("layout %q with %d errors, %d warnings, %d notes, %d findings; want %q, %d, %d, %d",
				r.Layout, r.Errors, r.Warnings, r.Notes, len(r.Findings), path, errs, warnings, notes)
		}
		if r.Checked.Blobs == 0 || r.Checked.Bytes == 0 || r.Checked.Manifests == 0 {
			t.Errorf("checked %+v", r.Checked)
		}
	}
}

// buildBroken makes a layout with one problem of each kind: a layer whose bytes changed,
// a config that is missing, a tag that is not a ref.name and stray files.
func buildBroken(t testing.TB) string {
	b := tl.New(t)
	cfg := b.Config(tl.P("linux", "amd64", "", ""))
	layer := b.Blob(ocispec.MediaTypeImageLayer, []byte("layer"))
	good := b.Manifest(ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}})
	b.WriteFile("blobs/sha256/"+layer.Digest.Encoded(), []byte("LAYER"))
	arm := b.Config(tl.P("linux", "arm64", "", ""))
	armLayer := b.Blob(ocispec.MediaTypeImageLayer, []byte("arm64"))
	missing := b.Manifest(ocispec.Manifest{Config: arm, Layers: []ocispec.Descriptor{armLayer}})
	if err := os.Remove(filepath.Join(b.Dir, "blobs", "sha256", arm.Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
	other := b.Manifest(ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{armLayer}})
	b.SetIndex(tl.Tag(good, "v1"), tl.Tag(missing, "a b"), tl.Tag(other, "v1"))
	b.WriteFile("blobs/sha256/"+layer.Digest.Encoded()+".tmp", []byte("x"))
	b.WriteFile("README", []byte("x"))
	return b.Dir
}

func TestValidateGolden(t *testing.T) {
	inCLI := map[string]bool{}
	for _, c := range cliCases(t) {
		inCLI[c.name] = true
	}
	for _, tc := range validateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			args, dir := tc.args, ""
			switch {
			case slices.Contains(tc.args, brokenLayout):
				dir = buildBroken(t)
				args = slices.Clone(tc.args)
				args[slices.Index(args, brokenLayout)] = dir
			case inCLI[tc.name]:
				t.Skip("TestCLI runs it")
			}
			code, stdout, stderr := runValidate(t, args...)
			if dir != "" {
				stdout = strings.ReplaceAll(stdout, dir, brokenLayout)
				stderr = strings.ReplaceAll(stderr, dir, brokenLayout)
			}
			if code != tc.code {
				t.Errorf("ocil %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", shellJoin(tc.args), code, tc.code, stdout, stderr)
			}
			golden(t, tc.name+".stdout", stdout)
			golden(t, tc.name+".stderr", stderr)
			if tc.check != nil {
				tc.check(t, stdout, stderr)
			}
		})
	}
}

// junitXML is what the JUnit report is read back as.
type junitXML struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestValidateJUnit(t *testing.T) {
	broken := buildBroken(t)
	out := t.TempDir()
	report := filepath.Join(out, "report.xml")
	if err := os.WriteFile(report, []byte("an older report"), 0o644); err != nil {
		t.Fatal(err)
	}
	nope := filepath.Join(out, "nope")
	code, stdout, stderr := runValidate(t, "validate", "--for-push", "--strict", "--junit", report, broken, fixture("regctl-index"), nope)
	if code != exitFailed {
		t.Fatalf("exit code %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte(xml.Header)) {
		t.Errorf("no XML header:\n%s", raw)
	}
	var got junitXML
	if err := xml.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if len(got.Suites) != 3 {
		t.Fatalf("%d test suites, want 3:\n%s", len(got.Suites), raw)
	}
	tests, failures := 0, 0
	for _, s := range got.Suites {
		if s.Tests != len(s.Cases) {
			t.Errorf("suite %s: tests=%d, %d testcases", s.Name, s.Tests, len(s.Cases))
		}
		n := 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				n++
				if c.Failure.Message == "" || !strings.Contains(c.Failure.Text, c.Classname) {
					t.Errorf("suite %s: failure %+v", s.Name, c.Failure)
				}
			}
		}
		if s.Failures != n {
			t.Errorf("suite %s: failures=%d, %d failing testcases", s.Name, s.Failures, n)
		}
		tests += s.Tests
		failures += s.Failures
	}
	if got.Tests != tests || got.Failures != failures {
		t.Errorf("testsuites tests=%d failures=%d, suites add up to %d and %d", got.Tests, got.Failures, tests, failures)
	}
	failing := func(suite int) []string {
		var out []string
		for _, c := range got.Suites[suite].Cases {
			if c.Failure != nil {
				out = append(out, c.Classname)
			}
		}
		slices.Sort(out)
		return out
	}
	// --strict: the warnings fail too; --for-push: "a b" is no registry tag.
	wantBroken := []string{"blob.digest", "blob.missing", "layout.blob-name", "push.tag", "ref.conflict", "ref.name"}
	if got.Suites[0].Name != broken || !slices.Equal(failing(0), wantBroken) {
		t.Errorf("suite 0 %q fails %q, want %q for %q", got.Suites[0].Name, failing(0), wantBroken, broken)
	}
	if got.Suites[1].Failures != 0 || got.Suites[1].Tests != len(validate.ChecksFor(validate.Options{ForPush: true})) {
		t.Errorf("suite 1 (a clean layout): %d tests, %d failures; want one passing test per check", got.Suites[1].Tests, got.Suites[1].Failures)
	}
	if f := failing(2); len(got.Suites[2].Cases) != 1 || !slices.Equal(f, []string{"layout.read"}) {
		t.Errorf("suite 2 (not found) fails %q with %d cases, want only layout.read", f, len(got.Suites[2].Cases))
	}
	for _, c := range got.Suites[0].Cases {
		if c.Classname == "layout.unknown" && (c.Failure != nil || !strings.Contains(c.SystemOut, "README")) {
			t.Errorf("a note should pass with its message as output: %+v", c)
		}
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("the report folder holds %d files, want only report.xml (no temp file left)", len(ents))
	}
}

func TestValidateJUnitUnwritable(t *testing.T) {
	report := filepath.Join(t.TempDir(), "no-such-folder", "report.xml")
	code, _, stderr := runValidate(t, "validate", "--junit", report, fixture("regctl-index"))
	if code != exitFailed || !strings.Contains(stderr, "report.xml") {
		t.Errorf("exit code %d, stderr %q; want 1 naming the report", code, stderr)
	}
}

// TestValidateExitCodes checks the exit code of each outcome, alone and combined: the
// highest wins.
func TestValidateExitCodes(t *testing.T) {
	broken := buildBroken(t)
	clean := fixture("regctl-index")
	nope := filepath.Join(t.TempDir(), "nope")
	notLayout := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{clean}, exitOK},
		{[]string{fixture("crane-flat")}, exitOK},
		{[]string{"--strict", fixture("crane-flat")}, exitFailed},
		{[]string{broken}, exitFailed},
		{[]string{"--fast", broken}, exitFailed},
		{[]string{nope}, exitFailed},
		{[]string{notLayout}, exitFailed},
		{[]string{clean, broken}, exitFailed},
		{[]string{broken, notLayout, clean}, exitFailed},
		{[]string{broken, notLayout, clean + ":v1"}, exitUsage},
		{[]string{nope, clean}, exitFailed},
		{[]string{clean + "@sha256:" + strings.Repeat("0", 64)}, exitUsage},
		{[]string{nope + ":v1"}, exitFailed},
	} {
		code, stdout, stderr := runValidate(t, append([]string{"validate"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("validate %s: exit code %d, want %d\n%s%s", strings.Join(tc.args, " "), code, tc.code, stdout, stderr)
		}
		if (code == exitOK) != (stderr == "") {
			t.Errorf("validate %s: exit code %d with stderr %q", strings.Join(tc.args, " "), code, stderr)
		}
	}
}

// TestValidateJSONAll checks that --format json lists every layout named, readable or
// not, in order.
func TestValidateJSONAll(t *testing.T) {
	broken := buildBroken(t)
	nope := filepath.Join(t.TempDir(), "nope")
	code, stdout, _ := runValidate(t, "validate", "--format", "json", broken, nope, fixture("crane-flat"))
	if code != exitFailed {
		t.Errorf("exit code %d, want 1", code)
	}
	out := decodeValidateJSON(t, stdout)
	var got []string
	for _, r := range out.Layouts {
		got = append(got, fmt.Sprintf("%s %d/%d/%d", r.Layout, r.Errors, r.Warnings, r.Notes))
	}
	want := []string{broken + " 3/2/1", nope + " 1/0/0", fixture("crane-flat") + " 0/1/0"}
	if !slices.Equal(got, want) {
		t.Errorf("layouts %q, want %q", got, want)
	}
	if f := out.Layouts[1].Findings; len(f) != 1 || f[0].Check != "layout.read" || f[0].Severity != "error" {
		t.Errorf("not found: findings %+v", f)
	}
}

// FuzzValidate breaks a small valid layout in a way the input chooses and checks that
// validation never panics, and that a layout whose reachable blobs changed never passes,
// in the library or through the command line.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0xff})         // flip a byte of index's first blob
	f.Add([]byte{1, 3, 0, 2})               // truncate a blob
	f.Add([]byte{2, 5})                     // remove a blob
	f.Add([]byte{3, 1, 'x'})                // append to a blob
	f.Add([]byte{4, 0, 10, 0, '"'})         // edit a byte of index.json
	f.Add([]byte{5, 2, '{', '}'})           // replace a blob's bytes
	f.Add([]byte{6, 1, 'n', 'u', 'l', 'l'}) // replace oci-layout or index.json, or remove a layout file
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		dir, blobs := fuzzLayout(t)
		op, pick, rest := data[0]%7, int(data[1]), data[2:]
		u16 := func(b []byte) int {
			if len(b) < 2 {
				return 0
			}
			return int(b[0])<<8 | int(b[1])
		}
		target := blobs[pick%len(blobs)]
		old, err := os.ReadFile(target)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		switch op {
		case 0: // flip one byte
			b := slices.Clone(old)
			mask := byte(1)
			if len(rest) > 2 && rest[2] != 0 {
				mask = rest[2]
			}
			b[u16(rest)%len(b)] ^= mask
			changed = mustWrite(t, target, b, old)
		case 1: // truncate
			changed = mustWrite(t, target, old[:u16(rest)%len(old)], old)
		case 2: // remove
			if err := os.Remove(target); err != nil {
				t.Fatal(err)
			}
			changed = true
		case 3: // append
			changed = mustWrite(t, target, append(slices.Clone(old), append([]byte{0}, rest...)...), old)
		case 4: // splice bytes into index.json
			name := filepath.Join(dir, "index.json")
			b, _ := os.ReadFile(name)
			at := u16(rest) % (len(b) + 1)
			tail := rest[min(2, len(rest)):]
			nb := append(append(slices.Clone(b[:at]), tail...), b[min(len(b), at+len(tail)):]...)
			mustWrite(t, name, nb, b)
		case 5: // replace a blob's bytes
			changed = mustWrite(t, target, rest, old)
		case 6: // replace or remove a layout file
			names := []string{"oci-layout", "index.json", "blobs"}
			name := filepath.Join(dir, names[pick%len(names)])
			if len(rest) == 0 {
				os.RemoveAll(name)
			} else if pick%len(names) < 2 {
				mustWrite(t, name, rest, nil)
			}
		}
		rep, err := validate.Layout(context.Background(), dir, validate.Options{Jobs: 2})
		if rep == nil {
			t.Fatalf("no report (error %v)", err)
		}
		if err != nil && !errors.Is(err, layout.ErrNotLayout) {
			t.Fatalf("error %v, want findings or ErrNotLayout", err)
		}
		if changed && err == nil && rep.Errors == 0 {
			t.Fatalf("op %d changed %s, but validation found no error:\n%+v", op, target, rep.Findings)
		}
		code, stdout, stderr := runValidate(t, "validate", dir)
		switch {
		case changed && code != exitFailed && code != exitUsage:
			t.Fatalf("op %d changed %s, but the exit code is %d\n%s%s", op, target, code, stdout, stderr)
		case code == exitOK && (err != nil || rep.Errors > 0), code != exitOK && err == nil && rep.Errors == 0:
			t.Fatalf("exit code %d, library: error %v, %d errors", code, err, rep.Errors)
		}
	})
}

// fuzzLayout writes a small layout (a tagged index of two images, an artifact referring to
// it) and returns it with the files of its reachable blobs, in a fixed order.
func fuzzLayout(t *testing.T) (dir string, blobs []string) {
	b := tl.New(t)
	var children []ocispec.Descriptor
	for _, p := range []*ocispec.Platform{tl.P("linux", "amd64", "", ""), tl.P("linux", "arm64", "v8", "")} {
		children = append(children, tl.WithPlatform(b.Image(p, "layer of "+p.Architecture), *p))
	}
	idx := b.Index(children...)
	empty := b.Blob(ocispec.MediaTypeEmptyJSON, []byte("{}"))
	sig := b.Manifest(ocispec.Manifest{ArtifactType: "application/vnd.example.sig", Config: empty,
		Layers: []ocispec.Descriptor{b.Blob("application/vnd.example.sig.v1", []byte("signature"))}, Subject: &idx})
	b.SetIndex(tl.Tag(idx, "v1"), sig)
	err := filepath.WalkDir(filepath.Join(b.Dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs = append(blobs, p)
		}
		return err
	})
	if err != nil || len(blobs) != 10 {
		t.Fatalf("%d blobs, %v", len(blobs), err)
	}
	return b.Dir, blobs
}

// mustWrite replaces a file's bytes and reports whether they differ from old.
func mustWrite(t *testing.T, name string, b, old []byte) bool {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return !bytes.Equal(b, old)
}

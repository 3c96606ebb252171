package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	tl "github.com/ocil-dev/ocil/internal/testlayout"
)

// gitlabCase is a JUnit testcase as GitLab's parser (lib/gitlab/ci/parsers/test/junit.rb)
// reads it: the status comes from the first of failure, error and skipped that is
// present, the details from that element (its text, or its attributes when it has
// none); a passing case keeps no output at all.
type gitlabCase struct {
	Suite, Classname, Name, Time string
	Status                       string // failed, error, skipped or success
	Output                       string
}

type xmlElem struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Text  string     `xml:",chardata"`
}

func (e *xmlElem) details() string {
	if strings.TrimSpace(e.Text) != "" {
		return e.Text
	}
	var parts []string
	for _, a := range e.Attrs {
		parts = append(parts, a.Name.Local+"="+a.Value)
	}
	return strings.Join(parts, " ")
}

func readAsGitLab(t *testing.T, raw []byte) (cases []gitlabCase, suites []map[string]string) {
	t.Helper()
	var doc struct {
		XMLName xml.Name   `xml:"testsuites"`
		Attrs   []xml.Attr `xml:",any,attr"`
		Suites  []struct {
			Attrs []xml.Attr `xml:",any,attr"`
			Cases []struct {
				Attrs   []xml.Attr `xml:",any,attr"`
				Failure *xmlElem   `xml:"failure"`
				Error   *xmlElem   `xml:"error"`
				Skipped *xmlElem   `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	attrs := func(as []xml.Attr) map[string]string {
		m := map[string]string{}
		for _, a := range as {
			m[a.Name.Local] = a.Value
		}
		return m
	}
	suites = append(suites, attrs(doc.Attrs))
	for _, s := range doc.Suites {
		sa := attrs(s.Attrs)
		suites = append(suites, sa)
		for _, c := range s.Cases {
			ca := attrs(c.Attrs)
			gc := gitlabCase{Suite: sa["name"], Classname: ca["classname"], Name: ca["name"], Time: ca["time"], Status: "success"}
			switch {
			case c.Failure != nil:
				gc.Status, gc.Output = "failed", c.Failure.details()
			case c.Error != nil:
				gc.Status, gc.Output = "error", c.Error.details()
			case c.Skipped != nil:
				gc.Status, gc.Output = "skipped", c.Skipped.details()
			}
			cases = append(cases, gc)
		}
	}
	return cases, suites
}

// Errors fail, warnings are skipped with the finding as details (failures with
// --strict), notes pass: GitLab's test report then shows every error and warning
// (issue 11). Every suite and case has a time.
func TestValidateJUnitAsGitLabReadsIt(t *testing.T) {
	b := tl.New(t)
	amd := b.Image(tl.P("linux", "amd64", "", ""), "amd64")
	arm := b.Image(tl.P("linux", "arm64", "", ""), "arm64")
	idx := b.Index(amd, tl.WithPlatform(arm, *tl.P("linux", "arm64", "", "")))
	b.SetIndex(tl.Tag(idx, "v1"))
	layer := b.Blob(ocispec.MediaTypeImageLayer, []byte("amd64"))
	b.WriteFile("blobs/sha256/"+layer.Digest.Encoded(), []byte("AMD64"))
	b.WriteFile("README", []byte("x"))
	report := filepath.Join(t.TempDir(), "report.xml")

	for _, strict := range []bool{false, true} {
		args := []string{"validate", "--junit", report, b.Dir}
		if strict {
			args = append(args[:1], append([]string{"--strict"}, args[1:]...)...)
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != exitFailed {
			t.Fatalf("%v: exit code %d\n%s%s", args, code, stdout, stderr)
		}
		raw, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		cases, suites := readAsGitLab(t, raw)
		byCheck := map[string]gitlabCase{}
		for _, c := range cases {
			byCheck[c.Classname] = c
			if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
				t.Errorf("case %s %s: time %q", c.Classname, c.Name, c.Time)
			}
		}
		for _, s := range suites {
			if _, err := strconv.ParseFloat(s["time"], 64); err != nil {
				t.Errorf("suite %q: time %q", s["name"], s["time"])
			}
		}
		warnStatus := "skipped"
		if strict {
			warnStatus = "failed"
		}
		want := []struct{ check, status, object, output string }{
			{"blob.digest", "failed", string(layer.Digest), "the bytes hash to"},
			{"platform.missing", warnStatus, string(idx.Digest) + " manifests[0]", "no platform on its descriptor (its config says linux/amd64)"},
			{"layout.unknown", "success", "README", ""},
			{"platform.config", "success", "a descriptor platform agrees with the image config's os, architecture, variant and os.version", ""},
		}
		for _, w := range want {
			c, ok := byCheck[w.check]
			switch {
			case !ok:
				t.Errorf("strict=%v: no %s case\n%s", strict, w.check, raw)
			case c.Status != w.status || c.Name != w.object || (w.output == "") != (c.Output == "") || !strings.Contains(c.Output, w.output):
				t.Errorf("strict=%v: %s case read as %+v, want status %s, name %s, details with %q", strict, w.check, c, w.status, w.object, w.output)
			}
		}
		skipped := "1"
		if strict {
			skipped = "0"
		}
		if suites[1]["skipped"] != skipped || suites[0]["skipped"] != skipped {
			t.Errorf("strict=%v: skipped counts %q (suite) and %q (all), want %s", strict, suites[1]["skipped"], suites[0]["skipped"], skipped)
		}
	}
}

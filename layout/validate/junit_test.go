package validate

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestJUnitShape checks the XML JUnit writes: one suite per layout, errors as failures,
// warnings as skipped cases, notes passing with output, each check that found nothing a
// passing case, an unreadable layout only its failure, and times that add up.
func TestJUnitShape(t *testing.T) {
	opts := Options{}
	ok := &Report{Layout: "out", Findings: []Finding{
		{Check: "blob.digest", Severity: SeverityError, Object: "sha256:aa", Message: "bytes hash to sha256:bb"},
		{Check: "platform.missing", Severity: SeverityWarning, Object: "index.json manifests[0]", Message: "no platform"},
		{Check: "blob.unreferenced", Severity: SeverityNote, Object: "sha256:cc", Message: "nothing references it"},
	}}
	bad := &Report{Layout: "broken.tar", Findings: []Finding{{Check: "layout.open", Severity: SeverityError, Object: "broken.tar", Message: "not a layout"}}}
	b, err := JUnit([]*Report{ok, bad}, []bool{true, false}, []time.Duration{2 * time.Second, time.Second}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), xml.Header) {
		t.Fatalf("no XML header: %.60s", b)
	}
	var got junitSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Suites) != 2 || got.Suites[0].Name != "out" || got.Suites[1].Name != "broken.tar" {
		t.Fatalf("suites %+v", got.Suites)
	}
	s := got.Suites[0]
	if s.Failures != 1 || s.Skipped != 1 || s.Tests != len(s.Cases) || s.Tests != 3+len(ChecksFor(opts))-3 {
		t.Errorf("suite out: %d tests, %d failures, %d skipped; %d checks", s.Tests, s.Failures, s.Skipped, len(ChecksFor(opts)))
	}
	if c := s.Cases[0]; c.Classname != "blob.digest" || c.Failure == nil || c.Failure.Text != "error blob.digest sha256:aa: bytes hash to sha256:bb" {
		t.Errorf("error case %+v", c)
	}
	if c := s.Cases[1]; c.Skipped == nil || c.Skipped.Message != "no platform" {
		t.Errorf("warning case %+v", c)
	}
	if c := s.Cases[2]; c.Failure != nil || c.Skipped != nil || !strings.Contains(c.SystemOut, "nothing references it") {
		t.Errorf("note case %+v", c)
	}
	if b := got.Suites[1]; b.Tests != 1 || b.Failures != 1 || b.Time != "1.000000" {
		t.Errorf("unreadable suite %+v", b)
	}
	if got.Tests != s.Tests+1 || got.Failures != 2 || got.Time != "3.000000" {
		t.Errorf("totals %d tests, %d failures, time %s", got.Tests, got.Failures, got.Time)
	}
}

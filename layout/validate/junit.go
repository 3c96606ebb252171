package validate

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"time"
)

// JUnit XML, in the shape GitLab, Jenkins and most CI systems read: one testsuite per
// layout, one testcase per finding (classname = check, name = object). GitLab keeps only
// the failure, error and skipped elements of a testcase and drops the output of passing
// ones, so errors are failures and warnings are skipped cases, each with the finding as
// message and text; notes pass, with the finding as output. Each check that ran and
// found nothing is one passing testcase named after what it checks. A suite's time is
// the time its layout took, shared evenly among its testcases so that totals add up.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit renders the reports as JUnit XML (see the shape above); readable[i] is false for
// a layout that could not be read, whose only testcase is then the failure that says why;
// durations[i] is the time layout i took.
func JUnit(reports []*Report, readable []bool, durations []time.Duration, opts Options) ([]byte, error) {
	out := junitSuites{Name: "ocil validate"}
	var total time.Duration
	for i, rep := range reports {
		s := junitSuite{Name: rep.Layout}
		found := map[string]bool{}
		for _, f := range rep.Findings {
			found[f.Check] = true
			tc := junitCase{Classname: f.Check, Name: f.Object}
			line := fmt.Sprintf("%s %s %s: %s", f.Severity, f.Check, f.Object, f.Message)
			switch f.Severity {
			case SeverityError:
				tc.Failure = &junitFailure{Message: f.Message, Type: string(f.Severity), Text: line}
				s.Failures++
			case SeverityWarning:
				tc.Skipped = &junitSkipped{Message: f.Message, Text: line}
				s.Skipped++
			default:
				tc.SystemOut = line
			}
			s.Cases = append(s.Cases, tc)
		}
		if readable[i] {
			for _, ci := range ChecksFor(opts) {
				if !found[ci.ID] {
					s.Cases = append(s.Cases, junitCase{Classname: ci.ID, Name: ci.Description})
				}
			}
		}
		s.Tests = len(s.Cases)
		s.Time = seconds(durations[i])
		share := seconds(durations[i] / time.Duration(max(len(s.Cases), 1)))
		for j := range s.Cases {
			s.Cases[j].Time = share
		}
		total += durations[i]
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	out.Time = seconds(total)
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}

// seconds formats d as JUnit time attributes are written: seconds, to the microsecond.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
}

package validate

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
)

// Severity says how much a finding matters.
type Severity string

const (
	// SeverityError: the layout breaks a rule of the image spec (or, with
	// Options.ForPush, one registries enforce); ocil or other tools will refuse it.
	SeverityError Severity = "error"
	// SeverityWarning: the layout is readable but something in it will surprise a tool
	// or a person; Options.Strict turns warnings into errors.
	SeverityWarning Severity = "warning"
	// SeverityNote: worth knowing, never a problem (unknown files, unreferenced blobs).
	SeverityNote Severity = "note"
)

func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// Finding is one thing a check found.
type Finding struct {
	// Check is the check's stable identifier, such as "blob.digest" (see Checks).
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Object is what the finding concerns, named inside the layout: "oci-layout",
	// "index.json", "index.json manifests[2]", a digest ("sha256:..."), a descriptor in a
	// document ("sha256:... layers[0]"), a path ("blobs/sha256/x.tmp") or a tag
	// (`tag "v1"`).
	Object  string `json:"object"`
	Message string `json:"message"`
}

// Options say how thoroughly Layout checks.
type Options struct {
	// Fast checks blob sizes only: no blob is hashed, except the indexes and manifests
	// that are read anyway to walk the layout.
	Fast bool
	// ForPush adds the rules registries enforce (the push.* checks) and makes
	// unverifiable digests errors.
	ForPush bool
	// Strict turns warnings into errors. Notes stay notes.
	Strict bool
	// Jobs is how many blobs are hashed at once; zero or less means GOMAXPROCS, and at
	// least 2. Up to four of them also read the documents of index.json's entries
	// ahead of the checks.
	Jobs int
	// Progress, when set, is called after each hashed blob with the bytes done and in
	// all (from several goroutines; it must be safe for that).
	Progress func(done, total int64)
}

func (o Options) withDefaults() Options {
	if o.Jobs <= 0 {
		o.Jobs = max(runtime.GOMAXPROCS(0), 2)
	}
	return o
}

// Counts says how much was checked.
type Counts struct {
	// Blobs is the number of distinct blobs reachable from index.json that are present
	// and were checked (hashed, or sized with Options.Fast), indexes and manifests
	// included; Bytes is their total size.
	Blobs int   `json:"blobs"`
	Bytes int64 `json:"bytes"`
	// Manifests and Indexes count the distinct documents read and checked (index.json
	// itself is not counted).
	Manifests int `json:"manifests"`
	Indexes   int `json:"indexes"`
}

// Report is what Layout found in one layout.
type Report struct {
	// Layout is the path as it was given.
	Layout string `json:"layout"`
	// Findings are sorted: errors first, then warnings, then notes; within a severity by
	// object, then check, then message. The same layout and options give the same list.
	Findings []Finding `json:"findings"`
	Checked  Counts    `json:"checked"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Notes    int       `json:"notes"`
}

// finish applies Strict, removes repeated findings, sorts and counts.
func finish(r *Report, opts Options) *Report {
	if opts.Strict {
		for i := range r.Findings {
			if r.Findings[i].Severity == SeverityWarning {
				r.Findings[i].Severity = SeverityError
			}
		}
	}
	slices.SortFunc(r.Findings, compareFindings)
	r.Findings = slices.Compact(r.Findings)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	r.Errors, r.Warnings, r.Notes = 0, 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case SeverityError:
			r.Errors++
		case SeverityWarning:
			r.Warnings++
		default:
			r.Notes++
		}
	}
	return r
}

func compareFindings(a, b Finding) int {
	if c := cmp.Compare(a.Severity.rank(), b.Severity.rank()); c != 0 {
		return c
	}
	if c := naturalCompare(a.Object, b.Object); c != 0 {
		return c
	}
	if c := strings.Compare(a.Check, b.Check); c != 0 {
		return c
	}
	return strings.Compare(a.Message, b.Message)
}

// naturalCompare orders strings with runs of digits compared as numbers, so that
// "manifests[2]" sorts before "manifests[10]".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			if c := cmp.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

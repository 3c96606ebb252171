package interop

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// form is how a layout is stored.
type form int

const (
	folderForm form = iota // a layout folder
	tarForm                // an uncompressed layout tarball
	tarGzForm              // a gzip-compressed layout tarball
)

func (f form) String() string {
	switch f {
	case tarForm:
		return "tar"
	case tarGzForm:
		return "tar.gz"
	}
	return "folder"
}

// target is one layout or tarball that ocil wrote, with what every reader must find in it.
type target struct {
	Name      string   // how messages name it: the path relative to the scenario's folder and the tag
	Path      string   // absolute path of the folder or tarball
	Tag       string   // the tag ocil gave the nested index
	Form      form     // folder, tar or tar.gz
	Digest    string   // digest of the tagged index, as ocil printed it
	Platforms []string // platforms the tagged index lists, in order (os/arch[/variant][:os.version])

	// OpaqueLayers says that some layers typed application/vnd.oci.image.layer.v1.tar
	// hold plain files, as oras push and ocil add store files, not tar archives.
	// go-containerregistry's full validation untars every such layer, so for these
	// layouts it runs validate.Fast on the whole layout and the full validation on each
	// manifest whose tar-typed layers are all tar archives (see checkGCR).
	OpaqueLayers bool

	// Known lists what a tool is known to reject in this layout, each with its origin.
	Known []known

	mu   sync.Mutex
	seen map[int]bool // indexes into Known that a tool hit
}

// known is a rejection that a tool is known to make for a target.
type known struct {
	Tool    string // toolGCR, toolORAS, toolRegclient, toolSkopeo
	Check   string // the check of that tool (a prefix: "validate" covers validate.Index and validate.Image)
	Message string // text that each line of the tool's error contains
	// Finding is true when ocil itself wrote what the tool rejects (an ocil bug or
	// choice to revisit); false when it is the tool's limitation, or inherited byte for
	// byte from an input fixture written by another tool (TestBaseline proves that).
	Finding bool
	Why     string
}

// The names of the tools in messages and subtests.
const (
	toolOcil      = "ocil"
	toolGCR       = "go-containerregistry"
	toolORAS      = "oras-go"
	toolRegclient = "regclient"
	toolSkopeo    = "skopeo"
)

// strict makes known findings (ocil-made rejections) fail the suite instead of being
// logged: OCIL_INTEROP_STRICT=1.
var strict = os.Getenv("OCIL_INTEROP_STRICT") == "1"

// checker reports failures of one tool on one target; every message names the tool, the
// layout and the check.
type checker struct {
	t    tb
	tool string
	tg   *target
}

func (c checker) errorf(check, format string, args ...any) {
	c.t.Helper()
	c.t.Errorf("[%s] %s: %s: %s", c.tool, c.tg.Name, check, fmt.Sprintf(format, args...))
}

func (c checker) fatalf(check, format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("[%s] %s: %s: %s", c.tool, c.tg.Name, check, fmt.Sprintf(format, args...))
}

func (c checker) logf(check, format string, args ...any) {
	c.t.Helper()
	c.t.Logf("[%s] %s: %s: %s", c.tool, c.tg.Name, check, fmt.Sprintf(format, args...))
}

// ok fails the check when err is not nil.
func (c checker) ok(check string, err error) bool {
	c.t.Helper()
	if err != nil {
		c.errorf(check, "%v", err)
		return false
	}
	return true
}

// equal fails the check when got differs from want.
func (c checker) equal(check, what string, got, want any) bool {
	c.t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		c.errorf(check, "%s: got %v, want %v", what, got, want)
		return false
	}
	return true
}

// platforms fails the check when the platforms listed differ from the target's.
func (c checker) platforms(check string, got []string) bool {
	c.t.Helper()
	return c.equal(check, "platforms", strings.Join(got, " "), strings.Join(c.tg.Platforms, " "))
}

// expect accepts err when it is nil or when each of its non-empty lines contains the
// message of a known rejection of this tool and check, or one of the extra texts. A
// known rejection that is an ocil finding is logged, or fails under OCIL_INTEROP_STRICT=1.
// Anything else fails the check with the whole error.
func (c checker) expect(check string, err error, extra ...string) bool {
	c.t.Helper()
	if err == nil {
		return true
	}
	var unexplained []string
	hit := map[int]bool{}
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		explained := false
		for i, k := range c.tg.Known {
			if k.Tool == c.tool && strings.HasPrefix(check, k.Check) && strings.Contains(line, k.Message) {
				hit[i], explained = true, true
			}
		}
		for _, e := range extra {
			if strings.Contains(line, e) {
				explained = true
			}
		}
		if !explained {
			unexplained = append(unexplained, line)
		}
	}
	if len(unexplained) > 0 {
		c.errorf(check, "rejected: %s\n(full error: %v)", strings.Join(unexplained, "\n"), err)
		return false
	}
	c.tg.mu.Lock()
	if c.tg.seen == nil {
		c.tg.seen = map[int]bool{}
	}
	for i := range hit {
		c.tg.seen[i] = true
	}
	c.tg.mu.Unlock()
	for i := range hit {
		k := c.tg.Known[i]
		if k.Finding && strict {
			c.errorf(check, "rejected (known ocil finding, failing under OCIL_INTEROP_STRICT=1): %s\nwhy: %s", k.Message, k.Why)
		} else {
			kind := "tool limitation or inherited from the input"
			if k.Finding {
				kind = "known ocil finding"
			}
			c.logf(check, "rejected as expected (%s): %s\nwhy: %s", kind, k.Message, k.Why)
		}
	}
	return true
}

// checkKnownSeen runs after all tools: a known ocil finding that no tool hit any more
// fails (the table must drop it); a tool limitation that did not show is logged.
func checkKnownSeen(t *testing.T, tg *target, skipped map[string]bool) {
	t.Helper()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for i, k := range tg.Known {
		if tg.seen[i] || skipped[k.Tool] {
			continue
		}
		if k.Finding {
			t.Errorf("[%s] %s: %s: the known rejection %q no longer happens: ocil was fixed, drop it from the scenario table", k.Tool, tg.Name, k.Check, k.Message)
		} else {
			t.Logf("[%s] %s: %s: the known limitation %q did not show (a newer tool?)", k.Tool, tg.Name, k.Check, k.Message)
		}
	}
}

// formatPlatform writes a platform as ocil's flags take it: os/arch[/variant][:os.version].
func formatPlatform(os, arch, variant, osVersion string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	if osVersion != "" {
		s += ":" + osVersion
	}
	return s
}

// tb is what the checks need of a test: *testing.T, or a recorder in TestChecksCatch.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
	Logf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
	Cleanup(func())
}

package layout

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/capped"
	"github.com/ocil-dev/ocil/layout/platform"
	"github.com/ocil-dev/ocil/lock"
)

// Error classes. Every error returned by this package wraps one of these with the subject
// it concerns (a path, reference or digest); callers test with errors.Is.
var (
	// ErrNotFound: a layout, tag, digest, blob or platform that is not there.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous: a reference or platform that selects more than one candidate.
	// The error is an *AmbiguousError that lists them.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrDigestMismatch: bytes that do not hash to the digest that names them.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: a blob shorter or longer than its descriptor says.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrInvalidReference: a reference or tag that does not parse.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrInvalidPlatform: a platform that does not parse (the same value as platform.ErrInvalidPlatform).
	ErrInvalidPlatform = platform.ErrInvalidPlatform
	// ErrInvalidDigest: a digest that does not match the OCI digest grammar.
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrUnsupportedAlgorithm: a well-formed digest whose algorithm cannot be verified here.
	ErrUnsupportedAlgorithm = errors.New("unsupported digest algorithm")
	// ErrNotLayout: a path that is not an OCI image layout.
	ErrNotLayout = errors.New("not an OCI image layout")
	// ErrInvalidDocument: an index.json, index or manifest that breaks the OCI rules.
	ErrInvalidDocument = errors.New("invalid document")
	// ErrTooLarge: a JSON document over the size this package reads (the same value as
	// capped.ErrTooLarge).
	ErrTooLarge = capped.ErrTooLarge
	// ErrCycle: a descriptor graph in which an index contains itself.
	ErrCycle = errors.New("descriptor cycle")
	// ErrTooDeep: a descriptor graph nested deeper than MaxDepth.
	ErrTooDeep = errors.New("descriptor graph too deep")
	// ErrConflict: a change that would contradict what the layout holds.
	ErrConflict = errors.New("conflict")
	// ErrLocked: the layout lock could not be taken in time (the same value as lock.ErrTimeout).
	ErrLocked = lock.ErrTimeout
	// ErrReadOnly: a write to a layout opened from a source that cannot be written.
	ErrReadOnly = errors.New("read-only layout")
	// ErrInvalidArchive: a layout tarball that is unsafe (absolute or ".." names, links,
	// devices, duplicates, a decompression bomb) or damaged; the cause wraps
	// tarfs.ErrHostile or tarfs.ErrCorrupt.
	ErrInvalidArchive = errors.New("invalid layout tarball")
	// ErrInvalidOption: an option value that is not one of those allowed.
	ErrInvalidOption = errors.New("invalid option")
	// ErrUnsafeFile: a name in a layout folder that is not read because it is a symbolic
	// link leading outside the folder, or a FIFO, device or socket. The error is an
	// *UnsafeFileError naming the file and the link.
	ErrUnsafeFile = errors.New("unsafe file")
)

// Candidate is one of the things an ambiguous reference could mean.
type Candidate struct {
	// Tag is the entry's org.opencontainers.image.ref.name in index.json, "" when untagged
	// or when the candidate is a child of an index.
	Tag string
	// Parent is, for a child of an index, the tag of the index.json entry it is under
	// ("" when that entry is untagged).
	Parent string
	// Descriptor is the candidate, with its platform filled in from its config when the
	// index entry had none.
	Descriptor ocispec.Descriptor

	source      PlatformSource // where Descriptor.Platform came from
	attestation bool           // an attestation entry, never a platform of its own
}

// MaxListedCandidates is how many candidates an AmbiguousError's message lists, a
// screenful; it then says how many more there are. Candidates holds them all.
const MaxListedCandidates = 20

// AmbiguousError lists the candidates of a reference that selects more than one thing.
type AmbiguousError struct {
	Subject string // what was being resolved, e.g. "testdata/umoci-image"
	Reason  string // e.g. "2 images" or `2 entries match --platform linux/arm64`
	Hint    string // how to choose, e.g. "choose one with :TAG, @DIGEST or --platform"
	// Candidates are all of them; the platform of an untagged manifest without one in
	// index.json is read from its config for the first MaxListedCandidates only.
	Candidates []Candidate
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "resolve %s: %s: %s", e.Subject, ErrAmbiguous, e.Reason)
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range e.Candidates[:min(len(e.Candidates), MaxListedCandidates)] {
		fmt.Fprintf(tw, "\n  %s", strings.ReplaceAll(FormatCandidate(c), "  ", "\t"))
	}
	tw.Flush()
	if n := len(e.Candidates) - MaxListedCandidates; n > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", n)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// FormatCandidate renders a candidate on one line: tag (for a child of a tagged index,
// "(in TAG)"), digest, media type, platform.
func FormatCandidate(c Candidate) string {
	tag := c.Tag
	switch {
	case tag == "" && c.Parent != "":
		tag = "(in " + c.Parent + ")"
	case tag == "":
		tag = "(untagged)"
	}
	plat := "-"
	if c.Descriptor.Platform != nil {
		plat = platform.Format(*c.Descriptor.Platform)
	}
	return fmt.Sprintf("%s  %s  %s  %s", tag, c.Descriptor.Digest, DisplayType(c.Descriptor), plat)
}

// count says how many: "1 entry", "2 entries".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

package layout

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocil-dev/ocil/layout/tarfs"
)

// Reference names a layout and, optionally, an entry in it:
//
//	PATH              the layout's only image, or the one --platform selects
//	PATH:TAG          the index.json entry whose org.opencontainers.image.ref.name is TAG
//	PATH@DIGEST       the blob DIGEST (an index.json entry or any index or manifest in it)
//	PATH:TAG@DIGEST   DIGEST, which must be TAG's entry or under it
//
// PATH is a layout folder or tarball. A tag may itself contain ':' and '/'
// (docker.io/library/alpine:3.19 is a valid ref.name), so the split is made on disk: PATH
// is the longest prefix, ending before a ':' or '@', that exists. When no prefix exists (a
// new output), PATH ends at the first ':' or '@'. A TAG@DIGEST suffix is split at the last
// '@' only when what follows is a valid digest.
//
// The transport prefixes other tools print are accepted and dropped: oci:PATH[:TAG] and
// oci-archive:PATH[:TAG] (skopeo), ocidir://PATH[:TAG] (regctl) and
// oci-layout://PATH[:TAG] (buildx). A path on disk still wins: when a file or folder
// named oci:x exists, "oci:x" is that path. oci-archive: marks the path as a tarball
// (see IsArchive), whatever its name.
//
// The path "-" is standard input (a source) or standard output (a destination): a
// layout tarball streamed through a pipe. A file named "-" is written ./-.
type Reference struct {
	Path   string
	Tag    string
	Digest digest.Digest
	// Transport is the prefix the reference was written with (oci:, oci-archive:,
	// ocidir://, oci-layout://), "" when none.
	Transport string
}

// IsArchive reports whether the reference said its path is a tarball (oci-archive:).
func (r Reference) IsArchive() bool { return r.Transport == "oci-archive:" }

// Stdio is the path that stands for standard input or standard output.
const Stdio = "-"

// transports are the reference prefixes of other tools, dropped by ParseReference.
var transports = []string{"oci-archive:", "oci-layout://", "ocidir://", "oci:"}

// String formats the reference back into its text form.
func (r Reference) String() string {
	s := r.Transport + r.Path
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + string(r.Digest)
	}
	return s
}

// ParseReference splits s into a path, tag and digest (see Reference). It checks that the
// digest is valid and that a tag separator is followed by a tag; it does not check the tag
// against the ref.name grammar, so an existing entry with any name can still be read
// (ValidateRefName is for writes).
func ParseReference(s string) (Reference, error) {
	return parseReference(s, exists)
}

func parseReference(s string, exists func(string) bool) (Reference, error) {
	r, err := parse(s, exists, true)
	if err != nil {
		return Reference{}, fmt.Errorf("parse reference %q: %w", s, err)
	}
	return r, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || tarfs.SplitExists(p)
}

// Exists reports whether path names something a reference can read: a file or folder,
// or a split tarball's parts (tarfs.SplitExists).
func Exists(path string) bool { return exists(path) }

// parse splits s; a transport prefix is dropped only when transport is set (once).
func parse(s string, exists func(string) bool, transport bool) (Reference, error) {
	if s == "" {
		return Reference{}, fmt.Errorf("%w: empty", ErrInvalidReference)
	}
	if strings.ContainsRune(s, 0) {
		return Reference{}, fmt.Errorf("%w: contains NUL", ErrInvalidReference)
	}
	prefix := ""
	for _, t := range transports {
		if transport && strings.HasPrefix(s, t) {
			prefix = t
			break
		}
	}
	cut := -1
	if !exists(s) {
		// With a transport prefix, only a path that includes it (oci:x) is a path on disk.
		for i := len(s) - 1; i > len(prefix); i-- {
			if (s[i] == ':' || s[i] == '@') && exists(s[:i]) {
				cut = i
				break
			}
		}
		if cut < 0 && prefix != "" {
			if s == prefix {
				return Reference{}, fmt.Errorf("%w: no path after %s", ErrInvalidReference, prefix)
			}
			r, err := parse(s[len(prefix):], exists, false)
			r.Transport = prefix
			return r, err
		}
		if cut < 0 {
			cut = strings.IndexAny(s, ":@")
		}
	}
	if cut == 0 {
		return Reference{}, fmt.Errorf("%w: no path before %q", ErrInvalidReference, s[0])
	}
	if cut < 0 {
		return Reference{Path: s}, nil
	}
	r := Reference{Path: s[:cut]}
	rest := s[cut:]
	if rest[0] == ':' {
		rest = rest[1:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 && ValidateDigest(digest.Digest(rest[at+1:])) == nil {
			r.Tag, rest = rest[:at], rest[at:]
		} else {
			r.Tag, rest = rest, ""
		}
		if r.Tag == "" {
			return Reference{}, fmt.Errorf("%w: empty tag after ':'", ErrInvalidReference)
		}
	}
	if rest != "" {
		d := digest.Digest(rest[1:])
		if err := ValidateDigest(d); err != nil {
			return Reference{}, fmt.Errorf("%w: %v", ErrInvalidReference, err)
		}
		r.Digest = d
	}
	return r, nil
}

// refNameGrammar is the org.opencontainers.image.ref.name grammar (annotations.md):
// components of alphanumerics joined by one of - . _ : @ + or "--", separated by '/'.
var refNameGrammar = regexp.MustCompile(`^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$`)

// ValidateRefName checks a name against the OCI ref.name grammar; every name ocil writes
// into index.json passes it. (Reading accepts any name, by exact match.)
func ValidateRefName(name string) error {
	if !refNameGrammar.MatchString(name) {
		return fmt.Errorf("tag %q: %w: a tag is letters and digits joined by one of - . _ : @ + or --, in /-separated parts", name, ErrInvalidReference)
	}
	return nil
}

// referrersTag matches the fallback tags (sha256-<hex>) under which regclient and the
// distribution spec keep referrers; such entries are not images of their own.
var referrersTag = regexp.MustCompile(`^[a-z0-9]+-[a-f0-9]{64,128}$`)

// IsReferrersTag reports whether name is a referrers fallback tag such as sha256-<hex>.
func IsReferrersTag(name string) bool { return referrersTag.MatchString(name) }

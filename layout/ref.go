package layout

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
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
type Reference struct {
	Path   string
	Tag    string
	Digest digest.Digest
}

// String formats the reference back into its text form.
func (r Reference) String() string {
	s := r.Path
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

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func parseReference(s string, exists func(string) bool) (Reference, error) {
	if s == "" {
		return Reference{}, fmt.Errorf("parse reference %q: %w: empty", s, ErrInvalidReference)
	}
	if strings.ContainsRune(s, 0) {
		return Reference{}, fmt.Errorf("parse reference %q: %w: contains NUL", s, ErrInvalidReference)
	}
	cut := -1
	if !exists(s) {
		for i := len(s) - 1; i > 0; i-- {
			if (s[i] == ':' || s[i] == '@') && exists(s[:i]) {
				cut = i
				break
			}
		}
		if cut < 0 {
			cut = strings.IndexAny(s, ":@")
		}
	}
	if cut == 0 {
		return Reference{}, fmt.Errorf("parse reference %q: %w: no path before %q", s, ErrInvalidReference, s[0])
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
			return Reference{}, fmt.Errorf("parse reference %q: %w: empty tag after ':'", s, ErrInvalidReference)
		}
	}
	if rest != "" {
		d := digest.Digest(rest[1:])
		if err := ValidateDigest(d); err != nil {
			return Reference{}, fmt.Errorf("parse reference %q: %w: %v", s, ErrInvalidReference, err)
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

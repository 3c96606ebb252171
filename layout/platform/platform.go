package platform

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrInvalidPlatform is wrapped by every error that Parse returns.
var ErrInvalidPlatform = errors.New("invalid platform")

// parseError is the error Parse returns: it names the input and the reason, and
// errors.Is(err, ErrInvalidPlatform) is true for it.
type parseError struct {
	input  string
	reason string
}

func (e *parseError) Error() string {
	return fmt.Sprintf("parse platform %q: %s", e.input, e.reason)
}

func (e *parseError) Unwrap() error { return ErrInvalidPlatform }

// Option names accepted after a ',' (the regclient form). Matched without regard to case.
const (
	optOSVer     = "osver"
	optOSVersion = "osversion"
)

// Parse reads a platform written in any of the forms described in the package
// documentation:
//
//	os[(osversion[+feature...])]/arch[/variant]   containerd
//	os/arch[/variant]:osversion                   oras, crane
//	os/arch[/variant],osver=osversion             regclient
//
// The os and architecture come back lower-cased with their aliases resolved (x86_64 is
// amd64, aarch64 is arm64, macos is darwin, armhf is arm, armel is arm/v6, i386 is 386);
// the variant is the one written, lower-cased, with containerd's spellings applied (arm64
// "8" and "v8.0" are "v8", amd64 "v1" is dropped, arm "7" is "v7"). The os.version is kept
// verbatim; os.features are sorted and de-duplicated. Nothing is ever taken from the
// machine Parse runs on.
//
// Every error wraps ErrInvalidPlatform and quotes s.
func Parse(s string) (ocispec.Platform, error) {
	fail := func(format string, args ...any) (ocispec.Platform, error) {
		return ocispec.Platform{}, &parseError{input: s, reason: fmt.Sprintf(format, args...)}
	}

	if s == "" {
		return fail("empty string")
	}
	if reason := checkInputChars(s); reason != "" {
		return fail("%s", reason)
	}
	if strings.Contains(s, "*") {
		return fail("wildcards are not supported")
	}

	// Options first: a ',' ends both the platform and a ':' os.version.
	head, opts, hasOpts := strings.Cut(s, ",")
	head, colonVersion, hasColon := strings.Cut(head, ":")
	if hasColon && colonVersion == "" {
		return fail("empty os.version after ':'")
	}

	if hasColon {
		if reason := checkVerbatim(colonVersion); reason != "" {
			return fail("os.version %q: %s", colonVersion, reason)
		}
	}
	if strings.Contains(outsideParens(head), " ") {
		return fail("contains a space outside the os.version")
	}

	parts := strings.Split(head, "/")
	if len(parts) > 3 {
		return fail("too many components: want os/arch[/variant]")
	}
	if slices.Contains(parts, "") {
		return fail("empty component")
	}
	if len(parts) == 1 {
		if strings.Contains(colonVersion, "/") {
			return fail("the os.version goes last: os/arch[/variant]:osversion")
		}
		return fail("specify os/arch")
	}
	parenVersion, features, reason := checkOS(parts[0])
	if reason != "" {
		return fail("%s", reason)
	}
	if !isComponent(parts[1]) {
		return fail("invalid architecture %q: use letters, digits, '_', '.' and '-'", parts[1])
	}
	if len(parts) == 3 {
		if !isComponent(parts[2]) {
			return fail("invalid variant %q: use letters, digits, '_', '.' and '-'", parts[2])
		}
		// These names imply a variant, and containerd would silently replace the one
		// written; refuse instead.
		if means, ok := impliedVariant[strings.ToLower(parts[1])]; ok {
			return fail("architecture %q takes no variant (it means %s)", parts[1], means)
		}
	}

	optVersion := ""
	if hasOpts {
		for opt := range strings.SplitSeq(opts, ",") {
			if opt == "" {
				return fail("empty option after ','")
			}
			key, val, ok := strings.Cut(opt, "=")
			if !ok || strings.Contains(key, "/") {
				if strings.Contains(opt, "/") {
					return fail("%q after ',' is another platform: give one platform here", opt)
				}
				return fail("option %q: want osver=VERSION", opt)
			}
			if !strings.EqualFold(key, optOSVer) && !strings.EqualFold(key, optOSVersion) {
				return fail("unknown option %q", key)
			}
			if val == "" {
				return fail("empty os.version in option %q", key)
			}
			if reason := checkVerbatim(val); reason != "" {
				return fail("os.version %q: %s", val, reason)
			}
			if optVersion != "" {
				return fail("os.version given twice")
			}
			optVersion = val
		}
	}

	given := 0
	for _, v := range []string{parenVersion, colonVersion, optVersion} {
		if v != "" {
			given++
		}
	}
	if given > 1 {
		return fail("os.version given twice")
	}

	// The syntax is checked; containerd resolves the names (the os options are decoded
	// above, and may hold spaces containerd refuses). With two or three components its
	// result does not depend on the host.
	p, err := platforms.Parse(outsideParens(head))
	if err != nil {
		return fail("%v", err)
	}
	p.OSVersion = parenVersion + colonVersion + optVersion
	p.OSFeatures = features
	return p, nil
}

// impliedVariant lists the architecture aliases that name a variant too.
var impliedVariant = map[string]string{
	"armhf": "arm/v7",
	"armel": "arm/v6",
	"i386":  "386",
}

// checkInputChars rejects whitespace other than the ASCII space, control and other
// non-printable characters and invalid UTF-8 anywhere in the input. Spaces are checked
// by position later: only an os.version may hold them. It returns "" when s is acceptable.
func checkInputChars(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && isInvalidAt(s, i):
			return "invalid UTF-8"
		case r == ' ':
		case unicode.IsSpace(r):
			return "contains whitespace other than a space"
		case !unicode.IsPrint(r):
			return fmt.Sprintf("contains non-printable character %U", r)
		}
	}
	return ""
}

// checkVerbatim checks an os.version written after ':' or osver=, which is taken as
// written. A '%' followed by two hex digits there is refused rather than stored
// literally: percent-encoding is decoded only inside os(...), and "macOS%2012.6" stored
// verbatim would never match the "macOS 12.6" it was meant to be. It returns "" when v
// is acceptable.
func checkVerbatim(v string) string {
	for i := 0; i+2 < len(v); i++ {
		if v[i] == '%' && isHex(v[i+1]) && isHex(v[i+2]) {
			return fmt.Sprintf("%q is percent-encoding, which is decoded only in the os(...) form: write the character itself", v[i:i+3])
		}
	}
	return ""
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// outsideParens returns s without the parts between '(' and ')', where the containerd
// form holds the os.version and features.
func outsideParens(s string) string {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return s
	}
	end := strings.LastIndexByte(s, ')')
	if end < open {
		return s[:open]
	}
	return s[:open] + s[end+1:]
}

func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}

// checkOS validates the first component, os[(osversion[+feature...])], and returns the
// decoded os.version and the sorted, de-duplicated features. reason is "" when valid.
func checkOS(c string) (version string, features []string, reason string) {
	name, rest, hasParen := strings.Cut(c, "(")
	if name == "" {
		return "", nil, "empty os"
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return "", nil, fmt.Sprintf("invalid os %q: use letters, digits, '_' and '-'", name)
		}
	}
	if !hasParen {
		return "", nil, ""
	}
	inner, ok := strings.CutSuffix(rest, ")")
	if !ok || strings.ContainsAny(inner, "()") {
		return "", nil, fmt.Sprintf("invalid os options in %q: want os(osversion+feature)", c)
	}
	items := strings.Split(inner, "+")
	for i, item := range items {
		for j := 0; j < len(item); j++ {
			if !isNameByte(item[j]) && item[j] != '.' && item[j] != '%' && item[j] != ' ' {
				return "", nil, fmt.Sprintf("invalid os options in %q: percent-encode %q", c, item[j:j+1])
			}
		}
		decoded, err := url.PathUnescape(item)
		if err != nil {
			return "", nil, fmt.Sprintf("invalid percent-encoding %q in %q", item, c)
		}
		if !utf8.ValidString(decoded) || strings.ContainsFunc(decoded, isNotPrint) {
			return "", nil, fmt.Sprintf("os options in %q decode to a non-printable or invalid UTF-8 value", c)
		}
		if i == 0 {
			version = decoded
			continue
		}
		if decoded == "" {
			return "", nil, fmt.Sprintf("empty os feature in %q", c)
		}
		features = append(features, decoded)
	}
	slices.Sort(features)
	return version, slices.Compact(features), ""
}

func isNotPrint(r rune) bool { return !unicode.IsPrint(r) }

// isNameByte reports whether b may appear in an os name: [A-Za-z0-9_-].
func isNameByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-'
}

// isComponent reports whether c is a valid architecture or variant: [A-Za-z0-9_.-]+, and
// not "." or "..", which would be misleading wherever a platform becomes a path.
func isComponent(c string) bool {
	if c == "" || c == "." || c == ".." {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isNameByte(c[i]) && c[i] != '.' {
			return false
		}
	}
	return true
}

// Format prints p as os/arch[/variant][:osversion], the form ocil lists platforms in.
// When p has os.features, or an os.version with characters other than letters, digits,
// spaces and ". _ - + ~ :", it prints the containerd form os(osversion+feature...)/arch[/variant]
// instead, percent-encoding every byte of the os.version and features other than
// letters, digits, '.', '_' and '-'. Features are printed sorted and de-duplicated; empty
// ones are left out.
//
// Parse(Format(p)) gives back p for every p that Parse returns. Format does not normalize:
// it prints the fields as they are, so a descriptor's platform shows as written. An empty
// os or architecture (which Parse never returns) is printed as an empty component, as
// in "linux/".
func Format(p ocispec.Platform) string {
	features := cleanFeatures(p.OSFeatures)
	var b strings.Builder
	b.WriteString(p.OS)
	if len(features) > 0 || !colonSafe(p.OSVersion) {
		b.WriteByte('(')
		b.WriteString(encodeOption(p.OSVersion))
		for _, f := range features {
			b.WriteByte('+')
			b.WriteString(encodeOption(f))
		}
		b.WriteByte(')')
	}
	b.WriteByte('/')
	b.WriteString(p.Architecture)
	if p.Variant != "" {
		b.WriteByte('/')
		b.WriteString(p.Variant)
	}
	if len(features) == 0 && p.OSVersion != "" && colonSafe(p.OSVersion) {
		b.WriteByte(':')
		b.WriteString(p.OSVersion)
	}
	return b.String()
}

// cleanFeatures returns the non-empty features, sorted and de-duplicated, without
// changing the caller's slice.
func cleanFeatures(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, f := range in {
		if f != "" {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// colonSafe reports whether v can be printed after ':' and read back unchanged, and is
// plain enough to read there: letters, digits, spaces and ". _ - + ~ :". A '%' is not
// (Parse refuses percent-encoding after ':'), nor is ',' (it ends the os.version there).
func colonSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isNameByte(v[i]) && !strings.ContainsRune(".+~: ", rune(v[i])) {
			return false
		}
	}
	return true
}

// encodeOption percent-encodes every byte of v other than [A-Za-z0-9_.-], so that the
// result fits containerd's os(...) grammar and decodes back to v.
func encodeOption(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isNameByte(c) || c == '.' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// Normalize returns p with containerd's normalization applied: os and architecture
// lower-cased and their aliases resolved, the variant in its canonical spelling (none for
// arm64 v8 and amd64 v1, v7 for arm without one), and os.features sorted and
// de-duplicated. The os.version is unchanged.
//
// Unlike containerd's Normalize, an empty os stays empty: it is never replaced by the
// operating system of the machine running the code.
func Normalize(p ocispec.Platform) ocispec.Platform {
	n := platforms.Normalize(p)
	if p.OS == "" {
		n.OS = ""
	}
	return n
}

// IsUnknown reports whether p is the unknown/unknown platform that buildkit puts on
// attestation manifests in an index. Such entries describe no platform and are skipped
// when selecting by platform. A nil platform is not unknown/unknown: it is simply absent.
func IsUnknown(p *ocispec.Platform) bool {
	return p != nil && strings.EqualFold(p.OS, "unknown") && strings.EqualFold(p.Architecture, "unknown")
}

// Equal reports whether a and b are the same platform after normalization: same os,
// architecture and variant, the same os.version (compared exactly) and the same set of
// os.features. Two index entries for which Equal is true are duplicates.
func Equal(a, b ocispec.Platform) bool {
	return Key(a) == Key(b)
}

// Key is a string that two platforms share exactly when Equal says they are the same:
// use it to find duplicates among many platforms with a map instead of comparing pairs.
func Key(p ocispec.Platform) string {
	n := Normalize(p)
	return strings.Join([]string{n.OS, n.Architecture, n.Variant, n.OSVersion, strings.Join(cleanFeatures(n.OSFeatures), "+")}, "\x00")
}

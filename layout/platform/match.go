package platform

import (
	"slices"
	"strings"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Matcher selects the platforms that satisfy a requested one. Build it with NewMatcher;
// the zero Matcher matches nothing. A Matcher is safe for concurrent use, and it
// satisfies containerd's platforms.Matcher interface.
type Matcher struct {
	orig     ocispec.Platform
	want     ocispec.Platform // normalized
	version  []string         // want.OSVersion split at '.', nil when none is requested
	features []string         // want's features, sorted, de-duplicated, without ""
}

var _ platforms.Matcher = Matcher{}

// NewMatcher returns a Matcher for want, usually the result of Parse.
//
// Match(have) is true when, after both sides are normalized:
//   - os, architecture and variant are equal (containerd's OnlyStrict: linux/amd64 does
//     not match linux/386, arm/v7 does not match arm/v6, arm64/v8 matches arm64);
//   - want has no os.version, or have's os.version equals it or continues it with more
//     dot-separated components (10.0.17763 matches 10.0.17763.5458, not 10.0.17763x or
//     10.0.177), on every operating system;
//   - every os.feature of want is among have's (a want without features accepts any).
//
// have must carry an os and an architecture: a descriptor platform with either missing
// never matches. The unknown/unknown platform of attestations therefore matches only a
// request for unknown/unknown.
func NewMatcher(want ocispec.Platform) Matcher {
	m := Matcher{
		orig:     want,
		want:     Normalize(want),
		features: cleanFeatures(want.OSFeatures),
	}
	if want.OSVersion != "" {
		m.version = strings.Split(want.OSVersion, ".")
	}
	return m
}

// Match reports whether have satisfies the platform the Matcher was built for. See
// NewMatcher for the rules.
func (m Matcher) Match(have ocispec.Platform) bool {
	if have.OS == "" || have.Architecture == "" {
		return false
	}
	h := Normalize(have)
	if h.OS != m.want.OS || h.Architecture != m.want.Architecture || h.Variant != m.want.Variant {
		return false
	}
	if m.version != nil && !versionHasPrefix(have.OSVersion, m.version) {
		return false
	}
	for _, f := range m.features {
		if !slices.Contains(have.OSFeatures, f) {
			return false
		}
	}
	return true
}

// String prints the requested platform with Format.
func (m Matcher) String() string { return Format(m.orig) }

// versionHasPrefix reports whether the dot-separated components of v start with want.
func versionHasPrefix(v string, want []string) bool {
	if v == "" {
		return false
	}
	have := strings.Split(v, ".")
	if len(have) < len(want) {
		return false
	}
	for i, w := range want {
		if have[i] != w {
			return false
		}
	}
	return true
}

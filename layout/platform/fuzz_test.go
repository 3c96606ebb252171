package platform

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/platforms"
)

// FuzzParse checks that Parse never panics, that its errors wrap ErrInvalidPlatform, and
// that every platform it returns prints with Format to a string that parses back to the
// same platform.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, tc := range invalidCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPlatform) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidPlatform", s, err)
			}
			return
		}
		if p.OS == "" || p.Architecture == "" {
			t.Fatalf("Parse(%q) = %#v: empty os or architecture", s, p)
		}
		if p.OS != strings.ToLower(p.OS) || p.Architecture != strings.ToLower(p.Architecture) || p.Variant != strings.ToLower(p.Variant) {
			t.Fatalf("Parse(%q) = %#v: not lower-cased", s, p)
		}
		if p.OSFeatures != nil && len(p.OSFeatures) == 0 {
			t.Fatalf("Parse(%q) = %#v: empty, non-nil os.features", s, p)
		}
		text := Format(p)
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v; Format gives %q, which does not parse: %v", s, p, text, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("Parse(%q) = %#v; Format gives %q, which parses to %#v", s, p, text, again)
		}
		if Format(again) != text {
			t.Fatalf("Format is not stable for %q: %q then %q", s, text, Format(again))
		}
		// Without a ':' the printed form is containerd's, and containerd reads it the same.
		if !strings.Contains(text, ":") {
			if cd, err := platforms.Parse(text); err != nil || !reflect.DeepEqual(cd, p) {
				t.Fatalf("containerd reads Format(%#v) = %q as %#v, %v", p, text, cd, err)
			}
		}
		if !Equal(p, again) || !NewMatcher(p).Match(again) {
			t.Fatalf("Parse(%q) = %#v does not equal or match itself", s, p)
		}
	})
}

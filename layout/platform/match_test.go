package platform

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func mustParse(t testing.TB, s string) ocispec.Platform {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		id    string
		want  string // parsed with Parse
		have  ocispec.Platform
		match bool
	}{
		{"E47", "linux/arm64/v8", plat("linux", "arm64"), true},
		{"E47", "linux/arm64/v8", plat("linux", "arm64", "v8"), true},
		{"E47", "linux/arm64/v8", plat("linux", "aarch64"), true},
		{"E47", "linux/arm64/v8", plat("linux", "arm64", "v8.0"), true},
		{"E47", "linux/arm64/v8", plat("linux", "arm64", "v8.2"), false},
		{"E47", "linux/arm64/v8", plat("linux", "arm64", "v9"), false},
		{"E47", "linux/arm64/v8", plat("linux", "arm", "v8"), false},
		{"E47", "linux/arm64", plat("linux", "arm64", "v8"), true},
		{"E48", "Linux/X86_64", plat("linux", "amd64"), true},
		{"E48", "linux/amd64", plat("linux", "x86_64"), true},
		{"E48", "linux/amd64/v1", plat("linux", "amd64"), true},
		{"E48", "linux/amd64", plat("linux", "amd64", "v1"), true},
		{"E48", "linux/amd64", plat("linux", "amd64", "v3"), false},
		{"E48", "linux/amd64/v3", plat("linux", "amd64"), false},
		{"E48", "linux/armhf", plat("linux", "arm", "v7"), true},
		{"E48", "linux/armhf", plat("linux", "arm"), true},
		{"E48", "linux/armel", plat("linux", "arm", "v6"), true},
		{"E48", "linux/arm/7", plat("linux", "arm"), true},
		{"E48", "linux/arm/v7", plat("linux", "arm", "v6"), false},
		{"E48", "linux/arm/v6", plat("linux", "arm", "v7"), false},
		{"E48", "linux/i386", plat("linux", "386"), true},
		{"E48", "macos/arm64", plat("darwin", "arm64"), true},
		{"E48", "darwin/arm64", plat("MacOS", "arm64"), true},
		{"E48", "linux/arm64", plat("darwin", "arm64"), false},
		{"E50", "windows(10.0.17763+win32k)/amd64", withVersion(plat("windows", "amd64"), "10.0.17763.5458", "win32k"), true},
		{"E50", "windows(10.0.17763+win32k)/amd64", withVersion(plat("windows", "amd64"), "10.0.17763.5458"), false},
		{"E50", "windows/amd64", withVersion(plat("windows", "amd64"), "10.0.17763.5458", "win32k"), true},
		{"E50", "linux(+gpu)/amd64", withVersion(plat("linux", "amd64"), "", "simd", "gpu"), true},
		{"E50", "linux(+gpu+simd)/amd64", withVersion(plat("linux", "amd64"), "", "gpu"), false},
		{"E51", "windows/amd64,osver=10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763.5458"), true},
		{"E51", "windows/amd64:10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763.5459"), false},
		{"E51", "windows/amd64:10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763"), false},
		{"E52", "windows/amd64:10.0.17763", withVersion(plat("windows", "amd64"), "10.0.17763.5458"), true},
		{"E52", "windows/amd64:10.0.17763", withVersion(plat("windows", "amd64"), "10.0.17763"), true},
		{"E52", "windows/amd64:10.0.17763", withVersion(plat("windows", "amd64"), "10.0.20348.1"), false},
		{"E52", "windows/amd64:10.0.1776", withVersion(plat("windows", "amd64"), "10.0.17763.5458"), false},
		{"E52", "windows/amd64:10.0.1776", withVersion(plat("windows", "amd64"), "10.0.17763"), false},
		{"E52", "windows/amd64:10.0.17763", withVersion(plat("windows", "amd64"), "10.0.17763x"), false},
		{"E52", "windows/amd64:10.0.17763", plat("windows", "amd64"), false},
		{"E52", "windows/amd64", withVersion(plat("windows", "amd64"), "10.0.20348.1"), true},
		// os.version counts on every os, not only Windows.
		{"E52", "linux/arm64/v8:el8", withVersion(plat("linux", "arm64"), "el8"), true},
		{"E52", "linux/arm64/v8:el8", withVersion(plat("linux", "arm64"), "el9"), false},
		{"E52", "linux/arm64/v8:el8", withVersion(plat("linux", "arm64"), "el"), false},
		{"E52", "linux/arm64/v8:el8", withVersion(plat("linux", "arm64"), "EL8"), false},
		{"E52", "linux/arm64/v8:el8", plat("linux", "arm64"), false},
		{"E52", "linux/arm64/v8:el8", withVersion(plat("linux", "arm64"), "el8.10"), true},
		{"E52", "linux/arm64/v8", withVersion(plat("linux", "arm64"), "el8"), true},
		{"E53", "linux/amd64", plat("linux", "386"), false},
		{"E53", "linux/386", plat("linux", "amd64"), false},
		{"E54", "linux/amd64", plat("unknown", "unknown"), false},
		{"E54", "unknown/unknown", plat("unknown", "unknown"), true},
		{"E54", "unknown/unknown", plat("linux", "amd64"), false},
		{"E56", "linux/arm64/v8.2", plat("linux", "arm64", "v8.2"), true},
		{"E56", "linux/arm64/v8.2", plat("linux", "arm64"), false},
		{"E56", "linux/arm64/v8.2", plat("linux", "arm64", "v8.1"), false},
		{"E56", "linux/arm64/v8.2", plat("linux", "arm64", "v8.3"), false},
		{"E56", "linux/arm64/v8.2", plat("linux", "arm64", "v9"), false},
		// Incomplete descriptor platforms never match.
		{"-", "linux/amd64", plat("", "amd64"), false},
		{"-", "linux/amd64", plat("linux", ""), false},
	} {
		t.Run(tc.id+"/"+tc.want+"/"+Format(tc.have), func(t *testing.T) {
			m := NewMatcher(mustParse(t, tc.want))
			if got := m.Match(tc.have); got != tc.match {
				t.Errorf("NewMatcher(%q).Match(%#v) = %v, want %v", tc.want, tc.have, got, tc.match)
			}
		})
	}
}

// TestMatchIndex filters the platforms of an index the way ocil selects entries (E53, E54).
func TestMatchIndex(t *testing.T) {
	amd64 := plat("linux", "amd64")
	arm64 := plat("linux", "arm64")
	i386 := plat("linux", "386")
	att := plat("unknown", "unknown")
	for _, tc := range []struct {
		id    string
		want  string
		index []ocispec.Platform
		got   []int // indexes of the matching entries
	}{
		{"E53", "linux/amd64", []ocispec.Platform{i386}, nil},
		{"E54", "linux/amd64", []ocispec.Platform{amd64, att, arm64}, []int{0}},
		{"E54", "linux/arm64/v8", []ocispec.Platform{amd64, att, arm64, att}, []int{2}},
		{"E54", "unknown/unknown", []ocispec.Platform{amd64, att, arm64, att}, []int{1, 3}},
	} {
		m := NewMatcher(mustParse(t, tc.want))
		var got []int
		for i, p := range tc.index {
			if m.Match(p) {
				got = append(got, i)
			}
		}
		if len(got) != len(tc.got) {
			t.Errorf("%s: %q matches entries %v, want %v", tc.id, tc.want, got, tc.got)
			continue
		}
		for i := range got {
			if got[i] != tc.got[i] {
				t.Errorf("%s: %q matches entries %v, want %v", tc.id, tc.want, got, tc.got)
				break
			}
		}
	}
}

func TestMatcherZero(t *testing.T) {
	var m Matcher
	for _, p := range []ocispec.Platform{plat("linux", "amd64"), {}, plat("unknown", "unknown")} {
		if m.Match(p) {
			t.Errorf("zero Matcher matches %#v", p)
		}
	}
	if NewMatcher(plat("", "amd64")).Match(plat("", "amd64")) {
		t.Error("a Matcher without an os matches")
	}
}

// TestMatcherSelf: every platform Parse returns matches itself, and whatever Equal
// considers the same.
func TestMatcherSelf(t *testing.T) {
	for _, tc := range parseCases {
		p := tc.want
		if !NewMatcher(p).Match(p) {
			t.Errorf("%s: %q does not match itself", tc.id, tc.in)
		}
		if !NewMatcher(p).Match(Normalize(p)) {
			t.Errorf("%s: %q does not match its normalized form", tc.id, tc.in)
		}
	}
}

func TestMatcherString(t *testing.T) {
	if got, want := NewMatcher(mustParse(t, "linux/arm64/v8,osver=el8")).String(), "linux/arm64/v8:el8"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// Key must agree with a field-by-field comparison of normalized platforms.
func TestKeyAgreesWithFields(t *testing.T) {
	var ps []ocispec.Platform
	for _, s := range []string{"linux/amd64", "linux/x86_64", "linux/amd64/v1", "linux/amd64/v3", "linux/arm64", "linux/arm64/v8",
		"linux/aarch64", "linux/arm64:el8", "linux/arm64/v8:el8", "linux/arm", "linux/arm/v7", "linux/armhf", "linux/arm/v6",
		"windows(10.0.17763+win32k)/amd64", "windows(10.0.17763)/amd64", "linux(+gpu+simd)/amd64", "linux(+simd+gpu)/amd64"} {
		p, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, a := range ps {
		for _, b := range ps {
			na, nb := Normalize(a), Normalize(b)
			want := na.OS == nb.OS && na.Architecture == nb.Architecture && na.Variant == nb.Variant &&
				na.OSVersion == nb.OSVersion && strings.Join(cleanFeatures(na.OSFeatures), "+") == strings.Join(cleanFeatures(nb.OSFeatures), "+")
			if (Key(a) == Key(b)) != want || Equal(a, b) != want {
				t.Errorf("%s vs %s: Key equal %v, Equal %v, want %v", Format(a), Format(b), Key(a) == Key(b), Equal(a, b), want)
			}
		}
	}
}

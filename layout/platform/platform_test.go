package platform

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// plat builds a platform from os, arch and an optional variant.
func plat(os, arch string, variant ...string) ocispec.Platform {
	p := ocispec.Platform{OS: os, Architecture: arch}
	if len(variant) > 0 {
		p.Variant = variant[0]
	}
	return p
}

// withVersion returns p with the os.version and os.features set.
func withVersion(p ocispec.Platform, version string, features ...string) ocispec.Platform {
	p.OSVersion = version
	if len(features) > 0 {
		p.OSFeatures = features
	}
	return p
}

// parseCases: inputs that Parse accepts, with the exact result. The case column names the
// test case of SPEC-NOTES section 9 ("E47"...) or "-" for additional rows.
var parseCases = []struct {
	id   string
	in   string
	want ocispec.Platform
}{
	{"E47", "linux/arm64/v8", plat("linux", "arm64", "v8")},
	{"E47", "linux/arm64", plat("linux", "arm64")},
	{"E47", "linux/aarch64", plat("linux", "arm64")},
	{"E48", "Linux/X86_64", plat("linux", "amd64")},
	{"E48", "linux/x86-64", plat("linux", "amd64")},
	{"E48", "linux/armhf", plat("linux", "arm")},
	{"E48", "linux/armel", plat("linux", "arm", "v6")},
	{"E48", "linux/i386", plat("linux", "386")},
	{"E48", "macos/arm64", plat("darwin", "arm64")},
	{"E48", "MacOS/ARM64", plat("darwin", "arm64")},
	{"E48", "linux/arm/7", plat("linux", "arm", "v7")},
	{"E48", "linux/arm/v7", plat("linux", "arm", "v7")},
	{"E48", "linux/arm/6", plat("linux", "arm", "v6")},
	{"E48", "linux/arm", plat("linux", "arm")},
	{"E48", "linux/amd64/v1", plat("linux", "amd64")},
	{"E48", "linux/amd64/v3", plat("linux", "amd64", "v3")},
	{"E48", "linux/arm64/8", plat("linux", "arm64", "v8")},
	{"E48", "linux/arm64/v8.0", plat("linux", "arm64", "v8")},
	{"E48", "linux/arm64/9", plat("linux", "arm64", "v9")},
	{"E48", "linux/arm64/v9.0", plat("linux", "arm64", "v9")},
	{"E48", "linux/arm64/V8", plat("linux", "arm64", "v8")},
	{"E50", "windows(10.0.17763)/amd64", withVersion(plat("windows", "amd64"), "10.0.17763")},
	{"E50", "windows(10.0.17763%2Bbuild.42+win32k)/amd64", withVersion(plat("windows", "amd64"), "10.0.17763+build.42", "win32k")},
	{"E50", "darwin(macOS%2012.6)/arm64", withVersion(plat("darwin", "arm64"), "macOS 12.6")},
	{"E50", "linux(+gpu)/amd64", withVersion(plat("linux", "amd64"), "", "gpu")},
	{"E50", "linux(+simd+gpu+gpu)/amd64", withVersion(plat("linux", "amd64"), "", "gpu", "simd")},
	{"E50", "linux(el8+gpu)/arm64/v8", withVersion(plat("linux", "arm64", "v8"), "el8", "gpu")},
	{"E50", "windows()/amd64", plat("windows", "amd64")},
	{"E50", "x(%28%29%2F%25)/y", withVersion(plat("x", "y"), "()/%")},
	{"E51", "windows/amd64:10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763.5458")},
	{"E51", "windows/amd64,osver=10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763.5458")},
	{"E51", "windows/amd64,osversion=10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763.5458")},
	{"E51", "windows/amd64,OSVer=10.0.17763.5458", withVersion(plat("windows", "amd64"), "10.0.17763.5458")},
	{"E51", "windows(10.0.17763.5458)/amd64", withVersion(plat("windows", "amd64"), "10.0.17763.5458")},
	{"E51", "linux/arm64/v8:el8", withVersion(plat("linux", "arm64", "v8"), "el8")},
	{"E51", "linux/amd64:a:b", withVersion(plat("linux", "amd64"), "a:b")},
	{"E51", "linux/amd64:a%2", withVersion(plat("linux", "amd64"), "a%2")},
	{"E51", "linux/amd64:100%", withVersion(plat("linux", "amd64"), "100%")},
	{"E51", "linux/amd64,osver=a:b", withVersion(plat("linux", "amd64"), "a:b")},
	{"E51", "linux/amd64:El8", withVersion(plat("linux", "amd64"), "El8")},
	{"E51", "windows()/amd64:2", withVersion(plat("windows", "amd64"), "2")},
	{"E51", "linux(+gpu)/amd64:el8", withVersion(plat("linux", "amd64"), "el8", "gpu")},
	{"E54", "unknown/unknown", plat("unknown", "unknown")},
	{"E56", "linux/arm64/v8.2", plat("linux", "arm64", "v8.2")},
	// Spaces in the os.version (Homebrew's "macOS 12.6"), in every form, kept as written.
	{"-", "darwin/arm64:macOS 12.6", withVersion(plat("darwin", "arm64"), "macOS 12.6")},
	{"-", "darwin/arm64,osver=macOS 12.6", withVersion(plat("darwin", "arm64"), "macOS 12.6")},
	{"-", "darwin(macOS 12.6)/arm64", withVersion(plat("darwin", "arm64"), "macOS 12.6")},
	{"-", "darwin(macOS 12.6+a b)/arm64", withVersion(plat("darwin", "arm64"), "macOS 12.6", "a b")},
	{"-", "windows/amd64:10.0 17763", withVersion(plat("windows", "amd64"), "10.0 17763")},
	{"-", "darwin/arm64:  two  ", withVersion(plat("darwin", "arm64"), "  two  ")},
	{"-", "linux/arm64/v8:a:b c", withVersion(plat("linux", "arm64", "v8"), "a:b c")},
	{"-", "linux/ppc64le", plat("linux", "ppc64le")},
	{"-", "linux/s390x", plat("linux", "s390x")},
	{"-", "wasip1/wasm", plat("wasip1", "wasm")},
	{"-", "linux/riscv64", plat("linux", "riscv64")},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.id+"/"+tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			// Whatever was written, the printed form reads back the same.
			if again, err := Parse(Format(got)); err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("Parse(Format(%#v)) = %#v, %v", got, again, err)
			}
		})
	}
}

// invalidCases: inputs that Parse rejects.
var invalidCases = []struct {
	id string
	in string
}{
	{"E49", ""},
	{"E49", "/linux/arm"},
	{"E49", "linux/arm/"},
	{"E49", "linux /arm"},
	{"E49", "linux/&arm"},
	{"E49", "linux/arm/foo/bar"},
	{"E49", "linux/*"},
	{"E49", "*/amd64"},
	{"E49", "linux//v8"},
	{"E49", "/"},
	{"E49", "linux/"},
	{"E49", "/amd64"},
	{"E49", " linux/amd64"},
	{"E49", "linux/amd64 "},
	{"E49", "linux/amd64\t"},
	{"E49", "linux/amd64\n"},
	{"E49", "linux/amd64\x00"},
	{"E49", "linux/amd\xff64"},
	{"E49", "linux/amd64/\u200b"},
	{"E49", "lin.ux/amd64"},
	{"E49", "linux/./v8"},
	{"E49", "linux/../v8"},
	{"E49", "linux/arm64/.."},
	{"E50", "windows(10.0.17763/amd64"},
	{"E50", "windows10.0.17763)/amd64"},
	{"E50", "windows(10.0(1))/amd64"},
	{"E50", "windows(10.0.17763)x/amd64"},
	{"E50", "(10.0.17763)/amd64"},
	{"E50", "windows(%zz)/amd64"},
	{"E50", "windows(%2)/amd64"},
	{"E50", "windows(10=1)/amd64"},
	{"E50", "linux(+)/amd64"},
	{"E50", "linux(a++b)/amd64"},
	{"E50", "linux(a+)/amd64"},
	{"E50", "linux(%00)/amd64"},
	{"E50", "linux(%FF)/amd64"},
	{"E50", "linux(+%0A)/amd64"},
	{"E51", "windows(1)/amd64:2"},
	{"E51", "windows(1)/amd64,osver=2"},
	{"E51", "windows/amd64:1,osver=2"},
	{"E51", "windows/amd64,osver=1,osver=1"},
	{"E51", "windows/amd64,osver=1,osversion=2"},
	{"E51", "windows/amd64:"},
	{"E51", "windows/amd64,osver="},
	{"E51", "windows/amd64,"},
	{"E51", "windows/amd64,,osver=1"},
	{"E51", "windows/amd64,osver"},
	{"E51", "windows/amd64,variant=v8"},
	{"E51", "linux/amd64:a%2Bb"},
	{"E51", "darwin/arm64:macOS%2012.6"},
	{"E51", "darwin/arm64,osver=macOS%2012.6"},
	{"E51", "linux/amd64,linux/arm64"},
	{"-", "darwin /arm64:macOS 12.6"},
	{"-", "darwin/arm64 :macOS 12.6"},
	{"-", "darwin/arm 64"},
	{"-", "darwin/arm64/v8 ,osver=1"},
	{"-", "darwin/arm64:macOS\t12.6"},
	{"-", "darwin/arm64:macOS\u00a012.6"},
	{"-", "darwin(macOS\t12.6)/arm64"},
	{"E51", ":10.0"},
	{"E51", "windows:10.0/amd64"},
	{"E55", "arm64"},
	{"E55", "linux"},
	{"E55", "amd64"},
	{"E55", "windows(10.0.17763)"},
	{"E55", "linux:el8"},
	{"E55", "arm64,osver=1"},
	{"-", "linux/armhf/v6"},
	{"-", "linux/armhf/v7"},
	{"-", "linux/armel/v7"},
	{"-", "linux/i386/v2"},
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		t.Run(tc.id+"/"+tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if !errors.Is(err, ErrInvalidPlatform) {
				t.Fatalf("Parse(%q) = %#v, %v; want an error wrapping ErrInvalidPlatform", tc.in, got, err)
			}
			if !reflect.DeepEqual(got, ocispec.Platform{}) {
				t.Fatalf("Parse(%q) returned %#v with its error", tc.in, got)
			}
			// The message names the input, quoted, after the verb.
			if prefix := "parse platform " + strconv.Quote(tc.in) + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("Parse(%q) error %q does not start with %q", tc.in, err, prefix)
			}
		})
	}
}

// TestParseErrorMessage pins the wording of a few errors that users see.
func TestParseErrorMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"linux//v8", `parse platform "linux//v8": empty component`},
		{"arm64", `parse platform "arm64": specify os/arch`},
		{"linux/*", `parse platform "linux/*": wildcards are not supported`},
		{"windows(1)/amd64:2", `parse platform "windows(1)/amd64:2": os.version given twice`},
		{"linux/amd64,foo=1", `parse platform "linux/amd64,foo=1": unknown option "foo"`},
		{"linux/amd64,linux/arm64", `parse platform "linux/amd64,linux/arm64": "linux/arm64" after ',' is another platform: give one platform here`},
		{"darwin/arm64:macOS%2012.6", `parse platform "darwin/arm64:macOS%2012.6": os.version "macOS%2012.6": "%20" is percent-encoding, which is decoded only in the os(...) form: write the character itself`},
		{"darwin /arm64", `parse platform "darwin /arm64": contains a space outside the os.version`},
		{"linux/amd64\t", `parse platform "linux/amd64\t": contains whitespace other than a space`},
	} {
		_, err := Parse(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) error = %v, want %s", tc.in, err, tc.want)
		}
	}
}

// TestParseSameWays: the three ways of giving an os.version give the same platform (E51).
func TestParseSameWays(t *testing.T) {
	for _, group := range [][]string{
		{"windows/amd64:10.0.17763.5458", "windows/amd64,osver=10.0.17763.5458", "windows(10.0.17763.5458)/amd64", "WINDOWS/AMD64,osversion=10.0.17763.5458"},
		{"linux/arm64/v8:el8", "linux(el8)/arm64/v8", "linux/aarch64/8,osver=el8"},
		{"darwin/arm64:macOS 12.6", "darwin(macOS 12.6)/arm64", "darwin(macOS%2012.6)/arm64", "darwin/arm64,osver=macOS 12.6", "macos/aarch64,OSVERSION=macOS 12.6"},
	} {
		first, err := Parse(group[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range group[1:] {
			got, err := Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, first) || !Equal(got, first) {
				t.Errorf("Parse(%q) = %#v, want %#v as for %q", s, got, first, group[0])
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		id   string
		in   ocispec.Platform
		want ocispec.Platform
	}{
		{"E47", plat("linux", "arm64", "v8"), plat("linux", "arm64")},
		{"E47", plat("linux", "aarch64"), plat("linux", "arm64")},
		{"E47", plat("linux", "arm64", "8"), plat("linux", "arm64")},
		{"E47", plat("linux", "arm64", "v8.0"), plat("linux", "arm64")},
		{"E48", plat("Linux", "X86_64"), plat("linux", "amd64")},
		{"E48", plat("linux", "x86-64"), plat("linux", "amd64")},
		{"E48", plat("linux", "armhf"), plat("linux", "arm", "v7")},
		{"E48", plat("linux", "armel"), plat("linux", "arm", "v6")},
		{"E48", plat("linux", "i386"), plat("linux", "386")},
		{"E48", plat("macos", "arm64"), plat("darwin", "arm64")},
		{"E48", plat("linux", "arm", "7"), plat("linux", "arm", "v7")},
		{"E48", plat("linux", "arm"), plat("linux", "arm", "v7")},
		{"E48", plat("linux", "amd64", "v1"), plat("linux", "amd64")},
		{"E48", plat("linux", "arm64", "9"), plat("linux", "arm64", "v9")},
		{"E48", plat("linux", "arm64", "v9.0"), plat("linux", "arm64", "v9")},
		{"E48", plat("linux", "arm", "5"), plat("linux", "arm", "v5")},
		{"E56", plat("linux", "arm64", "v8.2"), plat("linux", "arm64", "v8.2")},
		{"E50", withVersion(plat("Windows", "AMD64"), "10.0.17763.5458", "win32k", "a", "win32k"),
			withVersion(plat("windows", "amd64"), "10.0.17763.5458", "a", "win32k")},
		// An empty os stays empty, whatever machine runs the test.
		{"E55", plat("", "arm64"), plat("", "arm64")},
		{"E55", ocispec.Platform{}, ocispec.Platform{}},
	} {
		t.Run(tc.id+"/"+Format(tc.in), func(t *testing.T) {
			if got := Normalize(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Normalize(%#v) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeDoesNotModifyInput(t *testing.T) {
	features := []string{"b", "a", "b"}
	Normalize(withVersion(plat("linux", "amd64"), "", features...))
	if !reflect.DeepEqual(features, []string{"b", "a", "b"}) {
		t.Fatalf("Normalize changed its argument's features: %q", features)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		in   ocispec.Platform
		want string
	}{
		{plat("linux", "amd64"), "linux/amd64"},
		{plat("linux", "arm64", "v8"), "linux/arm64/v8"},
		{withVersion(plat("linux", "arm64", "v8"), "el8"), "linux/arm64/v8:el8"},
		{withVersion(plat("windows", "amd64"), "10.0.17763.5458"), "windows/amd64:10.0.17763.5458"},
		{withVersion(plat("windows", "amd64"), "10.0.17763+build.42"), "windows/amd64:10.0.17763+build.42"},
		{withVersion(plat("windows", "amd64"), "10.0.17763", "win32k"), "windows(10.0.17763+win32k)/amd64"},
		{withVersion(plat("windows", "amd64"), "10.0.17763+build.42", "win32k"), "windows(10.0.17763%2Bbuild.42+win32k)/amd64"},
		{withVersion(plat("linux", "amd64"), "", "simd", "gpu", "gpu", ""), "linux(+gpu+simd)/amd64"},
		{withVersion(plat("darwin", "arm64"), "macOS 12.6"), "darwin/arm64:macOS 12.6"},
		{withVersion(plat("darwin", "arm64"), " macOS 12.6 "), "darwin/arm64: macOS 12.6 "},
		{withVersion(plat("darwin", "arm64"), "macOS 12.6", "x"), "darwin(macOS%2012.6+x)/arm64"},
		{withVersion(plat("darwin", "arm64"), "macOS%2012.6"), "darwin(macOS%252012.6)/arm64"},
		{withVersion(plat("linux", "amd64"), "a,b"), "linux(a%2Cb)/amd64"},
		{withVersion(plat("linux", "amd64"), "a:b~c"), "linux/amd64:a:b~c"},
		{plat("unknown", "unknown"), "unknown/unknown"},
		// As written, not normalized.
		{plat("Linux", "x86_64"), "Linux/x86_64"},
		// Incomplete platforms from a descriptor: printed, but not mistaken for valid ones.
		{plat("linux", ""), "linux/"},
		{ocispec.Platform{}, "/"},
	} {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatDoesNotModifyInput(t *testing.T) {
	features := []string{"b", "a", "b"}
	Format(withVersion(plat("linux", "amd64"), "", features...))
	if !reflect.DeepEqual(features, []string{"b", "a", "b"}) {
		t.Fatalf("Format changed its argument's features: %q", features)
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b ocispec.Platform
		want bool
	}{
		{plat("linux", "arm64", "v8"), plat("linux", "aarch64"), true},
		{plat("linux", "arm"), plat("linux", "armhf"), true},
		{plat("linux", "arm", "v7"), plat("linux", "arm", "v6"), false},
		{plat("linux", "amd64"), plat("linux", "386"), false},
		{plat("linux", "amd64", "v1"), plat("LINUX", "AMD64"), true},
		{withVersion(plat("windows", "amd64"), "10.0.17763"), withVersion(plat("windows", "amd64"), "10.0.17763.5458"), false},
		{withVersion(plat("windows", "amd64"), "10.0.17763"), plat("windows", "amd64"), false},
		{withVersion(plat("linux", "amd64"), "", "a", "b"), withVersion(plat("linux", "amd64"), "", "b", "a", "a"), true},
		{withVersion(plat("linux", "amd64"), "", "a"), plat("linux", "amd64"), false},
		{ocispec.Platform{Architecture: "amd64", OSFeatures: []string{}}, plat("", "amd64"), true},
		{plat("", "amd64"), plat("linux", "amd64"), false},
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := Equal(tc.b, tc.a); got != tc.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		p    *ocispec.Platform
		want bool
	}{
		{&ocispec.Platform{OS: "unknown", Architecture: "unknown"}, true},
		{&ocispec.Platform{OS: "Unknown", Architecture: "UNKNOWN"}, true},
		{&ocispec.Platform{OS: "linux", Architecture: "unknown"}, false},
		{&ocispec.Platform{OS: "unknown", Architecture: "amd64"}, false},
		{&ocispec.Platform{}, false},
		{nil, false},
	} {
		if got := IsUnknown(tc.p); got != tc.want {
			t.Errorf("IsUnknown(%#v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

package platform

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var listCases = []struct {
	in   string
	want []ocispec.Platform
}{
	{"linux/amd64", []ocispec.Platform{plat("linux", "amd64")}},
	{"linux/amd64,linux/arm64", []ocispec.Platform{plat("linux", "amd64"), plat("linux", "arm64")}},
	{"linux/arm64/v8,osver=el8", []ocispec.Platform{withVersion(plat("linux", "arm64", "v8"), "el8")}},
	{"linux/arm64/v8,OSVersion=el8,linux/amd64", []ocispec.Platform{withVersion(plat("linux", "arm64", "v8"), "el8"), plat("linux", "amd64")}},
	{"linux/amd64,linux/arm64/v8,osver=el8", []ocispec.Platform{plat("linux", "amd64"), withVersion(plat("linux", "arm64", "v8"), "el8")}},
	{"darwin/arm64:macOS 12.6,darwin/arm64,osver=macOS 13", []ocispec.Platform{withVersion(plat("darwin", "arm64"), "macOS 12.6"), withVersion(plat("darwin", "arm64"), "macOS 13")}},
	{"windows(10.0%2C1)/amd64,linux/amd64:a=b", []ocispec.Platform{withVersion(plat("windows", "amd64"), "10.0,1"), withVersion(plat("linux", "amd64"), "a=b")}},
	{"linux/amd64,osver=a/b", []ocispec.Platform{withVersion(plat("linux", "amd64"), "a/b")}},
}

func TestParseList(t *testing.T) {
	for _, tc := range listCases {
		got, err := ParseList(tc.in)
		if err != nil {
			t.Errorf("ParseList(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseList(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestParseListInvalid(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `parse platform "": empty platform in the list`},
		{"linux/amd64,", `parse platform "linux/amd64,": empty platform in the list`},
		{"linux/amd64,,linux/arm64", `parse platform "linux/amd64,,linux/arm64": empty platform in the list`},
		{"osver=el8,linux/amd64", `parse platform "osver=el8,linux/amd64": the option "osver=el8" comes before any platform`},
		{"linux/amd64,osver=1,osver=2", `parse platform "linux/amd64,osver=1,osver=2": os.version given twice`},
		{"linux/amd64,foo=1", `parse platform "linux/amd64,foo=1": unknown option "foo"`},
		{"linux/amd64,arm64", `parse platform "arm64": specify os/arch`},
		{"linux/amd64:el8,osver=el8", `parse platform "linux/amd64:el8,osver=el8": os.version given twice`},
	} {
		got, err := ParseList(tc.in)
		if !errors.Is(err, ErrInvalidPlatform) || err.Error() != tc.want {
			t.Errorf("ParseList(%q) = %v, %v; want the error %s", tc.in, got, err, tc.want)
		}
		if got != nil {
			t.Errorf("ParseList(%q) returned %v with its error", tc.in, got)
		}
	}
}

// FuzzParseList checks that ParseList never panics, that its errors wrap
// ErrInvalidPlatform, and that the platforms it returns, printed with Format and joined
// with ',', read back as the same list.
func FuzzParseList(f *testing.F) {
	for _, tc := range listCases {
		f.Add(tc.in)
	}
	for _, tc := range parseCases {
		f.Add(tc.in + "," + tc.in)
	}
	f.Add("osver=1,linux/amd64")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseList(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPlatform) {
				t.Fatalf("ParseList(%q) error %v does not wrap ErrInvalidPlatform", s, err)
			}
			return
		}
		if len(ps) == 0 {
			t.Fatalf("ParseList(%q) returned no platform and no error", s)
		}
		texts := make([]string, len(ps))
		for i, p := range ps {
			texts[i] = Format(p)
		}
		text := strings.Join(texts, ",")
		again, err := ParseList(text)
		if err != nil || !reflect.DeepEqual(again, ps) {
			t.Fatalf("ParseList(%q) = %#v; printed as %s it reads back as %#v, %v", s, ps, strconv.Quote(text), again, err)
		}
	})
}

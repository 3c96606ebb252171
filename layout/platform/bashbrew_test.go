package platform

import (
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseWithBashbrew(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ocispec.Platform
	}{
		{"amd64", ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{"arm32v5", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v5"}},
		{"arm32v6", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{"arm32v7", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"arm64v8", ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{"i386", ocispec.Platform{OS: "linux", Architecture: "386"}},
		{"mips64le", ocispec.Platform{OS: "linux", Architecture: "mips64le"}},
		{"ppc64le", ocispec.Platform{OS: "linux", Architecture: "ppc64le"}},
		{"riscv64", ocispec.Platform{OS: "linux", Architecture: "riscv64"}},
		{"s390x", ocispec.Platform{OS: "linux", Architecture: "s390x"}},
		{"windows-amd64", ocispec.Platform{OS: "windows", Architecture: "amd64"}},
		// Every other spelling is Parse's.
		{"linux/arm64/v8:el8", ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8", OSVersion: "el8"}},
		{"windows/amd64", ocispec.Platform{OS: "windows", Architecture: "amd64"}},
	} {
		got, err := ParseWithBashbrew(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if Format(got) != Format(tc.want) || got.OSVersion != tc.want.OSVersion {
			t.Errorf("%q = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if len(BashbrewNames) != len(bashbrew) {
		t.Fatalf("BashbrewNames lists %d names, the table has %d", len(BashbrewNames), len(bashbrew))
	}
	for _, bad := range []string{"arm64", "AMD64", " amd64", "amd64 ", "windows-arm64", "linux-amd64", "amd64:el8"} {
		_, err := ParseWithBashbrew(bad)
		if !errors.Is(err, ErrInvalidPlatform) || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("%q: err = %v, want ErrInvalidPlatform quoting the input", bad, err)
		}
	}
	// A single word that is no bashbrew name lists the names in its error.
	_, err := ParseWithBashbrew("arm64")
	if want := `parse platform "arm64": specify os/arch, or a bashbrew architecture (amd64, arm32v5, arm32v6, arm32v7, arm64v8, i386, mips64le, ppc64le, riscv64, s390x, windows-amd64)`; err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	// Parse itself does not take them: a selector never reads a single word.
	for _, n := range BashbrewNames {
		if _, err := Parse(n); err == nil {
			t.Errorf("Parse(%q) succeeded; bashbrew names are for ParseWithBashbrew only", n)
		}
	}
}

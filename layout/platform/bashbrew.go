package platform

import (
	"errors"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// bashbrew maps the architecture names of docker-library's bashbrew to the platforms
// they stand for (bashbrew's architecture/oci-platform.go).
var bashbrew = map[string]ocispec.Platform{
	"amd64":         {OS: "linux", Architecture: "amd64"},
	"arm32v5":       {OS: "linux", Architecture: "arm", Variant: "v5"},
	"arm32v6":       {OS: "linux", Architecture: "arm", Variant: "v6"},
	"arm32v7":       {OS: "linux", Architecture: "arm", Variant: "v7"},
	"arm64v8":       {OS: "linux", Architecture: "arm64", Variant: "v8"},
	"i386":          {OS: "linux", Architecture: "386"},
	"mips64le":      {OS: "linux", Architecture: "mips64le"},
	"ppc64le":       {OS: "linux", Architecture: "ppc64le"},
	"riscv64":       {OS: "linux", Architecture: "riscv64"},
	"s390x":         {OS: "linux", Architecture: "s390x"},
	"windows-amd64": {OS: "windows", Architecture: "amd64"},
}

// BashbrewNames lists the bashbrew architecture names ParseWithBashbrew accepts, sorted.
var BashbrewNames = []string{"amd64", "arm32v5", "arm32v6", "arm32v7", "arm64v8", "i386",
	"mips64le", "ppc64le", "riscv64", "s390x", "windows-amd64"}

// ParseWithBashbrew is Parse, and also accepts a bashbrew architecture name, written
// exactly as bashbrew spells it (lower case, nothing else around it): amd64 is
// linux/amd64, arm32v7 linux/arm/v7, arm64v8 linux/arm64/v8, i386 linux/386,
// windows-amd64 windows/amd64, and so on (BashbrewNames). It is for flags that name the
// platform of something being written (ocil add), where a single word cannot mean
// anything else; selectors keep Parse, where a single word is an error.
func ParseWithBashbrew(s string) (ocispec.Platform, error) {
	if p, ok := bashbrew[s]; ok {
		return p, nil
	}
	p, err := Parse(s)
	var pe *parseError
	if err != nil && !strings.ContainsAny(s, "/(,:") && errors.As(err, &pe) {
		return p, &parseError{input: s, reason: pe.reason + ", or a bashbrew architecture (" + strings.Join(BashbrewNames, ", ") + ")"}
	}
	return p, err
}

package validate

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
)

// knownOS and knownArch are the values of GOOS and GOARCH that Go ports to (go tool
// dist list), which the image spec takes its platform values from, and "unknown", which
// buildkit puts on attestation manifests.
var (
	knownOS = set("aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
		"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "unknown")
	knownArch = set("386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le",
		"mipsle", "ppc64", "ppc64le", "riscv64", "s390x", "wasm", "unknown")
)

func set(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, s := range values {
		m[s] = true
	}
	return m
}

// platformValues warns about an os or architecture that is not a GOOS or GOARCH value.
// An alias that normalizes to one (aarch64, x86_64, Linux) gets the spelling to use:
// oras and other tools compare platforms exactly and would not match it.
func (v *validator) platformValues(p ocispec.Platform, object string) {
	n := platform.Normalize(p)
	check := func(field, goName, value, normalized string, known map[string]bool) {
		switch {
		case known[value]:
		case known[normalized]:
			v.add(checkPlatformUnknown, object, "platform %s %q is spelled %q in OCI platforms; tools that compare exactly (oras) will not match it", field, value, normalized)
		default:
			v.add(checkPlatformUnknown, object, "platform %s %q is not a known %s value", field, value, goName)
		}
	}
	check("os", "GOOS", p.OS, n.OS, knownOS)
	check("architecture", "GOARCH", p.Architecture, n.Architecture, knownArch)
}

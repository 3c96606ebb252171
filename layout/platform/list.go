package platform

import (
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParseList reads one or more platforms separated by ',', as a flag that selects several
// takes them: "linux/amd64,linux/arm64". A ',' starts a new platform unless what follows
// it is an option of the platform before it: NAME=VALUE with NAME made of letters only,
// such as osver=el8. No platform can start that way (a platform has a '/' and its os
// holds no '='), so "linux/arm64/v8,osver=el8,linux/amd64" is two platforms, the first
// with os.version el8. An os.version never holds a raw ',' in any form (it ends the
// os/arch:osversion form, and os(...) encodes it as %2C), so the split never cuts one.
//
// Each platform is read by Parse; the first error is returned, quoting the platform it
// is about. An empty list, an empty item between two ',' or an option before the first
// platform is an error quoting s.
func ParseList(s string) ([]ocispec.Platform, error) {
	var items []string
	for piece := range strings.SplitSeq(s, ",") {
		if isOption(piece) {
			n := len(items)
			if n == 0 {
				return nil, &parseError{input: s, reason: "the option " + strconv.Quote(piece) + " comes before any platform"}
			}
			items[n-1] += "," + piece
			continue
		}
		if piece == "" {
			return nil, &parseError{input: s, reason: "empty platform in the list"}
		}
		items = append(items, piece)
	}
	out := make([]ocispec.Platform, 0, len(items))
	for _, it := range items {
		p, err := Parse(it)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// isOption reports whether piece reads NAME=VALUE with NAME of ASCII letters.
func isOption(piece string) bool {
	name, _, ok := strings.Cut(piece, "=")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

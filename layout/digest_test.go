package layout

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestValidateDigest(t *testing.T) {
	hex64 := strings.Repeat("a", 64)
	tests := []struct {
		name      string
		d         string
		valid     bool // ValidateDigest
		verify    bool // VerifiableDigest
		path      string
		unsupport bool // VerifiableDigest gives ErrUnsupportedAlgorithm
	}{
		{"sha256", "sha256:" + hex64, true, true, "blobs/sha256/" + hex64, false},
		{"B16 sha256 63 hex", "sha256:" + hex64[:63], false, false, "", false},
		{"B16 sha256 uppercase", "sha256:" + strings.Repeat("A", 64), false, false, "", false},
		{"B17 sha512 128 hex", "sha512:" + strings.Repeat("b", 128), true, true, "blobs/sha512/" + strings.Repeat("b", 128), false},
		{"sha512 64 hex", "sha512:" + hex64, false, false, "", false},
		{"B18 blake3 grammar ok, unverifiable", "blake3:" + hex64, true, false, "blobs/blake3/" + hex64, true},
		{"blake3 wrong length", "blake3:" + hex64[:10], false, false, "", false},
		{"B18 sha384 unverifiable", "sha384:" + strings.Repeat("c", 96), true, false, "blobs/sha384/" + strings.Repeat("c", 96), true},
		{"B19 multihash", "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", true, false, "blobs/multihash+base58/QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", true},
		{"B20 traversal", "sha256:../../etc/passwd", false, false, "", false},
		{"B20 slash in algorithm", "sha256/../x:y", false, false, "", false},
		{"B20 no algorithm", ":abc", false, false, "", false},
		{"B20 no encoded", "sha256:", false, false, "", false},
		{"empty", "", false, false, "", false},
		{"no colon", "sha256", false, false, "", false},
		{"uppercase algorithm", "SHA256:" + hex64, false, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := digest.Digest(tt.d)
			err := ValidateDigest(d)
			if (err == nil) != tt.valid {
				t.Fatalf("ValidateDigest(%q) = %v, want valid=%v", tt.d, err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalidDigest) {
				t.Fatalf("ValidateDigest(%q) = %v, want ErrInvalidDigest", tt.d, err)
			}
			verr := VerifiableDigest(d)
			if (verr == nil) != tt.verify {
				t.Fatalf("VerifiableDigest(%q) = %v, want ok=%v", tt.d, verr, tt.verify)
			}
			if tt.unsupport != errors.Is(verr, ErrUnsupportedAlgorithm) {
				t.Fatalf("VerifiableDigest(%q) = %v, want ErrUnsupportedAlgorithm=%v", tt.d, verr, tt.unsupport)
			}
			p, perr := BlobPath(d)
			if tt.valid {
				if perr != nil || p != tt.path {
					t.Fatalf("BlobPath(%q) = %q, %v; want %q", tt.d, p, perr, tt.path)
				}
			} else if perr == nil {
				t.Fatalf("BlobPath(%q) = %q, want an error", tt.d, p)
			}
		})
	}
}

// The hand-written grammar check agrees with the grammar's regular expression.
// digestGrammar is the OCI descriptor digest grammar (descriptor.md) as a regexp, which
// matchesDigestGrammar must agree with.
var digestGrammar = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

func FuzzDigestGrammar(f *testing.F) {
	for _, s := range []string{"sha256:abc", "a+b.c_d-e:x=y", "+a:b", "a+:b", "a++b:c", "a:", ":b", "A:b", "a:b/c", "a:b:c", "sha256:" + strings.Repeat("a", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := matchesDigestGrammar(s), digestGrammar.MatchString(s); got != want {
			t.Fatalf("%q: hand-written %v, regexp %v", s, got, want)
		}
	})
}

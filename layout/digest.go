package layout

import (
	_ "crypto/sha256" // registers the hashes go-digest verifies with
	_ "crypto/sha512"
	"fmt"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
)

// matchesDigestGrammar checks the OCI descriptor digest grammar (descriptor.md):
// algorithm ":" encoded, where the algorithm is [a-z0-9]+ components joined by single
// [+._-] and the encoded part is [a-zA-Z0-9=_-]+. Neither part can hold "/" or "..", so a
// digest that matches is safe to use as a path. A test holds it to the grammar's regexp.
func matchesDigestGrammar(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || colon == len(s)-1 {
		return false
	}
	alg, enc := s[:colon], s[colon+1:]
	// algorithm: components of [a-z0-9]+ joined by single [+._-]
	prevSep := true
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevSep = false
		case c == '+' || c == '.' || c == '_' || c == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	if prevSep {
		return false
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isLowerHex reports whether s is n lowercase hex characters.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// verifiable are the algorithms whose blobs this package can hash, with the length of
// the lowercase hex encoding the OCI spec registers for them.
var verifiable = map[digest.Algorithm]int{
	digest.SHA256: 64,
	digest.SHA512: 128,
}

// registeredLength holds the OCI-registered algorithms this package cannot hash, so that a
// wrong length is still reported as invalid rather than merely unsupported.
var registeredLength = map[string]int{
	"blake3": 64,
}

// ValidateDigest checks d against the OCI digest grammar and, for a registered algorithm,
// its encoded form. It returns nil for a well-formed digest of any algorithm (the spec asks
// implementations to let unknown algorithms pass), ErrInvalidDigest otherwise.
// Use VerifiableDigest before hashing.
func ValidateDigest(d digest.Digest) error {
	s := string(d)
	// The common case, without the grammar's regular expression: an index of 100,000
	// tags has as many digests.
	if len(s) == len("sha256:")+64 && s[:len("sha256:")] == "sha256:" && isLowerHex(s[len("sha256:"):], 64) {
		return nil
	}
	if !matchesDigestGrammar(s) {
		return fmt.Errorf("digest %q: %w", s, ErrInvalidDigest)
	}
	alg, enc := splitDigest(s)
	if n, ok := verifiable[digest.Algorithm(alg)]; ok && !isLowerHex(enc, n) {
		return fmt.Errorf("digest %q: %w: %s wants %s", s, ErrInvalidDigest, alg, encodedShape(alg))
	}
	if n, ok := registeredLength[alg]; ok && !isLowerHex(enc, n) {
		return fmt.Errorf("digest %q: %w: %s wants %s", s, ErrInvalidDigest, alg, encodedShape(alg))
	}
	return nil
}

// VerifiableDigest checks that d is valid and of an algorithm this package can hash
// (sha256, sha512). A grammar-valid digest of another algorithm (blake3, sha384,
// multihash+base58) gives ErrUnsupportedAlgorithm.
func VerifiableDigest(d digest.Digest) error {
	if err := ValidateDigest(d); err != nil {
		return err
	}
	alg, _ := splitDigest(string(d))
	if _, ok := verifiable[digest.Algorithm(alg)]; !ok {
		return fmt.Errorf("digest %q: %w %q (ocil verifies sha256 and sha512)", d, ErrUnsupportedAlgorithm, alg)
	}
	return nil
}

// BlobPath is the slash-separated path of d's blob inside a layout: blobs/<alg>/<encoded>.
// It is the only place a digest becomes a path, and it refuses a digest that is not valid.
func BlobPath(d digest.Digest) (string, error) {
	if err := ValidateDigest(d); err != nil {
		return "", err
	}
	alg, enc := splitDigest(string(d))
	return path.Join("blobs", alg, enc), nil
}

func splitDigest(s string) (alg, enc string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func encodedShape(alg string) string {
	switch alg {
	case "sha512":
		return "128 lowercase hex characters"
	default:
		return "64 lowercase hex characters"
	}
}

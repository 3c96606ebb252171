package tarfs

import (
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The parts of an OCI digest (descriptor.md), which are also the parts of a blob path.
var (
	algGrammar     = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*$`)
	encodedGrammar = regexp.MustCompile(`^[a-zA-Z0-9=_-]+$`)
)

// hashed are the algorithms whose blobs are hashed while a compressed archive is read,
// with the encoded form the OCI spec registers for each. A blob name of one of these
// algorithms must have that form.
var hashed = map[string]struct {
	encoded *regexp.Regexp
	shape   string
}{
	"sha256": {regexp.MustCompile(`^[a-f0-9]{64}$`), "64 lowercase hex characters"},
	"sha512": {regexp.MustCompile(`^[a-f0-9]{128}$`), "128 lowercase hex characters"},
}

// Bounds on a single name. No file system this archive could be extracted to holds a
// longer component or path, and they keep the per-entry cost of the index bounded.
const (
	maxComponent = 255
	maxName      = 4096
)

// kind says what an entry is to a layout.
type kind int

const (
	kindRoot       kind = iota // the archive root, "./"
	kindLayoutFile             // oci-layout or index.json
	kindBlobsDir               // blobs/
	kindAlgDir                 // blobs/<alg>/
	kindBlob                   // blobs/<alg>/<encoded>
	kindExtra                  // a root-level file a layout does not use (manifest.json, repositories)
	kindForeign                // an unknown top-level folder or something under one (ingest/)
)

// unsafeName returns why a raw entry name may never be accepted, or "" when it is safe.
// These rules hold for every entry, including the ones the layout then ignores: an
// archive is refused whole, so no other reader of the same bytes can be led astray by an
// entry this package would have skipped.
func unsafeName(raw string) string {
	switch {
	case raw == "":
		return "empty name"
	case !utf8.ValidString(raw):
		return "name is not valid UTF-8"
	case strings.IndexByte(raw, 0) >= 0:
		return "name holds a NUL byte"
	case strings.IndexByte(raw, '\\') >= 0:
		return `name holds a backslash, a path separator on Windows`
	case strings.IndexByte(raw, ':') >= 0:
		return `name holds a ":", a drive or stream separator on Windows`
	case raw[0] == '/':
		return "absolute name"
	case len(raw) > maxName:
		return "name longer than 4096 bytes"
	}
	for _, c := range strings.Split(raw, "/") {
		switch {
		case c == "..":
			return `name holds a ".." component`
		case len(c) > maxComponent:
			return "name component longer than 255 bytes"
		case reservedOnWindows(c):
			return "name component " + c + " is a reserved device name on Windows"
		}
	}
	return ""
}

// reservedOnWindows reports whether c names a device on Windows (CON, NUL, COM1.txt...),
// where extracting it would open the device instead of a file.
func reservedOnWindows(c string) bool {
	base, _, _ := strings.Cut(c, ".")
	base = strings.TrimRight(base, " ")
	switch strings.ToUpper(base) {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 {
		u := strings.ToUpper(base)
		if (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) && u[3] >= '0' && u[3] <= '9' {
			return true
		}
	}
	return false
}

// classify cleans a safe raw name and says what it is to a layout. dir tells whether the
// entry is a directory. A non-empty reason means the entry cannot be part of a layout
// archive.
func classify(raw string, dir bool) (name string, k kind, reason string) {
	name = path.Clean(raw) // also drops a leading "./" and a trailing "/"
	if name == "." {
		if !dir {
			return name, 0, "a file named after the archive root"
		}
		return name, kindRoot, ""
	}
	parts := strings.Split(name, "/")
	switch {
	case len(parts) == 1 && (name == "oci-layout" || name == "index.json"):
		if dir {
			return name, 0, name + " is a folder, not a file"
		}
		return name, kindLayoutFile, ""
	case parts[0] == "blobs":
		return classifyBlobs(name, parts, dir)
	case len(parts) == 1 && !dir:
		return name, kindExtra, ""
	default:
		return name, kindForeign, ""
	}
}

func classifyBlobs(name string, parts []string, dir bool) (string, kind, string) {
	switch len(parts) {
	case 1:
		if !dir {
			return name, 0, "blobs is a file, not a folder"
		}
		return name, kindBlobsDir, ""
	case 2:
		if !algGrammar.MatchString(parts[1]) {
			return name, 0, "blobs/" + parts[1] + " is not a digest algorithm"
		}
		if !dir {
			return name, 0, "a file where the folder of a digest algorithm belongs"
		}
		return name, kindAlgDir, ""
	case 3:
		alg, enc := parts[1], parts[2]
		if !algGrammar.MatchString(alg) {
			return name, 0, "blobs/" + alg + " is not a digest algorithm"
		}
		if !encodedGrammar.MatchString(enc) {
			return name, 0, "the blob name is not an encoded digest"
		}
		if h, ok := hashed[alg]; ok && !h.encoded.MatchString(enc) {
			return name, 0, "the blob name is not a " + alg + " digest (" + h.shape + ")"
		}
		if dir {
			return name, 0, "a folder where a blob belongs"
		}
		return name, kindBlob, ""
	default:
		return name, 0, "too deep under blobs/ (blobs/<alg>/<encoded> is the only form)"
	}
}

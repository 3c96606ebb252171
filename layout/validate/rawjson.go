package validate

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The checks take documents apart member by member (rawDocument, rawDescriptor), which
// json.Unmarshal does by reflection, validating every nested value again at each level:
// for an index.json of 100,000 tags and as many manifests, most of validate's time. The
// functions here split a value that is known to be valid JSON (the document passed
// json.Valid) into the same raw members without reflection or copies. Each says ok =
// false for any shape it does not mirror exactly (a member name with an escape, a
// non-ASCII byte or a different case, a member given twice, a value of another type),
// and the caller then unmarshals as before, which also gives the same messages.
// FuzzRawMembers holds them to json.Unmarshal.

// rawSpan is a cursor over valid JSON.
type rawSpan struct {
	b []byte
	i int
}

func (s *rawSpan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value passes over one value and returns it (without surrounding space).
func (s *rawSpan) value() ([]byte, bool) {
	s.space()
	start := s.i
	if s.i >= len(s.b) {
		return nil, false
	}
	switch s.b[s.i] {
	case '"':
		if !s.str() {
			return nil, false
		}
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.str() {
					return nil, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return s.b[start:s.i], true
			}
		}
		return nil, false
	default: // a number or a literal
		for s.i < len(s.b) {
			c := s.b[s.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			s.i++
		}
		if s.i == start {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

// str passes over a string, s.i at its opening quote.
func (s *rawSpan) str() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return true
		}
	}
	return false
}

// eachMember calls fn with the name (its raw bytes, quotes included) and the value of
// each member of the object raw, in order; false when raw is not an object or fn says so.
func eachMember(raw []byte, fn func(name, value []byte) bool) bool {
	s := rawSpan{b: raw}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return s.end()
	}
	for {
		s.space()
		start := s.i
		if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
			return false
		}
		name := s.b[start:s.i]
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		v, ok := s.value()
		if !ok || !fn(name, v) {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			continue
		case '}':
			s.i++
			return s.end()
		}
		return false
	}
}

// end tells that only space follows.
func (s *rawSpan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// interner hands out one copy of each short string it is given, so that the media
// types, annotation names and platform values 100,000 descriptors repeat are held once.
// It is bounded: past maxInterned strings, new ones are copied as without it. A nil
// interner copies.
type interner struct{ m map[string]string }

const (
	maxInterned   = 4096
	maxInternSize = 128
)

func (in *interner) bytes(b []byte) string {
	if in == nil || len(b) > maxInternSize {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

// plainString is the value of a JSON string without escapes whose bytes are valid
// UTF-8 (what json.Unmarshal gives as is); ok is false for anything else.
func plainString(raw []byte) (string, bool) {
	return (*interner)(nil).plainString(raw)
}

// plainString is plainString, interned.
func (t *interner) plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	ascii := true
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(in) {
		return "", false
	}
	return t.bytes(in), true
}

// splitMembers fills out[i] with the raw value of the member named names[i], as
// json.Unmarshal does into a struct of json.RawMessage fields with those names; false
// where it might not do the same (see above), out then being partly filled.
func splitMembers(raw []byte, names []string, out []json.RawMessage) bool {
	return eachMember(raw, func(name, value []byte) bool {
		key := name[1 : len(name)-1]
		for _, c := range key {
			if c == '\\' || c >= utf8.RuneSelf {
				return false
			}
		}
		for j, n := range names {
			if string(key) == n {
				if out[j] != nil {
					return false // json.Unmarshal keeps the last one
				}
				out[j] = value
				return true
			}
		}
		for _, n := range names {
			if strings.EqualFold(string(key), n) {
				return false // json.Unmarshal matches it to n
			}
		}
		return true
	})
}

// splitArray is json.Unmarshal of raw into []json.RawMessage.
func splitArray(raw []byte) ([]json.RawMessage, bool) {
	s := rawSpan{b: raw}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return nil, false
	}
	s.i++
	s.space()
	out := []json.RawMessage{}
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return out, s.end()
	}
	for {
		v, ok := s.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		s.space()
		if s.i >= len(s.b) {
			return nil, false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			continue
		case ']':
			s.i++
			return out, s.end()
		}
		return nil, false
	}
}

// stringMap is json.Unmarshal of raw into map[string]string, for an object of plain
// strings.
func stringMap(raw []byte) (map[string]string, bool) { return (*interner)(nil).stringMap(raw) }

// stringMap is stringMap with the member names interned.
func (t *interner) stringMap(raw []byte) (map[string]string, bool) {
	m := map[string]string{}
	ok := eachMember(raw, func(name, value []byte) bool {
		k, ok := t.plainString(name)
		if !ok {
			return false
		}
		v, ok := plainString(value)
		m[k] = v
		return ok
	})
	return m, ok
}

// plainInt is json.Unmarshal of raw into an int64, for a whole number in range.
func plainInt(raw []byte) (int64, bool) {
	for i, c := range raw {
		if (c < '0' || c > '9') && (c != '-' || i > 0) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// The member names of rawDescriptor, rawDocument and ocispec.Platform, in field order.
var (
	descriptorNames = []string{"mediaType", "artifactType", "digest", "size", "urls", "annotations", "data", "platform"}
	documentNames   = []string{"schemaVersion", "mediaType", "artifactType", "manifests", "config", "layers", "subject", "annotations"}
	platformNames   = []string{"architecture", "os", "os.version", "os.features", "variant"}
)

// unmarshalDescriptor is json.Unmarshal(raw, r).
func unmarshalDescriptor(raw []byte, r *rawDescriptor) error {
	var v [8]json.RawMessage
	if splitMembers(raw, descriptorNames, v[:]) {
		*r = rawDescriptor{MediaType: v[0], ArtifactType: v[1], Digest: v[2], Size: v[3], URLs: v[4], Annotations: v[5], Data: v[6], Platform: v[7]}
		return nil
	}
	var slow rawDescriptor // on the heap (json.Unmarshal keeps it), so only here
	err := json.Unmarshal(raw, &slow)
	*r = slow
	return err
}

// unmarshalDocument is json.Unmarshal(b, r) for a whole document.
func unmarshalDocument(b []byte, r *rawDocument) error {
	var v [8]json.RawMessage
	if json.Valid(b) && splitMembers(b, documentNames, v[:]) {
		*r = rawDocument{SchemaVersion: v[0], MediaType: v[1], ArtifactType: v[2], Manifests: v[3], Config: v[4], Layers: v[5], Subject: v[6], Annotations: v[7]}
		return nil
	}
	var slow rawDocument
	err := json.Unmarshal(b, &slow)
	*r = slow
	return err
}

// unmarshalArray is json.Unmarshal of raw into []json.RawMessage.
func unmarshalArray(raw []byte) ([]json.RawMessage, error) {
	if out, ok := splitArray(raw); ok {
		return out, nil
	}
	var out []json.RawMessage
	err := json.Unmarshal(raw, &out)
	return out, err
}

// unmarshalStringMap is json.Unmarshal of raw into a new map[string]string: on an error,
// the map holds what was decoded before it, as json.Unmarshal leaves it.
func (t *interner) unmarshalStringMap(raw []byte) (map[string]string, error) {
	if m, ok := t.stringMap(raw); ok {
		return m, nil
	}
	var m map[string]string
	err := json.Unmarshal(raw, &m)
	return m, err
}

// unmarshalPlatform is json.Unmarshal of raw into an ocispec.Platform.
func (t *interner) unmarshalPlatform(raw []byte) (ocispec.Platform, error) {
	var v [5]json.RawMessage
	var p ocispec.Platform
	if splitMembers(raw, platformNames, v[:]) && v[3] == nil {
		ok := true
		for i, f := range []*string{&p.Architecture, &p.OS, &p.OSVersion, nil, &p.Variant} {
			if f != nil && v[i] != nil {
				*f, ok = t.plainString(v[i])
				if !ok {
					break
				}
			}
		}
		if ok {
			return p, nil
		}
	}
	var slow ocispec.Platform
	err := json.Unmarshal(raw, &slow)
	return slow, err
}

// isMediaType is mediaTypeGrammar.MatchString(s), without the regexp.
func isMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && mediaTypeName(typ) && mediaTypeName(sub)
}

// mediaTypeName is one side of a media type: [A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}.
func mediaTypeName(s string) bool {
	if len(s) < 1 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && strings.IndexByte("!#$&^_.+-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

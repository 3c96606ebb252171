package layout

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fastIndex decodes an index document that scanDocument has accepted straight into
// ocispec.Index, for the shapes real indexes have: strings, whole numbers, string maps
// and arrays, the descriptor and platform objects. json.Unmarshal spends most of its
// time on reflection, which for an index.json of 100,000 tags is a third of a second.
// Anything else (a null, a value of another type, a number with a fraction) returns
// false, and the caller decodes with json.Unmarshal, which then says what is wrong.
// FuzzFastIndex holds the two to the same result.
type fastIndex struct {
	b []byte
	i int
	// interned holds the short strings met again and again (media types, annotation
	// names, platform values), so that 100,000 entries share one copy of each.
	interned map[string]string
}

// Interning is bounded: a document of many distinct short strings costs a copy each, as
// without it.
const (
	maxInterned   = 1024
	maxInternSize = 128
)

func decodeIndexFast(b []byte) (*ocispec.Index, bool) {
	d := &fastIndex{b: b}
	var idx ocispec.Index
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "schemaVersion":
			return d.schemaVersion(&idx.SchemaVersion)
		case "mediaType":
			return d.istr(&idx.MediaType)
		case "artifactType":
			return d.istr(&idx.ArtifactType)
		case "manifests":
			return d.descriptors(&idx.Manifests)
		case "subject":
			idx.Subject = &ocispec.Descriptor{}
			return d.descriptor(idx.Subject)
		case "annotations":
			return d.strMap(&idx.Annotations)
		}
		return d.skip()
	})
	if !ok {
		return nil, false
	}
	d.space()
	return &idx, d.i == len(d.b)
}

// decodeManifestFast is decodeIndexFast for an image manifest (ocispec.Manifest), under
// the same rules; FuzzFastManifest holds it to json.Unmarshal.
func decodeManifestFast(b []byte) (*ocispec.Manifest, bool) {
	d := &fastIndex{b: b}
	var m ocispec.Manifest
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "schemaVersion":
			return d.schemaVersion(&m.SchemaVersion)
		case "mediaType":
			return d.istr(&m.MediaType)
		case "artifactType":
			return d.istr(&m.ArtifactType)
		case "config":
			return d.descriptor(&m.Config)
		case "layers":
			return d.descriptors(&m.Layers)
		case "subject":
			m.Subject = &ocispec.Descriptor{}
			return d.descriptor(m.Subject)
		case "annotations":
			return d.strMap(&m.Annotations)
		}
		return d.skip()
	})
	if !ok {
		return nil, false
	}
	d.space()
	return &m, d.i == len(d.b)
}

func (d *fastIndex) schemaVersion(out *int) bool {
	n, ok := d.int()
	*out = int(n)
	return ok && int64(int(n)) == n
}

// descriptors decodes an array of descriptors; [] is a non-nil empty slice.
func (d *fastIndex) descriptors(out *[]ocispec.Descriptor) bool {
	return d.array(func() bool {
		var desc ocispec.Descriptor
		if !d.descriptor(&desc) {
			return false
		}
		*out = append(*out, desc)
		return true
	}, func() { *out = []ocispec.Descriptor{} })
}

func (d *fastIndex) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// object calls member for each member name, with d at its value. key is only valid
// during the call (it may be the document's own bytes).
func (d *fastIndex) object(member func(key []byte) bool) bool {
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.space()
		key, ok := d.raw()
		if !ok {
			return false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.space()
		if !member(key) {
			return false
		}
		d.space()
		if more, ok := d.sep('}'); !ok || !more {
			return ok
		}
	}
}

// sep reads the ',' or the closing byte after a member or an element: more is true
// after a ',', ok is false when neither comes.
func (d *fastIndex) sep(closing byte) (more, ok bool) {
	if d.i >= len(d.b) {
		return false, false
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return true, true
	case closing:
		d.i++
		return false, true
	}
	return false, false
}

// array calls elem for each element; empty is called for [] (a non-nil empty slice).
func (d *fastIndex) array(elem func() bool, empty func()) bool {
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		empty()
		return true
	}
	for {
		d.space()
		if !elem() {
			return false
		}
		d.space()
		if more, ok := d.sep(']'); !ok || !more {
			return ok
		}
	}
}

// raw decodes a string into its bytes: the document's own between the quotes, or, with
// an escape, decoded by json.Unmarshal.
func (d *fastIndex) raw() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i
	escaped := false
	for d.i++; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '\\':
			escaped = true
			d.i++
		case '"':
			d.i++
			if !escaped {
				return d.b[start+1 : d.i-1], true
			}
			var s string
			if json.Unmarshal(d.b[start:d.i], &s) != nil {
				return nil, false
			}
			return []byte(s), true
		}
	}
	return nil, false
}

// str decodes a string.
func (d *fastIndex) str(out *string) bool {
	b, ok := d.raw()
	*out = string(b)
	return ok
}

// istr decodes a string that many entries share, interned.
func (d *fastIndex) istr(out *string) bool {
	b, ok := d.raw()
	*out = d.intern(b)
	return ok
}

func (d *fastIndex) intern(b []byte) string {
	if len(b) > maxInternSize {
		return string(b)
	}
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.interned == nil {
		d.interned = map[string]string{}
	}
	if len(d.interned) < maxInterned {
		d.interned[s] = s
	}
	return s
}

// int decodes a whole number without fraction or exponent.
func (d *fastIndex) int() (int64, bool) {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	return n, err == nil
}

func (d *fastIndex) strMap(out *map[string]string) bool {
	m := map[string]string{}
	ok := d.object(func(key []byte) bool {
		var v string
		if !d.str(&v) {
			return false
		}
		m[d.intern(key)] = v
		return true
	})
	*out = m
	return ok
}

func (d *fastIndex) strList(out *[]string) bool {
	return d.array(func() bool {
		var v string
		if !d.str(&v) {
			return false
		}
		*out = append(*out, v)
		return true
	}, func() { *out = []string{} })
}

func (d *fastIndex) descriptor(desc *ocispec.Descriptor) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "mediaType":
			return d.istr(&desc.MediaType)
		case "digest":
			var s string
			ok := d.str(&s)
			desc.Digest = digest.Digest(s)
			return ok
		case "size":
			n, ok := d.int()
			desc.Size = n
			return ok
		case "urls":
			return d.strList(&desc.URLs)
		case "annotations":
			return d.strMap(&desc.Annotations)
		case "data":
			var s string
			if !d.str(&s) {
				return false
			}
			b, err := base64.StdEncoding.DecodeString(s)
			desc.Data = b
			return err == nil
		case "platform":
			desc.Platform = &ocispec.Platform{}
			return d.platform(desc.Platform)
		case "artifactType":
			return d.istr(&desc.ArtifactType)
		}
		return d.skip()
	})
}

func (d *fastIndex) platform(p *ocispec.Platform) bool {
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "architecture":
			return d.istr(&p.Architecture)
		case "os":
			return d.istr(&p.OS)
		case "os.version":
			return d.istr(&p.OSVersion)
		case "os.features":
			return d.strList(&p.OSFeatures)
		case "variant":
			return d.istr(&p.Variant)
		}
		return d.skip()
	})
}

// skip passes over a value json.Unmarshal would ignore (a member ocispec does not have),
// which scanDocument has already checked.
func (d *fastIndex) skip() bool {
	s := &jsonScanner{b: d.b, i: d.i}
	if s.value(true, 1) != nil {
		return false
	}
	d.i = s.i
	return true
}

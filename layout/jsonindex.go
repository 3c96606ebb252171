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
}

func decodeIndexFast(b []byte) (*ocispec.Index, bool) {
	d := &fastIndex{b: b}
	var idx ocispec.Index
	ok := d.object(func(key string) bool {
		switch key {
		case "schemaVersion":
			n, ok := d.int()
			idx.SchemaVersion = int(n)
			return ok && int64(int(n)) == n
		case "mediaType":
			return d.str(&idx.MediaType)
		case "artifactType":
			return d.str(&idx.ArtifactType)
		case "manifests":
			return d.array(func() bool {
				var desc ocispec.Descriptor
				if !d.descriptor(&desc) {
					return false
				}
				idx.Manifests = append(idx.Manifests, desc)
				return true
			}, func() { idx.Manifests = []ocispec.Descriptor{} })
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

func (d *fastIndex) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// object calls member for each member name, with d at its value.
func (d *fastIndex) object(member func(key string) bool) bool {
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
		var key string
		d.space()
		if !d.str(&key) {
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

// str decodes a string; one with an escape goes through json.Unmarshal.
func (d *fastIndex) str(out *string) bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
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
				*out = string(d.b[start+1 : d.i-1])
				return true
			}
			return json.Unmarshal(d.b[start:d.i], out) == nil
		}
	}
	return false
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
	ok := d.object(func(key string) bool {
		var v string
		if !d.str(&v) {
			return false
		}
		m[key] = v
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
	return d.object(func(key string) bool {
		switch key {
		case "mediaType":
			return d.str(&desc.MediaType)
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
			return d.str(&desc.ArtifactType)
		}
		return d.skip()
	})
}

func (d *fastIndex) platform(p *ocispec.Platform) bool {
	return d.object(func(key string) bool {
		switch key {
		case "architecture":
			return d.str(&p.Architecture)
		case "os":
			return d.str(&p.OS)
		case "os.version":
			return d.str(&p.OSVersion)
		case "os.features":
			return d.strList(&p.OSFeatures)
		case "variant":
			return d.str(&p.Variant)
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

package layout

import (
	"bytes"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxJSONSize caps every blob this package reads as a document (indexes, manifests,
// configs) and oci-layout before it is parsed. containerd uses the same bound since
// CVE-2023-25153; registries accept manifests of 4 MiB.
const MaxJSONSize = 20 << 20

// MaxIndexSize caps index.json, the one document that grows with the number of tags: a
// layout of 100,000 tags with full names (registry.example.com/team/app-000001:1.0) and
// platforms has an index.json of about 30 MB, and fits with room to spare. DecodeIndex
// and DecodeManifest accept documents up to this size.
const MaxIndexSize = 64 << 20

// maxJSONDepth bounds object/array nesting in index and manifest documents; real ones
// nest about five levels.
const maxJSONDepth = 64

// knownFields are the JSON member names of the OCI and Docker index, manifest, descriptor
// and platform types. encoding/json matches member names case-insensitively, so a document
// spelling one of them differently ("Manifests") would be read as if it were the real field
// by Go but not by other tools: such documents are refused.
var knownFields = []string{
	"schemaVersion", "mediaType", "artifactType", "manifests", "config", "layers",
	"subject", "annotations", "digest", "size", "urls", "data", "platform",
	"architecture", "os", "os.version", "os.features", "variant", "features",
}

// checkJSON refuses JSON that Go would read differently from other parsers: invalid UTF-8,
// duplicate member names (I-JSON, RFC 7493), and case variants of known member names
// outside of annotation maps. It also bounds nesting and refuses trailing data.
func checkJSON(b []byte) error {
	_, err := scanDocument(b)
	return err
}

// docProbe sees the members whose presence matters before the document is typed.
type docProbe struct {
	SchemaVersion json.RawMessage `json:"schemaVersion"`
	MediaType     *string         `json:"mediaType"`
	Manifests     json.RawMessage `json:"manifests"`
	Config        json.RawMessage `json:"config"`
	Layers        json.RawMessage `json:"layers"`
}

func probeDocument(b []byte) (*docProbe, error) {
	if len(b) > MaxIndexSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte cap", ErrTooLarge, len(b), MaxIndexSize)
	}
	top, err := scanDocument(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	if bytes.TrimLeft(b, " \t\r\n")[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidDocument)
	}
	p := docProbe{SchemaVersion: top["schemaVersion"], Manifests: top["manifests"], Config: top["config"], Layers: top["layers"]}
	if raw := top["mediaType"]; raw != nil && string(raw) != "null" {
		var mt string
		d := fastIndex{b: raw}
		if !d.str(&mt) || d.i != len(raw) {
			if err := json.Unmarshal(raw, &mt); err != nil {
				return nil, fmt.Errorf("%w: mediaType: %v", ErrInvalidDocument, err)
			}
		}
		p.MediaType = &mt
	}
	if p.SchemaVersion == nil {
		return nil, fmt.Errorf("%w: schemaVersion is missing", ErrInvalidDocument)
	}
	if string(p.SchemaVersion) != "2" {
		return nil, fmt.Errorf("%w: schemaVersion is %s, not 2", ErrInvalidDocument, p.SchemaVersion)
	}
	return &p, nil
}

// DecodeIndex parses an OCI image index or Docker manifest list. Beyond encoding/json it
// refuses what other tools would read differently or the spec forbids: duplicate or
// case-variant member names, schemaVersion other than the number 2, a missing or null
// manifests array, a document that also has config or layers (CVE-2021-41190), and
// descriptors with an invalid digest, a negative size or a platform without os and
// architecture. The input is never modified; keep it to preserve the exact bytes.
func DecodeIndex(b []byte) (*ocispec.Index, error) {
	p, err := probeDocument(b)
	if err != nil {
		return nil, err
	}
	if p.MediaType != nil && !IsIndex(*p.MediaType) {
		return nil, fmt.Errorf("%w: mediaType %q is not an index type", ErrInvalidDocument, *p.MediaType)
	}
	if p.Manifests == nil || string(p.Manifests) == "null" {
		return nil, fmt.Errorf("%w: manifests is missing or null (an empty index has \"manifests\": [])", ErrInvalidDocument)
	}
	if p.Config != nil || p.Layers != nil {
		return nil, fmt.Errorf("%w: an index with config or layers is ambiguous (CVE-2021-41190)", ErrInvalidDocument)
	}
	idx, ok := decodeIndexFast(b)
	if !ok {
		idx = &ocispec.Index{}
		if err := json.Unmarshal(b, idx); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
	}
	for i, d := range idx.Manifests {
		if err := checkDescriptor(d); err != nil {
			return nil, fmt.Errorf("manifests[%d]: %w", i, err)
		}
	}
	if idx.Subject != nil {
		if err := checkDescriptor(*idx.Subject); err != nil {
			return nil, fmt.Errorf("subject: %w", err)
		}
	}
	return idx, nil
}

// DecodeManifest parses an OCI image manifest or Docker schema 2 manifest with the same
// strictness as DecodeIndex: config is required, manifests is refused (CVE-2021-41190).
func DecodeManifest(b []byte) (*ocispec.Manifest, error) {
	p, err := probeDocument(b)
	if err != nil {
		return nil, err
	}
	if p.MediaType != nil && !IsManifest(*p.MediaType) {
		return nil, fmt.Errorf("%w: mediaType %q is not a manifest type", ErrInvalidDocument, *p.MediaType)
	}
	if p.Manifests != nil {
		return nil, fmt.Errorf("%w: a manifest with manifests is ambiguous (CVE-2021-41190)", ErrInvalidDocument)
	}
	if p.Config == nil || string(p.Config) == "null" {
		return nil, fmt.Errorf("%w: config is missing", ErrInvalidDocument)
	}
	m, ok := decodeManifestFast(b)
	if !ok {
		m = &ocispec.Manifest{}
		if err := json.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
		}
	}
	if err := checkDescriptor(m.Config); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	for i, d := range m.Layers {
		if err := checkDescriptor(d); err != nil {
			return nil, fmt.Errorf("layers[%d]: %w", i, err)
		}
	}
	if m.Subject != nil {
		if err := checkDescriptor(*m.Subject); err != nil {
			return nil, fmt.Errorf("subject: %w", err)
		}
	}
	return m, nil
}

// checkDescriptor holds a descriptor to what is needed to use it safely: a valid digest
// (it becomes a path), a size that is not negative, and a platform with os and architecture.
func checkDescriptor(d ocispec.Descriptor) error {
	if err := ValidateDigest(d.Digest); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: %s: negative size %d", ErrInvalidDocument, d.Digest, d.Size)
	}
	if d.Platform != nil && (d.Platform.OS == "" || d.Platform.Architecture == "") {
		return fmt.Errorf("%w: %s: platform without os and architecture", ErrInvalidDocument, d.Digest)
	}
	return nil
}

// sniffMediaType tells an index from a manifest by the document's own mediaType member, or
// by its shape when it has none. It returns "" for anything else.
func sniffMediaType(b []byte) string {
	p, err := probeDocument(b)
	if err != nil {
		return ""
	}
	if p.MediaType != nil && (IsIndex(*p.MediaType) || IsManifest(*p.MediaType)) {
		return *p.MediaType
	}
	switch {
	case p.Manifests != nil && p.Config == nil && p.Layers == nil:
		return ocispec.MediaTypeImageIndex
	case p.Config != nil && p.Manifests == nil:
		return ocispec.MediaTypeImageManifest
	}
	return ""
}

// EncodeJSON is the one way this package serializes what it writes: compact, members in
// struct order, no HTML escaping, no trailing newline. The same value gives the same bytes.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

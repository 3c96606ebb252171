package validate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// mediaTypeGrammar is RFC 6838 section 4.2 as the OCI descriptor schema writes it: no
// parameters, no spaces, at most 127 characters on each side of the '/'.
var mediaTypeGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)

// rawDescriptor holds a descriptor's members undecoded, so that each is checked on its
// own and one bad member does not hide the others.
type rawDescriptor struct {
	MediaType    json.RawMessage `json:"mediaType"`
	ArtifactType json.RawMessage `json:"artifactType"`
	Digest       json.RawMessage `json:"digest"`
	Size         json.RawMessage `json:"size"`
	URLs         json.RawMessage `json:"urls"`
	Annotations  json.RawMessage `json:"annotations"`
	Data         json.RawMessage `json:"data"`
	Platform     json.RawMessage `json:"platform"`
}

// rawDocument holds the members of an index or manifest undecoded.
type rawDocument struct {
	SchemaVersion json.RawMessage `json:"schemaVersion"`
	MediaType     json.RawMessage `json:"mediaType"`
	ArtifactType  json.RawMessage `json:"artifactType"`
	Manifests     json.RawMessage `json:"manifests"`
	Config        json.RawMessage `json:"config"`
	Layers        json.RawMessage `json:"layers"`
	Subject       json.RawMessage `json:"subject"`
	Annotations   json.RawMessage `json:"annotations"`
}

// parsed is what the checks of an index or manifest found out about it.
type parsed struct {
	children  []child
	mediaType string // the document's own mediaType, "" when absent
	subject   bool   // it has a subject: it refers to another manifest
	// subjectDigest is the subject's digest, when it has a readable one; artifactType
	// is the document's artifactType member ("" when absent).
	subjectDigest digest.Digest
	artifactType  string
	// listed is true when the children are known: index.json or the index has a
	// manifests array (a manifest always counts as listed).
	listed bool
	// config is a manifest's config descriptor, when it can be used; annotations are
	// the document's own annotations.
	config      *ocispec.Descriptor
	annotations map[string]string
}

// child is a descriptor met in a document, with where it is.
type child struct {
	d      ocispec.Descriptor
	object string
	kind   string // "manifest", "index", "config", "layer" or "blob"
	ok     bool   // its digest and size can be used
}

// descriptor checks one descriptor member by member and returns what of it can be used.
// ok is false when its digest or size cannot be used: the blob is then not looked for.
func (v *validator) descriptor(raw json.RawMessage, object, schemaCheck string) (d ocispec.Descriptor, ok bool) {
	var r rawDescriptor
	if err := unmarshalDescriptor(raw, &r); err != nil || isNull(raw) {
		v.add(schemaCheck, object, "not a descriptor (a JSON object)")
		v.incomplete = true
		return d, false
	}
	digestOK, sizeOK := false, false

	if s, err := v.strings.jsonString(r.MediaType); r.MediaType == nil {
		v.add(checkDescriptorMediaType, object, "mediaType is missing")
	} else if err != nil {
		v.add(checkDescriptorMediaType, object, "mediaType %s is not a string", short(r.MediaType))
	} else {
		d.MediaType = s
		if !isMediaType(s) {
			v.add(checkDescriptorMediaType, object, "mediaType %q is not a media type: type/subtype in the RFC 6838 grammar, with no parameters or spaces and at most 127 characters a side", s)
		}
	}

	if s, err := jsonString(r.Digest); r.Digest == nil {
		v.add(checkDescriptorDigest, object, "digest is missing")
	} else if err != nil {
		v.add(checkDescriptorDigest, object, "digest %s is not a string", short(r.Digest))
	} else if err := layout.ValidateDigest(digest.Digest(s)); err != nil {
		v.add(checkDescriptorDigest, object, "%v", err)
	} else {
		d.Digest, digestOK = digest.Digest(s), true
		if b := v.blobs[d.Digest]; b != nil {
			d.Digest = b.digest // one copy of a digest listed again and again (a shared config)
		}
		if layout.VerifiableDigest(d.Digest) != nil {
			if v.opts.ForPush {
				v.add(checkPushAlgorithm, object, "digest %s: algorithm %q cannot be verified (ocil verifies sha256 and sha512), and a registry cannot check what it receives", s, d.Digest.Algorithm())
			} else {
				v.add(checkDescriptorAlgorithm, object, "digest %s: algorithm %q cannot be verified (ocil verifies sha256 and sha512); the blob's bytes are not checked", s, d.Digest.Algorithm())
			}
		}
	}

	var n int64
	switch {
	case r.Size == nil:
		v.add(checkDescriptorSize, object, "size is missing")
	case !jsonInt(r.Size, &n):
		v.add(checkDescriptorSize, object, "size %s is not an integer", short(r.Size))
	case n < 0:
		v.add(checkDescriptorSize, object, "size %d is negative", n)
	default:
		d.Size, sizeOK = n, true
	}

	if r.ArtifactType != nil {
		if s, err := v.strings.jsonString(r.ArtifactType); err != nil {
			v.add(checkDescriptorArtifactType, object, "artifactType %s is not a string", short(r.ArtifactType))
		} else if d.ArtifactType = s; !isMediaType(s) {
			v.add(checkDescriptorArtifactType, object, "artifactType %q is not a media type in the RFC 6838 grammar", s)
		}
	}

	if r.Annotations != nil && !isNull(r.Annotations) {
		a, err := v.strings.unmarshalStringMap(r.Annotations)
		d.Annotations = a
		if err != nil {
			d.Annotations = nil
			v.add(checkDescriptorAnnotations, object, "annotations is not an object of strings: %s", short(r.Annotations))
		}
		v.checkCreated(d.Annotations, object)
	}

	if r.URLs != nil && !isNull(r.URLs) {
		if err := json.Unmarshal(r.URLs, &d.URLs); err != nil {
			d.URLs = nil
			v.add(checkDescriptorURLs, object, "urls is not an array of strings")
		}
		for i, s := range d.URLs {
			if u, err := url.Parse(s); err != nil || !u.IsAbs() {
				v.add(checkDescriptorURLs, object, "urls[%d] %q is not an absolute URL", i, s)
			}
		}
		if v.opts.ForPush && len(d.URLs) > 0 {
			v.add(checkPushURLs, object, "has urls; a registry refuses the manifest unless its configuration allows them (distribution: validation.manifests.urls.allow)")
		}
	}

	if r.Platform != nil && !isNull(r.Platform) {
		switch p, err := v.strings.unmarshalPlatform(r.Platform); {
		case err != nil:
			v.add(checkDescriptorPlatform, object, "platform is not a platform object: %s", short(r.Platform))
		case p.OS == "" || p.Architecture == "":
			v.add(checkDescriptorPlatform, object, "platform %s lacks os or architecture; both are required", short(r.Platform))
		default:
			d.Platform = v.sharedPlatform(p)
			v.platformValues(p, object)
		}
	}

	if r.Data != nil && !isNull(r.Data) {
		v.checkData(r.Data, d, object, digestOK, sizeOK)
	}

	ok = digestOK && sizeOK
	if !ok {
		v.incomplete = true
	}
	return d, ok
}

// sharedPlatform returns p as a pointer that descriptors with the same simple platform
// share (the checks only read platforms): 100,000 index.json entries for linux/amd64
// hold one.
func (v *validator) sharedPlatform(p ocispec.Platform) *ocispec.Platform {
	if p.OSFeatures != nil {
		return &p
	}
	key := [4]string{p.OS, p.Architecture, p.Variant, p.OSVersion}
	if q, ok := v.platforms[key]; ok {
		return q
	}
	if len(v.platforms) < maxInterned {
		v.platforms[key] = &p
	}
	return &p
}

// sharedConfig returns d as a pointer that manifests with the same plain config
// descriptor share (a document's config is only read): many images of one config hold
// one.
func (v *validator) sharedConfig(d ocispec.Descriptor) *ocispec.Descriptor {
	if d.URLs != nil || d.Annotations != nil || d.Data != nil || d.Platform != nil {
		return &d
	}
	if c, ok := v.sharedConfigs[d.Digest]; ok && c.MediaType == d.MediaType && c.Size == d.Size && c.ArtifactType == d.ArtifactType {
		return c
	}
	if len(v.sharedConfigs) < maxInterned {
		v.sharedConfigs[d.Digest] = &d
	}
	return &d
}

// checkData checks embedded data: standard base64 (RFC 4648 section 4, not the URL-safe
// alphabet), of the descriptor's size, hashing to its digest.
func (v *validator) checkData(raw json.RawMessage, d ocispec.Descriptor, object string, digestOK, sizeOK bool) {
	s, err := jsonString(raw)
	if err != nil {
		v.add(checkDescriptorData, object, "data is not a string")
		return
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		v.add(checkDescriptorData, object, "data is not standard base64 (RFC 4648 section 4: A-Z a-z 0-9 + / with = padding)")
		return
	}
	if sizeOK && int64(len(b)) != d.Size {
		v.add(checkDescriptorData, object, "data holds %d bytes, size says %d", len(b), d.Size)
		return
	}
	if digestOK && layout.VerifiableDigest(d.Digest) == nil {
		if got := d.Digest.Algorithm().FromBytes(b); got != d.Digest {
			v.add(checkDescriptorData, object, "data hashes to %s, not to the descriptor's digest", got)
		}
	}
}

// documentMembers checks what indexes and manifests share: a JSON object with
// schemaVersion 2, and a mediaType, artifactType and annotations of the right types. It
// returns the members, the document's mediaType ("" when absent) and its annotations
// (what of them could be decoded), or nil when the document is not a JSON object. pre,
// when not nil, holds b taken apart in a read ahead.
func (v *validator) documentMembers(b []byte, object, schemaCheck string, pre *preRead) (*rawDocument, string, map[string]string) {
	var r rawDocument
	var err error
	if pre != nil && pre.split {
		r, err = pre.doc, pre.splitErr
	} else {
		err = unmarshalDocument(b, &r)
	}
	if err != nil || isNull(b) {
		msg := "not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		v.add(schemaCheck, object, "%s", msg)
		return nil, "", nil
	}
	switch {
	case r.SchemaVersion == nil:
		v.add(schemaCheck, object, "schemaVersion is missing")
	case string(r.SchemaVersion) != "2":
		v.add(schemaCheck, object, "schemaVersion is %s, not 2", short(r.SchemaVersion))
	}
	mediaType := ""
	if r.MediaType != nil {
		s, err := jsonString(r.MediaType)
		if err != nil {
			v.add(schemaCheck, object, "mediaType %s is not a string", short(r.MediaType))
		}
		mediaType = s
	}
	if r.ArtifactType != nil {
		if s, err := jsonString(r.ArtifactType); err != nil || !isMediaType(s) {
			v.add(schemaCheck, object, "artifactType %s is not a media type in the RFC 6838 grammar", short(r.ArtifactType))
		}
	}
	var a map[string]string
	if r.Annotations != nil && !isNull(r.Annotations) {
		var err error
		if a, err = v.strings.unmarshalStringMap(r.Annotations); err != nil {
			v.add(schemaCheck, object, "annotations is not an object of strings: %s", short(r.Annotations))
		}
		v.checkCreated(a, object)
	}
	return &r, mediaType, a
}

// indexDocument checks an index: index.json (object "index.json") or an index blob
// listed with descMediaType; pre is the read ahead b comes from, or nil.
func (v *validator) indexDocument(b []byte, object, descMediaType string, pre *preRead) (p parsed) {
	before := v.errors
	// What the checks below do not cover and the layout package refuses (duplicate or
	// case-variant member names, invalid UTF-8, deep nesting, trailing data), reported
	// at the end when they found nothing. Decoded first, so that the decoded index
	// (100,000 descriptors for as many tags) is gone before the checks build theirs.
	_, decodeErr := layout.DecodeIndex(b)
	r, mediaType, _ := v.documentMembers(b, object, checkIndexSchema, pre)
	if r == nil {
		return p
	}
	p.mediaType = mediaType
	indexJSON := object == layout.IndexFile
	switch {
	case r.MediaType == nil:
	case indexJSON && mediaType == layout.MediaTypeDockerManifestList:
		v.add(checkIndexMediaType, object, "mediaType is the Docker manifest list type; index.json must be an OCI index (its mediaType %q, or none)", ocispec.MediaTypeImageIndex)
	case indexJSON && mediaType != ocispec.MediaTypeImageIndex:
		v.add(checkIndexMediaType, object, "mediaType is %q; index.json's must be %q, or absent", mediaType, ocispec.MediaTypeImageIndex)
	case !indexJSON && mediaType != descMediaType:
		v.add(checkIndexMismatch, object, "the document says mediaType %q, the descriptor that lists it %q", mediaType, descMediaType)
		if layout.IsManifest(mediaType) {
			return p // a manifest: the index checks would only repeat the mismatch
		}
	}
	if r.Config != nil || r.Layers != nil {
		v.add(checkIndexAmbiguous, object, "an index with config or layers could be read as a manifest (CVE-2021-41190)")
	}
	switch {
	case r.Manifests == nil:
		v.add(checkIndexSchema, object, `manifests is missing; an empty index has "manifests": []`)
	case isNull(r.Manifests):
		v.add(checkIndexNull, object, `"manifests" is null; docker and containerd refuse such an index (moby#47210): an empty index has "manifests": []`)
	default:
		raws, err := unmarshalArray(r.Manifests)
		if err != nil {
			v.add(checkIndexSchema, object, "manifests is not an array")
		} else {
			p.listed = true
		}
		p.children = make([]child, 0, len(raws))
		for i, raw := range raws {
			o := object + " manifests[" + strconv.Itoa(i) + "]"
			d, ok := v.descriptor(raw, o, checkIndexSchema)
			p.children = append(p.children, child{d: d, object: o, kind: kindOf(d.MediaType, "blob"), ok: ok})
		}
	}
	p.subject, p.subjectDigest = v.subject(r.Subject, object, checkIndexSchema)
	p.artifactType, _ = jsonString(r.ArtifactType)
	if v.errors == before && decodeErr != nil {
		v.add(checkIndexSchema, object, "ocil cannot read it: %v", decodeErr)
	}
	return p
}

// manifestDocument checks a manifest listed with descMediaType. Its children are its
// config and layers. pre is the read ahead b comes from, or nil.
func (v *validator) manifestDocument(b []byte, object, descMediaType string, pre *preRead) (p parsed) {
	before := v.errors
	r, mediaType, annotations := v.documentMembers(b, object, checkManifestSchema, pre)
	if r == nil {
		return p
	}
	p.mediaType, p.listed = mediaType, true
	if r.MediaType != nil && mediaType != descMediaType {
		v.add(checkManifestMismatch, object, "the document says mediaType %q, the descriptor that lists it %q", mediaType, descMediaType)
		if layout.IsIndex(mediaType) {
			p.listed = false
			return p // an index: the manifest checks would only repeat the mismatch
		}
	}
	if r.Manifests != nil {
		v.add(checkManifestAmbiguous, object, "a manifest with manifests could be read as an index (CVE-2021-41190)")
	}
	var config ocispec.Descriptor
	if r.Config == nil || isNull(r.Config) {
		v.add(checkManifestSchema, object, "config is missing")
	} else {
		o := object + " config"
		d, ok := v.descriptor(r.Config, o, checkManifestSchema)
		p.children = append(p.children, child{d: d, object: o, kind: "config", ok: ok})
		config = d
		if ok {
			p.config = v.sharedConfig(d)
		}
	}
	switch {
	case r.Layers == nil || isNull(r.Layers):
		v.add(checkManifestLayers, object, "has no layers member; the image spec's schema wants at least one layer (an artifact without content carries the empty one, application/vnd.oci.empty.v1+json)")
	default:
		raws, err := unmarshalArray(r.Layers)
		if err != nil {
			v.add(checkManifestSchema, object, "layers is not an array")
			break
		}
		if len(raws) == 0 {
			v.add(checkManifestLayers, object, "layers is empty; the image spec's schema wants at least one layer (an artifact without content carries the empty one, application/vnd.oci.empty.v1+json)")
		}
		for i, raw := range raws {
			o := object + " layers[" + strconv.Itoa(i) + "]"
			d, ok := v.descriptor(raw, o, checkManifestSchema)
			p.children = append(p.children, child{d: d, object: o, kind: "layer", ok: ok})
		}
	}
	if config.MediaType == ocispec.MediaTypeEmptyJSON {
		if s, _ := jsonString(r.ArtifactType); s == "" {
			v.add(checkManifestArtifactType, object, "the config is the empty descriptor, so artifactType must say what the artifact is")
		}
	}
	p.subject, p.subjectDigest = v.subject(r.Subject, object, checkManifestSchema)
	p.artifactType, _ = jsonString(r.ArtifactType)
	p.annotations = annotations // documentMembers reports a bad one
	if v.errors == before {
		var err error
		if pre != nil && pre.decoded {
			err = pre.decodeErr
		} else {
			_, err = layout.DecodeManifest(b)
		}
		if err != nil {
			v.add(checkManifestSchema, object, "ocil cannot read it: %v", err)
		}
	}
	return p
}

// kindOf names what a media type says a blob is, or other.
func kindOf(mediaType, other string) string {
	switch {
	case layout.IsIndex(mediaType):
		return "index"
	case layout.IsManifest(mediaType):
		return "manifest"
	}
	return other
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func jsonString(raw json.RawMessage) (string, error) { return (*interner)(nil).jsonString(raw) }

// jsonString is jsonString, interned.
func (t *interner) jsonString(raw json.RawMessage) (string, error) {
	if raw == nil || isNull(raw) {
		return "", errNotString
	}
	if s, ok := t.plainString(raw); ok {
		return s, nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

var errNotString = errors.New("not a string")

// jsonInt decodes raw, a whole number, into n; false for null or anything else.
func jsonInt(raw json.RawMessage, n *int64) bool {
	if v, ok := plainInt(raw); ok {
		*n = v
		return true
	}
	return !isNull(raw) && json.Unmarshal(raw, n) == nil
}

// short prints a JSON value for a one-line message: compacted, and cut to a readable
// length on a character boundary.
func short(raw json.RawMessage) string {
	const limit = 60
	var buf bytes.Buffer
	s := string(bytes.TrimSpace(raw))
	if json.Compact(&buf, raw) == nil {
		s = buf.String()
	}
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

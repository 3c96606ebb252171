package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// maxPushDocumentSize is the manifest size every registry must accept (distribution
// spec: "at least 4 megabytes"; distribution/distribution enforces exactly this).
const maxPushDocumentSize = 4 << 20

// registryTag is the distribution spec's tag grammar.
var registryTag = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// readIndexJSON reads and checks index.json and returns its entries; ok is false when
// they could not be listed.
func (v *validator) readIndexJSON() (entries []child, ok bool) {
	const object = layout.IndexFile
	b, err := readFile(v.src.fsys, layout.IndexFile, layout.MaxIndexSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.add(checkLayoutIndex, object, "missing; a layout lists its images in index.json")
		return nil, false
	case err != nil:
		v.add(checkLayoutIndex, object, "cannot be read: %v", err)
		return nil, false
	}
	p := v.indexDocument(b, object, "")
	v.readDelta(b)
	return p.children, p.listed
}

// readDelta reads the delta record of index.json (layout.AnnotationDelta), if any.
func (v *validator) readDelta(b []byte) {
	if !bytes.Contains(b, []byte(layout.AnnotationDelta)) {
		return // the common case, without decoding index.json a second time
	}
	var top struct {
		Annotations map[string]any `json:"annotations"`
	}
	if json.Unmarshal(b, &top) != nil {
		return // index.schema says why
	}
	raw, ok := top.Annotations[layout.AnnotationDelta]
	if !ok {
		return
	}
	s, ok := raw.(string)
	if !ok {
		return // descriptor.annotations says why
	}
	d, err := layout.ParseDelta(s)
	if err != nil {
		v.add(checkDeltaRecord, layout.IndexFile, "%v", err)
		return
	}
	v.delta = d
}

// visit checks what d points to: records the blob and, for an index or manifest, reads
// it, checks it and visits its children. Each document is read once.
func (v *validator) visit(ctx context.Context, d ocispec.Descriptor, object, kind string, depth int) {
	if ctx.Err() != nil {
		return
	}
	if depth > 0 {
		v.descendants[d.Digest] = true
	}
	v.reference(d, object, kind)
	if !layout.IsIndex(d.MediaType) && !layout.IsManifest(d.MediaType) {
		return
	}
	if doc, ok := v.docs[d.Digest]; ok {
		if doc.mediaType != "" && doc.mediaType != d.MediaType {
			v.add(mismatchCheck(d.MediaType), object, "lists %s as %q; the document says %q", d.Digest, d.MediaType, doc.mediaType)
		}
		return
	}
	doc := &document{}
	v.docs[d.Digest] = doc
	if depth > layout.MaxDepth {
		v.add(checkIndexDepth, object, "nested more than %d levels below index.json; ocil stops reading there", layout.MaxDepth)
		v.incomplete = true
		return
	}
	raw := v.readDocument(d)
	if raw == nil {
		v.incomplete = true
		return
	}
	docObject := string(d.Digest)
	var p parsed
	if layout.IsIndex(d.MediaType) {
		v.checked.Indexes++
		p = v.indexDocument(raw, docObject, d.MediaType)
		v.checkIndexChildren(docObject, p.children)
		v.listings = append(v.listings, listing{object: docObject, children: p.children})
	} else {
		v.checked.Manifests++
		p = v.manifestDocument(raw, docObject, d.MediaType)
	}
	doc.mediaType, doc.subject = p.mediaType, p.subject
	doc.subjectDigest, doc.artifactType, doc.children = p.subjectDigest, p.artifactType, p.children
	doc.read, doc.config, doc.annotations = true, p.config, p.annotations
	if !p.listed {
		v.incomplete = true
	}
	for _, c := range p.children {
		if c.ok {
			v.visit(ctx, c.d, c.object, c.kind, depth+1)
		}
	}
}

func mismatchCheck(mediaType string) string {
	if layout.IsIndex(mediaType) {
		return checkIndexMismatch
	}
	return checkManifestMismatch
}

func schemaCheck(mediaType string) string {
	if layout.IsIndex(mediaType) {
		return checkIndexSchema
	}
	return checkManifestSchema
}

// readDocument reads the index or manifest d describes and returns its bytes once they
// are known to be the right ones: present, of the right size and hashing to the digest.
// Otherwise it returns nil, and checkBlobs reports why.
func (v *validator) readDocument(d ocispec.Descriptor) []byte {
	if layout.VerifiableDigest(d.Digest) != nil {
		return nil // descriptor.algorithm (or push.algorithm) says why
	}
	p, _ := layout.BlobPath(d.Digest)
	if !v.blobInside(d.Digest) {
		return nil
	}
	fi, err := fs.Stat(v.src.fsys, p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != d.Size {
		return nil
	}
	object := string(d.Digest)
	if v.opts.ForPush && d.Size > maxPushDocumentSize {
		v.add(checkPushDocumentSize, object, "the %s is %d bytes; registries need only accept 4 MiB (4194304 bytes)", kindOf(d.MediaType, "blob"), d.Size)
	}
	if d.Size > layout.MaxJSONSize {
		v.add(schemaCheck(d.MediaType), object, "%d bytes; ocil reads documents of at most %d bytes", d.Size, layout.MaxJSONSize)
		return nil
	}
	return v.readVerified(d)
}

// readVerified reads the whole blob d describes, which is known to be a regular file of
// d's size inside the layout, and returns its bytes when they hash to d's digest. The
// blob then counts as hashed: checkBlobs reports what went wrong.
func (v *validator) readVerified(d ocispec.Descriptor) []byte {
	p, _ := layout.BlobPath(d.Digest)
	b := v.blobs[d.Digest]
	raw, err := readFile(v.src.fsys, p, d.Size)
	b.hashed = true
	switch {
	case err != nil:
		b.readErr = err
		return nil
	case v.src.hashed:
		b.got = d.Digest
	default:
		b.got = d.Digest.Algorithm().FromBytes(raw)
	}
	if b.got != d.Digest {
		return nil
	}
	return raw
}

// subject checks a document's subject member and whether the manifest it points to is
// in the layout. It reports whether there is a subject, and its digest when readable.
func (v *validator) subject(raw json.RawMessage, object, schemaCheck string) (bool, digest.Digest) {
	if raw == nil || isNull(raw) {
		return false, ""
	}
	o := object + " subject"
	d, ok := v.descriptor(raw, o, schemaCheck)
	if !ok {
		return true, ""
	}
	p, _ := layout.BlobPath(d.Digest)
	if present(v.src.fsys, p) {
		return true, d.Digest
	}
	if v.opts.ForPush {
		v.add(checkPushSubject, o, "%s is not in the layout; a registry accepts the referrer, but it points at nothing until that manifest is pushed too", d.Digest)
	} else {
		v.add(checkSubjectMissing, o, "%s is not in the layout (allowed: a referrer may point at a manifest kept elsewhere)", d.Digest)
	}
	return true, d.Digest
}

// checkIndexChildren checks what concerns an index's children together: platforms
// listed twice, ref.name annotations (which mean nothing there) and, for a push, Docker
// and OCI manifests mixed.
func (v *validator) checkIndexChildren(object string, children []child) {
	first := map[string]int{}
	ds := make([]ocispec.Descriptor, len(children))
	for i, c := range children {
		ds[i] = c.d
		if name, ok := c.d.Annotations[ocispec.AnnotationRefName]; ok {
			v.add(checkRefNested, c.object, "ref.name %q inside an index names nothing: only index.json's ref.name annotations are tags", name)
		}
		p := c.d.Platform
		if p == nil || !c.ok || layout.IsAttestation(c.d) {
			continue
		}
		key := platform.Format(platform.Normalize(*p))
		j, seen := first[key]
		if !seen {
			first[key] = i
			continue
		}
		if o := children[j]; o.d.Digest != c.d.Digest && platform.Equal(*o.d.Platform, *p) {
			v.add(checkPlatformDuplicate, c.object, "platform %s is listed already, at %s (%s); clients take the first match, so this manifest is never selected",
				platform.Format(*p), strings.TrimPrefix(o.object, object+" "), o.d.Digest)
		}
	}
	if docker, oci := layout.MixedTypes(ds); v.opts.ForPush && docker > 0 && oci > 0 {
		v.add(checkPushMixedTypes, object, "lists %d Docker and %d OCI manifests; some registries (quay, GCR) refuse mixed lists", docker, oci)
	}
}

// checkRefs checks index.json's ref.name annotations and its roots: the entries that
// stand for an image of their own.
func (v *validator) checkRefs(entries []child) {
	byTag := map[string][]child{}
	var tags []string
	var untagged []digest.Digest
	for _, e := range entries {
		name, tagged := e.d.Annotations[ocispec.AnnotationRefName]
		if tagged {
			object := tagObject(name)
			if err := layout.ValidateRefName(name); err != nil {
				v.add(checkRefName, object, "not in the OCI ref.name grammar (letters and digits joined by one of - . _ : @ + or --, in /-separated parts); tools that check it refuse the layout")
			}
			if v.opts.ForPush && !registryTag.MatchString(name) {
				v.add(checkPushTag, object, "not a registry tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}), so it cannot be pushed as one")
			}
			if e.ok {
				if _, seen := byTag[name]; !seen {
					tags = append(tags, name)
				}
				byTag[name] = append(byTag[name], e)
			}
		}
		if name == "" && v.isRoot(e) && !slices.Contains(untagged, e.d.Digest) {
			untagged = append(untagged, e.d.Digest)
		}
	}
	for _, name := range tags {
		es := byTag[name]
		var names []string
		var seen []digest.Digest
		for _, e := range es {
			if !slices.Contains(seen, e.d.Digest) {
				seen = append(seen, e.d.Digest)
				names = append(names, fmt.Sprintf("%s at %s", e.d.Digest, e.object))
			}
		}
		if len(seen) > 1 {
			v.add(checkRefConflict, tagObject(name), "names %d different digests (%s); tools disagree on which one the tag means", len(seen), strings.Join(names, ", "))
		}
	}
	if len(untagged) > 1 {
		list := make([]string, len(untagged))
		for i, d := range untagged {
			list[i] = string(d)
		}
		v.add(checkRefUntaggedRoots, layout.IndexFile, "%d untagged images (%s); tools that take a layout's only image (skopeo oci:DIR, ocil without :TAG) cannot choose one: tag them", len(untagged), strings.Join(list, ", "))
	}
}

// isRoot tells whether an index.json entry stands for an image or artifact of its own,
// by the rules of layout.Entries: an index or manifest, not a referrers fallback tag, not
// reachable from another entry, without a subject.
func (v *validator) isRoot(e child) bool {
	if !e.ok || (!layout.IsIndex(e.d.MediaType) && !layout.IsManifest(e.d.MediaType)) {
		return false
	}
	if layout.IsReferrersTag(layout.TagOf(e.d)) || v.descendants[e.d.Digest] {
		return false
	}
	doc := v.docs[e.d.Digest]
	return doc == nil || !doc.subject
}

func tagObject(name string) string { return fmt.Sprintf("tag %q", name) }

func isNonDistributable(mediaType string) bool {
	return strings.HasPrefix(mediaType, "application/vnd.oci.image.layer.nondistributable.") ||
		mediaType == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
}

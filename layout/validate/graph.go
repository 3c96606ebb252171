package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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
	p := v.indexDocument(b, object, "", nil)
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
	raw, pre := v.readDocument(d)
	if raw == nil {
		v.incomplete = true
		return
	}
	docObject := string(d.Digest)
	var p parsed
	if layout.IsIndex(d.MediaType) {
		v.checked.Indexes++
		p = v.indexDocument(raw, docObject, d.MediaType, pre)
		v.checkIndexChildren(docObject, p.children)
		v.listings = append(v.listings, listing{object: docObject, children: p.children})
	} else {
		v.checked.Manifests++
		p = v.manifestDocument(raw, docObject, d.MediaType, pre)
	}
	doc.mediaType, doc.subject = p.mediaType, p.subject
	doc.subjectDigest, doc.artifactType = p.subjectDigest, p.artifactType
	doc.read, doc.config = true, p.config
	// Kept for the checks that run once the graph was read, and no more: on a layout
	// of 100,000 manifests, each manifest's own children and annotations would be most
	// of what validate holds. An index's children are what a referrers tag lists
	// (checkReferrers); a manifest's annotations matter when they carry the oras
	// platform (checkPlatforms).
	if layout.IsIndex(d.MediaType) {
		doc.children = p.children
	}
	if hasOrasPlatform(p.annotations) {
		doc.annotations = p.annotations
	}
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
// Otherwise it returns nil, and checkBlobs reports why. pre is the read ahead the bytes
// come from, nil when they were read here.
func (v *validator) readDocument(d ocispec.Descriptor) ([]byte, *preRead) {
	if layout.VerifiableDigest(d.Digest) != nil {
		return nil, nil // descriptor.algorithm (or push.algorithm) says why
	}
	p, _ := layout.BlobPath(d.Digest)
	if !v.blobInside(d.Digest) {
		return nil, nil
	}
	pre := v.pre[d.Digest]
	delete(v.pre, d.Digest)
	if pre != nil {
		pre.batch.wait()
		if pre.fi == nil && pre.statErr == nil {
			pre = nil // not reached (ctx ended): read in turn
		}
	}
	var fi fs.FileInfo
	var err error
	if pre != nil {
		fi, err = pre.fi, pre.statErr
	} else {
		fi, err = fs.Stat(v.src.fsys, p)
	}
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != d.Size {
		return nil, nil
	}
	// checkBlobs need not stat it again.
	b := v.blobs[d.Digest]
	b.statted, b.statSize = true, fi.Size()
	object := string(d.Digest)
	if v.opts.ForPush && d.Size > maxPushDocumentSize {
		v.add(checkPushDocumentSize, object, "the %s is %d bytes; registries need only accept 4 MiB (4194304 bytes)", kindOf(d.MediaType, "blob"), d.Size)
	}
	if d.Size > layout.MaxJSONSize {
		v.add(schemaCheck(d.MediaType), object, "%d bytes; ocil reads documents of at most %d bytes", d.Size, layout.MaxJSONSize)
		return nil, nil
	}
	if pre != nil && pre.read {
		b.hashed, b.readErr, b.got = true, pre.readErr, pre.got
		if pre.readErr != nil || b.got != d.Digest {
			return nil, nil
		}
		return pre.raw, pre
	}
	return v.readVerified(d), nil
}

// readAheadBatch is how many index.json entries a read ahead takes at once.
const readAheadBatch = 256

// preRead is what readDocument would find for a document: the stat of its blob and,
// for a regular file of the descriptor's size, its bytes and their digest; for bytes
// that match, their members (unmarshalDocument) and, for a manifest, what
// layout.DecodeManifest says of them.
type preRead struct {
	batch   *readBatch
	fi      fs.FileInfo
	statErr error
	read    bool
	raw     []byte
	readErr error
	got     digest.Digest
	// split is set when doc and splitErr are unmarshalDocument's result on raw;
	// decoded when decodeErr is layout.DecodeManifest's verdict on it.
	split     bool
	doc       rawDocument
	splitErr  error
	decoded   bool
	decodeErr error
}

// readBatch is one read ahead: the documents its workers read, and done, closed once
// they all stopped.
type readBatch struct {
	done chan struct{}
}

// readAhead starts reading the documents of entries that readDocument will read
// (indexes and manifests not read yet nor being read, whose blob path checkTree saw
// with no link on it) on up to four goroutines (Options.Jobs), and returns at once:
// stat, read, hash and taking apart are most of checking a layout of many small manifests,
// and each core can do its share while the checks of the previous batch run.
// readDocument then takes them in order, waiting for their batch, and checks as
// before. Only this goroutine touches v.pre; the workers write the preRead records
// they were given, read once done is closed. It returns nil when there is nothing to
// read or only one job.
func (v *validator) readAhead(ctx context.Context, entries []child) *readBatch {
	workers := min(v.opts.Jobs, 4)
	if workers < 2 {
		return nil
	}
	if v.pre == nil {
		v.pre = make(map[digest.Digest]*preRead, 2*readAheadBatch)
	}
	batch := &readBatch{done: make(chan struct{})}
	var ds []ocispec.Descriptor
	var rs []*preRead
	for _, e := range entries {
		d := e.d
		if !e.ok || (!layout.IsIndex(d.MediaType) && !layout.IsManifest(d.MediaType)) || v.docs[d.Digest] != nil || v.pre[d.Digest] != nil ||
			layout.VerifiableDigest(d.Digest) != nil || d.Size > layout.MaxJSONSize || !v.knownInside(d.Digest) {
			continue
		}
		r := &preRead{batch: batch}
		v.pre[d.Digest] = r
		ds, rs = append(ds, d), append(rs, r)
	}
	if len(ds) == 0 {
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(ds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ds) || ctx.Err() != nil {
					return
				}
				d, r := ds[i], rs[i]
				p, _ := layout.BlobPath(d.Digest)
				r.fi, r.statErr = fs.Stat(v.src.fsys, p)
				if r.statErr != nil || !r.fi.Mode().IsRegular() || r.fi.Size() != d.Size {
					continue
				}
				r.read = true
				r.raw, r.readErr = readFile(v.src.fsys, p, d.Size)
				switch {
				case r.readErr != nil:
					r.raw = nil
				case v.src.hashed:
					r.got = d.Digest
				default:
					r.got = d.Digest.Algorithm().FromBytes(r.raw)
				}
				if r.readErr != nil || r.got != d.Digest {
					continue
				}
				r.splitErr = unmarshalDocument(r.raw, &r.doc)
				r.split = true
				if layout.IsManifest(d.MediaType) {
					_, r.decodeErr = layout.DecodeManifest(r.raw)
					r.decoded = true
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(batch.done)
	}()
	return batch
}

// wait waits for b's workers to stop, if b was started.
func (b *readBatch) wait() {
	if b != nil {
		<-b.done
	}
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
	// The first entry of each tag, and the entries of the tags listed more than once
	// (by the index of their first entry, to report them in order): 100,000 tags cost
	// a map of indexes, not a copy of every entry.
	first := map[string]int{}
	again := map[int][]int{}
	var untagged []digest.Digest
	for i, e := range entries {
		name, tagged := e.d.Annotations[ocispec.AnnotationRefName]
		if tagged {
			if err := layout.ValidateRefName(name); err != nil {
				v.add(checkRefName, tagObject(name), "not in the OCI ref.name grammar (letters and digits joined by one of - . _ : @ + or --, in /-separated parts); tools that check it refuse the layout")
			}
			if v.opts.ForPush && !registryTag.MatchString(name) {
				v.add(checkPushTag, tagObject(name), "not a registry tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}), so it cannot be pushed as one")
			}
			if e.ok {
				if j, seen := first[name]; !seen {
					first[name] = i
				} else {
					again[j] = append(again[j], i)
				}
			}
		}
		if name == "" && v.isRoot(e) && !slices.Contains(untagged, e.d.Digest) {
			untagged = append(untagged, e.d.Digest)
		}
	}
	firsts := slices.Sorted(maps.Keys(again))
	for _, j := range firsts {
		name := entries[j].d.Annotations[ocispec.AnnotationRefName]
		var es []child
		for _, i := range append([]int{j}, again[j]...) {
			es = append(es, entries[i])
		}
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

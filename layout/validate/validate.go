package validate

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// Layout checks the layout folder or tarball at path and reports what it finds. It reads
// everything and stops at nothing: every problem is a Finding. It returns an error only
// when there is nothing to check: the path does not exist (an error wrapping
// layout.ErrNotFound), or it is neither a folder holding oci-layout or index.json nor a
// layout tarball the tarball reader accepts (layout.ErrNotLayout, and also
// layout.ErrInvalidArchive for an unsafe or damaged tarball); or when ctx ends. The
// report is returned in every case, holding a layout.read finding for such an error, so
// that a caller can list unreadable layouts beside the others.
//
// Layout only reads; it takes no lock. A layout changed while it is checked may give
// findings that hold for neither state.
func Layout(ctx context.Context, path string, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	v := &validator{
		opts:          opts,
		rep:           &Report{Layout: path},
		blobs:         map[digest.Digest]*blob{},
		docs:          map[digest.Digest]*document{},
		descendants:   map[digest.Digest]bool{},
		configs:       map[digest.Digest]*imageConfig{},
		outside:       map[string]bool{},
		listed:        map[string]bool{},
		strings:       &interner{},
		platforms:     map[[4]string]*ocispec.Platform{},
		sharedConfigs: map[digest.Digest]*ocispec.Descriptor{},
	}
	src, err := openSource(path)
	if err != nil {
		v.add(checkLayoutRead, path, "%v", err)
		return finish(v.rep, opts), err
	}
	defer src.Close()
	v.src = src
	err = v.run(ctx)
	v.rep.Checked = v.checked
	return finish(v.rep, opts), err
}

// validator holds one run.
type validator struct {
	opts Options
	src  *source
	rep  *Report
	// errors counts the error findings so far, push.* rules left out, so that a
	// document's checks can tell whether they found what makes it unreadable.
	errors int

	blobs map[digest.Digest]*blob // every blob reachable from index.json
	order []*blob                 // the same, in the order they were first met
	docs  map[digest.Digest]*document
	// descendants are the digests found below an index.json entry.
	descendants map[digest.Digest]bool
	listings    []listing
	configs     map[digest.Digest]*imageConfig // image configs read, nil when unusable
	// outside holds the blob paths (and blobs/ folders) found to resolve outside the
	// layout, reported once each and never read.
	outside map[string]bool
	// listed holds the blobs/<alg> folders checkTree listed in full, checking every
	// link in them.
	listed map[string]bool
	// strings holds one copy of the short strings descriptors repeat; platforms and
	// sharedConfigs one copy of each platform and plain config descriptor.
	strings       *interner
	platforms     map[[4]string]*ocispec.Platform
	sharedConfigs map[digest.Digest]*ocispec.Descriptor
	// incomplete is set when part of the graph could not be read; which blobs are
	// unreferenced is then unknown.
	incomplete bool
	checked    Counts
	// pre holds the documents of index.json entries read ahead or being read
	// (readAhead), until readDocument takes them.
	pre map[digest.Digest]*preRead
	// delta is index.json's delta record, nil when the layout is not a delta.
	delta *layout.Delta
}

// blob is a blob reachable from index.json.
type blob struct {
	digest digest.Digest
	kind   string // what it was first listed as: "index", "manifest", "config", "layer", "blob"
	where  string // the object that first listed it
	claims []claim
	size   int64 // on disk, once checkBlobs has seen it
	// statted is set when the blob was found a regular file of statSize bytes before
	// it was read (an index or manifest), which checkBlobs then takes.
	statted  bool
	statSize int64
	// external: a layer with urls or of a non-distributable type, which registries may
	// fetch from elsewhere.
	external bool
	// hashed is set once the bytes were hashed (got is the result) or the read failed
	// (readErr).
	hashed  bool
	got     digest.Digest
	readErr error
}

// claim is a size some descriptor gives for a blob.
type claim struct {
	size  int64
	where string
}

// document is an index or manifest that was read.
type document struct {
	mediaType string // the document's own mediaType member, "" when absent
	subject   bool   // the document has a subject: it refers to another one
	// subjectDigest and artifactType are the document's subject digest and artifactType
	// member, "" when absent; children are an index's children (see parsed), nil for a
	// manifest.
	subjectDigest digest.Digest
	artifactType  string
	children      []child
	// read is set once the document was read and checked; config (a manifest's, when
	// usable) and annotations (a manifest's, when they have an oras platform member) are
	// then known.
	read        bool
	config      *ocispec.Descriptor
	annotations map[string]string
}

// listing is an index (or index.json, top) and its children, for the checks that need
// the children's documents and configs: they run once the whole graph was read.
type listing struct {
	object   string
	top      bool
	children []child
}

func (v *validator) add(check, object, format string, args ...any) {
	sev, ok := severityOf[check]
	if !ok {
		panic("validate: check " + check + " is not in the check table")
	}
	if sev == SeverityError && !strings.HasPrefix(check, "push.") {
		v.errors++
	}
	msg := format
	if len(args) > 0 || strings.Contains(format, "%") {
		msg = fmt.Sprintf(format, args...)
	} // else the message is the constant itself: 100,000 findings of one kind share it
	v.rep.Findings = append(v.rep.Findings, Finding{Check: check, Severity: sev, Object: object, Message: msg})
}

func (v *validator) run(ctx context.Context) error {
	v.checkParts(ctx)
	v.checkHeader()
	names, listed := v.checkTree()
	entries, indexOK := v.readIndexJSON()
	v.listings = append(v.listings, listing{object: layout.IndexFile, top: true, children: entries})
	// The documents of the next batch of entries are read while those of this one are
	// checked (readAhead); the checks run in order, here.
	batch := func(i int) []child { return entries[min(i, len(entries)):min(i+readAheadBatch, len(entries))] }
	var ahead []*readBatch
	if len(entries) > 0 {
		ahead = append(ahead, v.readAhead(ctx, batch(0)))
	}
	for i, e := range entries {
		if i%readAheadBatch == 0 && i+readAheadBatch < len(entries) {
			ahead = append(ahead, v.readAhead(ctx, batch(i+readAheadBatch)))
		}
		if e.ok {
			v.visit(ctx, e.d, e.object, kindOf(e.d.MediaType, "blob"), 0)
		}
	}
	for _, b := range ahead {
		b.wait() // none reads the layout once it is closed
	}
	v.pre = nil
	if err := ctx.Err(); err != nil {
		return err
	}
	v.checkRefs(entries)
	v.checkReferrers(entries)
	v.checkPlatforms()
	v.checkBlobs(ctx, names)
	if err := ctx.Err(); err != nil {
		return err
	}
	if indexOK && listed && !v.incomplete {
		v.checkUnreferenced(names)
	}
	return nil
}

// reference records that object lists the blob d.
func (v *validator) reference(d ocispec.Descriptor, object, kind string) *blob {
	b := v.blobs[d.Digest]
	if b == nil {
		b = &blob{digest: d.Digest, kind: kind, where: object}
		v.blobs[d.Digest] = b
		v.order = append(v.order, b)
	}
	known := false
	for _, c := range b.claims {
		known = known || c.size == d.Size
	}
	if !known {
		b.claims = append(b.claims, claim{size: d.Size, where: object})
	}
	if len(d.URLs) > 0 || isNonDistributable(d.MediaType) {
		b.external = true
	}
	return b
}

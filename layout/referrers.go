package layout

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationReferrerSubject, on an index.json entry, names the subject of the referrer
// the entry describes (image-spec#1171, proposed). ocil writes it on the referrer entries
// it adds and reads it where other tools wrote it.
const AnnotationReferrerSubject = "org.opencontainers.image.referrer.subject"

// Referrer is a manifest or index whose subject is another manifest or index of the
// layout (an OCI 1.1 referrer: a signature, an SBOM, an attestation).
type Referrer struct {
	// Subject is the digest of what the referrer describes.
	Subject digest.Digest `json:"subject"`
	// Descriptor describes the referrer as the distribution spec's referrers list does:
	// mediaType, digest, size, artifactType (the document's artifactType, else a
	// manifest's config.mediaType) and the document's annotations.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Tag is set for a referrer recorded by a tag of cosign 2 (<alg>-<hex>.sig, .att,
	// .sbom): a plain manifest without a subject, which is written back under that tag.
	Tag string `json:"tag,omitempty"`
}

// Referrers holds the referrers of a layout, by subject. It is read from every
// convention in use:
//
//   - an index.json entry (tagged or not) whose document has a subject (oras-go writes
//     every referrer as an untagged entry);
//   - an index.json entry with the org.opencontainers.image.referrer.subject annotation,
//     whose document has no subject of its own;
//   - the children of an index tagged with a referrers fallback tag (<alg>-<hex>,
//     regclient and the distribution spec's referrers tag schema); a child's own subject
//     wins over the tag, which truncation may have cut;
//   - a manifest tagged <alg>-<hex>.sig, .att or .sbom (cosign 2's tag-based
//     signatures, attestations and SBOMs), whose subject is the tag's digest.
//
// buildx attestation manifests are children of the image index they describe and travel
// with it; they are not listed here.
type Referrers struct {
	by    map[digest.Digest][]Referrer
	known map[digest.Digest]bool
	pairs map[[2]digest.Digest]bool // (subject, referrer) recorded
}

// Of lists the referrers of d, ordered by digest.
func (r *Referrers) Of(d digest.Digest) []Referrer {
	if r == nil {
		return nil
	}
	return r.by[d]
}

// Len is the number of referrers known, each counted once per subject.
func (r *Referrers) Len() int {
	n := 0
	if r != nil {
		for _, rs := range r.by {
			n += len(rs)
		}
	}
	return n
}

// IsReferrer reports whether d is a referrer of some subject in this set.
func (r *Referrers) IsReferrer(d digest.Digest) bool { return r != nil && r.known[d] }

func (r *Referrers) add(subject digest.Digest, d ocispec.Descriptor) { r.addTagged(subject, d, "") }

func (r *Referrers) addTagged(subject digest.Digest, d ocispec.Descriptor, tag string) {
	if subject == d.Digest {
		return // a referrer of itself describes nothing else; it cannot be carried for anything
	}
	if r.pairs[[2]digest.Digest{subject, d.Digest}] {
		return
	}
	r.pairs[[2]digest.Digest{subject, d.Digest}] = true
	r.by[subject] = append(r.by[subject], Referrer{Subject: subject, Descriptor: d, Tag: tag})
	r.known[d.Digest] = true
}

// Referrers reads the referrers recorded in index.json (see Referrers). A referrer whose
// blob is missing is left out; a document that cannot be read is an error naming it.
func (l *Layout) Referrers(ctx context.Context) (*Referrers, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, err
	}
	return l.referrersIn(ctx, idx.Manifests)
}

// EntryReferrers is Referrers for the index.json entries and trees EntryTrees returned,
// taking each document from the tree that read it: the same set, without reading
// index.json or those documents again (ls on a layout of many tags reads each manifest
// once). entries must be all of EntryTrees' entries, in its order; a document no tree
// holds (listed twice, or needed without a subject of its own) is read.
func (l *Layout) EntryReferrers(ctx context.Context, entries []Entry, trees []*TreeNode) (*Referrers, error) {
	if len(trees) != len(entries) {
		return nil, fmt.Errorf("referrers in %s: %d entries, %d trees", l.path, len(entries), len(trees))
	}
	ds := make([]ocispec.Descriptor, len(entries))
	for i, e := range entries {
		ds[i] = e.Descriptor
	}
	return l.referrersOf(ctx, ds, trees)
}

func (l *Layout) referrersIn(ctx context.Context, entries []ocispec.Descriptor) (*Referrers, error) {
	return l.referrersOf(ctx, entries, nil)
}

// referrersOf is referrersIn; trees, when not nil, holds the Tree of each entry (nil for
// entries that are not images), whose nodes give the documents they read.
func (l *Layout) referrersOf(ctx context.Context, entries []ocispec.Descriptor, trees []*TreeNode) (*Referrers, error) {
	rs := &Referrers{by: map[digest.Digest][]Referrer{}, known: map[digest.Digest]bool{}, pairs: map[[2]digest.Digest]bool{}}
	read := map[string]bool{}
	// describe returns the referrers-list descriptor and subject of the document d
	// describes, from n (the tree node of d) when it read the document with a subject,
	// else by reading it.
	describe := func(d ocispec.Descriptor, n *TreeNode, needDescriptor bool) (ocispec.Descriptor, digest.Digest, error) {
		switch {
		case n == nil || (!n.read && !n.Missing):
		case n.Missing:
			return ocispec.Descriptor{}, "", ErrNotFound
		case n.ref != nil:
			return n.ref.Descriptor, n.ref.Subject, nil
		case !needDescriptor:
			return ocispec.Descriptor{}, "", nil // read, and without a subject
		}
		return l.referrerDescriptor(ctx, d)
	}
	// consider records d when its document has a subject (or, failing that, when hint
	// names one).
	consider := func(d ocispec.Descriptor, n *TreeNode, hint digest.Digest) error {
		if !IsIndex(d.MediaType) && !IsManifest(d.MediaType) {
			return nil
		}
		if n == nil || !n.read {
			// Read below: once for each digest and hint.
			key := string(d.Digest) + " " + string(hint)
			if read[key] {
				return nil
			}
			read[key] = true
		}
		rd, subject, err := describe(d, n, hint != "")
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if subject == "" {
			subject = hint
		}
		if subject != "" {
			rs.add(subject, rd)
		}
		return nil
	}
	for i, e := range entries {
		var n *TreeNode
		if trees != nil {
			n = trees[i]
		}
		tag := TagOf(e)
		if IsReferrersTag(tag) && IsIndex(e.MediaType) {
			hint := subjectOfTag(tag)
			if n != nil && n.Missing {
				continue
			}
			if n != nil && n.read {
				for _, c := range n.Children {
					if err := consider(c.Descriptor, c, hint); err != nil {
						return nil, fmt.Errorf("referrers tag %s: %w", tag, err)
					}
				}
				continue
			}
			_, idx, _, err := l.ReadDocument(ctx, e)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("referrers tag %s: %w", tag, err)
			}
			for _, c := range idx.Manifests {
				if err := consider(c, nil, hint); err != nil {
					return nil, fmt.Errorf("referrers tag %s: %w", tag, err)
				}
			}
			continue
		}
		if s := CosignTagSubject(tag); s != "" && IsManifest(e.MediaType) {
			rd, _, err := describe(e, n, true)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			rs.addTagged(s, rd, tag)
			continue
		}
		hint := digest.Digest(e.Annotations[AnnotationReferrerSubject])
		if hint != "" && ValidateDigest(hint) != nil {
			hint = ""
		}
		if err := consider(e, n, hint); err != nil {
			return nil, err
		}
	}
	for s := range rs.by {
		slices.SortFunc(rs.by[s], func(a, b Referrer) int {
			return strings.Compare(string(a.Descriptor.Digest), string(b.Descriptor.Digest))
		})
	}
	return rs, nil
}

// referrerDescriptor reads the document d describes and returns its referrers-list
// descriptor and its subject ("" when it has none).
func (l *Layout) referrerDescriptor(ctx context.Context, d ocispec.Descriptor) (ocispec.Descriptor, digest.Digest, error) {
	_, idx, m, err := l.ReadDocument(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	out, subject := referrerOf(d, idx, m)
	return out, subject, nil
}

// referrerOf is referrerDescriptor for a document already read (idx or m).
func referrerOf(d ocispec.Descriptor, idx *ocispec.Index, m *ocispec.Manifest) (ocispec.Descriptor, digest.Digest) {
	out := ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}
	var subject *ocispec.Descriptor
	switch {
	case m != nil:
		out.ArtifactType, out.Annotations, subject = m.ArtifactType, copyAnnotations(m.Annotations), m.Subject
		if out.ArtifactType == "" {
			out.ArtifactType = m.Config.MediaType
		}
	case idx != nil:
		out.ArtifactType, out.Annotations, subject = idx.ArtifactType, copyAnnotations(idx.Annotations), idx.Subject
	}
	if subject == nil {
		return out, ""
	}
	return out, subject.Digest
}

// subjectOfTag turns a fallback tag back into the digest it names, when the tag was not
// truncated (sha256-<64 hex>); "" otherwise.
func subjectOfTag(tag string) digest.Digest {
	alg, enc, ok := strings.Cut(tag, "-")
	if !ok {
		return ""
	}
	d := digest.Digest(alg + ":" + enc)
	if ValidateDigest(d) != nil {
		return ""
	}
	return d
}

// cosignTag matches cosign 2's tags for the signatures, attestations and SBOMs of a
// digest: sha256-<hex>.sig, .att, .sbom.
var cosignTag = regexp.MustCompile(`^([a-z0-9]+)-([a-f0-9]{64,128})\.(sig|att|sbom)$`)

// CosignTagSubject is the digest a cosign 2 tag (sha256-<hex>.sig, .att, .sbom) names,
// "" when tag is none.
func CosignTagSubject(tag string) digest.Digest {
	m := cosignTag.FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	d := digest.Digest(m[1] + ":" + m[2])
	if ValidateDigest(d) != nil {
		return ""
	}
	return d
}

// FallbackTag is the referrers tag of subject in the distribution spec's referrers tag
// schema: the algorithm cut to 32 characters, "-", the encoded digest cut to 64, every
// character outside [a-zA-Z0-9_.-] replaced by "-".
func FallbackTag(subject digest.Digest) string {
	alg, enc, _ := strings.Cut(string(subject), ":")
	if len(alg) > 32 {
		alg = alg[:32]
	}
	if len(enc) > 64 {
		enc = enc[:64]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, alg+"-"+enc)
}

// MaxReferrers bounds how many referrers one copy or merge carries: a hostile layout
// cannot make it read an unbounded fan-out. Real images have a handful each.
const MaxReferrers = 10000

// maxReferrers is MaxReferrers, lowered by tests.
var maxReferrers = MaxReferrers

// ReferrerClosure lists the referrers of everything under roots (every index and
// manifest a walk from them meets), then the referrers of those referrers and of what is
// under them, and so on: a signature of an SBOM of an image comes along. Each referrer
// is listed once, in the order found (roots' walk order, then by digest). A referrer
// already under roots is not listed; cycles end there. More than MaxReferrers is an
// error naming the layout.
func (l *Layout) ReferrerClosure(ctx context.Context, rs *Referrers, roots []ocispec.Descriptor) ([]Referrer, error) {
	if rs.Len() == 0 {
		return nil, nil
	}
	seen := map[digest.Digest]bool{}
	var queue []digest.Digest
	collect := func(ds []ocispec.Descriptor) error {
		return l.Walk(ctx, ds, func(ctx context.Context, n *Node) error {
			if !IsIndex(n.Descriptor.MediaType) && !IsManifest(n.Descriptor.MediaType) {
				return SkipChildren
			}
			if !seen[n.Descriptor.Digest] {
				seen[n.Descriptor.Digest] = true
				queue = append(queue, n.Descriptor.Digest)
			}
			if n.Missing {
				return SkipChildren
			}
			return nil
		})
	}
	if err := collect(roots); err != nil {
		return nil, err
	}
	var out []Referrer
	for i := 0; i < len(queue); i++ {
		for _, r := range rs.Of(queue[i]) {
			if seen[r.Descriptor.Digest] {
				continue
			}
			if len(out) >= maxReferrers {
				return nil, fmt.Errorf("referrers in %s: %w: more than %d referrers", l.path, ErrTooLarge, maxReferrers)
			}
			out = append(out, r)
			if err := collect([]ocispec.Descriptor{r.Descriptor}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// isReferrerEntry tells whether an index.json entry records a referrer rather than an
// image of its own: a referrers fallback tag, an entry with the referrer.subject
// annotation, or an untagged entry whose document has a subject.
func (l *Layout) isReferrerEntry(ctx context.Context, d ocispec.Descriptor) bool {
	tag, tagged := d.Annotations[ocispec.AnnotationRefName]
	if IsReferrersTag(tag) || CosignTagSubject(tag) != "" || d.Annotations[AnnotationReferrerSubject] != "" {
		return true
	}
	if tagged || (!IsIndex(d.MediaType) && !IsManifest(d.MediaType)) {
		return false
	}
	_, subject, err := l.referrerDescriptor(ctx, d)
	return err == nil && subject != ""
}

// addReferrers records refs in cur, the index.json being changed, both ways, so that
// oras-go (which scans index.json) and regclient (which reads the fallback tag) find
// them: an untagged entry per referrer, with the referrer.subject annotation, and under
// each subject's fallback tag an index listing its referrers. A fallback index already
// there keeps its entries, in their order; new ones follow, by digest. put writes a new
// fallback index blob (before index.json refers to it); read reads the present one.
func addReferrers(cur *ocispec.Index, refs []Referrer, read func(ocispec.Descriptor) ([]byte, error), put func([]byte) (ocispec.Descriptor, error)) error {
	if len(refs) == 0 {
		return nil
	}
	listed := map[digest.Digest]bool{}
	for _, e := range cur.Manifests {
		if _, tagged := e.Annotations[ocispec.AnnotationRefName]; !tagged {
			listed[e.Digest] = true
		}
	}
	var subjects []digest.Digest
	bySubject := map[digest.Digest][]Referrer{}
	for _, r := range refs {
		if r.Tag != "" {
			// cosign 2 finds its signatures by this tag, not by a subject.
			cur.Manifests = setTag(cur.Manifests, r.Tag, ocispec.Descriptor{MediaType: r.Descriptor.MediaType,
				Digest: r.Descriptor.Digest, Size: r.Descriptor.Size})
			continue
		}
		if !listed[r.Descriptor.Digest] {
			listed[r.Descriptor.Digest] = true
			cur.Manifests = append(cur.Manifests, ocispec.Descriptor{MediaType: r.Descriptor.MediaType, Digest: r.Descriptor.Digest,
				Size: r.Descriptor.Size, ArtifactType: r.Descriptor.ArtifactType,
				Annotations: map[string]string{AnnotationReferrerSubject: string(r.Subject)}})
		}
		if _, ok := bySubject[r.Subject]; !ok {
			subjects = append(subjects, r.Subject)
		}
		bySubject[r.Subject] = append(bySubject[r.Subject], r)
	}
	for _, s := range subjects {
		tag := FallbackTag(s)
		var fallback ocispec.Index
		present := map[digest.Digest]bool{}
		for _, e := range cur.Manifests {
			if TagOf(e) != tag {
				continue
			}
			b, err := read(e)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("referrers tag %s: %w", tag, err)
			}
			if err == nil {
				idx, err := DecodeIndex(b)
				if err != nil {
					return fmt.Errorf("referrers tag %s: %w", tag, err)
				}
				fallback = *idx
			}
			break
		}
		for _, d := range fallback.Manifests {
			present[d.Digest] = true
		}
		var added []ocispec.Descriptor
		for _, r := range bySubject[s] {
			if !present[r.Descriptor.Digest] {
				present[r.Descriptor.Digest] = true
				added = append(added, r.Descriptor)
			}
		}
		if len(added) == 0 {
			continue
		}
		slices.SortFunc(added, func(a, b ocispec.Descriptor) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
		fallback.SchemaVersion = 2
		fallback.MediaType = ocispec.MediaTypeImageIndex
		fallback.Manifests = append(fallback.Manifests, added...)
		b, err := EncodeJSON(fallback)
		if err != nil {
			return err
		}
		d, err := put(b)
		if err != nil {
			return fmt.Errorf("referrers tag %s: %w", tag, err)
		}
		cur.Manifests = setTag(cur.Manifests, tag, d)
	}
	return nil
}

// referrerEntryGone tells whether the index.json entry e records a referrer whose
// subject is not kept (keep says which digests are): such an entry is dropped with its
// subject. A fallback tag is gone with its subject; an untagged referrer entry when its
// subject (from the document, or the annotation) is gone. A tagged referrer is an
// artifact someone named, and stays.
func referrerEntryGone(e ocispec.Descriptor, subjectOf map[digest.Digest]digest.Digest, keep func(digest.Digest) bool) bool {
	tag, tagged := e.Annotations[ocispec.AnnotationRefName]
	if s := CosignTagSubject(tag); s != "" {
		return !keep(s)
	}
	if IsReferrersTag(tag) {
		s := subjectOfTag(tag)
		if s == "" {
			return false
		}
		return !keep(s)
	}
	if tagged {
		return false
	}
	s, ok := subjectOf[e.Digest]
	if !ok {
		return false
	}
	return !keep(s)
}

// pruneReferrers drops from cur the referrer entries whose subject is no longer kept:
// untagged referrer entries and fallback tags. gone says which subjects may go (nil: any
// that nothing else in cur reaches). What a dropped referrer was the subject of goes too.
// It returns the dropped entries.
func (l *Layout) pruneReferrers(ctx context.Context, cur *ocispec.Index, gone func(digest.Digest) bool) ([]ocispec.Descriptor, error) {
	rs, err := l.referrersIn(ctx, cur.Manifests)
	if err != nil {
		return nil, err
	}
	if rs.Len() == 0 && !hasFallbackTag(cur.Manifests) {
		return nil, nil
	}
	subjectOf := map[digest.Digest]digest.Digest{}
	for s, list := range rs.by {
		for _, r := range list {
			subjectOf[r.Descriptor.Digest] = s
		}
	}
	// The roots: every entry that is not a referrer entry.
	var roots []ocispec.Descriptor
	for _, e := range cur.Manifests {
		tag, tagged := e.Annotations[ocispec.AnnotationRefName]
		_, isRef := subjectOf[e.Digest]
		switch {
		case IsReferrersTag(tag), CosignTagSubject(tag) != "":
		case isRef && !tagged:
		default:
			roots = append(roots, e)
		}
	}
	live := map[digest.Digest]bool{}
	var queue []digest.Digest // live digests whose referrers are still to be marked
	mark := func(ds []ocispec.Descriptor) error {
		return l.Walk(ctx, ds, func(ctx context.Context, n *Node) error {
			if !IsIndex(n.Descriptor.MediaType) && !IsManifest(n.Descriptor.MediaType) {
				return SkipChildren
			}
			if !live[n.Descriptor.Digest] {
				live[n.Descriptor.Digest] = true
				queue = append(queue, n.Descriptor.Digest)
			}
			return nil
		})
	}
	if err := mark(roots); err != nil {
		return nil, err
	}
	// keep says whether a subject stays: it is live, or it may not go (a referrer
	// itself may go whenever it is not live).
	keep := func(s digest.Digest) bool {
		return live[s] || (gone != nil && !gone(s) && !rs.IsReferrer(s))
	}
	if gone != nil {
		for s := range rs.by {
			if !live[s] && keep(s) {
				queue = append(queue, s)
			}
		}
	}
	// Referrers of kept subjects are live, and so is what they carry: one pass over a
	// work list, so a long chain of referrers costs its length, not its square.
	for i := 0; i < len(queue); i++ {
		for _, r := range rs.Of(queue[i]) {
			if !live[r.Descriptor.Digest] {
				if err := mark([]ocispec.Descriptor{r.Descriptor}); err != nil {
					return nil, err
				}
			}
		}
	}
	var dropped []ocispec.Descriptor
	kept := cur.Manifests[:0:0]
	for _, e := range cur.Manifests {
		if referrerEntryGone(e, subjectOf, keep) {
			dropped = append(dropped, e)
			continue
		}
		kept = append(kept, e)
	}
	cur.Manifests = kept
	return dropped, nil
}

func hasFallbackTag(entries []ocispec.Descriptor) bool {
	for _, e := range entries {
		if tag := TagOf(e); IsReferrersTag(tag) || CosignTagSubject(tag) != "" {
			return true
		}
	}
	return false
}

// referrersToCopy finds the referrers a copy of roots brings (see ReferrerClosure) and
// the blobs they need beyond have.
func (l *Layout) referrersToCopy(ctx context.Context, roots, have []ocispec.Descriptor) ([]Referrer, []ocispec.Descriptor, error) {
	rs, err := l.Referrers(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (--no-referrers copies without looking for referrers)", err)
	}
	refs, err := l.ReferrerClosure(ctx, rs, roots)
	if err != nil || len(refs) == 0 {
		return nil, nil, err
	}
	ds := make([]ocispec.Descriptor, len(refs))
	for i, r := range refs {
		ds[i] = r.Descriptor
	}
	blobs, err := l.Blobs(ctx, ds)
	if err != nil {
		return nil, nil, err
	}
	seen := map[digest.Digest]bool{}
	for _, d := range have {
		seen[d.Digest] = true
	}
	var out []ocispec.Descriptor
	for _, b := range blobs {
		if !seen[b.Digest] {
			seen[b.Digest] = true
			out = append(out, b)
		}
	}
	return refs, out, nil
}

// gcReferrers drops the referrer entries whose subject nothing in index.json keeps (see
// pruneReferrers), in one index.json change unless dryRun, and returns the index GC
// goes on with and what was dropped. GC holds the index lock already.
func (l *Layout) gcReferrers(ctx context.Context, dryRun bool) (*ocispec.Index, []ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, nil, err
	}
	cur := *idx
	cur.Manifests = slices.Clone(idx.Manifests)
	dropped, err := l.pruneReferrers(ctx, &cur, nil)
	if err != nil || dryRun || len(dropped) == 0 {
		// index.json is left untouched, byte for byte, when nothing is dropped.
		return &cur, dropped, err
	}
	var after ocispec.Index
	err = l.updateIndexLocked(func(cur *ocispec.Index) error {
		var err error
		dropped, err = l.pruneReferrers(ctx, cur, nil)
		after = *cur
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return &after, dropped, nil
}

// referrerEntries lists the entries of entries that record referrers.
func (l *Layout) referrerEntries(ctx context.Context, entries []ocispec.Descriptor) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for _, e := range entries {
		if l.isReferrerEntry(ctx, e) {
			out = append(out, e)
		}
	}
	return out
}

// AddReferrers fills in the Referrers of every node of trees (children included) from
// rs, and theirs in turn, down to MaxDepth levels below the root. A referrer met again
// under the same root (a cycle) is listed with Repeated set and not expanded.
func (l *Layout) AddReferrers(ctx context.Context, rs *Referrers, trees []*TreeNode) error {
	if rs.Len() == 0 {
		return nil
	}
	for _, t := range trees {
		if err := l.addReferrerNodes(ctx, rs, t, map[digest.Digest]bool{t.Descriptor.Digest: true}, 0); err != nil {
			return err
		}
	}
	return nil
}

func (l *Layout) addReferrerNodes(ctx context.Context, rs *Referrers, n *TreeNode, seen map[digest.Digest]bool, depth int) error {
	for _, c := range n.Children {
		seen[c.Descriptor.Digest] = true
		if err := l.addReferrerNodes(ctx, rs, c, seen, depth+1); err != nil {
			return err
		}
	}
	if depth > MaxDepth {
		return nil // a chain of referrers of referrers is listed this deep, no deeper
	}
	for _, r := range rs.Of(n.Descriptor.Digest) {
		if seen[r.Descriptor.Digest] {
			n.Referrers = append(n.Referrers, &TreeNode{Descriptor: r.Descriptor, Repeated: true})
			continue
		}
		seen[r.Descriptor.Digest] = true
		t, err := l.Tree(ctx, []ocispec.Descriptor{r.Descriptor})
		if err != nil {
			return err
		}
		t[0].Descriptor = r.Descriptor
		n.Referrers = append(n.Referrers, t[0])
		if err := l.addReferrerNodes(ctx, rs, t[0], seen, depth+1); err != nil {
			return err
		}
	}
	return nil
}

package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
)

// Entry is one descriptor of index.json with what resolution makes of it.
type Entry struct {
	Tag        string // org.opencontainers.image.ref.name, "" when untagged
	Descriptor ocispec.Descriptor
	// Root is true for an entry that stands for an image or artifact of its own: not
	// reachable from another entry, without a subject, not a referrers fallback tag
	// (sha256-<hex>) nor a cosign tag (sha256-<hex>.sig, .att, .sbom), and of an index
	// or manifest media type.
	Root bool
	// NotRoot says why Root is false.
	NotRoot string
}

// Entries reads index.json and classifies its entries (see Entry.Root). Root detection
// reads every index reachable from index.json and every top-level manifest (to see a
// subject); an entry whose blob cannot be read is kept as a root, so that the error shows
// when it is used rather than hiding it.
func (l *Layout) Entries(ctx context.Context) ([]Entry, error) {
	entries, _, err := l.entries(ctx, false)
	return entries, err
}

// EntryTrees is Entries together with the Tree of each entry (nil for an entry whose media
// type is neither an index nor a manifest), reading each document once: the tree's walk
// is what shows whether an entry is a referrer. A layout of 100,000 tags is listed with
// 100,000 manifest reads rather than twice as many. An entry's tree fails as Tree fails.
func (l *Layout) EntryTrees(ctx context.Context) ([]Entry, []*TreeNode, error) {
	return l.entries(ctx, true)
}

func (l *Layout) entries(ctx context.Context, trees bool) ([]Entry, []*TreeNode, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, nil, err
	}
	entries := make([]Entry, len(idx.Manifests))
	for i, d := range idx.Manifests {
		entries[i] = Entry{Tag: TagOf(d), Descriptor: d, Root: true}
	}
	// Children of the indexes listed in index.json (oras-go also lists every child manifest
	// at the top level).
	children := map[digest.Digest]digest.Digest{}
	var tops []ocispec.Descriptor
	for _, e := range entries {
		// A fallback tag's index lists referrers, which are marked as such below.
		if IsIndex(e.Descriptor.MediaType) && !IsReferrersTag(e.Tag) {
			tops = append(tops, e.Descriptor)
		}
	}
	for _, top := range tops {
		err := l.Walk(ctx, []ocispec.Descriptor{top}, func(ctx context.Context, n *Node) error {
			if n.Depth() > 0 {
				if _, ok := children[n.Descriptor.Digest]; !ok {
					children[n.Descriptor.Digest] = top.Digest
				}
			}
			if IsIndex(n.Descriptor.MediaType) {
				return nil
			}
			return SkipChildren
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
	}
	var out []*TreeNode
	var pre []readDoc
	workers := min(runtime.GOMAXPROCS(0), readAheadWorkers)
	if trees {
		out = make([]*TreeNode, len(entries))
	}
	for i := range entries {
		e := &entries[i]
		d := e.Descriptor
		image := IsIndex(d.MediaType) || IsManifest(d.MediaType)
		if trees && workers > 1 && i%readAheadBatch == 0 {
			pre = l.readAhead(ctx, entries[i:min(i+readAheadBatch, len(entries))], workers, pre)
		}
		if trees && image {
			var p *readDoc
			if workers > 1 {
				p = &pre[i%readAheadBatch]
			}
			tree, err := l.tree(ctx, []ocispec.Descriptor{d}, p)
			if err != nil {
				return nil, nil, err
			}
			out[i] = tree[0]
		}
		switch {
		case !image:
			e.Root, e.NotRoot = false, fmt.Sprintf("media type %q is not an image", d.MediaType)
		case IsReferrersTag(e.Tag):
			e.Root, e.NotRoot = false, "referrers tag"
		case CosignTagSubject(e.Tag) != "":
			e.Root, e.NotRoot = false, "cosign tag"
		case children[d.Digest] != "" && children[d.Digest] != d.Digest:
			e.Root, e.NotRoot = false, "part of "+string(children[d.Digest])
		case trees:
			if out[i].subject {
				e.Root, e.NotRoot = false, "referrer"
			}
		default:
			if _, idx, m, err := l.ReadDocument(ctx, d); err == nil {
				if (m != nil && m.Subject != nil) || (idx != nil && idx.Subject != nil) {
					e.Root, e.NotRoot = false, "referrer"
				}
			}
		}
	}
	return entries, out, nil
}

// ResolveOptions narrow a resolution.
type ResolveOptions struct {
	// Platform, when set, selects the one manifest for that platform (see package platform
	// for the matching rules): among the children of the resolved index, or among all roots
	// when the reference names neither a tag nor a digest.
	Platform *ocispec.Platform
}

// Resolved is what a reference selects.
type Resolved struct {
	Layout *Layout
	Ref    Reference
	// Tag is the index.json tag the selection came through, "" when none.
	Tag string
	// Root is the index.json entry (or, for a digest reference, the descriptor) that was
	// selected before any platform narrowing.
	Root ocispec.Descriptor
	// Descriptor is the selection. For a manifest whose descriptor has no platform, the
	// platform found in its config (or annotations) is filled in.
	Descriptor ocispec.Descriptor
	// PlatformSource says where Descriptor.Platform came from ("" when it has none).
	PlatformSource PlatformSource
}

// ResolveRef parses s, opens its layout and resolves it. Close res.Layout when done.
func ResolveRef(ctx context.Context, s string, opts ResolveOptions, lopts ...Option) (*Resolved, error) {
	ref, err := ParseReference(s)
	if err != nil {
		return nil, err
	}
	l, err := Open(ref.Path, lopts...)
	if err != nil {
		return nil, err
	}
	res, err := l.Resolve(ctx, ref, opts)
	if err != nil {
		l.Close()
		return nil, err
	}
	return res, nil
}

// Resolve selects what ref names in this layout (ref.Path is not used):
//
//   - TAG: the index.json entry with that ref.name. Several entries with different digests
//     give ErrAmbiguous; none gives ErrNotFound, listing the tags there are. Names inside
//     nested indexes are never used.
//   - DIGEST: the index.json entry with that digest, else the descriptor that lists it in an
//     index under index.json (keeping its platform), else the blob itself when it is present
//     and is an index or manifest. Identity is (digest, platform): a manifest listed for
//     several platforms is several entries, the platform selects one, and without a
//     platform that is ErrAmbiguous, listing them.
//   - TAG@DIGEST: DIGEST, which must be TAG's entry or under it (chosen the same way).
//   - neither: the single root (see Entries); several roots are narrowed by the platform;
//     still several, or none, gives an error that lists every candidate.
//
// With a platform, an index is then narrowed to its one matching manifest (attestations
// and unknown/unknown entries are never candidates) and a manifest must match it. Every
// listing of a manifest is a candidate with its own platform; listings with the same digest
// and the same normalized platform count as one.
func (l *Layout) Resolve(ctx context.Context, ref Reference, opts ResolveOptions) (*Resolved, error) {
	subject := ref.String()
	if ref.Path == "" {
		subject = l.path + subject
	}
	res := &Resolved{Layout: l, Ref: ref}
	var matcher *platform.Matcher
	if opts.Platform != nil {
		m := platform.NewMatcher(*opts.Platform)
		matcher = &m
	}
	narrowed := false
	switch {
	case ref.Tag != "":
		ds, err := l.resolveTag(ctx, subject, ref.Tag)
		if err != nil {
			return nil, err
		}
		d := ds[0]
		if ref.Digest == "" || ref.Digest == d.Digest {
			if d, err = l.oneListing(ctx, subject, ref.Tag, ds, matcher, opts.Platform); err != nil {
				return nil, err
			}
		}
		res.Tag, res.Root = ref.Tag, d
		if ref.Digest != "" && ref.Digest != d.Digest {
			under, err := l.findUnder(ctx, []ocispec.Descriptor{d}, ref.Digest)
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", subject, err)
			}
			if len(under) == 0 {
				return nil, fmt.Errorf("resolve %s: %w: %s is not tag %q nor under it", subject, ErrNotFound, ref.Digest, ref.Tag)
			}
			if res.Root, err = l.oneListing(ctx, subject, ref.Tag, under, matcher, opts.Platform); err != nil {
				return nil, err
			}
		}
	case ref.Digest != "":
		ds, err := l.resolveDigest(ctx, subject, ref.Digest)
		if err != nil {
			return nil, err
		}
		if res.Root, err = l.oneListing(ctx, subject, "", ds, matcher, opts.Platform); err != nil {
			return nil, err
		}
		res.Tag = TagOf(res.Root)
	default:
		entries, err := l.Entries(ctx)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", subject, err)
		}
		roots := rootsOf(entries)
		switch {
		case len(roots) == 0:
			return nil, fmt.Errorf("resolve %s: %w: index.json lists no image", subject, ErrNotFound)
		case len(roots) == 1:
			res.Tag, res.Root = roots[0].Tag, roots[0].Descriptor
		case matcher == nil:
			cands, err := l.rootCandidates(ctx, roots)
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", subject, err)
			}
			return nil, &AmbiguousError{Subject: subject, Reason: fmt.Sprintf("index.json lists %d images", len(roots)),
				Hint: "choose one with :TAG, @DIGEST or --platform", Candidates: cands}
		default:
			var all []Candidate
			var rootOf []Entry
			for _, r := range roots {
				cs, err := l.PlatformCandidates(ctx, r.Descriptor)
				if err != nil {
					return nil, fmt.Errorf("resolve %s: %w", subject, err)
				}
				for _, c := range cs {
					if c.Descriptor.Digest == r.Descriptor.Digest {
						c.Tag = r.Tag
					} else {
						c.Parent = r.Tag
					}
					all = append(all, c)
					rootOf = append(rootOf, r)
				}
			}
			i, err := pick(subject, all, *matcher, *opts.Platform)
			if err != nil {
				return nil, err
			}
			res.Tag, res.Root = rootOf[i].Tag, rootOf[i].Descriptor
			res.Descriptor, res.PlatformSource = all[i].Descriptor, candidateSource(all[i])
			narrowed = true
		}
	}
	if narrowed {
		return res, nil
	}
	res.Descriptor = res.Root
	switch {
	case matcher != nil:
		cs, err := l.PlatformCandidates(ctx, res.Root)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", subject, err)
		}
		for i := range cs {
			if cs[i].Descriptor.Digest != res.Root.Digest {
				cs[i].Parent = res.Tag
			}
		}
		if IsManifest(res.Root.MediaType) && len(cs) == 0 {
			return nil, fmt.Errorf("resolve %s: %w: %s has no platform (not on its descriptor, in its config or annotations) to match %s",
				subject, ErrNotFound, res.Root.Digest, platform.Format(*opts.Platform))
		}
		i, err := pick(subject, cs, *matcher, *opts.Platform)
		if err != nil {
			return nil, err
		}
		res.Descriptor, res.PlatformSource = cs[i].Descriptor, candidateSource(cs[i])
	case IsManifest(res.Root.MediaType):
		p, src, err := l.PlatformOf(ctx, res.Root)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", subject, err)
		}
		if p != nil {
			res.Descriptor.Platform, res.PlatformSource = p, src
		}
	}
	return res, nil
}

func candidateSource(c Candidate) PlatformSource {
	if c.Descriptor.Platform == nil {
		return ""
	}
	if c.source != "" {
		return c.source
	}
	return FromDescriptor
}

// pick selects the one candidate that matches. Identity is (digest, platform): candidates
// with the same digest and the same normalized platform count as one; one manifest listed
// for two matching platforms is two candidates.
func pick(subject string, cs []Candidate, m platform.Matcher, want ocispec.Platform) (int, error) {
	var hits []int
	seen := map[string]bool{}
	for i, c := range cs {
		if c.Descriptor.Platform == nil || c.attestation || !m.Match(*c.Descriptor.Platform) {
			continue
		}
		if k := EntryKey(c.Descriptor.Digest, c.Descriptor.Platform); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		hits = append(hits, i)
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		var have []string
		for _, c := range cs {
			if c.Descriptor.Platform != nil && !c.attestation {
				have = append(have, platform.Format(*c.Descriptor.Platform))
			}
		}
		avail := "none has a platform"
		if len(have) > 0 {
			sort.Strings(have)
			avail = "available: " + strings.Join(dedupe(have), ", ")
		}
		return 0, fmt.Errorf("resolve %s: %w: no manifest for platform %s (%s)", subject, ErrNotFound, platform.Format(want), avail)
	}
	amb := &AmbiguousError{Subject: subject,
		Reason: fmt.Sprintf("%d manifests match platform %s", len(hits), platform.Format(want)),
		Hint:   "add the variant or os.version to --platform, or use @DIGEST"}
	for _, i := range hits {
		amb.Candidates = append(amb.Candidates, cs[i])
	}
	return 0, amb
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// PlatformCandidates lists the manifests d stands for, each with its platform (from its
// descriptor, else its config or annotations): d itself for a manifest, its children
// (nested indexes flattened) for an index. A manifest listed several times is a candidate
// each time, with the platform of that listing: identity is (digest, platform).
func (l *Layout) PlatformCandidates(ctx context.Context, d ocispec.Descriptor) ([]Candidate, error) {
	type found struct {
		p   *ocispec.Platform
		src PlatformSource
	}
	var out []Candidate
	byDigest := map[digest.Digest]found{} // what a manifest's own bytes say, read once
	err := l.Walk(ctx, []ocispec.Descriptor{d}, func(ctx context.Context, n *Node) error {
		switch {
		case n.Index != nil:
			return nil
		case n.Manifest != nil || ((n.Missing || n.Seen) && IsManifest(n.Descriptor.MediaType)):
			c := Candidate{Descriptor: n.Descriptor, attestation: IsAttestation(n.Descriptor)}
			if c.Descriptor.Platform == nil && !n.Missing {
				f, ok := byDigest[n.Descriptor.Digest]
				if !ok {
					m := n.Manifest
					if m == nil { // listed earlier in this walk, so not read again by Walk
						_, _, doc, err := l.ReadDocument(ctx, n.Descriptor)
						if err != nil && !errors.Is(err, ErrNotFound) {
							return err
						}
						m = doc
					}
					if m != nil {
						p, src, err := l.manifestPlatform(ctx, m)
						if err != nil {
							return err
						}
						f = found{p, src}
					}
					byDigest[n.Descriptor.Digest] = f
				}
				c.Descriptor.Platform, c.source = f.p, f.src
			}
			out = append(out, c)
		}
		return SkipChildren
	})
	return out, err
}

// entryKey is the identity of an entry: its digest and its normalized platform (none
// when p is nil).
func EntryKey(d digest.Digest, p *ocispec.Platform) string {
	if p == nil {
		return string(d)
	}
	return string(d) + "\x00" + platform.Key(*p)
}

// IsAttestation reports whether d is a buildkit attestation or another unknown/unknown
// entry, which is never a platform of its own.
func IsAttestation(d ocispec.Descriptor) bool {
	if d.Annotations[AnnotationReferenceType] == ReferenceTypeAttestation {
		return true
	}
	return d.Platform != nil && platform.IsUnknown(d.Platform)
}

func (l *Layout) rootCandidates(ctx context.Context, roots []Entry) ([]Candidate, error) {
	out := make([]Candidate, 0, len(roots))
	for i, r := range roots {
		c := Candidate{Tag: r.Tag, Descriptor: r.Descriptor}
		if i < MaxListedCandidates && c.Descriptor.Platform == nil && IsManifest(c.Descriptor.MediaType) {
			if p, _, err := l.PlatformOf(ctx, c.Descriptor); err == nil {
				c.Descriptor.Platform = p
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// resolveTag finds the index.json entries named tag. Entries with the same digest and
// platform are one; several entries with one digest and different platforms are all
// returned (see oneListing); different digests are ErrAmbiguous.
func (l *Layout) resolveTag(ctx context.Context, subject, tag string) ([]ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	var hits []ocispec.Descriptor
	var tags []string
	for _, d := range idx.Manifests {
		name, ok := d.Annotations[ocispec.AnnotationRefName]
		if !ok {
			continue
		}
		tags = append(tags, name)
		if name != tag {
			continue
		}
		dup := false
		for _, h := range hits {
			dup = dup || EntryKey(h.Digest, h.Platform) == EntryKey(d.Digest, d.Platform)
		}
		if !dup {
			hits = append(hits, d)
		}
	}
	digests := map[digest.Digest]bool{}
	for _, h := range hits {
		digests[h.Digest] = true
	}
	switch {
	case len(hits) > 0 && len(digests) == 1:
		return hits, nil
	case len(hits) == 0:
		have := "the layout has no tags"
		if len(tags) > 0 {
			sort.Strings(tags)
			tags = dedupe(tags)
			have = "tags: " + strings.Join(tags[:min(len(tags), MaxListedCandidates)], ", ")
			if n := len(tags) - MaxListedCandidates; n > 0 {
				have += fmt.Sprintf(" and %d more", n)
			}
		}
		return nil, fmt.Errorf("resolve %s: %w: no tag %q (%s)", subject, ErrNotFound, tag, have)
	}
	amb := &AmbiguousError{Subject: subject, Reason: fmt.Sprintf("%d index.json entries are tagged %q", len(hits), tag),
		Hint: "use @DIGEST, and remove the stale entry"}
	for _, h := range hits {
		amb.Candidates = append(amb.Candidates, Candidate{Tag: tag, Descriptor: h})
	}
	return nil, amb
}

// resolveDigest finds the descriptors of d: its index.json entries, else its listings in
// the indexes under index.json (each keeping its platform), else the blob itself when it
// is present and is an index or manifest.
func (l *Layout) resolveDigest(ctx context.Context, subject string, d digest.Digest) ([]ocispec.Descriptor, error) {
	idx, err := l.Index(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	var top []ocispec.Descriptor
	for _, e := range idx.Manifests {
		if e.Digest == d {
			top = append(top, e)
		}
	}
	if len(top) > 0 {
		return top, nil
	}
	var tops []ocispec.Descriptor
	for _, e := range idx.Manifests {
		if IsIndex(e.MediaType) {
			tops = append(tops, e)
		}
	}
	under, err := l.findUnder(ctx, tops, d)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	if len(under) > 0 {
		return under, nil
	}
	// A blob that nothing in index.json reaches: describe it from its own bytes.
	p, err := BlobPath(d)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	fi, err := fs.Stat(l.fsys, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if lo := l.leftOutError(d); lo != nil {
				return nil, fmt.Errorf("resolve %s: blob %s: %w", subject, d, lo)
			}
			return nil, fmt.Errorf("resolve %s: %w: no blob %s", subject, ErrNotFound, d)
		}
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	desc := ocispec.Descriptor{Digest: d, Size: fi.Size()}
	b, err := l.ReadBlob(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	desc.MediaType = sniffMediaType(b)
	if desc.MediaType == "" {
		return nil, fmt.Errorf("resolve %s: %w: blob %s is neither an index nor a manifest", subject, ErrNotFound, d)
	}
	return []ocispec.Descriptor{desc}, nil
}

// oneListing chooses among the listings of one digest. Listings that agree on the platform
// (after filling it from the manifest's config or annotations) are one, and the first is
// taken. Listings for different platforms are different entries: want selects one, and
// without it the choice is ErrAmbiguous, listing them.
func (l *Layout) oneListing(ctx context.Context, subject, tag string, ds []ocispec.Descriptor, m *platform.Matcher, want *ocispec.Platform) (ocispec.Descriptor, error) {
	if len(ds) == 1 {
		return ds[0], nil
	}
	cs := make([]Candidate, len(ds))
	keys := map[string]bool{}
	for i, d := range ds {
		cs[i] = Candidate{Tag: TagOf(d), Descriptor: d, attestation: IsAttestation(d)}
		if cs[i].Tag == "" {
			cs[i].Tag = tag
		}
		if d.Platform == nil {
			p, src, err := l.PlatformOf(ctx, d)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", subject, err)
			}
			cs[i].Descriptor.Platform, cs[i].source = p, src
		}
		keys[EntryKey(d.Digest, cs[i].Descriptor.Platform)] = true
	}
	if len(keys) == 1 {
		return ds[0], nil
	}
	if m != nil {
		i, err := pick(subject, cs, *m, *want)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		return ds[i], nil
	}
	return ocispec.Descriptor{}, &AmbiguousError{Subject: subject,
		Reason:     fmt.Sprintf("%s is listed for %d platforms", ds[0].Digest, len(keys)),
		Hint:       "choose one with --platform",
		Candidates: cs}
}

// findUnder lists the descriptors of d among the descendants of roots (indexes only), in
// walk order: one manifest may be listed several times, for several platforms.
func (l *Layout) findUnder(ctx context.Context, roots []ocispec.Descriptor, d digest.Digest) ([]ocispec.Descriptor, error) {
	var found []ocispec.Descriptor
	err := l.Walk(ctx, roots, func(ctx context.Context, n *Node) error {
		if n.Depth() > 0 && n.Descriptor.Digest == d {
			found = append(found, n.Descriptor)
		}
		if n.Index != nil {
			return nil
		}
		return SkipChildren
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// ResolveAll resolves every image a layout holds, for a copy of the whole layout: one
// Resolved per root entry of index.json (see Entry.Root), in index.json's order, each
// selected by its tag (Ref names it: PATH:TAG), then one per other tagged entry (a tag
// on a manifest of a tagged index, a tagged referrer), so that no tag is lost. Untagged
// referrers, referrers tags and cosign tags are not selected: a copy brings them with
// their subjects. ref must name the layout alone, without a tag or digest. The same
// listing twice (tag, digest and platform alike) counts once.
//
// A layout whose roots cannot each be named is refused (ErrAmbiguous), naming them: an
// untagged root beside others (its entry in a destination would have no name to keep
// it apart), or a tag listed more than once (one listing per platform: a copy takes one
// listing per tag).
func (l *Layout) ResolveAll(ctx context.Context, ref Reference) ([]*Resolved, error) {
	subject := ref.String()
	if ref.Tag != "" || ref.Digest != "" {
		return nil, fmt.Errorf("resolve %s: %w: ResolveAll takes a layout without a tag or digest", subject, ErrInvalidOption)
	}
	entries, err := l.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", subject, err)
	}
	roots := rootsOf(entries)
	if len(roots) == 0 {
		return nil, fmt.Errorf("resolve %s: %w: index.json lists no image", subject, ErrNotFound)
	}
	var notImages []string
	for _, e := range entries {
		switch {
		case e.Root || e.Tag == "" || IsReferrersTag(e.Tag) || CosignTagSubject(e.Tag) != "":
		case IsIndex(e.Descriptor.MediaType) || IsManifest(e.Descriptor.MediaType):
			roots = append(roots, e) // tagged, under another entry or a referrer: keep its tag
		default:
			notImages = append(notImages, e.Tag)
		}
	}
	if len(notImages) > 0 {
		return nil, fmt.Errorf("resolve %s: %w: the tag %s names neither an index nor a manifest, which a copy cannot select", subject, ErrInvalidOption, firstFew(notImages))
	}
	seen := map[string]bool{}
	kept := roots[:0]
	for _, r := range roots {
		k := r.Tag + "\x00" + EntryKey(r.Descriptor.Digest, r.Descriptor.Platform)
		if !seen[k] {
			seen[k] = true
			kept = append(kept, r)
		}
	}
	roots = kept
	listed := map[string]int{}
	var untagged []string
	for _, r := range roots {
		if r.Tag == "" {
			untagged = append(untagged, string(r.Descriptor.Digest))
		}
		listed[r.Tag]++
	}
	if len(roots) > 1 && len(untagged) > 0 {
		return nil, fmt.Errorf("resolve %s: %w: index.json lists %d images and %s untagged (%s); a copy of the whole layout names every entry by its tag: copy the untagged ones by digest to a tag (%s@DIGEST DST:TAG), or the others by tag",
			subject, ErrAmbiguous, len(roots), count(len(untagged), "is", "are"), firstFew(untagged), subject)
	}
	var twice []string
	for _, r := range roots {
		if r.Tag != "" && listed[r.Tag] > 1 {
			twice = append(twice, r.Tag)
			listed[r.Tag] = 0 // named once
		}
	}
	if len(twice) > 0 {
		return nil, fmt.Errorf("resolve %s: %w: index.json lists the tag %s more than once (once per platform); a copy takes one listing per tag: copy it with --platform (%s:TAG --platform OS/ARCH)",
			subject, ErrAmbiguous, firstFew(twice), subject)
	}
	out := make([]*Resolved, len(roots))
	for i, r := range roots {
		sel := ref
		sel.Tag = r.Tag
		if r.Tag == "" {
			sel.Digest = r.Descriptor.Digest
		}
		out[i] = &Resolved{Layout: l, Ref: sel, Tag: r.Tag, Root: r.Descriptor, Descriptor: r.Descriptor}
	}
	return out, nil
}

// rootsOf keeps the root entries (Entry.Root) of entries, in order.
func rootsOf(entries []Entry) []Entry {
	var roots []Entry
	for _, e := range entries {
		if e.Root {
			roots = append(roots, e)
		}
	}
	return roots
}

// firstFew joins up to five of names, then says how many more there are.
func firstFew(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
}

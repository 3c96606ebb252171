package layout

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tag gives the entry d the tags, in one locked UpdateIndex: each tag's current entry is
// replaced in place, or a new entry appended (see SetEntry). d's blob must be present.
func (l *Layout) Tag(ctx context.Context, d ocispec.Descriptor, tags ...string) error {
	for _, t := range tags {
		if err := ValidateRefName(t); err != nil {
			return fmt.Errorf("tag %s: %w", l.path, err)
		}
	}
	end, err := l.Session(ctx)
	if err != nil {
		return err
	}
	defer end()
	if ok, err := l.HasBlob(d); err != nil || !ok {
		return fmt.Errorf("tag %s: %w: blob %s is not in the layout", l.path, ErrNotFound, d.Digest)
	}
	return l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		for _, t := range tags {
			cur.Manifests = setTag(cur.Manifests, t, d)
		}
		return nil
	})
}

// setTag returns entries with d under tag: the first entry with that tag is replaced in
// place, others with it are dropped, or d is appended.
func setTag(entries []ocispec.Descriptor, tag string, d ocispec.Descriptor) []ocispec.Descriptor {
	d = WithTag(d, tag)
	replaced := false
	kept := entries[:0]
	for _, e := range entries {
		switch {
		case TagOf(e) != tag:
			kept = append(kept, e)
		case !replaced:
			kept = append(kept, d)
			replaced = true
		}
	}
	if !replaced {
		kept = append(kept, d)
	}
	return kept
}

// Untag removes the index.json entries with the given tags, in one locked UpdateIndex.
// A tag that is not there is ErrNotFound, and nothing changes. The blobs stay (gc removes
// what is no longer reachable).
func (l *Layout) Untag(ctx context.Context, tags ...string) error {
	return l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		for _, t := range tags {
			found := false
			kept := cur.Manifests[:0]
			for _, e := range cur.Manifests {
				if TagOf(e) == t {
					found = true
					continue
				}
				kept = append(kept, e)
			}
			if !found {
				return fmt.Errorf("untag %s: %w: no tag %q", l.path, ErrNotFound, t)
			}
			cur.Manifests = kept
		}
		return nil
	})
}

// RemovePlatforms drops the manifests matching any of platforms (and their attestations
// and referrers) from the index tag names, writes the smaller index as a new blob and
// moves the tag to it; the entry keeps its other annotations. A platform that matches
// nothing is ErrNotFound, and nothing changes. It returns the new entry and what was
// removed: the index's children, then the index.json entries of referrers whose subject
// went (see Layout.Referrers; those of the old index too, since the index is rewritten),
// unless something still listed keeps that subject.
func (l *Layout) RemovePlatforms(ctx context.Context, tag string, platforms []ocispec.Platform) (ocispec.Descriptor, []ocispec.Descriptor, error) {
	end, err := l.Session(ctx)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	defer end()
	subject := l.path + ":" + tag
	entries, err := l.resolveTag(ctx, subject, tag)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	entry := entries[0] // entries have one digest
	if !IsIndex(entry.MediaType) {
		return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w: %s is a %s, not an index of platforms", subject, ErrNotFound, entry.Digest, entry.MediaType)
	}
	raw, idx, _, err := l.ReadDocument(ctx, entry)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w", subject, err)
	}
	drop, err := l.matchChildren(ctx, idx, platforms)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w", subject, err)
	}
	// An attestation goes with its image, unless that image stays listed for another
	// platform: identity is (digest, platform), and an attestation names a digest only.
	dropped := map[digest.Digest]bool{}
	for i, c := range idx.Manifests {
		if drop[i] {
			dropped[c.Digest] = true
		}
	}
	for i, c := range idx.Manifests {
		if !drop[i] && !IsAttestation(c) {
			delete(dropped, c.Digest)
		}
	}
	keep := make([]bool, len(drop))
	var removed []ocispec.Descriptor
	for i, a := range attestationsOf(idx.Manifests, dropped) {
		if drop[i] || a {
			removed = append(removed, idx.Manifests[i])
		} else {
			keep[i] = true
		}
	}
	b, err := keepChildren(raw, keep)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	nd, err := l.PutBlob(ctx, entry.MediaType, b)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w", subject, err)
	}
	nd.ArtifactType, nd.Annotations, nd.Platform = entry.ArtifactType, copyAnnotations(entry.Annotations), entry.Platform
	err = l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		// The tag must still point where it did when the index was read.
		for _, e := range cur.Manifests {
			if TagOf(e) == tag && e.Digest != entry.Digest {
				return fmt.Errorf("rm %s: %w: the tag moved to %s meanwhile; run again", subject, ErrConflict, e.Digest)
			}
		}
		cur.Manifests = setTag(cur.Manifests, tag, nd)
		// The referrers of what went (the removed manifests, the old index) go with it,
		// unless something still listed keeps their subject.
		gone := map[digest.Digest]bool{entry.Digest: true}
		for _, r := range removed {
			gone[r.Digest] = true
		}
		refs, err := l.pruneReferrers(ctx, cur, func(d digest.Digest) bool { return gone[d] })
		removed = append(removed, refs...)
		return err
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return nd, removed, nil
}

package layout

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
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
	d.Annotations = copyAnnotations(d.Annotations)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[ocispec.AnnotationRefName] = tag
	replaced := false
	kept := entries[:0]
	for _, e := range entries {
		switch {
		case e.Annotations[ocispec.AnnotationRefName] != tag:
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
				if e.Annotations[ocispec.AnnotationRefName] == t {
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

// RemovePlatforms drops the manifests matching any of platforms (and their attestations)
// from the index tag names, writes the smaller index as a new blob and moves the tag to
// it; the entry keeps its other annotations. A platform that matches nothing is
// ErrNotFound, and nothing changes. It returns the new entry and what was removed.
func (l *Layout) RemovePlatforms(ctx context.Context, tag string, platforms []ocispec.Platform) (ocispec.Descriptor, []ocispec.Descriptor, error) {
	end, err := l.Session(ctx)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	defer end()
	subject := l.path + ":" + tag
	entry, err := l.resolveTag(ctx, subject, tag)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if !IsIndex(entry.MediaType) {
		return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w: %s is a %s, not an index of platforms", subject, ErrNotFound, entry.Digest, entry.MediaType)
	}
	raw, idx, _, err := l.ReadDocument(ctx, entry)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w", subject, err)
	}
	var doc map[string]json.RawMessage
	var rawChildren []json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if err := json.Unmarshal(doc["manifests"], &rawChildren); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	used := make([]bool, len(platforms))
	drop := make([]bool, len(idx.Manifests))
	dropped := map[digest.Digest]bool{}
	var have []string
	for i, c := range idx.Manifests {
		if IsAttestation(c) {
			continue
		}
		p := c.Platform
		if p == nil && IsManifest(c.MediaType) {
			if p, _, err = l.PlatformOf(ctx, c); err != nil {
				return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w", subject, err)
			}
		}
		if p == nil {
			continue
		}
		have = append(have, platform.Format(*p))
		for j, want := range platforms {
			if platform.NewMatcher(want).Match(*p) {
				used[j], drop[i], dropped[c.Digest] = true, true, true
			}
		}
	}
	for j, u := range used {
		if !u {
			return ocispec.Descriptor{}, nil, fmt.Errorf("rm %s: %w: no manifest for platform %s (there are: %s)", subject, ErrNotFound, platform.Format(platforms[j]), strings.Join(have, ", "))
		}
	}
	var keep []json.RawMessage
	var removed []ocispec.Descriptor
	for i, c := range idx.Manifests {
		if IsAttestation(c) && dropped[digest.Digest(c.Annotations["vnd.docker.reference.digest"])] {
			drop[i] = true
		}
		if drop[i] {
			removed = append(removed, c)
			continue
		}
		keep = append(keep, rawChildren[i])
	}
	if keep == nil {
		keep = []json.RawMessage{}
	}
	mb, _ := json.Marshal(keep)
	doc["manifests"] = mb
	b, err := EncodeJSON(doc)
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
			if e.Annotations[ocispec.AnnotationRefName] == tag && e.Digest != entry.Digest {
				return fmt.Errorf("rm %s: %w: the tag moved to %s meanwhile; run again", subject, ErrConflict, e.Digest)
			}
		}
		cur.Manifests = setTag(cur.Manifests, tag, nd)
		return nil
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return nd, removed, nil
}

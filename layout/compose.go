package layout

import (
	"context"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
)

// AddToIndex puts child (a manifest descriptor with a platform) into the nested index
// that tag names, replacing the child with the same normalized platform (os.version
// included) where it stands, or appending it; the tag is then moved to the new index. A tag that does not
// exist yet gets a new index holding only child. The read of the current index, the write
// of the new one and the move of the tag happen under the index.json lock, so concurrent
// adds of different platforms to one tag all land. A tag that names a manifest rather than
// an index is ErrConflict. It returns the new index.json entry and the replaced child, if
// any.
func (l *Layout) AddToIndex(ctx context.Context, tag string, child ocispec.Descriptor) (ocispec.Descriptor, *ocispec.Descriptor, error) {
	if child.Platform == nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("add to %s:%s: %w: the manifest has no platform", l.path, tag, ErrInvalidOption)
	}
	if tag != "" {
		if err := ValidateRefName(tag); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("add to %s: %w", l.path, err)
		}
	}
	var entry ocispec.Descriptor
	var replaced *ocispec.Descriptor
	err := l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		pos := -1
		for i, e := range cur.Manifests {
			if name := e.Annotations[ocispec.AnnotationRefName]; name == tag || (tag == "" && len(cur.Manifests) == 1 && name == "") {
				pos = i
				break
			}
		}
		if tag == "" && pos < 0 && len(cur.Manifests) > 0 {
			return fmt.Errorf("add to %s: %w: it has %s; name a tag (%s:TAG)", l.path, ErrConflict, count(len(cur.Manifests), "entry", "entries"), l.path)
		}
		raw := []byte(`{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `","manifests":[]}`)
		replaceAt := -1
		mediaType := ocispec.MediaTypeImageIndex
		var annotations map[string]string
		if pos >= 0 {
			old := cur.Manifests[pos]
			if !IsIndex(old.MediaType) {
				return fmt.Errorf("add to %s:%s: %w: the tag names a %s, not an index", l.path, tag, ErrConflict, old.MediaType)
			}
			var idx *ocispec.Index
			var err error
			if raw, idx, _, err = l.ReadDocument(ctx, old); err != nil {
				return fmt.Errorf("add to %s:%s: %w", l.path, tag, err)
			}
			for i, c := range idx.Manifests {
				if c.Platform != nil && !IsAttestation(c) && platform.Equal(*c.Platform, *child.Platform) {
					c := c
					replaced, replaceAt = &c, i
					break
				}
			}
			annotations, mediaType = old.Annotations, old.MediaType
		}
		cb, err := EncodeJSON(child)
		if err != nil {
			return err
		}
		b, err := editChildren(raw, func(cs []json.RawMessage) []json.RawMessage {
			if replaceAt >= 0 {
				cs[replaceAt] = cb // in place: the order of the index is kept
				return cs
			}
			return append(cs, cb)
		})
		if err != nil {
			return err
		}
		entry, err = l.PutBlob(ctx, mediaType, b)
		if err != nil {
			return fmt.Errorf("add to %s:%s: %w", l.path, tag, err)
		}
		entry.Annotations = copyAnnotations(annotations)
		delete(entry.Annotations, ocispec.AnnotationRefName)
		if tag == "" {
			if len(entry.Annotations) == 0 {
				entry.Annotations = nil
			}
			cur.Manifests = []ocispec.Descriptor{entry}
			return nil
		}
		cur.Manifests = setTag(cur.Manifests, tag, entry)
		entry.Annotations = cur.Manifests[indexOfTag(cur.Manifests, tag)].Annotations
		return nil
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return entry, replaced, nil
}

func indexOfTag(ds []ocispec.Descriptor, tag string) int {
	for i, d := range ds {
		if d.Annotations[ocispec.AnnotationRefName] == tag {
			return i
		}
	}
	return -1
}

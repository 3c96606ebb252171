package layout

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
)

// AddToIndex puts child (a manifest descriptor with a platform) into the nested index
// that tag names, replacing the child with the same normalized platform (os.version
// included) where it stands, or inserting it before the first child that sorts after it
// (see CompareChildren), so that adds in any order give the same index; the tag is then
// moved to the new index. A tag that does not
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
			if name := TagOf(e); name == tag || (tag == "" && len(cur.Manifests) == 1 && name == "") {
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
		var existing []ocispec.Descriptor
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
			existing = idx.Manifests
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
			// Before the first child that sorts after it (see CompareChildren): in an
			// index in canonical order, adds in any order give the same index.
			at := len(cs)
			for i, c := range existing {
				if i < len(cs) && CompareChildren(child, c) < 0 {
					at = i
					break
				}
			}
			return slices.Insert(cs, at, json.RawMessage(cb))
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
		if TagOf(d) == tag {
			return i
		}
	}
	return -1
}

// SortChildren puts the children of a nested index in canonical order, the order merge
// writes by default (see CompareChildren for the order of the images); attestations come
// last, in the order of the images they describe (vnd.docker.reference.digest; those
// whose image is not listed after the others), then by their own digest. It returns the
// permutation applied: out[i] is the position in ds of the i-th child in that order.
func SortChildren(ds []ocispec.Descriptor) []int {
	order := make([]int, len(ds))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return CompareChildren(ds[i], ds[j]) })
	at := map[string]int{} // digest -> first position among the images
	for pos, i := range order {
		if d := string(ds[i].Digest); !IsAttestation(ds[i]) {
			if _, ok := at[d]; !ok {
				at[d] = pos
			}
		}
	}
	subject := func(i int) int {
		if p, ok := at[AttestationOf(ds[i])]; ok {
			return p
		}
		return len(ds)
	}
	slices.SortStableFunc(order, func(i, j int) int {
		ri, rj := childRank(ds[i]), childRank(ds[j])
		if ri != 2 || rj != 2 {
			return cmp.Compare(ri, rj)
		}
		if c := cmp.Compare(subject(i), subject(j)); c != 0 {
			return c
		}
		return strings.Compare(string(ds[i].Digest), string(ds[j].Digest))
	})
	sorted := make([]ocispec.Descriptor, len(ds))
	for i, o := range order {
		sorted[i] = ds[o]
	}
	copy(ds, sorted)
	return order
}

// CompareChildren orders the children of a nested index the canonical way (-1, 0, +1),
// the order merge writes by default and add inserts in:
//
//  1. manifests with a platform on their descriptor, by platform: the normalized os,
//     then architecture, then variant, then os.version, then the os.features (sorted,
//     joined with '+'), each compared byte by byte (so "linux/amd64" < "linux/arm/v6" <
//     "linux/arm64" < "linux/arm64:el8" < "windows/amd64"), then by digest;
//  2. entries without a platform, by digest;
//  3. attestations (see IsAttestation), by the digest of the image they describe
//     (vnd.docker.reference.digest), then by their own digest; SortChildren orders
//     them by the position of that image instead.
//
// Normalization is platform.Normalize's: arm64/v8 sorts as arm64, aarch64 as arm64.
func CompareChildren(a, b ocispec.Descriptor) int {
	ra, rb := childRank(a), childRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch ra {
	case 0:
		if c := strings.Compare(platform.Key(*a.Platform), platform.Key(*b.Platform)); c != 0 {
			return c
		}
	case 2:
		if c := strings.Compare(AttestationOf(a), AttestationOf(b)); c != 0 {
			return c
		}
	}
	return strings.Compare(string(a.Digest), string(b.Digest))
}

func childRank(d ocispec.Descriptor) int {
	switch {
	case IsAttestation(d):
		return 2
	case d.Platform == nil:
		return 1
	}
	return 0
}

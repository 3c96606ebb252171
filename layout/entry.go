package layout

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SetEntry puts d into index.json under tag, in one locked UpdateIndex: the entry that
// has the tag is replaced in place (any further entries with the same tag are dropped),
// or d is appended; every other entry is kept. With an empty tag, index.json must be empty
// (or hold d alone): an untagged entry beside others could not be told apart from them,
// so that is ErrConflict.
func (l *Layout) SetEntry(ctx context.Context, tag string, d ocispec.Descriptor) error {
	d = WithoutTag(d)
	if tag != "" {
		if err := ValidateRefName(tag); err != nil {
			return fmt.Errorf("set %s:%s: %w", l.path, tag, err)
		}
	}
	return l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		if tag == "" {
			if err := l.untaggedConflict(cur, d); err != nil {
				return err
			}
			cur.Manifests = []ocispec.Descriptor{d}
			return nil
		}
		cur.Manifests = setTag(cur.Manifests, tag, d)
		return nil
	})
}

// CheckSetEntry reports, without changing anything, the error SetEntry would return for
// the index.json as it is now: a corrupt index.json, or for an empty tag an index.json
// holding other entries. A writer calls it before transferring anything, so a refusal
// that OUT's state makes certain leaves OUT as it was. SetEntry checks again under the
// lock.
func (l *Layout) CheckSetEntry(ctx context.Context, tag string, d ocispec.Descriptor) error {
	cur, err := l.Index(ctx)
	if err != nil {
		return err
	}
	if tag == "" {
		return l.untaggedConflict(cur, d)
	}
	return nil
}

// untaggedConflict is SetEntry's rule for an empty tag: index.json must be empty or hold
// d alone.
func (l *Layout) untaggedConflict(cur *ocispec.Index, d ocispec.Descriptor) error {
	if len(cur.Manifests) > 0 && !(len(cur.Manifests) == 1 && cur.Manifests[0].Digest == d.Digest) {
		return fmt.Errorf("update %s: %w: it already has %s; name a tag (%s:TAG) so they are kept", l.path, ErrConflict, count(len(cur.Manifests), "entry", "entries"), l.path)
	}
	return nil
}

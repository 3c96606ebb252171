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
			if len(cur.Manifests) > 0 && !(len(cur.Manifests) == 1 && cur.Manifests[0].Digest == d.Digest) {
				return fmt.Errorf("update %s: %w: it already has %s; name a tag (%s:TAG) so they are kept", l.path, ErrConflict, count(len(cur.Manifests), "entry", "entries"), l.path)
			}
			cur.Manifests = []ocispec.Descriptor{d}
			return nil
		}
		cur.Manifests = setTag(cur.Manifests, tag, d)
		return nil
	})
}

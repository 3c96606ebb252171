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
// so that is ErrConflict. Referrer entries (see Referrers) are not counted and are kept.
func (l *Layout) SetEntry(ctx context.Context, tag string, d ocispec.Descriptor) error {
	return l.SetEntryWithReferrers(ctx, tag, d, nil)
}

// SetEntryWithReferrers is SetEntry that also records refs, in the same index.json
// change, the two ways oras and regctl find them (see addReferrers). The blobs of refs
// must be in the layout already.
func (l *Layout) SetEntryWithReferrers(ctx context.Context, tag string, d ocispec.Descriptor, refs []Referrer) error {
	return l.SetEntries(ctx, nil, EntryToSet{Tag: tag, Descriptor: d, Referrers: refs})
}

// EntryToSet is one entry for SetEntries: SetEntryWithReferrers's arguments.
type EntryToSet struct {
	Tag        string
	Descriptor ocispec.Descriptor
	Referrers  []Referrer
}

// SetEntries sets every entry as SetEntryWithReferrers sets one, in one index.json
// change, after first applying change (when not nil) to the index: all of it lands, or
// none does (a conflict on the last entry leaves index.json as it was).
func (l *Layout) SetEntries(ctx context.Context, change func(*ocispec.Index) error, entries ...EntryToSet) error {
	for _, e := range entries {
		if e.Tag != "" {
			if err := ValidateRefName(e.Tag); err != nil {
				return fmt.Errorf("set %s:%s: %w", l.path, e.Tag, err)
			}
		}
	}
	return l.UpdateIndex(ctx, func(cur *ocispec.Index) error {
		if change != nil {
			if err := change(cur); err != nil {
				return err
			}
		}
		for _, e := range entries {
			d := WithoutTag(e.Descriptor)
			if e.Tag == "" {
				if err := l.untaggedConflict(ctx, cur, d); err != nil {
					return err
				}
				cur.Manifests = append([]ocispec.Descriptor{d}, l.referrerEntries(ctx, cur.Manifests)...)
			} else {
				cur.Manifests = setTag(cur.Manifests, e.Tag, d)
			}
			err := addReferrers(cur, e.Referrers, func(e ocispec.Descriptor) ([]byte, error) { return l.ReadBlob(ctx, e) },
				func(b []byte) (ocispec.Descriptor, error) { return l.PutBlob(ctx, ocispec.MediaTypeImageIndex, b) })
			if err != nil {
				return err
			}
		}
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
		return l.untaggedConflict(ctx, cur, d)
	}
	return nil
}

// untaggedConflict is SetEntry's rule for an empty tag: index.json must be empty or hold
// d alone, referrer entries aside.
func (l *Layout) untaggedConflict(ctx context.Context, cur *ocispec.Index, d ocispec.Descriptor) error {
	var others []ocispec.Descriptor
	for _, e := range cur.Manifests {
		if !l.isReferrerEntry(ctx, e) {
			others = append(others, e)
		}
	}
	if len(others) > 0 && !(len(others) == 1 && others[0].Digest == d.Digest) {
		return fmt.Errorf("update %s: %w: it already has %s; name a tag (%s:TAG) so they are kept", l.path, ErrConflict, count(len(others), "entry", "entries"), l.path)
	}
	return nil
}

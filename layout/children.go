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

// editChildren returns the index document raw with its manifests array replaced by what
// fn makes of it. Each child keeps its exact bytes, and every other member of the document
// is kept (members come out in sorted order). The result is deterministic.
func editChildren(raw []byte, fn func([]json.RawMessage) []json.RawMessage) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var children []json.RawMessage
	if m, ok := doc["manifests"]; ok {
		if err := json.Unmarshal(m, &children); err != nil {
			return nil, err
		}
	}
	children = fn(children)
	if children == nil {
		children = []json.RawMessage{}
	}
	mb, err := json.Marshal(children)
	if err != nil {
		return nil, err
	}
	doc["manifests"] = mb
	return EncodeJSON(doc)
}

// keepChildren is editChildren keeping the children whose keep entry is true.
func keepChildren(raw []byte, keep []bool) ([]byte, error) {
	return editChildren(raw, func(cs []json.RawMessage) []json.RawMessage {
		var out []json.RawMessage
		for i, c := range cs {
			if i < len(keep) && keep[i] {
				out = append(out, c)
			}
		}
		return out
	})
}

// matchChildren tells which children of idx match one of the platforms, each child's
// platform read from its descriptor or, for a manifest without one, its config or
// annotations. Attestations never match. Every platform must match at least one child;
// one that matches none is ErrNotFound naming it and the platforms there are.
func (l *Layout) matchChildren(ctx context.Context, idx *ocispec.Index, platforms []ocispec.Platform) ([]bool, error) {
	matchers := make([]platform.Matcher, len(platforms))
	for i, p := range platforms {
		matchers[i] = platform.NewMatcher(p)
	}
	used := make([]bool, len(platforms))
	hit := make([]bool, len(idx.Manifests))
	var have []string
	for i, c := range idx.Manifests {
		if IsAttestation(c) {
			continue
		}
		p := c.Platform
		if p == nil && IsManifest(c.MediaType) {
			var err error
			if p, _, err = l.PlatformOf(ctx, c); err != nil {
				return nil, err
			}
		}
		if p == nil {
			continue
		}
		have = append(have, platform.Format(*p))
		for j, m := range matchers {
			if m.Match(*p) {
				used[j], hit[i] = true, true
			}
		}
	}
	for j, u := range used {
		if !u {
			return nil, fmt.Errorf("%w: no manifest for platform %s (there are: %s)", ErrNotFound, platform.Format(platforms[j]), strings.Join(have, ", "))
		}
	}
	return hit, nil
}

// attestationsOf marks the attestations among children whose subject image is in set.
func attestationsOf(children []ocispec.Descriptor, set map[digest.Digest]bool) []bool {
	out := make([]bool, len(children))
	for i, c := range children {
		out[i] = IsAttestation(c) && set[digest.Digest(AttestationOf(c))]
	}
	return out
}

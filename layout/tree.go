package layout

import (
	"context"
	"errors"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TreeNode is an index or manifest in a listing, with its platform resolved.
type TreeNode struct {
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Platform is the descriptor's platform or, for a manifest without one, the one found
	// in its config or annotations (see PlatformOf); nil when there is none.
	Platform       *ocispec.Platform `json:"platform,omitempty"`
	PlatformSource PlatformSource    `json:"platformSource,omitempty"`
	// Missing is true when the blob is not in the layout.
	Missing bool `json:"missing,omitempty"`
	// Repeated is true when the same digest is listed earlier in the tree; its children
	// are shown there.
	Repeated bool        `json:"repeated,omitempty"`
	Children []*TreeNode `json:"children,omitempty"`
}

// Tree lists what roots contain, indexes down to manifests (configs and layers are not
// listed), in document order.
func (l *Layout) Tree(ctx context.Context, roots []ocispec.Descriptor) ([]*TreeNode, error) {
	var out []*TreeNode
	var stack []*TreeNode
	err := l.Walk(ctx, roots, func(ctx context.Context, n *Node) error {
		if !IsIndex(n.Descriptor.MediaType) && !IsManifest(n.Descriptor.MediaType) && n.Depth() > 0 {
			return SkipChildren
		}
		t := &TreeNode{Descriptor: n.Descriptor, Missing: n.Missing, Repeated: n.Seen}
		if p := n.Descriptor.Platform; p != nil {
			t.Platform, t.PlatformSource = p, FromDescriptor
		} else if n.Manifest != nil {
			p, src, err := l.manifestPlatform(ctx, n.Manifest)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			t.Platform, t.PlatformSource = p, src
		}
		stack = append(stack[:n.Depth()], t)
		if n.Depth() == 0 {
			out = append(out, t)
		} else {
			parent := stack[n.Depth()-1]
			parent.Children = append(parent.Children, t)
		}
		if n.Index != nil {
			return nil
		}
		return SkipChildren
	})
	return out, err
}

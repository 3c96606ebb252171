package layout

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
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
	// Repeated is true when the same entry is listed earlier in the tree: an index with
	// the same digest (its children are shown there), or a manifest with the same digest
	// and platform. A manifest listed again for another platform is an entry of its own.
	Repeated bool        `json:"repeated,omitempty"`
	Children []*TreeNode `json:"children,omitempty"`
	// Referrers are the referrers whose subject this node is (see AddReferrers).
	Referrers []*TreeNode `json:"referrers,omitempty"`

	subject bool // the document has a subject (it is a referrer)
	// read is set when this walk read the document (not missing, not listed earlier);
	// ref then holds, for a document with a subject, its referrers-list descriptor and
	// subject, so that EntryReferrers need not read it again.
	read bool
	ref  *Referrer
}

// Tree lists what roots contain, indexes down to manifests (configs and layers are not
// listed), in document order.
func (l *Layout) Tree(ctx context.Context, roots []ocispec.Descriptor) ([]*TreeNode, error) {
	return l.tree(ctx, roots, nil)
}

// tree is Tree; pre, when set, is the document of roots[0] read already.
func (l *Layout) tree(ctx context.Context, roots []ocispec.Descriptor, pre *readDoc) ([]*TreeNode, error) {
	var out []*TreeNode
	var stack []*TreeNode
	type found struct {
		p   *ocispec.Platform
		src PlatformSource
	}
	own := map[digest.Digest]found{} // the platform a manifest's own bytes give
	listed := map[string]bool{}      // entryKey of the manifests shown so far
	err := l.walk(ctx, roots, pre, func(ctx context.Context, n *Node) error {
		if !IsIndex(n.Descriptor.MediaType) && !IsManifest(n.Descriptor.MediaType) && n.Depth() > 0 {
			return SkipChildren
		}
		t := &TreeNode{Descriptor: n.Descriptor, Missing: n.Missing, Repeated: n.Seen && IsIndex(n.Descriptor.MediaType),
			subject: (n.Manifest != nil && n.Manifest.Subject != nil) || (n.Index != nil && n.Index.Subject != nil),
			read:    n.Manifest != nil || n.Index != nil}
		if t.subject {
			rd, subject := referrerOf(n.Descriptor, n.Index, n.Manifest)
			t.ref = &Referrer{Subject: subject, Descriptor: rd}
		}
		if p := n.Descriptor.Platform; p != nil {
			t.Platform, t.PlatformSource = p, FromDescriptor
		} else if f, ok := own[n.Descriptor.Digest]; ok {
			t.Platform, t.PlatformSource = f.p, f.src
		} else if IsManifest(n.Descriptor.MediaType) && !n.Missing {
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
				if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				t.Platform, t.PlatformSource = p, src
			}
			own[n.Descriptor.Digest] = found{t.Platform, t.PlatformSource}
		}
		if IsManifest(n.Descriptor.MediaType) {
			k := EntryKey(n.Descriptor.Digest, t.Platform)
			t.Repeated = listed[k]
			listed[k] = true
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

// readAheadBatch is how many index.json entries EntryTrees reads at once, on up to
// readAheadWorkers goroutines, before it builds their trees in order: reading (open,
// read, hash, decode) is most of listing a layout of many tags, and each core can do
// its share. The batch bounds what is held.
const (
	readAheadBatch   = 256
	readAheadWorkers = 4
)

// readAhead reads the document of each index or manifest entry of es into out (reused,
// one per entry, in order), on workers goroutines.
func (l *Layout) readAhead(ctx context.Context, es []Entry, workers int, out []readDoc) []readDoc {
	out = append(out[:0], make([]readDoc, len(es))...)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(es) || ctx.Err() != nil {
					return
				}
				d := es[i].Descriptor
				if !IsIndex(d.MediaType) && !IsManifest(d.MediaType) {
					continue
				}
				p := &out[i]
				p.raw, p.idx, p.m, p.err = l.ReadDocument(ctx, d)
				p.done = true
			}
		}()
	}
	wg.Wait()
	return out
}

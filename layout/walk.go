package layout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxDepth bounds how many ancestors an index or manifest may have below a root
// (index.json itself not counted). Real layouts nest two or three levels; the bound stops
// a hostile graph early.
const MaxDepth = 16

// SkipChildren, returned by a WalkFunc, stops the walk from descending below that node.
var SkipChildren = errors.New("skip children")

// Node is one descriptor met on a walk.
type Node struct {
	Descriptor ocispec.Descriptor
	// Parents are the descriptors from the root down to this node's parent.
	Parents []ocispec.Descriptor
	// Raw holds the exact bytes of an index or manifest (verified); nil for other blobs,
	// which Walk never reads.
	Raw      []byte
	Index    *ocispec.Index    // set when the node is an index or Docker manifest list
	Manifest *ocispec.Manifest // set when the node is a manifest or Docker schema 2 manifest
	// Seen is true when the same digest was already visited earlier in this walk; its
	// children are then not visited again.
	Seen bool
	// Missing is true for an index or manifest whose blob is not in the layout (the spec
	// lets a layout lack blobs); it has no children. Other read errors end the walk.
	Missing bool
}

// Depth is the number of parents.
func (n *Node) Depth() int { return len(n.Parents) }

// WalkFunc is called for every node, parents before children, in document order.
type WalkFunc func(ctx context.Context, n *Node) error

// Walk visits the graph under roots: index → children (manifests or nested indexes),
// manifest → config and layers. Indexes and manifests are read through the verified read
// path and checked (DecodeIndex, DecodeManifest); Docker lists and schema 2 manifests are
// read like their OCI twins; other blobs are passed to fn unread, as are descriptors of
// unknown media types. An index or manifest whose blob is absent is passed with Missing
// set. A digest met twice is passed again with Seen set and not expanded,
// so shared content costs nothing and a hostile graph cannot blow up. An index that
// contains itself gives ErrCycle; nesting deeper than MaxDepth gives ErrTooDeep. A subject
// is a reference to another manifest, not a child, and is not followed.
func (l *Layout) Walk(ctx context.Context, roots []ocispec.Descriptor, fn WalkFunc) error {
	return l.walk(ctx, roots, nil, fn)
}

// walk is Walk; pre, when set, is the document of roots[0] read already (readAhead).
func (l *Layout) walk(ctx context.Context, roots []ocispec.Descriptor, pre *readDoc, fn WalkFunc) error {
	w := &walker{l: l, fn: fn, seen: map[digest.Digest]bool{}, pre: pre}
	for _, r := range roots {
		if err := w.visit(ctx, r, nil); err != nil {
			return err
		}
	}
	return nil
}

type walker struct {
	l    *Layout
	fn   WalkFunc
	seen map[digest.Digest]bool
	pre  *readDoc // the first root's document, taken on its first visit
}

// readDoc is what ReadDocument returned for a descriptor.
type readDoc struct {
	raw  []byte
	idx  *ocispec.Index
	m    *ocispec.Manifest
	err  error
	done bool
}

func (w *walker) visit(ctx context.Context, d ocispec.Descriptor, parents []ocispec.Descriptor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range parents {
		if p.Digest == d.Digest {
			return fmt.Errorf("walk %s: %w: %s contains itself", w.l.path, ErrCycle, d.Digest)
		}
	}
	if len(parents) > MaxDepth && (IsIndex(d.MediaType) || IsManifest(d.MediaType)) {
		return fmt.Errorf("walk %s: %w: %s is nested more than %d levels deep", w.l.path, ErrTooDeep, d.Digest, MaxDepth)
	}
	n := &Node{Descriptor: d, Parents: parents, Seen: w.seen[d.Digest]}
	w.seen[d.Digest] = true
	if !n.Seen && (IsIndex(d.MediaType) || IsManifest(d.MediaType)) {
		var raw []byte
		var idx *ocispec.Index
		var m *ocispec.Manifest
		var err error
		if p := w.pre; p != nil && p.done && len(parents) == 0 {
			w.pre = nil
			raw, idx, m, err = p.raw, p.idx, p.m, p.err
		} else {
			raw, idx, m, err = w.l.ReadDocument(ctx, d)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			n.Missing = true
		case err != nil:
			return err
		}
		n.Raw, n.Index, n.Manifest = raw, idx, m
	}
	if err := w.fn(ctx, n); err == SkipChildren || (err == nil && n.Seen) {
		return nil
	} else if err != nil {
		return err
	}
	var children []ocispec.Descriptor
	switch {
	case n.Index != nil:
		children = n.Index.Manifests
	case n.Manifest != nil:
		children = append(append(children, n.Manifest.Config), n.Manifest.Layers...)
	}
	if len(children) == 0 {
		return nil
	}
	next := append(append(make([]ocispec.Descriptor, 0, len(parents)+1), parents...), d)
	for _, c := range children {
		if err := w.visit(ctx, c, next); err != nil {
			return err
		}
	}
	return nil
}

// ReadDocument reads and checks the index or manifest d describes. Exactly one of idx and
// m is set. The document's own mediaType, when present, must agree with d's: an OCI
// manifest descriptor over an index document (or a Docker type over an OCI one) is refused.
func (l *Layout) ReadDocument(ctx context.Context, d ocispec.Descriptor) (raw []byte, idx *ocispec.Index, m *ocispec.Manifest, err error) {
	raw, err = l.ReadBlob(ctx, d)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case IsIndex(d.MediaType):
		idx, err = DecodeIndex(raw)
		if err == nil && idx.MediaType != "" && idx.MediaType != d.MediaType {
			err = fmt.Errorf("%w: the document says %q, its descriptor %q", ErrInvalidDocument, idx.MediaType, d.MediaType)
		}
	case IsManifest(d.MediaType):
		m, err = DecodeManifest(raw)
		if err == nil && m.MediaType != "" && m.MediaType != d.MediaType {
			err = fmt.Errorf("%w: the document says %q, its descriptor %q", ErrInvalidDocument, m.MediaType, d.MediaType)
		}
	default:
		err = fmt.Errorf("%w: media type %q is neither an index nor a manifest", ErrInvalidDocument, d.MediaType)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s %s in %s: %w", kindOf(d.MediaType), d.Digest, l.path, err)
	}
	return raw, idx, m, nil
}

func kindOf(mediaType string) string {
	switch {
	case IsIndex(mediaType):
		return "index"
	case IsManifest(mediaType):
		return "manifest"
	}
	return "blob"
}

// imageConfigPlatform holds the platform members of an OCI or Docker image config.
type imageConfigPlatform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	OSVersion    string   `json:"os.version"`
	OSFeatures   []string `json:"os.features"`
	Variant      string   `json:"variant"`
}

// Annotations with which oras proposes to carry an artifact's platform on its manifest.
const (
	orasPlatformArchitecture = "land.oras.artifact.platform.architecture"
	orasPlatformOS           = "land.oras.artifact.platform.os"
	orasPlatformOSVersion    = "land.oras.artifact.platform.osversion"
	orasPlatformVariant      = "land.oras.artifact.platform.variant"
)

// PlatformSource says where a platform was found.
type PlatformSource string

const (
	FromDescriptor  PlatformSource = "descriptor"
	FromConfig      PlatformSource = "config"
	FromAnnotations PlatformSource = "annotations"
	// FromUser: stated by the caller (merge's IN=PLATFORM).
	FromUser PlatformSource = "user"
)

// PlatformOf finds the platform of the manifest d describes: the platform on d itself; else
// the os/architecture of its config when the config is an OCI or Docker image config (oras
// --artifact-platform writes it there); else the land.oras.artifact.platform.* annotations
// of the manifest. It returns nil (and no error) when none of these says, and never fills
// anything from the host. An index descriptor without a platform has none.
func (l *Layout) PlatformOf(ctx context.Context, d ocispec.Descriptor) (*ocispec.Platform, PlatformSource, error) {
	if d.Platform != nil {
		return d.Platform, FromDescriptor, nil
	}
	if !IsManifest(d.MediaType) {
		return nil, "", nil
	}
	_, _, m, err := l.ReadDocument(ctx, d)
	if err != nil {
		return nil, "", err
	}
	return l.manifestPlatform(ctx, m)
}

func (l *Layout) manifestPlatform(ctx context.Context, m *ocispec.Manifest) (*ocispec.Platform, PlatformSource, error) {
	if IsImageConfig(m.Config.MediaType) {
		b, err := l.ReadBlob(ctx, m.Config)
		if err != nil {
			return nil, "", fmt.Errorf("read config %s in %s: %w", m.Config.Digest, l.path, err)
		}
		var c imageConfigPlatform
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, "", fmt.Errorf("read config %s in %s: %w: %v", m.Config.Digest, l.path, ErrInvalidDocument, err)
		}
		if c.OS != "" && c.Architecture != "" {
			return &ocispec.Platform{Architecture: c.Architecture, OS: c.OS, OSVersion: c.OSVersion,
				OSFeatures: c.OSFeatures, Variant: c.Variant}, FromConfig, nil
		}
	}
	a := m.Annotations
	if a[orasPlatformOS] != "" && a[orasPlatformArchitecture] != "" {
		return &ocispec.Platform{Architecture: a[orasPlatformArchitecture], OS: a[orasPlatformOS],
			OSVersion: a[orasPlatformOSVersion], Variant: a[orasPlatformVariant]}, FromAnnotations, nil
	}
	return nil, "", nil
}

// Blobs lists every blob reachable from roots, the roots included, each digest once, in
// walk order. The descriptors carry media type, digest and size only. A missing index or
// manifest is an error (ErrNotFound) naming it; missing leaves are not looked for here.
func (l *Layout) Blobs(ctx context.Context, roots []ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	seen := map[digest.Digest]bool{}
	err := l.Walk(ctx, roots, func(ctx context.Context, n *Node) error {
		if n.Missing {
			return fmt.Errorf("%w: %s %s is missing from %s", ErrNotFound, kindOf(n.Descriptor.MediaType), n.Descriptor.Digest, l.path)
		}
		if !seen[n.Descriptor.Digest] {
			seen[n.Descriptor.Digest] = true
			out = append(out, ocispec.Descriptor{MediaType: n.Descriptor.MediaType, Digest: n.Descriptor.Digest, Size: n.Descriptor.Size})
		}
		return nil
	})
	return out, err
}

package merge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
	"github.com/ocil-dev/ocil/layout/platform"
)

// Input is one source of a merge.
type Input struct {
	// Ref is a layout reference (PATH, PATH:TAG, PATH@DIGEST, PATH:TAG@DIGEST).
	Ref string
	// Platform, when set, is the platform of the input's manifest. It needs an input with
	// exactly one manifest, and it must agree with what the manifest's descriptor, image
	// config or annotations say (os, architecture and variant after normalization, and
	// os.version when both have one), unless Options.OverridePlatform.
	Platform *ocispec.Platform
	// AllImages makes an input named without TAG or DIGEST whose index.json lists several
	// images (a flat layout) contribute every one of them, instead of being ambiguous.
	AllImages bool
}

// DuplicatePolicy says what to do with two different manifests for one platform.
type DuplicatePolicy string

const (
	DuplicateError DuplicatePolicy = "error" // fail, naming both inputs (the default)
	DuplicateFirst DuplicatePolicy = "first" // keep the one from the earlier input
	DuplicateLast  DuplicatePolicy = "last"  // keep the one from the later input
)

// ParseDuplicatePolicy reads "error", "first" or "last".
func ParseDuplicatePolicy(s string) (DuplicatePolicy, error) {
	switch p := DuplicatePolicy(s); p {
	case DuplicateError, DuplicateFirst, DuplicateLast:
		return p, nil
	case "":
		return DuplicateError, nil
	}
	return "", fmt.Errorf("duplicate policy %q: %w: want error, first or last", s, layout.ErrInvalidOption)
}

// Options describe a merge.
type Options struct {
	// Output is the output reference OUT[:TAG]: a folder, or a tarball when OUT ends in
	// .tar, .tar.gz, .tgz, .tar.zst or .tzst. OUT is created when missing. With a TAG,
	// the entry with that tag is replaced (or added) and every other entry kept. Without
	// one, OUT must be new or have an empty index.json.
	Output string
	Inputs []Input
	OnDup  DuplicatePolicy
	// Annotations go on the nested index; DescriptorAnnotations on its index.json entry.
	Annotations           map[string]string
	DescriptorAnnotations map[string]string
	// ArtifactType, when set, is the nested index's artifactType.
	ArtifactType string
	// Created, when set, is written as org.opencontainers.image.created (RFC 3339, UTC)
	// on the nested index.
	Created *time.Time
	// AllowNoPlatform lets manifests without any platform into the index (without one).
	AllowNoPlatform bool
	// OverridePlatform lets an Input.Platform replace a platform the manifest states
	// otherwise (its descriptor, image config or annotations) instead of failing.
	OverridePlatform bool
	// KeepInputOrder lists the children in the order of the inputs instead of the
	// canonical order (layout.SortChildren).
	KeepInputOrder bool
	// Transfer says how blobs are copied. Its Verify field is not read: Merge verifies
	// unless NoVerify.
	Transfer layout.TransferOptions
	// NoVerify trusts the inputs' blobs: without it (the zero value) every byte copied
	// from an input is hashed once and a blob that does not match its digest fails the
	// merge before anything references it. With it, a reflink, hard link or kernel copy
	// carries a corrupt blob over as it is; only sizes are checked.
	NoVerify bool
	// NoReferrers leaves out the referrers of the inputs' manifests, which a merge
	// otherwise brings (see layout.ReferrerClosure) and records in OUT both ways.
	NoReferrers bool
	// Jobs is how many blobs are copied at once (0: the number of CPUs, at least 2).
	Jobs int
	// LockTimeout bounds the wait for OUT's lock (0: layout.DefaultLockTimeout).
	LockTimeout time.Duration
	// TarModTime stamps the entries of a tarball OUT (zero: the Unix epoch).
	TarModTime time.Time
	// SplitSize, for a tarball OUT, writes it in parts of at most SplitSize bytes (see
	// layout.OutputOptions.SplitSize).
	SplitSize int64
	// Progress, when set, is called after each blob with the bytes done and in all.
	Progress func(done, total int64)
}

// Child is one manifest of the nested index.
type Child struct {
	Descriptor     ocispec.Descriptor    `json:"descriptor"`
	Input          int                   `json:"input"` // index into Options.Inputs
	PlatformSource layout.PlatformSource `json:"platformSource,omitempty"`
	// Attestation is true for attestation entries, which are not platforms.
	Attestation bool `json:"attestation,omitempty"`
}

// Result describes a finished merge.
type Result struct {
	Output string `json:"output"`
	Tag    string `json:"tag,omitempty"`
	// Index is the index.json entry of the nested index.
	Index    ocispec.Descriptor `json:"index"`
	Children []Child            `json:"children"`
	// Referrers lists the referrers brought with the children.
	Referrers []layout.Referrer `json:"referrers,omitempty"`
	// Blobs and Bytes count the blobs the output holds for this merge; Methods how they
	// arrived (existing, reflink, hardlink, kernel-copy, stream).
	Blobs   int                           `json:"blobs"`
	Bytes   int64                         `json:"bytes"`
	Methods map[layout.TransferMethod]int `json:"methods"`
	// Warnings are things a registry or client may object to, the merge went on.
	Warnings []string `json:"warnings,omitempty"`
}

// source is an input resolved.
type source struct {
	ref string
	l   *layout.Layout
}

// Merge runs a merge (see the package documentation).
func Merge(ctx context.Context, opts Options) (*Result, error) {
	opts.Transfer.Verify = !opts.NoVerify
	if len(opts.Inputs) == 0 {
		return nil, fmt.Errorf("merge: %w: no inputs", layout.ErrInvalidOption)
	}
	if opts.ArtifactType != "" {
		if err := layout.CheckMediaType(opts.ArtifactType); err != nil {
			return nil, fmt.Errorf("merge: artifact type: %w", err)
		}
	}
	onDup, err := ParseDuplicatePolicy(string(opts.OnDup))
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	out, err := layout.ParseOutput(opts.Output)
	if err != nil {
		return nil, fmt.Errorf("merge: output %w", err)
	}
	for k := range opts.DescriptorAnnotations {
		if k == ocispec.AnnotationRefName {
			return nil, fmt.Errorf("merge: %w: set the tag with -o OUT:TAG, not the %s annotation", layout.ErrInvalidOption, k)
		}
	}

	// 1. Resolve every input and decide the children, before anything is written.
	var sources []source
	defer func() {
		for _, s := range sources {
			s.l.Close()
		}
	}()
	var children []Child
	for i, in := range opts.Inputs {
		src, cs, err := resolveInput(ctx, i, in, opts)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
		children = append(children, cs...)
	}
	children, err = dedupe(children, opts.Inputs, onDup)
	if err != nil {
		return nil, err
	}
	if !opts.KeepInputOrder {
		ds := make([]ocispec.Descriptor, len(children))
		for i, c := range children {
			ds[i] = c.Descriptor
		}
		sorted := make([]Child, len(children))
		for i, o := range layout.SortChildren(ds) {
			sorted[i] = children[o]
		}
		children = sorted
	}

	// 2. The nested index.
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, ArtifactType: opts.ArtifactType, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	for _, c := range children {
		idx.Manifests = append(idx.Manifests, c.Descriptor)
	}
	ann := copyMap(opts.Annotations)
	if opts.Created != nil {
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ocispec.AnnotationCreated] = opts.Created.UTC().Format(time.RFC3339)
	}
	idx.Annotations = ann
	idxBytes, err := layout.EncodeJSON(idx)
	if err != nil {
		return nil, fmt.Errorf("merge: encode index: %w", err)
	}

	if err := preflightOutput(ctx, out, idxBytes); err != nil {
		return nil, err
	}

	// 3. The output's blobs, then its index.json in one locked step (a tarball output is
	// written anew once that succeeded, its blobs hashed once on the way). The referrers
	// of the children come with them: their blobs through the same Transfer, their
	// index.json entries and fallback tags in the same change.
	res := &Result{Output: out.Path, Tag: out.Tag, Children: children, Warnings: warnings(children)}
	carried := children
	if !opts.NoReferrers {
		refs, refChildren, err := referrersOf(ctx, sources, children)
		if err != nil {
			return nil, err
		}
		res.Referrers = refs
		carried = append(append([]Child{}, children...), refChildren...)
	}
	var jobs []layout.TransferBlob
	for _, c := range carried {
		src := &sources[c.Input]
		blobs, err := src.l.Blobs(ctx, []ocispec.Descriptor{c.Descriptor})
		if err != nil {
			return nil, fmt.Errorf("merge: input %s: %w", src.ref, err)
		}
		for _, d := range blobs {
			jobs = append(jobs, layout.TransferBlob{From: src.l, Blob: d, Name: "input " + src.ref})
		}
	}
	// An input that is a delta needs the blobs it left out in the output, which is
	// checked before it is opened.
	if err := layout.CheckDeltaSources(ctx, opts.Output, jobs); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	dst, err := layout.OpenOutput(ctx, opts.Output, layout.OutputOptions{Transfer: opts.Transfer, Jobs: opts.Jobs,
		LockTimeout: opts.LockTimeout, ModTime: opts.TarModTime, Progress: opts.Progress, SplitSize: opts.SplitSize})
	if err != nil {
		return nil, fmt.Errorf("merge: output: %w", err)
	}
	defer dst.Close()
	var d ocispec.Descriptor
	err = dst.Write(ctx, func(*layout.Layout) error {
		st, err := dst.Transfer(ctx, jobs)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		res.Blobs, res.Bytes, res.Methods = st.Blobs, st.Bytes, st.Methods
		if d, err = dst.PutBlob(ctx, ocispec.MediaTypeImageIndex, idxBytes); err != nil {
			return fmt.Errorf("merge: write index: %w", err)
		}
		d.ArtifactType = opts.ArtifactType
		d.Annotations = copyMap(opts.DescriptorAnnotations)
		if err := dst.SetEntryWithReferrers(ctx, out.Tag, d, res.Referrers); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Index = layout.WithTag(d, out.Tag)
	return res, nil
}

// referrersOf finds, input by input, the referrers of the children taken from it (see
// layout.ReferrerClosure), each once, and returns them with pseudo-children whose blobs
// the output's Transfer brings from the input that has them, beside the children's.
func referrersOf(ctx context.Context, sources []source, children []Child) ([]layout.Referrer, []Child, error) {
	byInput := map[int][]ocispec.Descriptor{}
	for _, c := range children {
		byInput[c.Input] = append(byInput[c.Input], c.Descriptor)
	}
	var refs []layout.Referrer
	var carry []Child
	seen := map[digest.Digest]bool{}
	for i := range sources {
		if len(byInput[i]) == 0 {
			continue
		}
		l := sources[i].l
		rs, err := l.Referrers(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("merge: input %s: %w (--no-referrers merges without looking for referrers)", sources[i].ref, err)
		}
		found, err := l.ReferrerClosure(ctx, rs, byInput[i])
		if err != nil {
			return nil, nil, fmt.Errorf("merge: input %s: %w", sources[i].ref, err)
		}
		for _, r := range found {
			key := r.Subject + "\x00" + r.Descriptor.Digest
			if seen[key] {
				continue
			}
			seen[key] = true
			refs = append(refs, r)
			carry = append(carry, Child{Descriptor: r.Descriptor, Input: i})
		}
	}
	return refs, carry, nil
}

// preflightOutput refuses, before any blob is transferred, a merge that OUT's current
// state already rules out: an index.json that cannot be read, or an untagged OUT that
// holds other entries. A missing OUT, or a folder that is not a layout yet, is left to
// layout.Create, which refuses a non-empty non-layout folder before writing. SetEntry
// checks again under the lock, for writers that change OUT meanwhile.
func preflightOutput(ctx context.Context, out layout.Reference, idxBytes []byte) error {
	if layout.IsTarballPath(out.Path) && out.Tag != "" {
		return nil // a tagged tarball output accepts any current content it can read
	}
	l, err := layout.Open(out.Path)
	if errors.Is(err, layout.ErrNotFound) || (errors.Is(err, layout.ErrNotLayout) && !layout.IsTarballPath(out.Path)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("merge: output: %w", err)
	}
	defer l.Close()
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(idxBytes), Size: int64(len(idxBytes))}
	if err := l.CheckSetEntry(ctx, out.Tag, d); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return nil
}

// warnings lists what the nested index holds that some registries or clients refuse.
func warnings(children []Child) []string {
	ds := make([]ocispec.Descriptor, len(children))
	for i, c := range children {
		ds[i] = c.Descriptor
	}
	if docker, oci := layout.MixedTypes(ds); docker > 0 && oci > 0 {
		return []string{fmt.Sprintf("the index mixes %d Docker and %d OCI manifests; some registries (quay, GCR) refuse mixed lists", docker, oci)}
	}
	return nil
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// resolveInput opens and resolves one input and returns its children with platforms.
// Children of an index keep their annotations, org.opencontainers.image.ref.name
// included; an index.json entry taken as a child loses its tag (names in index.json are
// the layout's, not the child's).
func resolveInput(ctx context.Context, i int, in Input, opts Options) (source, []Child, error) {
	l, roots, err := inputRoots(ctx, in)
	if err != nil {
		var amb *layout.AmbiguousError
		if errors.As(err, &amb) {
			amb.Hint = "name one as IN:TAG or IN@DIGEST, or take them all with --all-images" // merge takes no --platform to narrow with
		}
		return source{}, nil, fmt.Errorf("merge: input %s: %w", in.Ref, err)
	}
	src := source{ref: in.Ref, l: l}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	var cands []ocispec.Descriptor
	for _, d := range roots {
		switch {
		case layout.IsIndex(d.MediaType):
			_, idx, _, err := l.ReadDocument(ctx, d)
			if err != nil {
				return source{}, nil, fmt.Errorf("merge: input %s: %w", in.Ref, err)
			}
			cands = append(cands, idx.Manifests...)
		case layout.IsManifest(d.MediaType):
			d.Annotations = layout.WithoutTagAnnotations(d.Annotations)
			cands = append(cands, d)
		default:
			return source{}, nil, fmt.Errorf("merge: input %s: %w: %s is a %s, not an index or manifest", in.Ref, layout.ErrNotFound, d.Digest, d.MediaType)
		}
	}
	var out []Child
	images := 0
	for _, c := range cands {
		ch := Child{Descriptor: c, Input: i, Attestation: layout.IsAttestation(c)}
		if !ch.Attestation {
			images++
		}
		out = append(out, ch)
	}
	if in.Platform != nil && images != 1 {
		return source{}, nil, fmt.Errorf("merge: input %s: %w: a platform was given for an input with %d manifests; give it for single-manifest inputs only", in.Ref, layout.ErrInvalidOption, images)
	}
	for k := range out {
		ch := &out[k]
		if ch.Attestation {
			continue
		}
		p, psrc, err := l.PlatformOf(ctx, ch.Descriptor)
		if err != nil {
			return source{}, nil, fmt.Errorf("merge: input %s: %w", in.Ref, err)
		}
		if in.Platform != nil {
			stated := *in.Platform
			if p != nil && contradicts(stated, *p) && !opts.OverridePlatform {
				return source{}, nil, fmt.Errorf("merge: input %s: %w: the stated platform %s contradicts %s, which its %s says; correct the input, or pass --override-platform to use %s",
					in.Ref, layout.ErrConflict, platform.Format(stated), platform.Format(*p), sourceName(psrc), platform.Format(stated))
			}
			ch.Descriptor.Platform, ch.PlatformSource = &stated, layout.FromUser
			continue
		}
		if p == nil {
			if opts.AllowNoPlatform {
				continue
			}
			return source{}, nil, fmt.Errorf("merge: input %s: %w: manifest %s has no platform (not on its descriptor, in an image config or in land.oras.artifact.platform.* annotations); state it as %s=OS/ARCH[/VARIANT][:OSVERSION], or pass --allow-no-platform",
				in.Ref, layout.ErrNotFound, ch.Descriptor.Digest, in.Ref)
		}
		ch.Descriptor.Platform, ch.PlatformSource = p, psrc
	}
	ok = true
	return src, out, nil
}

// inputRoots opens an input's layout and returns what it contributes: the one entry its
// reference selects or, with AllImages and a reference without tag or digest, every image
// of index.json (layout.Entry.Root).
func inputRoots(ctx context.Context, in Input) (*layout.Layout, []ocispec.Descriptor, error) {
	ref, err := layout.ParseReference(in.Ref)
	if err != nil {
		return nil, nil, err
	}
	if !in.AllImages || ref.Tag != "" || ref.Digest != "" {
		res, err := layout.ResolveRef(ctx, in.Ref, layout.ResolveOptions{})
		if err != nil {
			return nil, nil, err
		}
		return res.Layout, []ocispec.Descriptor{res.Root}, nil
	}
	l, err := layout.Open(ref.Path)
	if err != nil {
		return nil, nil, err
	}
	entries, err := l.Entries(ctx)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	var roots []ocispec.Descriptor
	for _, e := range entries {
		if e.Root {
			roots = append(roots, e.Descriptor)
		}
	}
	if len(roots) == 0 {
		l.Close()
		return nil, nil, fmt.Errorf("%w: index.json of %s lists no image", layout.ErrNotFound, ref.Path)
	}
	return l, roots, nil
}

// contradicts reports whether a stated platform disagrees with the one a manifest states:
// another os, architecture or variant after normalization, or another os.version when
// both have one. A stated os.version or feature the manifest does not mention is a
// refinement, not a contradiction.
func contradicts(stated, found ocispec.Platform) bool {
	s, f := platform.Normalize(stated), platform.Normalize(found)
	if s.OS != f.OS || s.Architecture != f.Architecture || s.Variant != f.Variant {
		return true
	}
	return s.OSVersion != "" && f.OSVersion != "" && s.OSVersion != f.OSVersion
}

func sourceName(s layout.PlatformSource) string {
	switch s {
	case layout.FromConfig:
		return "image config"
	case layout.FromAnnotations:
		return "land.oras.artifact.platform.* annotations"
	}
	return "index entry"
}

// dedupe drops repeated entries and settles platforms claimed twice. Identity is
// (digest, platform): one manifest listed for two platforms is two children, and only the
// same digest with the same platform is dropped. Platforms are compared through
// platform.Key in a map, so the work grows with the number of children, not its square.
func dedupe(children []Child, inputs []Input, policy DuplicatePolicy) ([]Child, error) {
	seen := map[string]bool{}                // layout.EntryKey of the children kept so far
	byPlatform := map[string]digest.Digest{} // platform key -> digest of the child that has it
	var out []Child
	for _, c := range children {
		k := layout.EntryKey(c.Descriptor.Digest, c.Descriptor.Platform)
		if seen[k] {
			continue
		}
		seen[k] = true
		if c.Attestation || c.Descriptor.Platform == nil {
			out = append(out, c)
			continue
		}
		key := platform.Key(*c.Descriptor.Platform)
		prev, dup := byPlatform[key]
		holder := func(o Child) bool {
			return o.Descriptor.Digest == prev && !o.Attestation && o.Descriptor.Platform != nil && platform.Key(*o.Descriptor.Platform) == key
		}
		switch {
		case !dup:
			byPlatform[key] = c.Descriptor.Digest
			out = append(out, c)
		case policy == DuplicateFirst:
		case policy == DuplicateLast:
			j := slices.IndexFunc(out, holder)
			out = append(out[:j:j], out[j+1:]...)
			if !slices.ContainsFunc(out, func(o Child) bool { return o.Descriptor.Digest == prev && !o.Attestation }) {
				out = dropAttestationsOf(out, prev)
			}
			byPlatform[key] = c.Descriptor.Digest
			out = append(out, c)
		default:
			o := out[slices.IndexFunc(out, holder)]
			return nil, fmt.Errorf("merge: %w: platform %s is in input %s (%s) and input %s (%s); keep one with --on-duplicate first|last, or state the platforms",
				layout.ErrConflict, platform.Format(*c.Descriptor.Platform), inputs[o.Input].Ref, o.Descriptor.Digest, inputs[c.Input].Ref, c.Descriptor.Digest)
		}
	}
	// An attestation whose image was not kept goes too.
	kept := map[digest.Digest]bool{}
	for _, c := range out {
		kept[c.Descriptor.Digest] = true
	}
	final := out[:0]
	for _, c := range out {
		if ref := layout.AttestationOf(c.Descriptor); c.Attestation && ref != "" && !kept[digest.Digest(ref)] {
			continue
		}
		final = append(final, c)
	}
	return final, nil
}

func dropAttestationsOf(cs []Child, d digest.Digest) []Child {
	out := cs[:0]
	for _, c := range cs {
		if c.Attestation && layout.AttestationOf(c.Descriptor) == string(d) {
			continue
		}
		out = append(out, c)
	}
	return out
}

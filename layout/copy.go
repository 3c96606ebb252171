package layout

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// CopyOptions say what Copy keeps and how it writes.
type CopyOptions struct {
	// Platforms, when given, keep only the manifests that match one of them (see package
	// platform; os.version is matched when given). The copied index is rewritten to list
	// just those, so it gets a new digest. Each platform must match something.
	Platforms []ocispec.Platform
	// KeepAttestations keeps the attestations of the kept manifests when filtering.
	KeepAttestations bool
	// NoReferrers leaves out the referrers (signatures, SBOMs, attestations with a
	// subject) that a copy otherwise brings: those of every index and manifest it copies,
	// and theirs in turn (see ReferrerClosure).
	NoReferrers bool
	// Transfer says how blobs reach the destination, and whether they are verified (see
	// OutputOptions).
	Transfer TransferOptions
	// Jobs is how many blobs are copied at once (0: the number of CPUs, at least 2).
	Jobs int
	// ModTime stamps the entries of a tarball destination (zero: the Unix epoch).
	ModTime time.Time
	// LockTimeout bounds the wait for the destination's lock (a folder's index lock, a
	// tarball's OUT.tar.lock).
	LockTimeout time.Duration
	// Progress, when set, is called after each blob with the bytes done and in all.
	Progress func(done, total int64)
	// Docker, for a tarball dst, also writes docker save's manifest.json and repositories
	// (see DockerOptions).
	Docker *DockerOptions
	// SplitSize, for a tarball dst, writes it in parts of at most SplitSize bytes (see
	// OutputOptions.SplitSize).
	SplitSize int64
	// Stdout is where the destination "-" is written, an uncompressed tarball
	// (os.Stdout when nil).
	Stdout io.Writer
	// Bases make the copy a delta: a blob that one of them holds is left out (indexes,
	// manifests and configs aside) and recorded in the destination's index.json (see
	// Delta and OpenBase). The caller closes them.
	Bases []*Base
}

// CopyResult describes a finished copy.
type CopyResult struct {
	Destination string `json:"destination"`
	Tag         string `json:"tag,omitempty"`
	// Descriptor is the entry written into the destination's index.json.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Kept and Dropped list the manifests a platform filter kept and dropped.
	Kept    []ocispec.Descriptor `json:"kept,omitempty"`
	Dropped []ocispec.Descriptor `json:"dropped,omitempty"`
	// Referrers lists the referrers copied with it.
	Referrers []Referrer `json:"referrers,omitempty"`
	Blobs     int        `json:"blobs"`
	Bytes     int64      `json:"bytes"`
	// LeftOut and LeftOutBytes count the blobs a delta copy left out because a base
	// holds them (CopyOptions.Bases); Blobs and Bytes count what was copied.
	LeftOut      int   `json:"leftOut,omitempty"`
	LeftOutBytes int64 `json:"leftOutBytes,omitempty"`
}

// Copy copies what src selected (src.Root) into the destination reference dst through an
// Output: a folder or a tarball (.tar, .tar.gz, .tgz, .tar.zst, .tzst, or any name after
// oci-archive:), created when missing, its other entries kept (an entry with the same tag
// is replaced, see SetEntry); or "-", a tarball of just this entry, uncompressed, streamed
// to opts.Stdout. The tag is dst's, else the one src was selected by, else none. Without
// platforms the root and everything under it are copied byte for byte: the same digests.
// With platforms, see CopyOptions.Platforms. Only the blobs of what is kept are copied,
// several at a time.
func Copy(ctx context.Context, src *Resolved, dst string, opts CopyOptions) (*CopyResult, error) {
	res, err := CopyAll(ctx, []CopySource{{Src: src}}, dst, opts)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// CopySource is one source of CopyAll: what was resolved, and the name its entry gets in
// the destination ("" keeps dst's tag, else the tag it was selected by).
type CopySource struct {
	Src *Resolved
	// Name is the entry's org.opencontainers.image.ref.name; a full image name
	// (registry.example.com/team/app:1.2) is what docker load and ctr import use, and is
	// also written as io.containerd.image.name.
	Name string
}

// AnnotationContainerdImageName is the annotation containerd's import reads an image's
// name from.
const AnnotationContainerdImageName = "io.containerd.image.name"

// copyPlan is what one source contributes.
type copyPlan struct {
	src      *Resolved
	res      *CopyResult
	root     ocispec.Descriptor
	newIndex []byte
	blobs    []ocispec.Descriptor
	entry    ocispec.Descriptor
	leftOut  []ocispec.Descriptor // blobs a base holds (CopyOptions.Bases)
	bases    []*Base              // the bases that hold them
}

// CopyAll copies several sources into dst as Copy copies one, in one write: every entry
// lands, or none does and dst is left as it was. Each source's entry is named by its
// Name (with io.containerd.image.name when given), else by the tag it was selected by; a
// tag on dst names the entry of a single source only. Two sources may not give the same
// name (ErrConflict, naming both). Standard output takes a single source.
func CopyAll(ctx context.Context, srcs []CopySource, dst string, opts CopyOptions) ([]*CopyResult, error) {
	ref, err := ParseOutput(dst)
	if err != nil {
		return nil, fmt.Errorf("copy to %w", err)
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("copy to %s: %w: no source", dst, ErrInvalidOption)
	}
	if len(srcs) > 1 && ref.Path == Stdio {
		return nil, fmt.Errorf("copy to %s: %w: several sources go to a folder or tarball, not to standard output", dst, ErrInvalidOption)
	}
	if opts.SplitSize > 0 && ref.Path == Stdio {
		return nil, fmt.Errorf("copy to %s: %w: --split-size writes parts beside a tarball file (DST.tar.001, ...), not to standard output", dst, ErrInvalidOption)
	}
	if opts.Docker != nil && ref.Path == Stdio {
		return nil, fmt.Errorf("copy to %s: %w: --docker writes a tarball file (DST.tar, .tar.gz, .tar.zst), not standard output", dst, ErrInvalidOption)
	}
	if opts.Docker != nil && len(opts.Bases) > 0 {
		return nil, fmt.Errorf("copy to %s: %w: --docker and --base: docker load needs every layer in the tarball, and a delta leaves some out", dst, ErrInvalidOption)
	}
	if ref.Tag != "" && (len(srcs) > 1 || srcs[0].Name != "") {
		return nil, fmt.Errorf("copy to %s: %w: the tag %q of DST names the entry of a single source; name each with SRC=NAME", dst, ErrInvalidOption, ref.Tag)
	}
	plans := make([]*copyPlan, len(srcs))
	named := map[string]string{} // tag → the source that gives it
	for i, cs := range srcs {
		src := cs.Src
		tag := cs.Name
		if tag == "" {
			tag = ref.Tag
		}
		if tag == "" {
			tag = src.Tag
		}
		if tag != "" {
			if err := ValidateRefName(tag); err != nil {
				return nil, fmt.Errorf("copy to %s: %w", dst, err)
			}
			if other, ok := named[tag]; ok {
				return nil, fmt.Errorf("copy to %s: %w: %s and %s both give the name %q", dst, ErrConflict, other, src.Ref, tag)
			}
			named[tag] = src.Ref.String()
		}
		p := &copyPlan{src: src, res: &CopyResult{Destination: ref.Path, Tag: tag}, root: src.Root}
		if err := p.prepare(ctx, opts); err != nil {
			return nil, err
		}
		p.entry = WithTag(p.entry, tag)
		if cs.Name != "" {
			p.entry.Annotations[AnnotationContainerdImageName] = cs.Name
		}
		p.res.Descriptor = p.entry
		plans[i] = p
	}
	delta := deltaOf(plans)
	var jobs []TransferBlob
	for _, p := range plans {
		for _, b := range p.blobs {
			jobs = append(jobs, TransferBlob{From: p.src.Layout, Blob: b})
		}
	}
	// A source that is a delta needs the blobs it left out in dst: checked before dst is
	// opened, so a refusal leaves it as it was.
	if err := CheckDeltaSources(ctx, dst, jobs); err != nil {
		return nil, err
	}

	if ref.Path == Stdio {
		p := plans[0]
		res := p.res
		// A stream has no other entries to keep: the tarball is written straight from src.
		topts := TarOptions{Verify: opts.Transfer.Verify, ModTime: opts.ModTime, Progress: opts.Progress}
		tarBlobs := p.blobs
		if p.newIndex != nil {
			// The rewritten index is not in src: it is written from memory.
			topts.Extra = map[digest.Digest][]byte{p.root.Digest: p.newIndex}
			tarBlobs = append(append([]ocispec.Descriptor{}, p.blobs...), ocispec.Descriptor{MediaType: p.root.MediaType, Digest: p.root.Digest, Size: p.root.Size})
		}
		tarBlobs = slices.Clip(tarBlobs)
		idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{p.entry}}
		idx.SchemaVersion = 2
		if delta != nil {
			if err := setDelta(&idx, delta); err != nil {
				return nil, err
			}
		}
		if topts.Extra == nil {
			topts.Extra = map[digest.Digest][]byte{}
		}
		// The fallback tag indexes are not in src either: they are written from memory.
		err := addReferrers(&idx, res.Referrers, func(ocispec.Descriptor) ([]byte, error) { return nil, ErrNotFound },
			func(b []byte) (ocispec.Descriptor, error) {
				d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(b), Size: int64(len(b))}
				if _, ok := topts.Extra[d.Digest]; !ok {
					topts.Extra[d.Digest] = b
					tarBlobs = append(tarBlobs, d)
					res.Blobs++
					res.Bytes += d.Size
				}
				return d, nil
			})
		if err != nil {
			return nil, fmt.Errorf("copy to %s: %w", dst, err)
		}
		ij, err := EncodeJSON(idx)
		if err != nil {
			return nil, err
		}
		w := opts.Stdout
		if w == nil {
			w = os.Stdout
		}
		if err := WriteTarballTo(ctx, w, "standard output", p.src.Layout, ij, tarBlobs, topts); err != nil {
			return nil, err
		}
		return []*CopyResult{p.res}, nil
	}

	out, err := OpenOutput(ctx, dst, OutputOptions{Transfer: opts.Transfer, Jobs: opts.Jobs,
		LockTimeout: opts.LockTimeout, ModTime: opts.ModTime, Progress: opts.Progress, Docker: opts.Docker, SplitSize: opts.SplitSize})
	if err != nil {
		return nil, fmt.Errorf("copy to %s: %w", dst, err)
	}
	defer out.Close()
	err = out.Write(ctx, func(*Layout) error {
		if _, err := out.Transfer(ctx, jobs); err != nil {
			if len(plans) == 1 {
				return fmt.Errorf("copy %s to %s: %w", plans[0].src.Ref, dst, err)
			}
			return fmt.Errorf("copy to %s: %w", dst, err)
		}
		entries := make([]EntryToSet, 0, len(plans))
		for _, p := range plans {
			if p.newIndex != nil {
				if _, err := out.PutBlob(ctx, p.root.MediaType, p.newIndex); err != nil {
					return fmt.Errorf("copy to %s: %w", dst, err)
				}
			}
			entries = append(entries, EntryToSet{Tag: p.res.Tag, Descriptor: WithoutTag(p.entry), Referrers: p.res.Referrers})
		}
		// The delta record and every entry in one index.json change: all land, or none
		// does (a conflict on one source leaves neither the others nor the record).
		var change func(*ocispec.Index) error
		if delta != nil {
			change = func(idx *ocispec.Index) error { return setDelta(idx, delta) }
		}
		if err := out.SetEntries(ctx, change, entries...); err != nil {
			return fmt.Errorf("copy to %s: %w", dst, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := make([]*CopyResult, len(plans))
	for i, p := range plans {
		res[i] = p.res
	}
	return res, nil
}

// prepare finds what one source copies: its root (rewritten when filtering platforms),
// the blobs under it, and the entry, without a tag.
func (p *copyPlan) prepare(ctx context.Context, opts CopyOptions) error {
	l, src, res := p.src.Layout, p.src, p.res
	var err error
	roots := []ocispec.Descriptor{p.root}
	if len(opts.Platforms) > 0 {
		p.root, p.newIndex, err = l.filterRoot(ctx, p.root, opts, res)
		if err != nil {
			return fmt.Errorf("copy %s: %w", src.Ref, err)
		}
		roots = res.Kept
		if p.newIndex == nil {
			roots = []ocispec.Descriptor{p.root}
		}
	}
	p.blobs, err = l.Blobs(ctx, roots)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src.Ref, err)
	}
	if !opts.NoReferrers {
		refs, refBlobs, err := l.referrersToCopy(ctx, roots, p.blobs)
		if err != nil {
			return fmt.Errorf("copy %s: %w", src.Ref, err)
		}
		res.Referrers, p.blobs = refs, append(p.blobs, refBlobs...)
	}
	p.blobs, p.leftOut, p.bases, err = leaveOut(ctx, l, p.blobs, opts.Bases)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src.Ref, err)
	}
	for _, b := range p.leftOut {
		res.LeftOut++
		res.LeftOutBytes += b.Size
	}
	root := p.root
	p.entry = WithoutTag(ocispec.Descriptor{MediaType: root.MediaType, Digest: root.Digest, Size: root.Size,
		ArtifactType: root.ArtifactType, Annotations: root.Annotations, Platform: root.Platform})
	for _, b := range p.blobs {
		res.Blobs++
		res.Bytes += b.Size
	}
	if p.newIndex != nil {
		res.Blobs++
		res.Bytes += root.Size
	}
	return nil
}

// filterRoot applies the platform filter. For a manifest root it checks the manifest
// matches and returns it (nil index bytes). For an index it returns the descriptor of a
// rewritten index that lists only the kept children, and its bytes (nil when every child
// is kept); res.Kept and res.Dropped are filled in.
func (l *Layout) filterRoot(ctx context.Context, root ocispec.Descriptor, opts CopyOptions, res *CopyResult) (ocispec.Descriptor, []byte, error) {
	if IsManifest(root.MediaType) {
		if _, err := l.matchChildren(ctx, &ocispec.Index{Manifests: []ocispec.Descriptor{root}}, opts.Platforms); err != nil {
			return root, nil, err
		}
		res.Kept = []ocispec.Descriptor{root}
		return root, nil, nil
	}
	if !IsIndex(root.MediaType) {
		return root, nil, fmt.Errorf("%w: %s is a %s; only an index or manifest can be filtered by platform", ErrNotFound, root.Digest, root.MediaType)
	}
	raw, idx, _, err := l.ReadDocument(ctx, root)
	if err != nil {
		return root, nil, err
	}
	keep, err := l.matchChildren(ctx, idx, opts.Platforms)
	if err != nil {
		return root, nil, err
	}
	kept := map[digest.Digest]bool{}
	for i, c := range idx.Manifests {
		if keep[i] {
			kept[c.Digest] = true
		}
	}
	if opts.KeepAttestations {
		for i, a := range attestationsOf(idx.Manifests, kept) {
			keep[i] = keep[i] || a
		}
	}
	for i, c := range idx.Manifests {
		if keep[i] {
			res.Kept = append(res.Kept, c)
		} else {
			res.Dropped = append(res.Dropped, c)
		}
	}
	if len(res.Dropped) == 0 {
		return root, nil, nil // nothing filtered out: the index is copied as it is
	}
	b, err := keepChildren(raw, keep)
	if err != nil {
		return root, nil, err
	}
	nd := root
	nd.Digest, nd.Size = digest.FromBytes(b), int64(len(b))
	return nd, b, nil
}

// deltaOf is the record of what the plans left out, nil when nothing was.
func deltaOf(plans []*copyPlan) *Delta {
	d := &Delta{}
	for _, p := range plans {
		for _, b := range p.bases {
			d.Merge(&Delta{Bases: []DeltaBase{{Name: b.Name, Index: b.index}}})
		}
		d.Merge(&Delta{Blobs: p.leftOut})
	}
	if len(d.Blobs) == 0 {
		return nil
	}
	return d
}

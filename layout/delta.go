package layout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/capped"
)

// AnnotationDelta is the index.json annotation that makes a layout a delta: its value is
// the JSON of a Delta, the blobs left out because a base the far side has holds them.
// Tools that do not know it see a layout whose index.json has an annotation and whose
// graph lacks some blobs (the layout format allows that).
const AnnotationDelta = "dev.ocil.delta.v1"

// ErrLeftOut marks a blob that is not in a delta because its base holds it (see Delta).
// Errors that wrap it wrap ErrNotFound too.
var ErrLeftOut = errors.New("left out of this delta")

// Delta is what a delta layout records in index.json (AnnotationDelta): the bases it was
// made against and the blobs it leaves out because one of them holds them. Indexes,
// manifests and the configs manifests name always travel, so every reader can walk the
// graph; only other blobs (layers, mostly) are left out.
type Delta struct {
	// Bases are the layouts the far side must already hold: the name each was given by
	// (the --base value) and the digest of its index.json when the delta was made.
	Bases []DeltaBase `json:"bases"`
	// Blobs are the blobs left out, with media type, digest and size, in the order met.
	Blobs []ocispec.Descriptor `json:"blobs"`
}

// DeltaBase identifies one base of a delta.
type DeltaBase struct {
	Name  string        `json:"name"`
	Index digest.Digest `json:"index"`
}

// maxDeltaNameLen bounds a base's recorded name (a path).
const maxDeltaNameLen = 4096

// ParseDelta reads the value of AnnotationDelta. It is strict: JSON without duplicate
// member names, at least one base, each with a name and a valid index.json digest, and
// every blob with a valid digest, a media type in the RFC 6838 grammar, a size of zero or
// more, and no digest twice. Errors wrap ErrInvalidDocument.
func ParseDelta(s string) (*Delta, error) {
	b := []byte(s)
	if err := checkJSON(b); err != nil {
		return nil, fmt.Errorf("%w: %s annotation: %v", ErrInvalidDocument, AnnotationDelta, err)
	}
	var d Delta
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: %s annotation: %v", ErrInvalidDocument, AnnotationDelta, err)
	}
	bad := func(format string, args ...any) (*Delta, error) {
		return nil, fmt.Errorf("%w: %s annotation: %s", ErrInvalidDocument, AnnotationDelta, fmt.Sprintf(format, args...))
	}
	if len(d.Bases) == 0 {
		return bad("no base")
	}
	for i, base := range d.Bases {
		if base.Name == "" || len(base.Name) > maxDeltaNameLen || strings.ContainsRune(base.Name, 0) {
			return bad("bases[%d]: the name is empty, longer than %d bytes or holds NUL", i, maxDeltaNameLen)
		}
		if err := ValidateDigest(base.Index); err != nil {
			return bad("bases[%d]: index: %v", i, err)
		}
	}
	seen := make(map[digest.Digest]bool, len(d.Blobs))
	for i, bl := range d.Blobs {
		if err := ValidateDigest(bl.Digest); err != nil {
			return bad("blobs[%d]: %v", i, err)
		}
		if seen[bl.Digest] {
			return bad("blobs[%d]: %s is listed twice", i, bl.Digest)
		}
		seen[bl.Digest] = true
		if bl.Size < 0 {
			return bad("blobs[%d]: %s: negative size %d", i, bl.Digest, bl.Size)
		}
		if err := CheckMediaType(bl.MediaType); err != nil {
			return bad("blobs[%d]: %s: media type %q is not in the RFC 6838 grammar", i, bl.Digest, bl.MediaType)
		}
		d.Blobs[i] = ocispec.Descriptor{MediaType: bl.MediaType, Digest: bl.Digest, Size: bl.Size}
	}
	return &d, nil
}

// Encode is the annotation value of d: JSON encoded one way, so the same delta gives the
// same index.json bytes.
func (d *Delta) Encode() (string, error) {
	b, err := EncodeJSON(d)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// Find returns the recorded descriptor of the left-out blob dg.
func (d *Delta) Find(dg digest.Digest) (ocispec.Descriptor, bool) {
	if d == nil {
		return ocispec.Descriptor{}, false
	}
	for _, b := range d.Blobs {
		if b.Digest == dg {
			return b, true
		}
	}
	return ocispec.Descriptor{}, false
}

// set is the left-out blobs by digest.
func (d *Delta) set() map[digest.Digest]ocispec.Descriptor {
	m := map[digest.Digest]ocispec.Descriptor{}
	if d != nil {
		for _, b := range d.Blobs {
			m[b.Digest] = b
		}
	}
	return m
}

// BaseNames says which bases d needs, for messages: "v1.tar (index.json sha256:...)".
func (d *Delta) BaseNames() string {
	var s []string
	for _, b := range d.Bases {
		s = append(s, fmt.Sprintf("%s (index.json %s)", b.Name, b.Index))
	}
	return strings.Join(s, ", ")
}

// Merge adds o's bases and blobs to d, each once, in the order met.
func (d *Delta) Merge(o *Delta) {
	for _, b := range o.Bases {
		if !slices.Contains(d.Bases, b) {
			d.Bases = append(d.Bases, b)
		}
	}
	have := d.set()
	for _, b := range o.Blobs {
		if _, ok := have[b.Digest]; !ok {
			have[b.Digest] = b
			d.Blobs = append(d.Blobs, b)
		}
	}
}

// DeltaOf reads the delta record of an index.json: nil when it has none.
func DeltaOf(idx *ocispec.Index) (*Delta, error) {
	v, ok := idx.Annotations[AnnotationDelta]
	if !ok {
		return nil, nil
	}
	return ParseDelta(v)
}

// Delta reads the layout's delta record from index.json: nil (and no error) when the
// layout is not a delta. An unreadable record is an error naming index.json. An
// index.json that does not hold the annotation's name is not decoded.
func (l *Layout) Delta(ctx context.Context) (*Delta, error) {
	b, err := capped.ReadFile(l.fsys, IndexFile, MaxIndexSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w: index.json is missing", l.path, ErrNotLayout)
		}
		return nil, fmt.Errorf("read %s: %w", l.indexName(), err)
	}
	return deltaOfIndexJSON(b, l.indexName())
}

// deltaOfIndexJSON reads the delta record of the index.json bytes b (named name).
func deltaOfIndexJSON(b []byte, name string) (*Delta, error) {
	if !bytes.Contains(b, []byte(AnnotationDelta)) {
		return nil, nil
	}
	idx, err := decodeIndexJSON(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	d, err := DeltaOf(idx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return d, nil
}

// leftOutError, for a blob not found in l, says so when l is a delta that records it as
// left out; else it returns nil. It runs on failing reads only, which a walk of a layout
// lacking many documents meets once each, so the record is kept while index.json's size
// and time stay the same (a stat per call, not a read and parse of index.json).
func (l *Layout) leftOutError(dg digest.Digest) error {
	d, set := l.cachedDelta()
	if d == nil {
		return nil
	}
	if _, ok := set[dg]; !ok {
		return nil
	}
	return fmt.Errorf("%w: %w: the base %s holds it", ErrNotFound, ErrLeftOut, d.BaseNames())
}

// deltaCache holds a layout's delta record for leftOutError, with the index.json it
// was read from (size and modification time).
type deltaCache struct {
	mu    sync.Mutex
	valid bool
	size  int64
	mod   time.Time
	d     *Delta
	set   map[digest.Digest]ocispec.Descriptor
}

func (l *Layout) cachedDelta() (*Delta, map[digest.Digest]ocispec.Descriptor) {
	fi, err := fs.Stat(l.fsys, IndexFile)
	if err != nil {
		return nil, nil
	}
	c := &l.deltas
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.size != fi.Size() || !c.mod.Equal(fi.ModTime()) {
		d, err := l.Delta(context.Background())
		if err != nil {
			d = nil // an unreadable record explains nothing; the read's own error stands
		}
		c.valid, c.size, c.mod, c.d, c.set = true, fi.Size(), fi.ModTime(), d, d.set()
	}
	return c.d, c.set
}

// Base is a layout the far side already holds, given to CopyOptions.Bases.
type Base struct {
	// Name identifies the base in the delta's record (the --base value, as typed).
	Name   string
	Layout *Layout

	index digest.Digest // of its index.json
	delta map[digest.Digest]ocispec.Descriptor
}

// OpenBase opens the layout at path (a folder or tarball, docker save archives included)
// as a base and reads its index.json, so that an unreadable base fails before anything is
// written; errors name path. Close the base's Layout when done.
func OpenBase(ctx context.Context, path string) (*Base, error) {
	if path == Stdio {
		return nil, fmt.Errorf("base %s: %w: standard input is a source, not a base; name the base's folder or tarball", path, ErrInvalidOption)
	}
	l, err := Open(path)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", path, err)
	}
	b := &Base{Name: path, Layout: l}
	if err := b.load(); err != nil {
		l.Close()
		return nil, err
	}
	return b, nil
}

func (b *Base) load() error {
	_, raw, err := b.Layout.readIndex()
	if err != nil {
		return fmt.Errorf("base %s: %w", b.Name, err)
	}
	b.index = digest.FromBytes(raw)
	d, err := deltaOfIndexJSON(raw, b.Layout.indexName())
	if err != nil {
		return fmt.Errorf("base %s: %w", b.Name, err)
	}
	// A base that is itself a delta was applied on the far side over its own base, so
	// the far side holds what it left out as well.
	b.delta = d.set()
	return nil
}

// holds reports whether the far side holding b holds the blob d: b has it with d's size,
// or b is a delta that left it out.
func (b *Base) holds(d ocispec.Descriptor) (bool, error) {
	if r, ok := b.delta[d.Digest]; ok && r.Size == d.Size {
		return true, nil
	}
	ok, err := b.Layout.HasBlob(d)
	if err != nil {
		return false, fmt.Errorf("base %s: blob %s: %w", b.Name, d.Digest, err)
	}
	return ok, nil
}

// leaveOut splits blobs (a copy's, in walk order) into what travels and what a base
// holds. Indexes, manifests and the configs the manifests name always travel, so the
// delta can be walked, listed and resolved; any other blob a base holds is left out.
func leaveOut(ctx context.Context, l *Layout, blobs []ocispec.Descriptor, bases []*Base) (keep, out []ocispec.Descriptor, used []*Base, err error) {
	if len(bases) == 0 {
		return blobs, nil, nil, nil
	}
	configs := map[digest.Digest]bool{}
	for _, b := range blobs {
		if !IsManifest(b.MediaType) {
			continue
		}
		_, _, m, err := l.ReadDocument(ctx, b)
		if err != nil {
			return nil, nil, nil, err
		}
		configs[m.Config.Digest] = true
	}
	usedSet := map[*Base]bool{}
	for _, b := range blobs {
		if IsIndex(b.MediaType) || IsManifest(b.MediaType) || configs[b.Digest] {
			keep = append(keep, b)
			continue
		}
		var by *Base
		for _, base := range bases {
			ok, err := base.holds(b)
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				by = base
				break
			}
		}
		if by == nil {
			keep = append(keep, b)
			continue
		}
		usedSet[by] = true
		out = append(out, b)
	}
	for _, base := range bases {
		if usedSet[base] {
			used = append(used, base)
		}
	}
	return keep, out, used, nil
}

// setDelta records d in the index.json annotation, merged with a record already there.
func setDelta(idx *ocispec.Index, d *Delta) error {
	merged := &Delta{}
	old, err := DeltaOf(idx)
	if err != nil {
		return err
	}
	if old != nil {
		merged.Merge(old)
	}
	merged.Merge(d)
	v, err := merged.Encode()
	if err != nil {
		return err
	}
	if idx.Annotations == nil {
		idx.Annotations = map[string]string{}
	}
	idx.Annotations[AnnotationDelta] = v
	return nil
}

// maxNamed bounds how many missing blobs an error lists one by one.
const maxNamed = 10

// CheckDeltaSources checks, before anything is written, that the destination dst (a
// folder or tarball path; "-" holds nothing) holds every blob a job must bring from a
// delta that left it out (a job whose From lacks the blob and records it as left out).
// Such blobs are then found in dst by Transfer, which brings nothing for them. When some
// are missing, the error wraps ErrNotFound and ErrLeftOut and names them (the first ten,
// and how many more), the delta and its base. Nothing is written either way.
func CheckDeltaSources(ctx context.Context, dst string, jobs []TransferBlob) error {
	type need struct {
		job   TransferBlob
		delta *Delta
	}
	type record struct {
		d   *Delta
		set map[digest.Digest]ocispec.Descriptor
	}
	var needs []need
	deltas := map[*Layout]record{}
	seen := map[digest.Digest]bool{}
	for _, j := range jobs {
		r, ok := deltas[j.From]
		if !ok {
			d, err := j.From.Delta(ctx)
			if err != nil {
				return err
			}
			r = record{d, d.set()}
			deltas[j.From] = r
		}
		if r.d == nil || seen[j.Blob.Digest] {
			continue
		}
		if _, ok := r.set[j.Blob.Digest]; !ok {
			continue
		}
		d := r.d
		if has, err := j.From.HasBlob(j.Blob); err != nil {
			return fmt.Errorf("read blob %s in %s: %w", j.Blob.Digest, j.From.path, err)
		} else if has {
			continue
		}
		seen[j.Blob.Digest] = true
		needs = append(needs, need{j, d})
	}
	if len(needs) == 0 {
		return nil
	}
	ref, err := ParseOutput(dst)
	if err != nil {
		return err
	}
	if ref.Path == Stdio {
		// A stream is a whole layout for the far side to take: it cannot leave blobs out.
		return fmt.Errorf("write %s: %w: %s is a delta, which leaves out %s (%s) of its base %s, and a stream carries a whole layout; send the delta's file itself (cat %s | ssh HOST ocil copy - SITE)",
			ref.Path, ErrLeftOut, needs[0].job.From.path, count(len(needs), "blob", "blobs"), needs[0].job.Blob.Digest, needs[0].delta.BaseNames(), needs[0].job.From.path)
	}
	site, err := Open(ref.Path)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotLayout):
		// Not a layout yet (missing, or an empty folder): it holds nothing.
		site = nil
	case err != nil:
		return fmt.Errorf("write %s: %w", ref.Path, err)
	default:
		defer site.Close()
	}
	var missing []need
	var bytes int64
	for _, n := range needs {
		has := false
		if site != nil {
			if has, err = site.HasBlob(n.job.Blob); err != nil {
				return fmt.Errorf("read blob %s in %s: %w", n.job.Blob.Digest, ref.Path, err)
			}
		}
		if !has {
			missing = append(missing, n)
			bytes += n.job.Blob.Size
		}
	}
	if len(missing) == 0 {
		return nil
	}
	first := missing[0]
	var b strings.Builder
	for i, n := range missing {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(missing)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s (%s, %d bytes)", n.job.Blob.Digest, n.job.Blob.MediaType, n.job.Blob.Size)
	}
	return fmt.Errorf("write %s: %w: %d %s (%d bytes) %w (%s) %s not in %s, which must hold its base %s:%s", ref.Path, ErrNotFound,
		len(missing), plural(len(missing), "blob", "blobs"), bytes, ErrLeftOut, first.job.From.path, plural(len(missing), "is", "are"), ref.Path, first.delta.BaseNames(), b.String())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

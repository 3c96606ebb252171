package artifact

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/internal/ctxio"
	"github.com/ocil-dev/ocil/layout"

	"github.com/ocil-dev/ocil/internal/atomicfile"
)

// PulledFile is one file or folder Pull wrote.
type PulledFile struct {
	Path   string             `json:"path"` // relative to the output folder
	Layer  ocispec.Descriptor `json:"layer"`
	Folder bool               `json:"folder,omitempty"`
}

// maxPackedEntries caps the entries of one packed folder Pull extracts.
const maxPackedEntries = 1 << 20

// Pull writes the titled layers of the manifest d into dir: each layer with an
// org.opencontainers.image.title becomes the file of that name, verified against its
// digest before it gets the name; a layer oras marked for unpacking (a packed folder)
// is extracted, regular files and folders only, every entry under the layer's title.
// Layers without a title are skipped. An existing file is not overwritten unless force.
//
// Every name is checked before anything is written: a title must be a relative
// slash-separated path with no empty, "." or ".." component, no NUL or backslash, and
// no two titles may be the same or one a folder of the other; every entry of every packed
// folder is read through the verified blob path and checked the same way, and links,
// devices and duplicates are refused. One bad name refuses the whole pull and dir is left
// as it was (not even created). Then the files are staged beside their names, the folders
// extracted (read again through the verified path), and the files renamed into place;
// writes go through an os.Root, so nothing lands outside dir. dir is created when missing
// and something is to be written.
func Pull(ctx context.Context, l *layout.Layout, d ocispec.Descriptor, dir string, force bool) ([]PulledFile, error) {
	_, _, m, err := l.ReadDocument(ctx, d)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, choosePlatform(ctx, l, d)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("pull %s: %w: "+format, append([]any{l.Path(), layout.ErrInvalidDocument}, args...)...)
	}
	type job struct {
		title   string
		layer   ocispec.Descriptor
		entries []packedEntry // a packed folder's, as checked
	}
	var jobs []job
	seen := map[string]bool{}
	for _, layer := range m.Layers {
		title, ok := layer.Annotations[ocispec.AnnotationTitle]
		if !ok {
			continue
		}
		if why := unsafePullName(title); why != "" {
			return nil, fail("layer %s has the title %q: %s", layer.Digest, title, why)
		}
		if seen[title] {
			return nil, fail("two layers have the title %q", title)
		}
		seen[title] = true
		jobs = append(jobs, job{title: title, layer: layer})
	}
	for title := range seen {
		for p := path.Dir(title); p != "."; p = path.Dir(p) {
			if seen[p] {
				return nil, fail("the title %q is inside the title %q", title, p)
			}
		}
	}
	for i, j := range jobs {
		if j.layer.Annotations[AnnotationUnpack] == "true" {
			ents, err := checkPacked(ctx, l, j.layer, j.title)
			if err != nil {
				return nil, fmt.Errorf("pull %s: layer %s (%s): %w", l.Path(), j.layer.Digest, j.title, err)
			}
			jobs[i].entries = ents
			if !force {
				for _, e := range ents {
					if err := noConflict(dir, e.name, e.dir); err != nil {
						return nil, fmt.Errorf("pull %s: %w", l.Path(), err)
					}
				}
			}
		} else if !force {
			if err := noConflict(dir, j.title, false); err != nil {
				return nil, fmt.Errorf("pull %s: %w", l.Path(), err)
			}
		}
	}
	if len(jobs) == 0 {
		return nil, nil
	}

	// Every name is good: write.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pull %s: %w", l.Path(), err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", l.Path(), err)
	}
	defer root.Close()
	staged := map[string]*atomicfile.File{} // title -> its temp file, written and checked
	defer func() {
		for _, f := range staged {
			f.Discard()
		}
	}()
	for _, j := range jobs {
		if j.entries != nil {
			continue
		}
		f, err := stageFile(ctx, l, root, j.layer, j.title)
		if f != nil {
			staged[j.title] = f
		}
		if err != nil {
			return nil, fmt.Errorf("pull %s: %s: %w", l.Path(), j.title, err)
		}
	}
	var out []PulledFile
	for _, j := range jobs {
		if j.entries == nil {
			continue
		}
		if err := unpackLayer(ctx, l, root, j.layer, j.title, j.entries, force); err != nil {
			return out, fmt.Errorf("pull %s: %s: %w", l.Path(), j.title, err)
		}
		out = append(out, PulledFile{Path: j.title, Layer: j.layer, Folder: true})
	}
	for _, j := range jobs {
		if j.entries != nil {
			continue
		}
		if err := staged[j.title].Commit(filepath.FromSlash(j.title), 0o644, true); err != nil {
			return out, fmt.Errorf("pull %s: %s: %w", l.Path(), j.title, err)
		}
		delete(staged, j.title)
		out = append(out, PulledFile{Path: j.title, Layer: j.layer})
	}
	sort.SliceStable(out, func(a, b int) bool { return order(m.Layers, out[a].Layer) < order(m.Layers, out[b].Layer) })
	return out, nil
}

// order is the index of d among layers, so Pull lists what it wrote in manifest order.
func order(layers []ocispec.Descriptor, d ocispec.Descriptor) int {
	for i, l := range layers {
		if l.Digest == d.Digest && l.Annotations[ocispec.AnnotationTitle] == d.Annotations[ocispec.AnnotationTitle] {
			return i
		}
	}
	return len(layers)
}

// unsafePullName says why a title or packed entry name may not be written under the
// output folder, or "" when it may.
func unsafePullName(name string) string {
	switch {
	case name == "":
		return "an empty name"
	case strings.IndexByte(name, 0) >= 0:
		return "it holds a NUL byte"
	case strings.IndexByte(name, '\\') >= 0:
		return "it holds a backslash"
	case name[0] == '/' || filepath.IsAbs(name):
		return "it is absolute"
	}
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "":
			return "it has an empty component"
		case ".", "..":
			return fmt.Sprintf("it has a %q component", c)
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "it is not a plain relative name on this system"
	}
	return ""
}

// noConflict refuses a name that exists under dir (a file, or a folder where a file goes).
func noConflict(dir, name string, isDir bool) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	fi, err := os.Lstat(p)
	if err != nil || (isDir && fi.IsDir()) {
		return nil
	}
	return fmt.Errorf("%w: %s exists (use --force to overwrite)", layout.ErrConflict, p)
}

// stageFile streams a layer through the verified reader into a temp file beside its
// title in root and returns it, open, once the digest matched; Commit puts it in place.
func stageFile(ctx context.Context, l *layout.Layout, root *os.Root, layer ocispec.Descriptor, title string) (*atomicfile.File, error) {
	rc, err := l.OpenBlob(ctx, layer)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	parent := filepath.FromSlash(path.Dir(title))
	if parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return nil, err
		}
	}
	f, err := atomicfile.CreateIn(root, parent)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, ctxio.NewReader(ctx, rc)); err != nil {
		return f, err
	}
	return f, nil
}

// packedEntry is one entry of a packed folder, as checked before anything is written.
type packedEntry struct {
	name string // cleaned: no "./" prefix, no trailing "/"
	dir  bool
	size int64
	exec bool
}

// packedReader opens a packed folder's tar stream through the verified read path. done
// reads the blob to its end and reports a size or digest mismatch.
func packedReader(ctx context.Context, l *layout.Layout, layer ocispec.Descriptor) (tr *tar.Reader, done func() error, closeAll func(), err error) {
	rc, err := l.OpenBlob(ctx, layer)
	if err != nil {
		return nil, nil, nil, err
	}
	var r io.Reader = ctxio.NewReader(ctx, rc)
	var gz *gzip.Reader
	if strings.HasSuffix(layer.MediaType, "+gzip") || strings.HasSuffix(layer.MediaType, ".gzip") {
		if gz, err = gzip.NewReader(r); err != nil {
			if _, verr := io.Copy(io.Discard, rc); verr != nil {
				err = verr // the blob is damaged: say so rather than what gzip saw
			}
			rc.Close()
			return nil, nil, nil, err
		}
		r = gz
	}
	done = func() error {
		var gzErr error
		if gz != nil {
			_, gzErr = io.Copy(io.Discard, gz)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			return err // a damaged blob, rather than what gzip made of it
		}
		return gzErr
	}
	return tar.NewReader(r), done, func() { rc.Close() }, nil
}

// checkPacked reads a packed folder to its end through the verified read path and checks
// every entry: a regular file or folder, named by a safe path under title, once.
func checkPacked(ctx context.Context, l *layout.Layout, layer ocispec.Descriptor, title string) ([]packedEntry, error) {
	tr, done, closeAll, err := packedReader(ctx, l, layer)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	var ents []packedEntry
	pc := newPackedChecker(title)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if verr := done(); verr != nil {
				return nil, verr
			}
			return nil, err
		}
		e, skip, err := pc.next(h)
		if err != nil {
			return nil, err
		}
		if !skip {
			ents = append(ents, e)
		}
	}
	if err := done(); err != nil {
		return nil, err
	}
	if ents == nil {
		ents = []packedEntry{}
	}
	return ents, nil
}

// packedChecker applies the rules to the entries of one packed folder in order, so that
// the check and the extraction see the same entries.
type packedChecker struct {
	title       string
	n           int
	files, dirs map[string]bool // dirs: named by an entry or above one
}

func newPackedChecker(title string) *packedChecker {
	return &packedChecker{title: title, files: map[string]bool{}, dirs: map[string]bool{}}
}

// next checks one header. skip is true for a folder already known, which changes nothing.
func (pc *packedChecker) next(h *tar.Header) (e packedEntry, skip bool, err error) {
	if pc.n++; pc.n > maxPackedEntries {
		return e, false, fmt.Errorf("%w: more than %d entries", layout.ErrInvalidDocument, maxPackedEntries)
	}
	if e, err = checkPackedEntry(h, pc.title); err != nil {
		return e, false, err
	}
	switch {
	case pc.files[e.name] || (pc.dirs[e.name] && !e.dir):
		return e, false, fmt.Errorf("%w: entry %q: a second entry for %s", layout.ErrInvalidDocument, h.Name, e.name)
	case e.dir && pc.dirs[e.name]:
		return e, true, nil
	}
	for p := path.Dir(e.name); p != "."; p = path.Dir(p) {
		if pc.files[p] {
			return e, false, fmt.Errorf("%w: entry %q: %s is a file in the same layer", layout.ErrInvalidDocument, h.Name, p)
		}
		pc.dirs[p] = true
	}
	if e.dir {
		pc.dirs[e.name] = true
	} else {
		pc.files[e.name] = true
	}
	return e, false, nil
}

// checkPackedEntry checks one header of a packed folder.
func checkPackedEntry(h *tar.Header, title string) (packedEntry, error) {
	name := strings.TrimPrefix(h.Name, "./")
	e := packedEntry{size: h.Size, exec: h.Mode&0o111 != 0}
	switch h.Typeflag {
	case tar.TypeDir:
		e.dir = true
		name = strings.TrimSuffix(name, "/")
	case tar.TypeReg:
	default:
		return e, fmt.Errorf("%w: entry %q is not a regular file or folder (type %q)", layout.ErrInvalidDocument, h.Name, h.Typeflag)
	}
	if why := unsafePullName(name); why != "" {
		return e, fmt.Errorf("%w: entry %q would leave the output folder: %s", layout.ErrInvalidDocument, h.Name, why)
	}
	if name != title && !strings.HasPrefix(name, title+"/") {
		return e, fmt.Errorf("%w: entry %q is not inside the layer's folder %q", layout.ErrInvalidDocument, h.Name, title)
	}
	e.name = name
	return e, nil
}

// unpackLayer extracts a packed folder whose entries checkPacked listed into root, reading
// it again through the verified read path; an entry that differs from the list ends it.
func unpackLayer(ctx context.Context, l *layout.Layout, root *os.Root, layer ocispec.Descriptor, title string, ents []packedEntry, force bool) error {
	tr, done, closeAll, err := packedReader(ctx, l, layer)
	if err != nil {
		return err
	}
	defer closeAll()
	changed := fmt.Errorf("%w: blob %s changed while it was pulled", layout.ErrDigestMismatch, layer.Digest)
	pc := newPackedChecker(title)
	i := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		e, skip, err := pc.next(h)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		if i >= len(ents) || ents[i] != e {
			return changed
		}
		i++
		name := filepath.FromSlash(e.name)
		if e.dir {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			continue
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if !force {
			flags |= os.O_EXCL
		}
		mode := fs.FileMode(0o644)
		if e.exec {
			mode = 0o755
		}
		w, err := root.OpenFile(name, flags, mode)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%w: %s exists (use --force to overwrite)", layout.ErrConflict, name)
			}
			return err
		}
		if _, err := io.Copy(w, io.LimitReader(tr, e.size)); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	if i != len(ents) {
		return changed
	}
	return done()
}

// choosePlatform is the error for an index given to Pull: an AmbiguousError that lists
// its manifests with their platforms, as Resolve lists them.
func choosePlatform(ctx context.Context, l *layout.Layout, d ocispec.Descriptor) error {
	cs, err := l.PlatformCandidates(ctx, d)
	if err != nil {
		return fmt.Errorf("pull %s: %w", l.Path(), err)
	}
	subject := l.Path() + "@" + string(d.Digest)
	tag := ""
	if idx, err := l.Index(ctx); err == nil {
		for _, e := range idx.Manifests {
			if e.Digest == d.Digest && layout.TagOf(e) != "" {
				tag = layout.TagOf(e)
				subject = l.Path() + ":" + tag
				break
			}
		}
	}
	amb := &layout.AmbiguousError{Subject: subject, Hint: "choose one with --platform or @DIGEST"}
	for _, c := range cs {
		if !layout.IsAttestation(c.Descriptor) {
			c.Parent = tag
			amb.Candidates = append(amb.Candidates, c)
		}
	}
	amb.Reason = fmt.Sprintf("pull takes one manifest, and %s is an index of %s", d.Digest, count(len(amb.Candidates), "manifest", "manifests"))
	return amb
}

// count says "1 manifest" or "n manifests".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

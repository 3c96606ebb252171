package layout

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PulledFile is one file or folder Pull wrote.
type PulledFile struct {
	Path   string             `json:"path"` // relative to the output folder
	Layer  ocispec.Descriptor `json:"layer"`
	Folder bool               `json:"folder,omitempty"`
}

// Pull writes the titled layers of the manifest d into dir: each layer with an
// org.opencontainers.image.title becomes the file of that name, verified against its
// digest before it gets the name; a layer oras marked for unpacking (a packed folder)
// is extracted, regular files and folders only. Titles and tar entries must stay inside
// dir (no absolute names, no ".."): anything else refuses the whole pull before a byte
// is written. An existing file is not overwritten unless force. Layers without a title
// are skipped. dir is created when missing.
func (l *Layout) Pull(ctx context.Context, d ocispec.Descriptor, dir string, force bool) ([]PulledFile, error) {
	_, _, m, err := l.ReadDocument(ctx, d)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("pull %s: %w: %s is an index; choose a platform", l.path, ErrAmbiguous, d.Digest)
	}
	type job struct {
		title string
		layer ocispec.Descriptor
	}
	var jobs []job
	seen := map[string]bool{}
	for _, layer := range m.Layers {
		title := layer.Annotations[ocispec.AnnotationTitle]
		if title == "" {
			continue
		}
		if !filepath.IsLocal(title) || strings.ContainsAny(title, `\`) {
			return nil, fmt.Errorf("pull %s: %w: layer %s has the title %q, which would leave the output folder", l.path, ErrInvalidDocument, layer.Digest, title)
		}
		if seen[filepath.Clean(title)] {
			return nil, fmt.Errorf("pull %s: %w: two layers have the title %q", l.path, ErrInvalidDocument, title)
		}
		seen[filepath.Clean(title)] = true
		if !force {
			if _, err := os.Lstat(filepath.Join(dir, title)); err == nil {
				return nil, fmt.Errorf("pull %s: %w: %s exists (use --force to overwrite)", l.path, ErrConflict, filepath.Join(dir, title))
			}
		}
		jobs = append(jobs, job{title, layer})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pull %s: %w", l.path, err)
	}
	var out []PulledFile
	for _, j := range jobs {
		dst := filepath.Join(dir, j.title)
		if j.layer.Annotations[AnnotationUnpack] == "true" {
			if err := l.unpackLayer(ctx, j.layer, dir, force); err != nil {
				return out, fmt.Errorf("pull %s: %s: %w", l.path, j.title, err)
			}
			out = append(out, PulledFile{Path: j.title, Layer: j.layer, Folder: true})
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return out, fmt.Errorf("pull %s: %w", l.path, err)
		}
		if err := l.pullFile(ctx, j.layer, dst); err != nil {
			return out, fmt.Errorf("pull %s: %s: %w", l.path, j.title, err)
		}
		out = append(out, PulledFile{Path: j.title, Layer: j.layer})
	}
	return out, nil
}

// pullFile streams a layer through the verified reader into a temp file beside dst and
// renames it onto dst only after the digest matched.
func (l *Layout) pullFile(ctx context.Context, layer ocispec.Descriptor, dst string) error {
	rc, err := l.OpenBlob(ctx, layer)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.CreateTemp(filepath.Dir(dst), TempPrefix+"*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, ctxReader{ctx, rc}); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// unpackLayer extracts a packed folder (tar, optionally gzip) into dir through an
// os.Root, so no entry can reach outside it. The layer is verified first, in full.
func (l *Layout) unpackLayer(ctx context.Context, layer ocispec.Descriptor, dir string, force bool) error {
	// Verify the whole layer before extracting anything.
	rc, err := l.OpenBlob(ctx, layer)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		rc.Close()
		return err
	}
	rc.Close()
	// Read again through the verified reader, so what is extracted is bounded by the
	// layer's size even if the file changed since.
	f, err := l.OpenBlob(ctx, layer)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(layer.MediaType, "+gzip") || strings.HasSuffix(layer.MediaType, ".gzip") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		defer gz.Close()
		r = gz
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(strings.TrimPrefix(h.Name, "./"))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%w: entry %q would leave the output folder", ErrInvalidDocument, h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
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
			if h.Mode&0o111 != 0 {
				mode = 0o755
			}
			w, err := root.OpenFile(name, flags, mode)
			if err != nil {
				if errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("%w: %s exists (use --force to overwrite)", ErrConflict, name)
				}
				return err
			}
			if _, err := io.Copy(w, io.LimitReader(tr, h.Size)); err != nil {
				w.Close()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: entry %q is not a regular file or folder", ErrInvalidDocument, h.Name)
		}
	}
}

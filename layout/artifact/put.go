package artifact

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout"
)

// Annotations oras uses for a folder packed as a layer, so `oras pull` unpacks it too.
const (
	AnnotationUnpack        = "io.deis.oras.content.unpack"
	AnnotationContentDigest = "io.deis.oras.content.digest"
)

// DefaultType is the artifactType of an artifact with the empty config when none
// is given (the value oras uses).
const DefaultType = "application/vnd.unknown.artifact.v1"

// File is one file (or folder) of an artifact.
type File struct {
	Path string
	// MediaType of the layer; "" means application/vnd.oci.image.layer.v1.tar for a file
	// (what oras uses) and application/vnd.oci.image.layer.v1.tar+gzip for a folder.
	MediaType string
	// Annotations go on the file's layer descriptor, beside the title ocil sets.
	Annotations map[string]string
}

// Options describe an artifact manifest.
type Options struct {
	Platform     ocispec.Platform
	ArtifactType string
	// Annotations go on the manifest.
	Annotations map[string]string
	// ConfigAnnotations go on the manifest's config descriptor.
	ConfigAnnotations map[string]string
	// DescriptorAnnotations go on the descriptor Put returns, which (*layout.Layout).AddToIndex
	// puts into the tag's index: per-child annotations, as Homebrew's index has
	// (sh.brew.bottle.digest, org.opencontainers.image.ref.name).
	DescriptorAnnotations map[string]string
	// Config is a file to use as the config blob, with its media type
	// (default application/vnd.unknown.config.v1+json). Nil means the empty config {}.
	Config *File
	// PlatformConfig writes the platform into an image-config-typed config, as oras push
	// --artifact-platform does, for clients that only look there. Not with Config.
	PlatformConfig bool
	// ModTime stamps the entries of packed folders (zero: the Unix epoch).
	ModTime time.Time
}

// Put stores files in l as the layers of an artifact manifest (each titled with its
// base name in org.opencontainers.image.title; a folder packed as a reproducible tar.gz
// with the oras unpack annotations) and returns the manifest's descriptor with the
// platform on it. Nothing is time-stamped: the same files and options give the same
// digests. With no files, the manifest gets the empty descriptor as its one layer.
// Annotations are copied as given onto the manifest, the config descriptor, each layer
// and the returned descriptor; a file's annotations may not set the ones ocil writes on
// layers (title, unpack, content digest): ErrInvalidOption, before anything is written.
func Put(ctx context.Context, l *layout.Layout, files []File, opts Options) (ocispec.Descriptor, error) {
	if opts.Config != nil && opts.PlatformConfig {
		return ocispec.Descriptor{}, fmt.Errorf("artifact: %w: a config file and the platform config exclude each other", layout.ErrInvalidOption)
	}
	// The layer annotations ocil writes itself cannot be given: checked before any blob
	// is written.
	for _, f := range files {
		for _, k := range []string{ocispec.AnnotationTitle, AnnotationUnpack, AnnotationContentDigest} {
			if _, set := f.Annotations[k]; set {
				return ocispec.Descriptor{}, fmt.Errorf("artifact: %s: %w: the annotation %s is set by ocil", f.Path, layout.ErrInvalidOption, k)
			}
		}
	}
	types := []string{opts.ArtifactType}
	for _, f := range files {
		types = append(types, f.MediaType)
	}
	if opts.Config != nil {
		types = append(types, opts.Config.MediaType)
	}
	for _, mt := range types {
		if mt != "" {
			if err := layout.CheckMediaType(mt); err != nil {
				return ocispec.Descriptor{}, fmt.Errorf("artifact: %w", err)
			}
		}
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: opts.ArtifactType, Annotations: maps.Clone(opts.Annotations)}
	m.SchemaVersion = 2
	var diffIDs []digest.Digest
	titles := map[string]string{}
	for _, f := range files {
		fi, err := os.Stat(f.Path)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("artifact: %w", err)
		}
		title := Title(f.Path)
		if prev, dup := titles[title]; dup {
			return ocispec.Descriptor{}, fmt.Errorf("artifact: %w: %s and %s both have the title %q", layout.ErrConflict, prev, f.Path, title)
		}
		titles[title] = f.Path
		var d ocispec.Descriptor
		if fi.IsDir() {
			mt := f.MediaType
			if mt == "" {
				mt = ocispec.MediaTypeImageLayerGzip
			}
			var tarDigest string
			d, tarDigest, err = ingestFolder(ctx, l, mt, f.Path, opts.ModTime)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			d.Annotations = map[string]string{AnnotationUnpack: "true", AnnotationContentDigest: tarDigest}
			diffIDs = append(diffIDs, digest.Digest(tarDigest))
		} else {
			mt := f.MediaType
			if mt == "" {
				mt = ocispec.MediaTypeImageLayer
			}
			if d, err = ingestFile(ctx, l, mt, f.Path); err != nil {
				return ocispec.Descriptor{}, err
			}
			d.Annotations = map[string]string{}
			diffIDs = append(diffIDs, d.Digest) // an uncompressed layer is its own diff ID
		}
		for k, v := range f.Annotations {
			d.Annotations[k] = v
		}
		d.Annotations[ocispec.AnnotationTitle] = title
		m.Layers = append(m.Layers, d)
	}
	if len(m.Layers) == 0 {
		d, err := l.PutBlob(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		m.Layers = []ocispec.Descriptor{d}
		diffIDs = append(diffIDs, d.Digest)
	}
	switch {
	case opts.Config != nil:
		mt := opts.Config.MediaType
		if mt == "" {
			mt = "application/vnd.unknown.config.v1+json"
		}
		d, err := ingestFile(ctx, l, mt, opts.Config.Path)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		m.Config = d
	case opts.PlatformConfig:
		// A whole image config: the platform, and the rootfs the image spec requires for
		// this media type, so that clients validating image configs accept it.
		p := opts.Platform
		cfg := ocispec.Image{Platform: ocispec.Platform{Architecture: p.Architecture, OS: p.OS, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures, Variant: p.Variant},
			RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
		b, err := layout.EncodeJSON(cfg)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		if m.Config, err = l.PutBlob(ctx, ocispec.MediaTypeImageConfig, b); err != nil {
			return ocispec.Descriptor{}, err
		}
	default:
		d, err := l.PutBlob(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		m.Config = d
	}
	m.Config.Annotations = maps.Clone(opts.ConfigAnnotations)
	if m.ArtifactType == "" && opts.Config == nil {
		m.ArtifactType = DefaultType
	}
	b, err := layout.EncodeJSON(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d, err := l.PutBlob(ctx, ocispec.MediaTypeImageManifest, b)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	p := opts.Platform
	d.Platform = &p
	d.ArtifactType = m.ArtifactType
	d.Annotations = maps.Clone(opts.DescriptorAnnotations)
	return d, nil
}

// Title is the org.opencontainers.image.title Put gives the layer of the
// file or folder at path: its base name.
func Title(path string) string {
	return filepath.Base(filepath.Clean(path))
}

func ingestFile(ctx context.Context, l *layout.Layout, mediaType, path string) (ocispec.Descriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("artifact: %w", err)
	}
	defer f.Close()
	d, err := l.Ingest(ctx, mediaType, f)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("artifact: %s: %w", path, err)
	}
	return d, nil
}

// ingestFolder packs dir as a reproducible tar.gz layer: entries sorted by path, names
// relative to dir's parent (so they start with dir's base name, as oras packs them),
// folders 0755 and files 0644 (0755 when executable), owner 0:0, one time stamp. Only
// regular files and folders are packed; anything else is an error naming it. It returns
// the layer and the digest of the uncompressed tar.
func ingestFolder(ctx context.Context, l *layout.Layout, mediaType, dir string, mtime time.Time) (ocispec.Descriptor, string, error) {
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	dir = filepath.Clean(dir)
	base := filepath.Base(dir)
	var entries []layout.TarEntry
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() && !e.IsDir() {
			return fmt.Errorf("%s: only regular files and folders are packed", p)
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(dir), p)
		t := layout.TarEntry{Name: filepath.ToSlash(rel), Src: p, Mode: 0o644, Size: fi.Size()}
		if fi.IsDir() {
			t = layout.TarEntry{Name: t.Name + "/", Dir: true, Mode: 0o755}
		} else if fi.Mode()&0o111 != 0 {
			t.Mode = 0o755
		}
		entries = append(entries, t)
		return nil
	})
	if err != nil {
		return ocispec.Descriptor{}, "", fmt.Errorf("artifact: %w", err)
	}
	// Sorted by the path on disk, as before entry names carried a '/' for folders.
	sort.SliceStable(entries, func(i, j int) bool {
		return strings.TrimSuffix(entries[i].Name, "/") < strings.TrimSuffix(entries[j].Name, "/")
	})
	d, diffID, err := l.IngestTar(ctx, mediaType, layout.CompressionGzip, entries, mtime)
	if err != nil {
		return ocispec.Descriptor{}, "", fmt.Errorf("artifact: pack %s: %w", base, err)
	}
	return d, string(diffID), nil
}

package tarfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A docker save archive in the format Docker wrote before version 25 (and skopeo's and
// podman's docker-archive still write) holds no OCI layout: manifest.json lists each
// image's config file and layer files by their names in the archive, and the images'
// tags. The FS serves such an archive as the layout it stands for, so every reader of
// layouts reads it unchanged:
//
//   - each config file becomes the blob of its sha256, with the OCI config media type;
//   - each layer file becomes a blob: an uncompressed layer (what docker save writes) is
//     named by its diff ID from the config, which is the sha256 of its bytes, so it is
//     verified when the layout package reads it; a gzip or zstd layer is hashed here;
//   - each image gets an OCI manifest, built here, whose config and layers are those
//     blobs, and one index.json entry per RepoTag (org.opencontainers.image.ref.name is
//     the RepoTag as docker save wrote it, registry.example.com/team/app:7), or one
//     untagged entry when it has none, with the platform of its config.
//
// Symbolic links, which docker save writes for a layer two images share
// (<id>/layer.tar -> ../<other id>/layer.tar), are resolved when the link names another
// regular file of the same archive, relative to the link's folder; a link to anything
// else (outside the archive, a folder, another link, a name the archive does not hold)
// refuses the archive as hostile. Links are held back until the end of the archive: an
// archive that turns out to hold an OCI layout refuses any link, as before.

// savedImage is one element of a docker save manifest.json.
type savedImage struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// savedLink is a symbolic link held back in an archive that may be a docker save archive.
type savedLink struct {
	raw, name, target string
}

// savedConfig is the part of an image config the synthesised manifest needs.
type savedConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant"`
	OSVersion    string `json:"os.version"`
	RootFS       struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

var sha256Digest = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// IsDockerSave reports whether the archive was a docker save archive in the format
// before Docker 25, served as the layout it stands for. Such an archive is a source only:
// writers refuse to update it in place.
func (f *FS) IsDockerSave() bool { return f.dockerSave }

// checkLinks resolves every link held back. In a docker save archive each must lead to
// another regular file of the archive; in any other archive a link is refused as always.
func (ix *indexer) checkLinks(dockerSave bool) error {
	for _, l := range ix.links {
		if !dockerSave {
			return fmt.Errorf("open tarball %s: entry %q: %w: a symlink (to %q); a layout holds regular files and folders only", ix.path, l.raw, ErrHostile, l.target)
		}
		if _, err := ix.resolveLink(l); err != nil {
			return err
		}
	}
	return nil
}

// resolveLink returns the regular file a link of a docker save archive names.
func (ix *indexer) resolveLink(l savedLink) (*entry, error) {
	target := path.Join(path.Dir(l.name), l.target)
	switch {
	case l.target == "" || path.IsAbs(l.target) || strings.ContainsRune(l.target, '\\'):
		return nil, fmt.Errorf("open tarball %s: entry %q: %w: a symlink to %q; only a link to another regular file of the archive is read", ix.path, l.raw, ErrHostile, l.target)
	case target == ".." || strings.HasPrefix(target, "../"):
		return nil, fmt.Errorf("open tarball %s: entry %q: %w: a symlink to %q, which leads out of the archive", ix.path, l.raw, ErrHostile, l.target)
	}
	e, ok := ix.saved[target]
	if !ok || target == l.name {
		return nil, fmt.Errorf("open tarball %s: entry %q: %w: a symlink to %q, which is not a regular file of the archive", ix.path, l.raw, ErrHostile, l.target)
	}
	return e, nil
}

// savedFile finds a file manifest.json names, following a link.
func (ix *indexer) savedFile(name, what string) (*entry, error) {
	clean := path.Clean(name)
	if why := unsafeName(name); why != "" || clean == "." {
		return nil, fmt.Errorf("open tarball %s: manifest.json: %w: %s %q: %s", ix.path, ErrHostile, what, name, why)
	}
	if e, ok := ix.saved[clean]; ok {
		return e, nil
	}
	for _, l := range ix.links {
		if l.name == clean {
			return ix.resolveLink(l)
		}
	}
	return nil, fmt.Errorf("open tarball %s: manifest.json: %w: %s %q is not in the archive", ix.path, ErrCorrupt, what, name)
}

// readSaved reads a small file of the archive, within the JSON cap.
func (ix *indexer) readSaved(r io.ReaderAt, e *entry) ([]byte, error) {
	if e.size > ix.opts.MaxJSONSize {
		return nil, fmt.Errorf("open tarball %s: entry %q: %w: %d bytes, over the %d-byte cap for a JSON document", ix.path, e.raw, ErrHostile, e.size, ix.opts.MaxJSONSize)
	}
	b := make([]byte, e.size)
	if _, err := r.ReadAt(b, e.off); err != nil {
		return nil, fmt.Errorf("open tarball %s: entry %q: %w: %w", ix.path, e.raw, ErrCorrupt, err)
	}
	return b, nil
}

// fromDockerSave builds the layout a docker save archive stands for (see above).
func (ix *indexer) fromDockerSave(r io.ReaderAt) error {
	b, err := ix.readSaved(r, ix.saved["manifest.json"])
	if err != nil {
		return err
	}
	var images []savedImage
	if err := json.Unmarshal(b, &images); err != nil {
		return fmt.Errorf("open tarball %s: manifest.json: %w: not a docker save manifest: %v", ix.path, ErrCorrupt, err)
	}
	if len(images) == 0 {
		return fmt.Errorf("open tarball %s: manifest.json: %w: it lists no image", ix.path, ErrNotLayout)
	}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	for i, img := range images {
		desc, err := ix.savedManifest(r, i, img)
		if err != nil {
			return err
		}
		if len(img.RepoTags) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, tag := range img.RepoTags {
			d := desc
			d.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
			index.Manifests = append(index.Manifests, d)
		}
	}
	ib, err := json.Marshal(index)
	if err != nil {
		return err
	}
	ix.files["index.json"] = &entry{name: "index.json", raw: "manifest.json", data: ib, size: int64(len(ib))}
	lb := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	ix.files["oci-layout"] = &entry{name: "oci-layout", raw: "manifest.json", data: lb, size: int64(len(lb))}
	return nil
}

// savedManifest adds the blobs of the i-th image of manifest.json and returns the
// descriptor of the manifest built for it.
func (ix *indexer) savedManifest(r io.ReaderAt, i int, img savedImage) (ocispec.Descriptor, error) {
	what := fmt.Sprintf("image %d", i+1)
	if len(img.RepoTags) > 0 {
		what = fmt.Sprintf("image %d (%s)", i+1, img.RepoTags[0])
	}
	if img.Config == "" {
		return ocispec.Descriptor{}, fmt.Errorf("open tarball %s: manifest.json: %w: %s has no Config", ix.path, ErrCorrupt, what)
	}
	ce, err := ix.savedFile(img.Config, "the config of "+what)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cb, err := ix.readSaved(r, ce)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var cfg savedConfig
	if err := json.Unmarshal(cb, &cfg); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("open tarball %s: entry %q: %w: the config of %s is not an image config: %v", ix.path, ce.raw, ErrCorrupt, what, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(img.Layers) {
		return ocispec.Descriptor{}, fmt.Errorf("open tarball %s: entry %q: %w: the config of %s lists %d diff IDs for its %d layers", ix.path, ce.raw, ErrCorrupt, what, len(cfg.RootFS.DiffIDs), len(img.Layers))
	}
	sum := sha256.Sum256(cb)
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ix.addBlob(ce, ocispec.MediaTypeImageConfig, digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))),
		Layers:    []ocispec.Descriptor{},
	}
	for j, name := range img.Layers {
		le, err := ix.savedFile(name, fmt.Sprintf("layer %d of %s", j+1, what))
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		d, mt, err := ix.layerDigest(r, le, cfg.RootFS.DiffIDs[j])
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		m.Layers = append(m.Layers, ix.addBlob(le, mt, d))
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	md := digest.FromBytes(mb)
	name := "blobs/sha256/" + md.Encoded()
	ix.files[name] = &entry{name: name, raw: "manifest.json", data: mb, size: int64(len(mb))}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(mb))}
	if cfg.OS != "" && cfg.Architecture != "" {
		desc.Platform = &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	}
	return desc, nil
}

// layerDigest names a layer file: by its diff ID when it is an uncompressed tar (the
// layout package verifies it when it reads the blob), by its hash when compressed.
func (ix *indexer) layerDigest(r io.ReaderAt, e *entry, diffID string) (digest.Digest, string, error) {
	var magic [4]byte
	n, _ := r.ReadAt(magic[:min(int64(len(magic)), e.size)], e.off)
	compression, _ := sniff(magic[:n])
	if compression == compressionNone {
		if !sha256Digest.MatchString(diffID) {
			return "", "", fmt.Errorf("open tarball %s: entry %q: %w: its diff ID %q is not a sha256 digest", ix.path, e.raw, ErrCorrupt, diffID)
		}
		return digest.Digest(diffID), ocispec.MediaTypeImageLayer, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, e.off, e.size)); err != nil {
		return "", "", fmt.Errorf("open tarball %s: entry %q: %w: %w", ix.path, e.raw, ErrCorrupt, err)
	}
	mt := ocispec.MediaTypeImageLayerGzip
	if compression == compressionZstd {
		mt = ocispec.MediaTypeImageLayerZstd
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), mt, nil
}

// addBlob serves the bytes of e as the blob d and returns its descriptor.
func (ix *indexer) addBlob(e *entry, mediaType string, d digest.Digest) ocispec.Descriptor {
	name := "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
	if _, ok := ix.files[name]; !ok {
		ix.files[name] = &entry{name: name, raw: e.raw, off: e.off, size: e.size, modTime: e.modTime}
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: e.size}
}

// isLayoutStart reports whether the archive has shown a file of an OCI layout.
func (ix *indexer) isLayoutStart() bool {
	_, hasIndex := ix.files["index.json"]
	_, hasHeader := ix.files["oci-layout"]
	return hasIndex || hasHeader
}

// dataReader serves a file built in memory.
func dataReader(e *entry) *io.SectionReader {
	return io.NewSectionReader(bytes.NewReader(e.data), 0, int64(len(e.data)))
}

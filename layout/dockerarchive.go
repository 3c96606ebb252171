package layout

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
)

// DockerOptions ask a tarball output to carry, beside the OCI layout, the manifest.json
// (and repositories) that docker save writes since Docker 25, so that docker load,
// podman load and ctr import load every image under its name.
type DockerOptions struct {
	// Platform selects, for an entry that is an index of several images, the one the
	// Docker part lists. Without it such an entry is refused.
	Platform *ocispec.Platform
}

// dockerItem is one element of manifest.json, as docker save writes it.
type dockerItem struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// dockerRepoTag is NAME:TAG as docker load takes it: a repository (lowercase path
// components, an optional registry host with a port) and a tag.
var dockerRepoTag = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// dockerFiles builds manifest.json and repositories for the entries of idx, read from l:
// each tagged entry's image (the one image of an index, or the one for opts.Platform) is
// listed under its tag. An entry that is not a container image, an index of several
// images without a platform, and a tag that is not NAME:TAG are errors naming the entry.
func dockerFiles(ctx context.Context, l *Layout, idx *ocispec.Index, opts DockerOptions) (manifest, repositories []byte, err error) {
	items := []dockerItem{}
	repos := map[string]map[string]string{}
	for _, e := range idx.Manifests {
		tag := e.Annotations[ocispec.AnnotationRefName]
		name := tag
		if name == "" {
			name = string(e.Digest)
		}
		if tag != "" && !dockerRepoTag.MatchString(tag) {
			return nil, nil, fmt.Errorf("--docker: entry %s: %w: %q is not an image name with a tag (NAME:TAG, registry.example.com/team/app:1.2), which docker load needs; name it with SRC=NAME", name, ErrInvalidOption, tag)
		}
		m, err := l.dockerImage(ctx, e, name, opts)
		if err != nil {
			return nil, nil, err
		}
		it := dockerItem{Config: blobName(m.Config), Layers: []string{}}
		for _, layer := range m.Layers {
			it.Layers = append(it.Layers, blobName(layer))
		}
		if tag != "" {
			it.RepoTags = []string{tag}
			i := strings.LastIndexByte(tag, ':')
			if repos[tag[:i]] == nil {
				repos[tag[:i]] = map[string]string{}
			}
			repos[tag[:i]][tag[i+1:]] = m.Config.Digest.Encoded()
		}
		items = append(items, it)
	}
	if manifest, err = EncodeJSON(items); err != nil {
		return nil, nil, err
	}
	if repositories, err = EncodeJSON(repos); err != nil {
		return nil, nil, err
	}
	return manifest, repositories, nil
}

func blobName(d ocispec.Descriptor) string {
	return BlobsDir + "/" + d.Digest.Algorithm().String() + "/" + d.Digest.Encoded()
}

// dockerImage finds the container image an entry stands for.
func (l *Layout) dockerImage(ctx context.Context, e ocispec.Descriptor, name string, opts DockerOptions) (*ocispec.Manifest, error) {
	d := e
	if IsIndex(e.MediaType) {
		_, idx, _, err := l.ReadDocument(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("--docker: entry %s: %w", name, err)
		}
		var images []ocispec.Descriptor
		for _, c := range idx.Manifests {
			if !IsManifest(c.MediaType) || IsAttestation(c) {
				continue
			}
			if opts.Platform != nil {
				p, _, err := l.PlatformOf(ctx, c)
				if err != nil {
					return nil, fmt.Errorf("--docker: entry %s: %w", name, err)
				}
				if p == nil || !platform.NewMatcher(*opts.Platform).Match(*p) {
					continue
				}
			}
			images = append(images, c)
		}
		switch {
		case len(images) == 0 && opts.Platform != nil:
			return nil, fmt.Errorf("--docker: entry %s: %w: no image for %s", name, ErrNotFound, platform.Format(*opts.Platform))
		case len(images) == 0:
			return nil, fmt.Errorf("--docker: entry %s: %w: an index without images, which docker load cannot load", name, ErrInvalidOption)
		case len(images) > 1:
			var plats []string
			for _, c := range images {
				if p, _, err := l.PlatformOf(ctx, c); err == nil && p != nil {
					plats = append(plats, platform.Format(*p))
				}
			}
			return nil, fmt.Errorf("--docker: entry %s: %w: it holds images for %d platforms (%s) and the Docker part lists one per name; choose it with --platform", name, ErrAmbiguous, len(images), strings.Join(plats, ", "))
		}
		d = images[0]
	}
	if !IsManifest(d.MediaType) {
		return nil, fmt.Errorf("--docker: entry %s: %w: media type %q is not a container image", name, ErrInvalidOption, d.MediaType)
	}
	_, _, m, err := l.ReadDocument(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("--docker: entry %s: %w", name, err)
	}
	if !IsImageConfig(m.Config.MediaType) {
		return nil, fmt.Errorf("--docker: entry %s: %w: an artifact (config %s), not a container image; docker load, podman load and ctr import load images only", name, ErrInvalidOption, m.Config.MediaType)
	}
	// oras --artifact-platform writes an image config too, without a root file system,
	// and an artifactType.
	if m.ArtifactType != "" {
		return nil, fmt.Errorf("--docker: entry %s: %w: an artifact (artifactType %s), not a container image; docker load, podman load and ctr import load images only", name, ErrInvalidOption, m.ArtifactType)
	}
	cb, err := l.ReadBlob(ctx, m.Config)
	if err != nil {
		return nil, fmt.Errorf("--docker: entry %s: config %s: %w", name, m.Config.Digest, err)
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cb, &cfg); err != nil || len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("--docker: entry %s: %w: its config %s lists %d diff IDs for %d layers, so it is not a container image docker load can load", name, ErrInvalidOption, m.Config.Digest, len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	for _, layer := range m.Layers {
		if !isImageLayer(layer.MediaType) {
			return nil, fmt.Errorf("--docker: entry %s: %w: an artifact (layer %s of type %q), not a container image; docker load, podman load and ctr import load images only", name, ErrInvalidOption, layer.Digest, layer.MediaType)
		}
	}
	return m, nil
}

// isImageLayer reports whether mediaType is a layer of a container image: an OCI or
// Docker filesystem layer, compressed or not, distributable or not.
func isImageLayer(mediaType string) bool {
	base, _, _ := strings.Cut(mediaType, "+")
	switch base {
	case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerNonDistributable, //nolint:staticcheck // still met
		"application/vnd.docker.image.rootfs.diff.tar", "application/vnd.docker.image.rootfs.foreign.diff.tar":
		return true
	}
	return mediaType == "application/vnd.docker.image.rootfs.diff.tar.gzip" || mediaType == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
}

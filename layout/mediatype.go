package layout

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker media types that are read like their OCI twins.
const (
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
)

// IsIndex reports whether mediaType is an OCI image index or a Docker manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

// IsManifest reports whether mediaType is an OCI image manifest or a Docker schema 2 manifest.
func IsManifest(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageManifest || mediaType == MediaTypeDockerManifest
}

// IsImageConfig reports whether mediaType is an OCI or Docker image configuration, the
// config types whose os/architecture fields describe a platform.
func IsImageConfig(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageConfig || mediaType == MediaTypeDockerConfig
}

// DisplayType is what listings show for a descriptor: its artifactType when it has one,
// else its media type.
func DisplayType(d ocispec.Descriptor) string {
	if d.ArtifactType != "" {
		return d.ArtifactType
	}
	if d.MediaType == "" {
		return "-"
	}
	return d.MediaType
}

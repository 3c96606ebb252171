package layout

import (
	"fmt"
	"regexp"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// mediaTypeGrammar is RFC 6838 section 4.2 as the OCI descriptor schema writes it: no
// parameters, no spaces, at most 127 characters on each side of the '/'.
var mediaTypeGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)

// CheckMediaType refuses (ErrInvalidOption) a media type or artifactType a writer was
// given that is not type/subtype in the RFC 6838 grammar, the form the OCI descriptor
// schema requires: validate would reject what it wrote.
func CheckMediaType(s string) error {
	if !mediaTypeGrammar.MatchString(s) {
		return fmt.Errorf("%w: %q is not a media type: want type/subtype in the RFC 6838 grammar (letters, digits and !#$&^_.+- only, no spaces or parameters), such as application/vnd.example.tool.v1", ErrInvalidOption, s)
	}
	return nil
}

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
